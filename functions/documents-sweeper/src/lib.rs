//! Scheduled: finds documents past their deadline in an in-flight state and moves them on
//! (expire an upload that never came, re-scan one whose notification was lost, re-drive an
//! extraction that never finished, fail with a reason after the last attempt).

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use domain::pipeline::{SweepSettings, Sweeping};
use platform::schedule::ScheduledJob;
use platform::{BoxError, Env};
use serde_json::{Value, json};
use store::{DynamoDocuments, S3Objects, SqsScanRequests};

pub struct Sweeper {
    pub metrics_namespace: String,
    pub sweeping: Sweeping<DynamoDocuments, S3Objects, SqsScanRequests>,
}

pub async fn build(env: &Env) -> Result<Sweeper, BoxError> {
    let aws = platform::aws::Aws::load(env).await;
    let retry_minutes: i64 = env.parse_or("SWEEP_RETRY_MINUTES", 15)?;
    Ok(Sweeper {
        metrics_namespace: platform::metrics::namespace(env),
        sweeping: Sweeping {
            documents: DynamoDocuments::from_env(env, &aws)?,
            objects: S3Objects::from_env(env, &aws)?,
            scans: SqsScanRequests::from_env(env, &aws)?,
            settings: SweepSettings {
                max_attempts: env.parse_or("SWEEP_MAX_ATTEMPTS", 3)?,
                retry_after: chrono::Duration::minutes(retry_minutes),
                batch: 100,
            },
        },
    })
}

impl ScheduledJob for Sweeper {
    const NAME: &'static str = "documents-sweeper";

    async fn run(&self, event: &EventBridgeEvent<Value>) -> Result<Value, BoxError> {
        let correlation = event.id.clone().unwrap_or_default();
        let r = self
            .sweeping
            .sweep(chrono::Utc::now(), &correlation)
            .await?;
        platform::metrics::emit_count(
            &self.metrics_namespace,
            Self::NAME,
            "DocumentsSweptFailed",
            r.failed as u64,
        );
        Ok(
            json!({"expired": r.expired, "rescanned": r.rescanned, "re_extracted": r.re_extracted, "failed": r.failed}),
        )
    }
}
