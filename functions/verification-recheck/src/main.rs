//! The scheduled re-check: its future nests the onboarding, verification and store futures
//! deeply enough to pass rustc's default layout depth.
#![recursion_limit = "256"]

use platform::{BoxError, Env, invoke, telemetry};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    telemetry::init();
    let job = verification_recheck::build(&Env::Process).await?;
    invoke::run_scheduled(job).await
}
