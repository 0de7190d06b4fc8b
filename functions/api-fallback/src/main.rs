use platform::{BoxError, Env, invoke, telemetry};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    telemetry::init();
    let app = api_fallback::build(&Env::Process).await?;
    invoke::run_http(app).await
}
