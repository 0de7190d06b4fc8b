//! Builds a personal-data export (exports queue; `privacy-export-request` puts jobs on it):
//! the archive of everything the data map names for the contractor (`store::export`),
//! stored under `exports/`, and the job marked ready with its size and SHA-256. Safe to
//! repeat: a ready job is left alone, and a rebuilt archive replaces the same key. A job
//! whose contractor is gone, or whose archive cannot be built after the queue's tries,
//! is marked failed so its status says so instead of waiting for ever.

use chrono::Utc;
use domain::ids::ExportId;
use domain::ports::RepoError;
use platform::metrics::{Metrics, Unit};
use platform::sqs::{MessageContext, SqsConsumer};
use platform::{BoxError, Env};
use serde::Deserialize;
use store::Table;
use store::export::Exporter;
use store::privacy_jobs::{ExportStatus, PrivacyJobs};

/// Deliveries of a job before it is marked failed (the queue dead-letters after more).
pub const TRIES: u32 = 4;

pub struct Export {
    pub jobs: PrivacyJobs,
    pub exporter: Exporter,
    pub metrics_namespace: String,
}

pub async fn build(env: &Env) -> Result<Export, BoxError> {
    let aws = platform::aws::Aws::load(env).await;
    let table = Table::from_env(env, &aws)?;
    Ok(Export {
        jobs: PrivacyJobs::new(table.clone()),
        exporter: Exporter::new(table, aws.s3(), env.required("DOCUMENTS_BUCKET")?),
        metrics_namespace: platform::metrics::namespace(env),
    })
}

/// The exports queue's message.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportMessage {
    pub export_id: ExportId,
}

impl SqsConsumer for Export {
    const NAME: &'static str = "privacy-export";
    type Message = ExportMessage;
    type Error = RepoError;

    async fn handle(&self, message: &ExportMessage, ctx: &MessageContext) -> Result<(), RepoError> {
        let Some(mut job) = self.jobs.export(&message.export_id).await? else {
            tracing::warn!(export_id = %message.export_id, "no such export (expired or erased); nothing to do");
            return Ok(());
        };
        if job.status != ExportStatus::Queued {
            return Ok(());
        }
        let now = Utc::now();
        let started = std::time::Instant::now();
        match self.exporter.run(&job, now).await {
            Ok(archive) => {
                job.status = ExportStatus::Ready;
                job.object_key = Some(archive.object_key);
                job.bytes = Some(archive.bytes);
                job.sha256 = Some(archive.sha256);
                job.entries = Some(archive.entries);
                job.completed_at = Some(Utc::now());
                self.jobs.save_export(&job).await?;
                let mut metrics = Metrics::new(&self.metrics_namespace, Self::NAME);
                metrics
                    .add("ExportBytes", Unit::Bytes, archive.bytes as f64)
                    .add(
                        "ExportMillis",
                        Unit::Milliseconds,
                        started.elapsed().as_millis() as f64,
                    );
                metrics.flush();
                tracing::info!(export_id = %job.export_id, contractor_id = %job.contractor_id, bytes = archive.bytes, files = archive.entries, "export ready");
                Ok(())
            }
            Err(e) if ctx.receive_count >= TRIES => {
                tracing::error!(export_id = %job.export_id, error = %e, tries = ctx.receive_count, "export failed for good");
                job.status = ExportStatus::Failed;
                job.failure = Some("The archive could not be built; ask for a new export.".into());
                job.completed_at = Some(Utc::now());
                self.jobs.save_export(&job).await
            }
            Err(e) => Err(e),
        }
    }
}
