//! Daily retention (docs/privacy.md): a draft nobody has changed for 180 days (long after
//! the idle-draft reminders at 3 and 10 days) is erased the way a contractor's own request
//! is (`store::erasure`): tombstone, data key shredded, files and items gone, ledger entry.
//! The schedule's tick (`time`) is "now", so a late or repeated run decides the same; each
//! run erases at most [`CAP`] drafts and [`BUDGET`] things per draft, and a draft left
//! half-done is finished by the next run (its profile is deleted last). Quarantined files
//! and old object versions go by S3 lifecycle rules; TTL items by DynamoDB. An operator or a
//! test can limit a run to one contractor with `detail: {"contractor_id": "ctr_…"}`.
//! Documents replaced by a newer one of their kind are deleted a year after the
//! replacement (item and every file version; the replaced-documents index, GSI2).
//! Each run also queues again every erasure request nobody has moved for an hour (a lost
//! message, a dead-lettered one after its cause is fixed), so none stays half-done.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use chrono::Utc;
use domain::ids::ContractorId;
use domain::ports::ContractorRepository;
use domain::privacy::{SUPERSEDED_RETENTION_DAYS, drafts_kept_since};
use domain::terms::Status;
use platform::metrics::{Metrics, Unit};
use platform::schedule::ScheduledJob;
use platform::sqs::WorkQueue;
use platform::{BoxError, Env};
use serde_json::{Value, json};
use store::erasure::Eraser;
use store::privacy_jobs::PrivacyJobs;
use store::{DynamoContractors, DynamoDocuments, Table};

/// Drafts read per run.
pub const CAP: usize = 200;
/// Items and object versions erased per draft per run.
pub const BUDGET: usize = 1_000;

/// An erasure request untouched this long is taken to be stuck (its message lost or
/// dead-lettered) and queued again.
pub const STUCK_ERASURE_MINUTES: i64 = 60;

pub struct Retention {
    pub contractors: DynamoContractors,
    pub documents: DynamoDocuments,
    pub eraser: Eraser,
    pub jobs: PrivacyJobs,
    pub erasures: WorkQueue,
    pub metrics_namespace: String,
}

pub async fn build(env: &Env) -> Result<Retention, BoxError> {
    let aws = platform::aws::Aws::load(env).await;
    let table = Table::from_env(env, &aws)?;
    Ok(Retention {
        contractors: DynamoContractors::from_env(env, &aws)?,
        documents: DynamoDocuments::new(table.clone()),
        eraser: Eraser::new(table.clone(), aws.s3(), env.required("DOCUMENTS_BUCKET")?),
        jobs: PrivacyJobs::new(table),
        erasures: WorkQueue::from_env(aws.sqs(), env, "ERASURE_QUEUE_URL")?,
        metrics_namespace: platform::metrics::namespace(env),
    })
}

impl ScheduledJob for Retention {
    const NAME: &'static str = "privacy-retention";

    async fn run(&self, event: &EventBridgeEvent<Value>) -> Result<Value, BoxError> {
        let now = event.time.unwrap_or_else(Utc::now);
        let only = event.detail["contractor_id"]
            .as_str()
            .and_then(ContractorId::parse);
        let kept_since = drafts_kept_since(now);
        let (drafts, truncated) = match &only {
            // One contractor: read it, and apply the same rule the index query does.
            Some(id) => {
                let due = self
                    .contractors
                    .get(id)
                    .await?
                    .filter(|c| c.status == Status::Draft && c.updated_at < kept_since);
                (due.into_iter().collect::<Vec<_>>(), false)
            }
            // Drafts last changed before the cut-off, oldest first, from the start of time.
            None => {
                let epoch = chrono::DateTime::<Utc>::UNIX_EPOCH;
                self.contractors
                    .changed_between(Status::Draft, epoch, kept_since, CAP)
                    .await?
            }
        };
        let (mut erased, mut unfinished) = (0usize, 0usize);
        for draft in &drafts {
            let run = self.eraser.erase(&draft.id, now, BUDGET).await?;
            if run.done {
                erased += 1;
                tracing::info!(contractor_id = %draft.id, items = run.items_deleted, versions = run.versions_deleted, "abandoned draft erased");
            } else {
                unfinished += 1;
                tracing::warn!(contractor_id = %draft.id, "abandoned draft partly erased; the next run finishes it");
            }
        }
        // Documents replaced a year ago: every file version and the item.
        let replaced_before = now - chrono::Duration::days(SUPERSEDED_RETENTION_DAYS);
        let (replaced, replaced_truncated) = self
            .documents
            .superseded_before(replaced_before, CAP)
            .await?;
        let mut replaced_deleted = 0usize;
        for doc in replaced
            .iter()
            .filter(|d| only.as_ref().is_none_or(|c| &d.contractor_id == c))
        {
            let versions = self
                .eraser
                .erase_document(&doc.contractor_id, &doc.id)
                .await?;
            replaced_deleted += 1;
            tracing::info!(contractor_id = %doc.contractor_id, document_id = %doc.id, versions, "replaced document deleted after its year");
        }
        // Nothing stuck: erasure requests nobody has moved for an hour go on the queue again.
        let stuck = if only.is_some() {
            Vec::new()
        } else {
            self.jobs
                .unfinished_erasures(now - chrono::Duration::minutes(STUCK_ERASURE_MINUTES), CAP)
                .await?
        };
        for request in &stuck {
            self.erasures
                .send(&json!({"erasure_id": request.erasure_id}), None)
                .await?;
            tracing::warn!(erasure_id = %request.erasure_id, status = ?request.status, since = %request.updated_at, "stuck erasure request queued again");
        }
        let mut metrics = Metrics::new(&self.metrics_namespace, Self::NAME);
        metrics.add("ErasuresRequeued", Unit::Count, stuck.len() as f64);
        metrics.add(
            "SupersededDocumentsDeleted",
            Unit::Count,
            replaced_deleted as f64,
        );
        if replaced_truncated {
            metrics.count("SupersededTruncated");
        }
        metrics.add("DraftsErased", Unit::Count, erased as f64).add(
            "DraftsUnfinished",
            Unit::Count,
            unfinished as f64,
        );
        if truncated {
            metrics.count("DraftsTruncated");
            tracing::warn!(
                cap = CAP,
                "more abandoned drafts than one run takes; the next run continues"
            );
        }
        metrics.flush();
        Ok(json!({
            "now": now,
            "kept_since": kept_since,
            "drafts_erased": erased,
            "drafts_unfinished": unfinished,
            "truncated": truncated,
            "erasures_requeued": stuck.len(),
            "superseded_documents_deleted": replaced_deleted,
            "superseded_truncated": replaced_truncated,
        }))
    }
}
