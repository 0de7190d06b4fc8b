//! Carries out an erasure request (erasure queue; `privacy-erasure-request` and the daily
//! `privacy-retention` sweep put requests on it). In order, each step safe to repeat:
//! 1. The last email, before anything is deleted (its address goes with the profile): sent
//!    once through the shared mailer (its notification log sends a notice once). If no
//!    provider can take it, the message is retried; after [`MAIL_TRIES`] deliveries the
//!    erasure goes on without it and says so in the request (erasure is not held hostage
//!    by an email provider).
//! 2. The contractor's realtime connections closed (`DeleteConnection`) and forgotten.
//! 3. The erasure engine (`store::erasure`) run to the end or for [`RUNS_PER_MESSAGE`]
//!    bounded runs; if more is left, a continuation message goes on the queue and this
//!    one is done (a huge account is erased over several invocations, never timing out
//!    mid-way and never sitting in the DLQ).
//! 4. The request marked done with what was deleted and what was kept and why.
//!
//! Pending reminders need no cancelling: every reminder and digest is worked out from the
//! profile when it is due, and the digest entries are erased with the rest.

use chrono::Utc;
use domain::engagement::notifications::erasure_notice;
use domain::engagement::ports::Connections;
use domain::engagement::realtime::Audience;
use domain::ids::ErasureId;
use domain::ports::RepoError;
use platform::metrics::{Metrics, Unit};
use platform::sqs::{MessageContext, SqsConsumer, WorkQueue};
use platform::{BoxError, Env};
use serde::Deserialize;
use store::erasure::Eraser;
use store::privacy_jobs::{ErasureStatus, KeptHolding, PrivacyJobs};
use store::sockets::ManagementApi;
use store::{DynamoConnections, Table};
use wiring::mail::{Delivery, MailError, Mailer};

/// Items and object versions one engine run removes.
pub const BUDGET: usize = 500;
/// Engine runs per message before handing the rest to a continuation message.
pub const RUNS_PER_MESSAGE: usize = 10;
/// Deliveries of a request that wait for an email provider before erasing without it.
pub const MAIL_TRIES: u32 = 5;

pub struct Erase {
    pub jobs: PrivacyJobs,
    pub eraser: Eraser,
    pub mailer: Mailer,
    pub connections: DynamoConnections,
    pub sockets: ManagementApi,
    pub queue: WorkQueue,
    pub metrics_namespace: String,
}

pub async fn build(env: &Env) -> Result<Erase, BoxError> {
    let aws = platform::aws::Aws::load(env).await;
    let table = Table::from_env(env, &aws)?;
    Ok(Erase {
        jobs: PrivacyJobs::new(table.clone()),
        eraser: Eraser::new(table.clone(), aws.s3(), env.required("DOCUMENTS_BUCKET")?),
        mailer: Mailer::from_env(env, &aws).await?,
        connections: DynamoConnections::new(table),
        sockets: ManagementApi::new(&aws, &env.required("REALTIME_MANAGEMENT_ENDPOINT")?),
        queue: WorkQueue::from_env(aws.sqs(), env, "ERASURE_QUEUE_URL")?,
        metrics_namespace: platform::metrics::namespace(env),
    })
}

/// The erasure queue's message.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EraseMessage {
    pub erasure_id: ErasureId,
}

#[derive(Debug, thiserror::Error)]
pub enum EraseFailure {
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Mail(#[from] MailError),
    #[error(transparent)]
    Continue(#[from] platform::sqs::WorkQueueError),
}

impl SqsConsumer for Erase {
    const NAME: &'static str = "privacy-erasure";
    type Message = EraseMessage;
    type Error = EraseFailure;

    async fn handle(
        &self,
        message: &EraseMessage,
        ctx: &MessageContext,
    ) -> Result<(), EraseFailure> {
        let Some(mut request) = self.jobs.erasure(&message.erasure_id).await? else {
            tracing::warn!(erasure_id = %message.erasure_id, "no such erasure request; nothing to do");
            return Ok(());
        };
        if request.status == ErasureStatus::Done {
            return Ok(());
        }
        let contractor = request.contractor_id.clone();
        let now = Utc::now();
        if request.confirmation.is_none() {
            let notice = erasure_notice(request.erasure_id.as_str());
            let outcome = match self.mailer.deliver(&notice, &contractor).await {
                Ok(Delivery::Sent { .. } | Delivery::AlreadyHandled) => "sent".to_owned(),
                Ok(Delivery::Skipped(why)) => format!("not sent: {why}"),
                Ok(Delivery::Failed) => "not sent: the provider refused it".to_owned(),
                Err(e) if ctx.receive_count < MAIL_TRIES => return Err(e.into()),
                Err(e) => {
                    tracing::error!(erasure_id = %request.erasure_id, error = %e, tries = ctx.receive_count, "no email provider took the last email; erasing without it");
                    "not sent: no email provider available".to_owned()
                }
            };
            request.confirmation = Some(outcome);
            request.status = ErasureStatus::Erasing;
            request.updated_at = now;
            self.jobs.save_erasure(&request).await?;
        }
        self.close_sockets(&contractor).await?;
        let mut done = false;
        for _ in 0..RUNS_PER_MESSAGE {
            let run = self.eraser.erase(&contractor, now, BUDGET).await?;
            request.items_deleted += run.items_deleted;
            request.versions_deleted += run.versions_deleted;
            for (holding, reason) in run.kept {
                if !request.kept.iter().any(|k| k.holding == holding) {
                    request.kept.push(KeptHolding { holding, reason });
                }
            }
            if run.done {
                done = true;
                break;
            }
        }
        request.updated_at = Utc::now();
        let mut metrics = Metrics::new(&self.metrics_namespace, Self::NAME);
        if done {
            request.status = ErasureStatus::Done;
            request.completed_at = Some(request.updated_at);
            self.jobs.save_erasure(&request).await?;
            metrics.count("ErasuresCompleted");
            tracing::info!(erasure_id = %request.erasure_id, contractor_id = %contractor, items = request.items_deleted, versions = request.versions_deleted, "erasure done");
        } else {
            self.jobs.save_erasure(&request).await?;
            self.queue
                .send(
                    &serde_json::json!({"erasure_id": request.erasure_id}),
                    Some(&ctx.correlation_id),
                )
                .await?;
            metrics.add("ErasuresContinued", Unit::Count, 1.0);
            tracing::info!(erasure_id = %request.erasure_id, items = request.items_deleted, "erasure continues in the next message");
        }
        metrics.flush();
        Ok(())
    }
}

impl Erase {
    /// Closes every open socket of `contractor` and forgets it; a socket that will not close
    /// now is left to its TTL (it receives nothing: its items are gone and the push reads
    /// them).
    async fn close_sockets(&self, contractor: &domain::ids::ContractorId) -> Result<(), RepoError> {
        let audience = Audience::Contractor(contractor.clone());
        for connection in self.connections.of(&audience, Utc::now()).await? {
            if let Err(e) = self.sockets.disconnect(&connection.id).await {
                tracing::warn!(connection_id = %connection.id, error = %e, "socket did not close; its items go anyway");
            }
            self.connections.close(&connection.id).await?;
        }
        Ok(())
    }
}
