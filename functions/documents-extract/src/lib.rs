//! Consumes `document.scanned` events (the events topic → extraction queue, raw delivery):
//! reads the document's text (text layer or OCR), extracts its fields, encrypts a W-9's TIN
//! and moves the document to `extracted`, publishing `document.extracted`. A document that
//! has already moved on is left alone, so redeliveries do nothing twice.

use domain::events::{DomainEvent, Event};
use domain::ids::DocumentId;
use domain::pipeline::{Extracting, Outcome, PipelineError};
use engines::CliTextReader;
use platform::sqs::{Backoff, MessageContext, Retries, SqsConsumer};
use platform::{BoxError, Env};
use store::{DynamoDocuments, S3Objects};

pub struct ExtractFields {
    pub metrics_namespace: String,
    pub backoff: Backoff,
    pub extracting:
        Extracting<DynamoDocuments, S3Objects, CliTextReader, store::data_keys::FieldCipher>,
}

pub async fn build(env: &Env) -> Result<ExtractFields, BoxError> {
    let aws = platform::aws::Aws::load(env).await;
    Ok(ExtractFields {
        metrics_namespace: platform::metrics::namespace(env),
        backoff: Backoff::from_env(aws.sqs(), env, Retries::Pipeline)?,
        extracting: Extracting {
            documents: DynamoDocuments::from_env(env, &aws)?,
            objects: S3Objects::from_env(env, &aws)?,
            reader: CliTextReader::from_env(env),
            cipher: store::field_cipher(env, &aws)?,
        },
    })
}

#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
}

/// The document a `document.scanned` event names.
pub fn scanned_document(event: &DomainEvent) -> Option<&DocumentId> {
    match &event.event {
        Event::DocumentScanned(doc) => Some(&doc.document_id),
        _ => None,
    }
}

impl SqsConsumer for ExtractFields {
    const NAME: &'static str = "documents-extract";
    type Message = DomainEvent;
    type Error = ExtractError;

    fn backoff(&self) -> Option<&Backoff> {
        Some(&self.backoff)
    }

    async fn handle(&self, event: &DomainEvent, ctx: &MessageContext) -> Result<(), ExtractError> {
        let Some(id) = scanned_document(event) else {
            tracing::info!("not a document.scanned event; skipped");
            return Ok(());
        };
        let started = std::time::Instant::now();
        let outcome = self
            .extracting
            .on_scanned(id, chrono::Utc::now(), ctx.correlation_id.as_str())
            .await?;
        let ms = started.elapsed().as_millis() as u64;
        match outcome {
            Outcome::Extracted {
                problems,
                lowest_confidence,
            } => {
                tracing::info!(document_id = %id, problems, ms, ?lowest_confidence, "fields extracted");
                let mut metrics =
                    platform::metrics::Metrics::new(&self.metrics_namespace, Self::NAME);
                metrics.count("DocumentsExtracted");
                // The operations dashboard shows its distribution (p10/p50/p90): a drop is
                // documents we read worse (a new certificate layout, blurrier photos).
                if let Some(c) = lowest_confidence {
                    metrics.add(
                        "ExtractionConfidence",
                        platform::metrics::Unit::Percent,
                        f64::from(c),
                    );
                }
                metrics.flush();
            }
            other => tracing::info!(document_id = %id, outcome = ?other, "nothing to do"),
        }
        Ok(())
    }
}
