use platform::{BoxError, Env, invoke, telemetry};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    telemetry::init();
    let job = privacy_retention::build(&Env::Process).await?;
    invoke::run_scheduled(job).await
}
