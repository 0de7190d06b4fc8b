use platform::{BoxError, Env, invoke, telemetry};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    telemetry::init();
    let app = notifications_feedback::build(&Env::Process).await?;
    invoke::run_sqs(app).await
}
