use platform::{BoxError, Env, invoke, telemetry};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    telemetry::init();
    let consumer = verification_license::build(&Env::Process).await?;
    invoke::run_sqs(consumer).await
}
