//! The audit trail: every mutation and decision appends an entry. Entries of one contractor
//! form a hash chain (each carries the hash of the previous one), so altering, removing or
//! reordering a stored entry is detectable by [`verify_chain`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::ids::ContractorId;

/// The `prev_hash` of a contractor's first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    Contractor,
    Reviewer,
    Admin,
    System,
}

/// Who (or what) did it. `id` is the identity provider's subject or a function name; never
/// an email or a name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub kind: ActorKind,
    pub id: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub contractor_id: ContractorId,
    /// The contractor's version after the change: 1, 2, 3… with no gaps.
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub action: String,
    /// What changed, without personal data: step names, field names, statuses.
    pub summary: Value,
    pub request_id: String,
    pub correlation_id: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The canonical bytes an entry's hash covers: every field but `hash`, in a fixed order,
/// with object keys sorted (serde_json's map is ordered).
fn canonical(e: &AuditEntry) -> String {
    let covered = serde_json::json!({
        "contractor_id": e.contractor_id,
        "seq": e.seq,
        "at": e.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "actor": e.actor,
        "action": e.action,
        "summary": e.summary,
        "request_id": e.request_id,
        "correlation_id": e.correlation_id,
        "prev_hash": e.prev_hash,
    });
    covered.to_string()
}

pub fn hash_of(e: &AuditEntry) -> String {
    let digest = Sha256::digest(canonical(e).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a new entry says; [`Unsealed::seal`] chains it.
#[derive(Clone, Debug)]
pub struct Unsealed {
    pub actor: Actor,
    pub action: &'static str,
    pub summary: Value,
    pub request_id: String,
    pub correlation_id: String,
}

impl Unsealed {
    pub fn seal(
        self,
        contractor_id: &ContractorId,
        seq: u64,
        at: DateTime<Utc>,
        prev_hash: &str,
    ) -> AuditEntry {
        let mut entry = AuditEntry {
            contractor_id: contractor_id.clone(),
            seq,
            at,
            actor: self.actor,
            action: self.action.to_owned(),
            summary: self.summary,
            request_id: self.request_id,
            correlation_id: self.correlation_id,
            prev_hash: prev_hash.to_owned(),
            hash: String::new(),
        };
        entry.hash = hash_of(&entry);
        entry
    }
}

/// The result of checking a chain, for people and for alarms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChainVerdict {
    pub valid: bool,
    pub entries: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broken_at: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Checks `entries` (in `seq` order) against each other and against `head`, the hash the
/// contractor record says is last. A missing, altered, inserted or reordered entry fails.
pub fn verify_chain(entries: &[AuditEntry], head: Option<&str>) -> ChainVerdict {
    let broken = |seq: u64, reason: &str| ChainVerdict {
        valid: false,
        entries: entries.len(),
        broken_at: Some(seq),
        reason: Some(reason.to_owned()),
    };
    let mut prev = GENESIS.to_owned();
    for (i, e) in entries.iter().enumerate() {
        if e.seq != i as u64 + 1 {
            return broken(e.seq, "sequence has a gap or is out of order");
        }
        if e.prev_hash != prev {
            return broken(e.seq, "prev_hash does not match the previous entry");
        }
        if hash_of(e) != e.hash {
            return broken(e.seq, "entry content does not match its hash");
        }
        prev = e.hash.clone();
    }
    if let Some(head) = head
        && head != prev
    {
        return broken(entries.len() as u64, "the newest entries are missing");
    }
    ChainVerdict {
        valid: true,
        entries: entries.len(),
        broken_at: None,
        reason: None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn chain(n: u64) -> Vec<AuditEntry> {
        let id = ContractorId::generate();
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let e = Unsealed {
                    actor: Actor {
                        kind: ActorKind::Contractor,
                        id: "auth0|dana".into(),
                    },
                    action: "step.saved",
                    summary: json!({"step": "license", "fields": ["number"]}),
                    request_id: format!("req-{seq}"),
                    correlation_id: "corr".into(),
                }
                .seal(&id, seq, Utc::now(), &prev);
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    #[test]
    fn an_untouched_chain_verifies() {
        let c = chain(4);
        let head = c.last().unwrap().hash.clone();
        assert!(verify_chain(&c, Some(&head)).valid);
        assert!(verify_chain(&[], None).valid);
    }

    #[test]
    fn any_alteration_is_detected() {
        let c = chain(4);
        let head = c.last().unwrap().hash.clone();

        let mut altered = c.clone();
        altered[1].summary = json!({"step": "insurance"});
        assert_eq!(verify_chain(&altered, Some(&head)).broken_at, Some(2));

        let mut rehashed = c.clone();
        rehashed[1].action = "status.changed".into();
        rehashed[1].hash = hash_of(&rehashed[1]);
        assert_eq!(
            verify_chain(&rehashed, Some(&head)).broken_at,
            Some(3),
            "the next entry no longer links"
        );

        let mut removed = c.clone();
        removed.remove(1);
        assert!(!verify_chain(&removed, Some(&head)).valid);

        let truncated = &c[..3];
        let verdict = verify_chain(truncated, Some(&head));
        assert!(!verdict.valid);
        assert_eq!(
            verdict.reason.as_deref(),
            Some("the newest entries are missing")
        );
    }
}
