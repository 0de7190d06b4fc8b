//! Realtime fan-out (realtime queue: the events topic, raw delivery). Each domain event
//! becomes the messages it means ([`translate`]); a contractor's are numbered in its
//! activity feed first (the feed is the truth: a redelivered event keeps its numbers), then
//! posted to every open connection of that contractor, concurrently with a cap and a
//! per-call timeout. Review-queue changes go to reviewers' connections and are not kept.
//! A connection that answers 410 Gone is forgotten; any other push failure is logged and
//! left to the feed (the message is not retried: the client catches up from the feed).

use std::time::Duration;

use domain::documents::DocumentRepository;
use domain::engagement::badges::BadgeRules;
use domain::engagement::ports::{Connections, Feed, PushError, Pusher};
use domain::engagement::realtime::{Audience, ClientMessage, MAX_MESSAGE_BYTES, translate};
use domain::events::DomainEvent;
use domain::ports::RepoError;
use futures::StreamExt;
use platform::sqs::{Backoff, MessageContext, Retries, SqsConsumer};
use platform::{BoxError, Env};
pub use store::sockets::ManagementApi;
use store::{DynamoConnections, DynamoDocuments, DynamoFeed, Table};

/// How wide and how patient a fan-out is.
#[derive(Clone, Copy, Debug)]
pub struct FanOut {
    /// Connections posted to at once.
    pub concurrency: usize,
    /// One post's limit: a stuck connection must not hold the batch.
    pub timeout: Duration,
}

pub struct Push<P: Pusher = ManagementApi> {
    pub feed: DynamoFeed,
    pub connections: DynamoConnections,
    pub documents: DynamoDocuments,
    pub pusher: P,
    pub rules: BadgeRules,
    pub fan_out: FanOut,
    pub backoff: Backoff,
}

pub async fn build(env: &Env) -> Result<Push, BoxError> {
    let aws = platform::aws::Aws::load(env).await;
    let table = Table::from_env(env, &aws)?;
    Ok(Push {
        feed: DynamoFeed::new(table.clone()),
        connections: DynamoConnections::new(table.clone()),
        documents: DynamoDocuments::new(table),
        pusher: ManagementApi::new(&aws, &env.required("REALTIME_MANAGEMENT_ENDPOINT")?),
        rules: BadgeRules::shipped(),
        fan_out: FanOut {
            concurrency: env.parse_or("REALTIME_PUSH_CONCURRENCY", 16)?,
            timeout: Duration::from_millis(env.parse_or("REALTIME_PUSH_TIMEOUT_MS", 3000)?),
        },
        backoff: Backoff::from_env(aws.sqs(), env, Retries::Pipeline)?,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum PushFailure {
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// What one fan-out did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Delivered {
    pub posted: usize,
    pub gone: usize,
    pub failed: usize,
}

impl<P: Pusher> Push<P> {
    /// Posts `messages`, in order, to every open connection of `audience`.
    pub async fn deliver(
        &self,
        audience: &Audience,
        messages: &[ClientMessage],
    ) -> Result<Delivered, RepoError> {
        if messages.is_empty() {
            return Ok(Delivered::default());
        }
        let connections = self.connections.of(audience, chrono::Utc::now()).await?;
        let payloads: Vec<Vec<u8>> = messages
            .iter()
            .filter_map(|m| {
                let bytes = serde_json::to_vec(m).ok()?;
                if bytes.len() > MAX_MESSAGE_BYTES {
                    tracing::error!(kind = %m.kind, bytes = bytes.len(), "message too large for a socket; left to the feed");
                    return None;
                }
                Some(bytes)
            })
            .collect();
        let payloads = &payloads;
        let outcomes: Vec<Result<usize, (String, PushError)>> = futures::stream::iter(connections)
            .map(|c| async move {
                for payload in payloads {
                    match tokio::time::timeout(
                        self.fan_out.timeout,
                        self.pusher.post(&c.id, payload),
                    )
                    .await
                    {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => return Err((c.id.clone(), e)),
                        Err(_) => {
                            return Err((c.id.clone(), PushError::Failed("timed out".into())));
                        }
                    }
                }
                Ok(payloads.len())
            })
            .buffer_unordered(self.fan_out.concurrency.max(1))
            .collect()
            .await;
        let mut done = Delivered::default();
        for outcome in outcomes {
            match outcome {
                Ok(n) => done.posted += n,
                Err((id, PushError::Gone)) => {
                    done.gone += 1;
                    self.connections.close(&id).await?;
                    tracing::info!(connection_id = %id, "connection gone; forgotten");
                }
                Err((id, PushError::Failed(why))) => {
                    done.failed += 1;
                    tracing::warn!(connection_id = %id, error = %why, "push failed; the feed has the message");
                }
            }
        }
        Ok(done)
    }

    /// Fills in the document a requirement's progress is about, found by kind and version.
    async fn name_documents(
        &self,
        event: &DomainEvent,
        outgoing: &mut [domain::engagement::realtime::Outgoing],
    ) -> Result<(), RepoError> {
        if outgoing.iter().all(|o| o.document.is_none()) {
            return Ok(());
        }
        let docs = self.documents.list_for(&event.contractor_id).await?;
        for o in outgoing.iter_mut() {
            if let Some((kind, version)) = o.document
                && let Some(d) = docs.iter().find(|d| d.kind == kind && d.version == version)
            {
                o.message.data["document_id"] = serde_json::json!(d.id);
            }
        }
        Ok(())
    }
}

impl<P: Pusher> SqsConsumer for Push<P> {
    const NAME: &'static str = "realtime-push";
    type Message = DomainEvent;
    type Error = PushFailure;

    fn backoff(&self) -> Option<&Backoff> {
        Some(&self.backoff)
    }

    async fn handle(&self, event: &DomainEvent, _ctx: &MessageContext) -> Result<(), PushFailure> {
        let mut outgoing = translate(event, &self.rules);
        self.name_documents(event, &mut outgoing).await?;
        let (mine, reviewers): (Vec<_>, Vec<_>) = outgoing
            .into_iter()
            .partition(|o| matches!(o.audience, Audience::Contractor(_)));
        if !mine.is_empty() {
            let messages: Vec<ClientMessage> = mine.into_iter().map(|o| o.message).collect();
            let numbered = self
                .feed
                .append(&event.contractor_id, event.id.as_str(), &messages)
                .await?;
            let done = self
                .deliver(
                    &Audience::Contractor(event.contractor_id.clone()),
                    &numbered,
                )
                .await?;
            tracing::info!(event_id = %event.id, kind = event.kind(), seq = ?numbered.last().and_then(|m| m.seq), posted = done.posted, gone = done.gone, failed = done.failed, "contractor messages out");
        }
        let messages: Vec<ClientMessage> = reviewers.into_iter().map(|o| o.message).collect();
        if !messages.is_empty() {
            let done = self.deliver(&Audience::Reviewers, &messages).await?;
            tracing::info!(event_id = %event.id, posted = done.posted, gone = done.gone, "review messages out");
        }
        Ok(())
    }
}
