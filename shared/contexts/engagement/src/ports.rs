//! What engagement needs from storage: tickets, connections, the activity feed and badges.

use std::future::Future;

use chrono::{DateTime, Utc};
use domain_kernel::ports::RepoError;

use crate::badges::{Holding, Move};
use crate::events::DomainEvent;
use crate::ids::ContractorId;
use crate::realtime::{Audience, ClientMessage, Connection, FeedQuery, Grant, TicketSecret};

pub trait Tickets: Send + Sync + 'static {
    /// Stores `grant` under a fresh secret and returns the secret.
    fn issue(&self, grant: &Grant) -> impl Future<Output = Result<TicketSecret, RepoError>> + Send;
    /// Takes the ticket (it works once): its grant if it exists and has not expired at `now`.
    fn redeem(
        &self,
        secret: &TicketSecret,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<Grant>, RepoError>> + Send;
}

pub trait Connections: Send + Sync + 'static {
    fn open(&self, connection: &Connection) -> impl Future<Output = Result<(), RepoError>> + Send;
    /// Removes a connection by id; what it was, if it was known.
    fn close(&self, id: &str)
    -> impl Future<Output = Result<Option<Connection>, RepoError>> + Send;
    /// The open connections listening to `audience` (not yet expired at `now`).
    fn of(
        &self,
        audience: &Audience,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<Connection>, RepoError>> + Send;
}

pub trait Feed: Send + Sync + 'static {
    /// Numbers `messages` (the next numbers of `contractor`'s feed, no gaps) and keeps them.
    /// The same `event_id` again returns the messages as first numbered: a redelivered
    /// event gets no second number.
    fn append(
        &self,
        contractor: &ContractorId,
        event_id: &str,
        messages: &[ClientMessage],
    ) -> impl Future<Output = Result<Vec<ClientMessage>, RepoError>> + Send;
    /// The messages after `query.after`, oldest first.
    fn read(
        &self,
        contractor: &ContractorId,
        query: FeedQuery,
    ) -> impl Future<Output = Result<Vec<ClientMessage>, RepoError>> + Send;
}

pub trait BadgeStore: Send + Sync + 'static {
    fn held(
        &self,
        contractor: &ContractorId,
    ) -> impl Future<Output = Result<Vec<Holding>, RepoError>> + Send;
    /// Applies one move with its event, if the badge is still at the move's expected
    /// revision ([`RepoError::VersionConflict`] otherwise: someone else moved it first).
    fn apply(
        &self,
        contractor: &ContractorId,
        change: &Move,
        event: &DomainEvent,
    ) -> impl Future<Output = Result<(), RepoError>> + Send;
}

/// Why a message did not reach a connection.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The connection is gone (410): forget it.
    #[error("connection gone")]
    Gone,
    /// Anything else (a timeout, throttling): the feed still has the message.
    #[error("push failed: {0}")]
    Failed(String),
}

/// Sends one message to one open connection.
pub trait Pusher: Send + Sync + 'static {
    fn post(
        &self,
        connection_id: &str,
        payload: &[u8],
    ) -> impl Future<Output = Result<(), PushError>> + Send;
}
