//! Consumes the documents bucket's ObjectCreated notifications (through the uploads queue):
//! checks each upload against its intent, scans it with clamd, and moves the document to
//! `scanned` (extraction picks it up from the `document.scanned` event) or `rejected`
//! (quarantined). Redelivered and duplicate notifications change nothing.

use domain::pipeline::{Outcome, PipelineError, Scanning, UploadedObject};
use engines::ClamdScanner;
use platform::s3::{Notification, S3EventError};
use platform::sqs::{Backoff, MessageContext, Retries, SqsConsumer};
use platform::{BoxError, Env};
use store::{DynamoDocuments, S3Objects};

pub struct ScanUploads {
    pub metrics_namespace: String,
    pub backoff: Backoff,
    pub scanning: Scanning<DynamoDocuments, S3Objects, ClamdScanner>,
}

pub async fn build(env: &Env) -> Result<ScanUploads, BoxError> {
    let aws = platform::aws::Aws::load(env).await;
    let minutes: i64 = env.parse_or("EXTRACT_DEADLINE_MINUTES", 45)?;
    Ok(ScanUploads {
        metrics_namespace: platform::metrics::namespace(env),
        backoff: Backoff::from_env(aws.sqs(), env, Retries::Pipeline)?,
        scanning: Scanning {
            documents: DynamoDocuments::from_env(env, &aws)?,
            objects: S3Objects::from_env(env, &aws)?,
            scanner: ClamdScanner::from_env(env),
            extract_deadline: chrono::Duration::minutes(minutes),
        },
    })
}

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Event(#[from] S3EventError),
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
}

impl SqsConsumer for ScanUploads {
    const NAME: &'static str = "documents-scan";
    type Message = Notification;
    type Error = ScanError;

    fn backoff(&self) -> Option<&Backoff> {
        Some(&self.backoff)
    }

    async fn handle(
        &self,
        notification: &Notification,
        ctx: &MessageContext,
    ) -> Result<(), ScanError> {
        for object in notification.objects_created()? {
            let uploaded = UploadedObject {
                key: object.key,
                version_id: object.version_id,
                size: object.size.max(0) as u64,
            };
            let outcome = self
                .scanning
                .on_upload(&uploaded, chrono::Utc::now(), ctx.correlation_id.as_str())
                .await?;
            match outcome {
                Outcome::Rejected(code) => {
                    tracing::warn!(key = %uploaded.key, code, "upload rejected and quarantined");
                    platform::metrics::emit_count(
                        &self.metrics_namespace,
                        Self::NAME,
                        "DocumentsRejected",
                        1,
                    );
                }
                Outcome::Scanned => {
                    tracing::info!(key = %uploaded.key, "upload scanned clean");
                    platform::metrics::emit_count(
                        &self.metrics_namespace,
                        Self::NAME,
                        "DocumentsScanned",
                        1,
                    );
                }
                other => tracing::info!(key = %uploaded.key, outcome = ?other, "nothing to do"),
            }
        }
        Ok(())
    }
}
