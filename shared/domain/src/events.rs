//! Domain events: what happened, published to the events topic for other consumers
//! (realtime progress, badges, email). Written to an outbox in the same transaction as the
//! change, so an event is never lost and never published for a change that did not happen.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ids::{ContractorId, EventId};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainEvent {
    pub id: EventId,
    /// `contractor.registered`, `step.saved`, `status.changed`, `contractor.submitted`.
    #[serde(rename = "type")]
    pub kind: String,
    pub contractor_id: ContractorId,
    /// The contractor's version this event belongs to (consumers order and dedupe by it).
    pub version: u64,
    pub occurred_at: DateTime<Utc>,
    pub correlation_id: String,
    pub data: Value,
}

impl DomainEvent {
    pub fn new(
        kind: &str,
        contractor_id: &ContractorId,
        version: u64,
        at: DateTime<Utc>,
        correlation_id: &str,
        data: Value,
    ) -> Self {
        DomainEvent {
            id: EventId::generate(),
            kind: kind.to_owned(),
            contractor_id: contractor_id.clone(),
            version,
            occurred_at: at,
            correlation_id: correlation_id.to_owned(),
            data,
        }
    }
}
