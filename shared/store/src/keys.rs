//! Key layout of the single table. Every access pattern and the key or index serving it is
//! listed in `docs/data-model.md`; change both together.

use domain::ids::{ContractorId, DocumentId, EventId, OwnerId};

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const GSI1: &str = "gsi1";
pub const GSI2: &str = "gsi2";

pub fn contractor_pk(id: &ContractorId) -> String {
    format!("CONTRACTOR#{id}")
}

pub const CONTRACTOR_SK: &str = "PROFILE";

/// The owner lock: one item per identity, naming its contractor. Makes "one account per
/// identity" a conditional write instead of a racy query.
pub fn owner_pk(owner: &OwnerId) -> String {
    format!("OWNER#{}", owner.as_str())
}

pub const OWNER_SK: &str = "OWNER";

/// GSI1 groups contractors by status, newest change first (reviewer lists).
pub fn status_gsi1pk(status: &str) -> String {
    format!("STATUS#{status}")
}

/// Audit entries sort under their contractor by sequence number.
pub fn audit_sk(seq: u64) -> String {
    format!("AUDIT#{seq:010}")
}

pub const AUDIT_PREFIX: &str = "AUDIT#";

pub fn outbox_pk(id: &EventId) -> String {
    format!("OUTBOX#{id}")
}

pub const OUTBOX_SK: &str = "EVENT";
/// GSI2 partition of events not yet published.
pub const OUTBOX_GSI2PK: &str = "OUTBOX";

pub fn idempotency_pk(scoped_key: &str) -> String {
    format!("IDEMPOTENCY#{scoped_key}")
}

pub const IDEMPOTENCY_SK: &str = "RECORD";

pub fn document_pk(id: &DocumentId) -> String {
    format!("DOCUMENT#{id}")
}

pub const DOCUMENT_SK: &str = "META";

/// GSI1 lists a contractor's documents, newest first.
pub fn contractor_documents_gsi1pk(id: &ContractorId) -> String {
    format!("DOCS#{id}")
}

/// GSI2 holds in-flight documents by status, ordered by deadline (sparse: a document in a
/// final state has no GSI2 keys), so the sweeper reads only what is overdue.
pub fn document_in_flight_gsi2pk(status: &str) -> String {
    format!("DOCFLIGHT#{status}")
}

/// GSI2 holds replaced documents by when they were replaced (sparse), so retention reads
/// only those past their year.
pub const SUPERSEDED_DOCUMENTS_GSI2PK: &str = "SUPERSEDED#document";

/// A received provider webhook, by the provider's event id (deduplication).
pub fn webhook_pk(provider: &str, event_id: &str) -> String {
    format!("WEBHOOK#{provider}#{event_id}")
}

pub const WEBHOOK_SK: &str = "RECEIVED";

/// A contractor's verification requirement, under the contractor.
pub fn requirement_sk(name: &str) -> String {
    format!("REQUIREMENT#{name}")
}

/// A provider's circuit breaker.
pub fn breaker_pk(provider: &str) -> String {
    format!("BREAKER#{provider}")
}

pub const BREAKER_SK: &str = "STATE";

/// GSI2 partition of requirements waiting for a reviewer.
pub const OPEN_REVIEWS_GSI2PK: &str = "REVIEW#open";

/// GSI2 partition of requirements in `errors`, by their last verdict (the unresolved-errors
/// reminder reads it).
pub const ERRORS_GSI2PK: &str = "ERRORS#requirement";

/// A contractor's email preferences, under the contractor.
pub const PREFERENCES_SK: &str = "PREFERENCES";

/// GSI1 partition of a contractor's items that live under other keys (notification log,
/// bank links): how export and erasure find them (`store::subject`).
pub fn subject_gsi1pk(contractor: &str) -> String {
    format!("SUBJECT#{contractor}")
}

/// What is left of an erased contractor: no personal data (ADR 0015).
pub const TOMBSTONE_SK: &str = "TOMBSTONE";

/// A contractor's erasure request (one per contractor; kept after the erasure).
pub fn erasure_pk(id: &domain::ids::ErasureId) -> String {
    format!("ERASURE#{id}")
}

pub const ERASURE_SK: &str = "REQUEST";

/// A personal-data export job (GSI1 `SUBJECT#<ctr>` finds it for erasure).
pub fn export_pk(id: &domain::ids::ExportId) -> String {
    format!("EXPORT#{id}")
}

pub const EXPORT_SK: &str = "JOB";

/// A contractor's wrapped data key (crypto-shredding: erasure deletes it).
pub const DATA_KEY_SK: &str = "DATAKEY";

/// Badges earned on a day, spread over [`DIGEST_SHARDS`] partitions, for the next day's
/// digest emails.
pub fn digest_pk(day: chrono::NaiveDate, shard: u32) -> String {
    format!("DIGEST#{day}#{shard}")
}

pub const DIGEST_SHARDS: u32 = 8;

/// GSI1 partition of verified requirements by the day their evidence ends.
pub const EXPIRY_GSI1PK: &str = "EXPIRY#requirement";

/// A registry's answer for one license, cached.
pub fn license_pk(state: &str, number: &str) -> String {
    let number: String = number
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    format!("LICENSE#{}#{number}", state.to_ascii_uppercase())
}

pub const LICENSE_SK: &str = "LOOKUP";

/// A linked Plaid item (one bank connection), found by Plaid's `item_id` from webhooks.
pub fn bank_link_pk(item_id: &str) -> String {
    format!("BANKLINK#{item_id}")
}

pub const BANK_LINK_SK: &str = "LINK";

/// A realtime ticket, by the digest of its secret (never the secret itself).
pub fn ticket_pk(digest: &str) -> String {
    format!("TICKET#{digest}")
}

pub const TICKET_SK: &str = "TICKET";

/// The connections listening to one audience (`contractor#ctr_…` or `reviewers`).
pub fn audience_pk(audience: &str) -> String {
    format!("AUDIENCE#{audience}")
}

pub fn audience_connection_sk(connection_id: &str) -> String {
    format!("CONN#{connection_id}")
}

/// A connection by its id, naming its audience (what `$disconnect` and a 410 look up).
pub fn connection_pk(connection_id: &str) -> String {
    format!("CONN#{connection_id}")
}

pub const CONNECTION_SK: &str = "CONN";

/// A contractor's activity feed: its head (the last number given), its messages by number,
/// and the events already numbered.
pub fn feed_pk(contractor: &ContractorId) -> String {
    format!("FEED#{contractor}")
}

pub const FEED_HEAD_SK: &str = "HEAD";

pub fn feed_entry_sk(seq: u64) -> String {
    format!("SEQ#{seq:020}")
}

pub fn feed_event_sk(event_id: &str) -> String {
    format!("EVT#{event_id}")
}

/// A badge a contractor holds (or held), under the contractor.
pub fn badge_sk(badge: &str) -> String {
    format!("BADGE#{badge}")
}

/// A notification (one email), by its id (derived from the event and the template).
pub fn notification_pk(id: &str) -> String {
    format!("NOTIFY#{id}")
}

pub const NOTIFICATION_SK: &str = "NOTIFICATION";

/// An email address that must not be mailed (or only with transactional messages), by the
/// SHA-256 of the lower-cased address: the table never holds the address itself here.
pub fn suppression_pk(address_digest: &str) -> String {
    format!("SUPPRESS#{address_digest}")
}

pub const SUPPRESSION_SK: &str = "SUPPRESSION";
