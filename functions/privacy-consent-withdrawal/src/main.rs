use platform::{BoxError, Env, invoke, telemetry};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    telemetry::init();
    let app = privacy_consent_withdrawal::build(&Env::Process).await?;
    invoke::run_http(app).await
}
