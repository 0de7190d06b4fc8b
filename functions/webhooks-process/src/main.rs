use platform::{BoxError, Env, invoke, telemetry};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    telemetry::init();
    let consumer = webhooks_process::build(&Env::Process).await?;
    invoke::run_sqs(consumer).await
}
