// The reminder job's future (schedule -> five kinds of reminders -> the mailer -> SDK and
// provider calls) is nested deeper than rustc's default layout query limit of 128.
#![recursion_limit = "256"]

use platform::{BoxError, Env, invoke, telemetry};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    telemetry::init();
    let job = notifications_reminders::build(&Env::Process).await?;
    invoke::run_scheduled(job).await
}
