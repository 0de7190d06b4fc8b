use platform::{BoxError, Env, invoke, telemetry};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    telemetry::init();
    let app = realtime_connect::build(&Env::Process).await?;
    invoke::run_event(app).await
}
