//! Realtime: who may listen ([`Grant`], redeemed from a single-use ticket), to what
//! ([`Audience`]), and what a domain event means to them ([`translate`]). A contractor's
//! messages are numbered per contractor and kept in its activity feed: the feed is the
//! truth, the socket is a shortcut (a client that missed messages reads the feed from the
//! last number it saw).

use chrono::{DateTime, Duration, Utc};
use domain_kernel::terms::{DocumentKind, RequirementState};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Digest;

use crate::badges::BadgeRules;
use crate::events::{DomainEvent, Event};
use crate::ids::ContractorId;

/// How long a ticket can wait to be redeemed.
pub const TICKET_LIFETIME: Duration = Duration::seconds(30);
/// API Gateway closes a WebSocket connection after 2 hours; the item outlives it a little so
/// a late `$disconnect` still finds it, and the TTL removes what `$disconnect` missed.
pub const CONNECTION_LIFETIME: Duration = Duration::minutes(125);
/// API Gateway refuses messages over 128 KB; ours stay far below, and a larger one is
/// refused here rather than by the socket.
pub const MAX_MESSAGE_BYTES: usize = 32 * 1024;

/// Who a connection listens as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Contractor,
    Reviewer,
}

/// Whose messages a connection receives.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Audience {
    /// One contractor's own messages.
    Contractor(ContractorId),
    /// Review-queue changes, for staff.
    Reviewers,
}

impl Audience {
    pub fn key(&self) -> String {
        match self {
            Audience::Contractor(id) => format!("contractor#{id}"),
            Audience::Reviewers => "reviewers".to_owned(),
        }
    }

    pub fn parse(key: &str) -> Option<Audience> {
        if key == "reviewers" {
            return Some(Audience::Reviewers);
        }
        ContractorId::parse(key.strip_prefix("contractor#")?).map(Audience::Contractor)
    }

    pub fn contractor(&self) -> Option<&ContractorId> {
        match self {
            Audience::Contractor(id) => Some(id),
            Audience::Reviewers => None,
        }
    }
}

impl Serialize for Audience {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.key())
    }
}

impl<'de> Deserialize<'de> for Audience {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Audience::parse(&raw).ok_or_else(|| serde::de::Error::custom("not an audience"))
    }
}

/// What a redeemed ticket allows: listening as `subject` to `audience`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub subject: String,
    pub role: Role,
    pub audience: Audience,
    pub expires_at: DateTime<Utc>,
}

impl Grant {
    /// A contractor's owner listens to that contractor only.
    pub fn contractor(subject: &str, id: &ContractorId, now: DateTime<Utc>) -> Grant {
        Grant {
            subject: subject.to_owned(),
            role: Role::Contractor,
            audience: Audience::Contractor(id.clone()),
            expires_at: now + TICKET_LIFETIME,
        }
    }

    /// Staff listen to the review queue.
    pub fn reviewer(subject: &str, now: DateTime<Utc>) -> Grant {
        Grant {
            subject: subject.to_owned(),
            role: Role::Reviewer,
            audience: Audience::Reviewers,
            expires_at: now + TICKET_LIFETIME,
        }
    }
}

/// The bearer secret a client presents once on `$connect`. Only its digest is stored, so the
/// table never holds a usable ticket.
#[derive(Clone, PartialEq, Eq)]
pub struct TicketSecret(String);

impl TicketSecret {
    /// Wraps random bytes (at least 16) as a URL-safe secret.
    pub fn from_random(bytes: &[u8]) -> TicketSecret {
        use base64::Engine;
        assert!(bytes.len() >= 16, "a ticket needs at least 128 random bits");
        TicketSecret(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    /// A presented ticket, if it has the shape we issue (anything else is refused before a
    /// lookup).
    pub fn parse(raw: &str) -> Option<TicketSecret> {
        let ok = (22..=128).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| TicketSecret(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the store keys the ticket by.
    pub fn digest(&self) -> String {
        hex::encode(sha2::Sha256::digest(self.0.as_bytes()))
    }
}

impl std::fmt::Debug for TicketSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TicketSecret(…)")
    }
}

/// One open WebSocket connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    pub id: String,
    pub audience: Audience,
    pub subject: String,
    pub connected_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A message as the client receives it. `seq` numbers a contractor's messages (1, 2, 3…
/// with no gaps) and is what `GET /v1/contractors/{id}/activity?after=` continues from;
/// review-queue messages have none (they are not kept).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClientMessage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    #[serde(rename = "type")]
    pub kind: String,
    /// When what it reports happened.
    pub at: DateTime<Utc>,
    /// The domain event it came from (a client may see one twice: socket and feed).
    pub event_id: String,
    pub data: Value,
}

/// A message before it is numbered, with who receives it.
#[derive(Clone, Debug, PartialEq)]
pub struct Outgoing {
    pub audience: Audience,
    pub message: ClientMessage,
    /// For document progress reported by a requirement: the document to name, found by its
    /// kind and version (`data.document_id` is filled in by whoever can look it up).
    pub document: Option<(DocumentKind, u32)>,
}

/// The document kind whose upload is a requirement's evidence.
pub fn document_kind_of(requirement: &str) -> Option<DocumentKind> {
    match requirement {
        "insurance" => Some(DocumentKind::InsuranceCertificate),
        "license" => Some(DocumentKind::License),
        "tax_identity" => Some(DocumentKind::W9),
        _ => None,
    }
}

/// Where a document is in the contractor's eyes.
fn stage_of(state: RequirementState) -> &'static str {
    match state {
        RequirementState::Verified => "verified",
        RequirementState::Errors => "rejected",
        RequirementState::ManualReview => "in_review",
        RequirementState::PendingVerification | RequirementState::CurrentlyDue => "checking",
    }
}

/// What `event` means to the people listening: zero or more messages, each for one audience.
/// Only what the contractor may read through the API goes out (no extracted values, no
/// object keys).
pub fn translate(event: &DomainEvent, rules: &BadgeRules) -> Vec<Outgoing> {
    let contractor = Audience::Contractor(event.contractor_id.clone());
    let message = |kind: &str, data: Value| ClientMessage {
        seq: None,
        kind: kind.to_owned(),
        at: event.occurred_at,
        event_id: event.id.to_string(),
        data,
    };
    let to = |audience: &Audience, kind: &str, data: Value| Outgoing {
        audience: audience.clone(),
        message: message(kind, data),
        document: None,
    };
    let mut out = Vec::new();
    match &event.event {
        Event::ContractorRegistered(e) => out.push(to(
            &contractor,
            "contractor.registered",
            json!({"status": e.status}),
        )),
        Event::StepSaved(e) => out.push(to(
            &contractor,
            "step.saved",
            json!({"step": e.step, "step_status": e.step_status, "percent_complete": e.percent_complete}),
        )),
        Event::StatusChanged(e) => out.push(to(
            &contractor,
            "status.changed",
            json!({"from": e.from, "to": e.to}),
        )),
        Event::ContractorSubmitted(_) => {
            out.push(to(&contractor, "contractor.submitted", json!({})));
        }
        Event::ContractorApproved(e) => out.push(to(
            &contractor,
            "contractor.approved",
            json!({"verified": e.verified}),
        )),
        Event::ContractorSuspended(e) => out.push(to(
            &contractor,
            "contractor.suspended",
            json!({"failed": e.failed}),
        )),
        Event::ContractorRejected(e) => out.push(to(
            &contractor,
            "contractor.rejected",
            json!({"reason": e.reason}),
        )),
        Event::DocumentScanned(d)
        | Event::DocumentRejected(d)
        | Event::DocumentExtracted(d)
        | Event::DocumentFailed(d)
        | Event::DocumentExpired(d) => {
            let (stage, reason) = match &event.event {
                Event::DocumentScanned(_) => ("reading", None),
                Event::DocumentExtracted(_) => ("checking", None),
                Event::DocumentRejected(_) => (
                    "rejected",
                    d.rejection
                        .as_ref()
                        .map(|r| json!({"code": r.code, "message": r.reason})),
                ),
                Event::DocumentFailed(_) => (
                    "in_review",
                    Some(json!({"code": "needs_reviewer", "message": "We couldn't read this document automatically; a reviewer will look at it."})),
                ),
                _ => (
                    "expired",
                    Some(json!({"code": "upload_not_received", "message": "The upload didn't arrive before its link expired. Upload the document again."})),
                ),
            };
            out.push(to(
                &contractor,
                "document.progress",
                json!({
                    "document_id": d.document_id,
                    "kind": d.kind,
                    "version": d.version,
                    "document_revision": d.document_revision,
                    "stage": stage,
                    "reasons": reason.into_iter().collect::<Vec<_>>(),
                }),
            ));
        }
        Event::RequirementUpdated(e) => {
            let reasons: Vec<Value> = e
                .findings
                .iter()
                .map(|f| json!({"code": f.code, "message": f.message}))
                .collect();
            out.push(to(
                &contractor,
                "requirement.changed",
                json!({"requirement": e.requirement, "state": e.state, "evidence_version": e.evidence_version, "reasons": reasons}),
            ));
            if let Some(kind) = document_kind_of(&e.requirement).filter(|_| e.evidence_version > 0) {
                let mut progress = to(
                    &contractor,
                    "document.progress",
                    json!({
                        "document_id": null,
                        "kind": kind,
                        "version": e.evidence_version,
                        "stage": stage_of(e.state),
                        "reasons": reasons,
                    }),
                );
                progress.document = Some((kind, e.evidence_version));
                out.push(progress);
            }
            if e.state == RequirementState::ManualReview || e.source == "reviewer" {
                out.push(to(
                    &Audience::Reviewers,
                    "review.updated",
                    json!({"contractor_id": event.contractor_id, "requirement": e.requirement, "state": e.state}),
                ));
            }
        }
        Event::RequirementClaimed(e) => out.push(to(
            &Audience::Reviewers,
            "review.claimed",
            json!({"contractor_id": event.contractor_id, "requirement": e.requirement, "reviewer": e.reviewer, "until": e.until}),
        )),
        Event::BadgeAwarded(b) | Event::BadgeRevoked(b) => {
            let kind = if matches!(event.event, Event::BadgeAwarded(_)) {
                "badge.awarded"
            } else {
                "badge.revoked"
            };
            let (title, description) = rules
                .badge(&b.badge)
                .map(|r| (json!(r.title), json!(r.description)))
                .unwrap_or((Value::Null, Value::Null));
            out.push(to(
                &contractor,
                kind,
                json!({"badge": b.badge, "title": title, "description": description}),
            ));
        }
    }
    out
}

/// The feed page a client asked for: `after` the last number it saw, at most `limit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeedQuery {
    pub after: u64,
    pub limit: usize,
}

impl FeedQuery {
    pub const MAX_LIMIT: usize = 200;
    pub const MAX_AFTER: u64 = (1 << 53) - 1;

    /// From the query string's `after` and `limit` (both optional).
    pub fn parse(after: Option<&str>, limit: Option<&str>) -> Result<FeedQuery, &'static str> {
        let after = match after {
            None | Some("") => 0,
            // Bounded to what a JavaScript client can hold exactly (2^53 - 1).
            Some(raw) => raw
                .parse::<u64>()
                .ok()
                .filter(|n| *n <= Self::MAX_AFTER)
                .ok_or("after must be a whole number (the last seq you saw; 0 for all)")?,
        };
        let limit = match limit {
            None | Some("") => 100,
            Some(raw) => match raw.parse::<usize>() {
                Ok(n) if (1..=Self::MAX_LIMIT).contains(&n) => n,
                _ => return Err("limit must be a whole number from 1 to 200"),
            },
        };
        Ok(FeedQuery { after, limit })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{BadgeChanged, DocumentChanged, RequirementUpdated};
    use domain_kernel::ids::DocumentId;
    use domain_kernel::terms::{DocumentStatus, Finding};

    fn event(e: Event) -> DomainEvent {
        DomainEvent::new(
            &ContractorId::generate(),
            "2026-12-01T10:00:00Z".parse().unwrap(),
            "c",
            e,
        )
    }

    fn doc(status: DocumentStatus) -> DocumentChanged {
        DocumentChanged {
            document_revision: 2,
            document_id: DocumentId::generate(),
            kind: DocumentKind::InsuranceCertificate,
            version: 1,
            status,
            object_key: "contractors/x/documents/y/original.pdf".into(),
            rejection: None,
            extraction: Some(reading::Extraction {
                method: reading::ReadMethod::TextLayer,
                fields: Default::default(),
                problems: vec![],
                pages: vec![],
                page_count: None,
            }),
        }
    }

    #[test]
    fn a_document_moves_through_stages_without_its_extracted_values_or_keys() {
        let rules = BadgeRules::shipped();
        let out = translate(
            &event(Event::DocumentExtracted(doc(DocumentStatus::Extracted))),
            &rules,
        );
        assert_eq!(out.len(), 1);
        let m = &out[0].message;
        assert_eq!(
            (m.kind.as_str(), m.data["stage"].as_str()),
            ("document.progress", Some("checking"))
        );
        let text = serde_json::to_string(m).unwrap();
        assert!(
            !text.contains("extraction") && !text.contains("original.pdf"),
            "{text}"
        );
    }

    #[test]
    fn a_requirement_result_reports_the_documents_verdict_and_the_reason_to_act_on() {
        let rules = BadgeRules::shipped();
        let out = translate(
            &event(Event::RequirementUpdated(RequirementUpdated {
                requirement_version: 3,
                requirement: "insurance".into(),
                state: RequirementState::Errors,
                evidence_version: 2,
                findings: vec![Finding {
                    code: "limit_too_low".into(),
                    message: "Raise the general liability limit to $1,000,000.".into(),
                }],
                source: "rules".into(),
            })),
            &rules,
        );
        let kinds: Vec<&str> = out.iter().map(|o| o.message.kind.as_str()).collect();
        assert_eq!(kinds, ["requirement.changed", "document.progress"]);
        assert_eq!(
            out[1].document,
            Some((DocumentKind::InsuranceCertificate, 2))
        );
        assert_eq!(out[1].message.data["stage"], "rejected");
        assert_eq!(out[1].message.data["reasons"][0]["code"], "limit_too_low");
        assert!(
            out.iter()
                .all(|o| matches!(o.audience, Audience::Contractor(_)))
        );
    }

    #[test]
    fn review_queue_changes_go_to_reviewers_only() {
        let rules = BadgeRules::shipped();
        let out = translate(
            &event(Event::RequirementUpdated(RequirementUpdated {
                requirement_version: 3,
                requirement: "bank_account".into(),
                state: RequirementState::ManualReview,
                evidence_version: 1,
                findings: vec![],
                source: "provider:plaid".into(),
            })),
            &rules,
        );
        assert_eq!(out.last().unwrap().audience, Audience::Reviewers);
        assert_eq!(out.last().unwrap().message.kind, "review.updated");
    }

    #[test]
    fn a_badge_message_names_the_badge_in_both_languages() {
        let rules = BadgeRules::shipped();
        let out = translate(
            &event(Event::BadgeAwarded(BadgeChanged {
                badge_revision: 1,
                badge: "insured".into(),
                rules_version: 1,
            })),
            &rules,
        );
        assert_eq!(out[0].message.data["title"]["es"], "Asegurado");
    }

    #[test]
    fn tickets_are_stored_by_digest_and_odd_shapes_are_refused() {
        let t = TicketSecret::from_random(&[7u8; 32]);
        assert_eq!(t.expose().len(), 43);
        assert_eq!(TicketSecret::parse(t.expose()), Some(t.clone()));
        assert_eq!(t.digest().len(), 64);
        assert_ne!(t.digest(), t.expose());
        assert!(!format!("{t:?}").contains(t.expose()));
        for bad in [
            "",
            "short",
            "has space in it and is long enough",
            &"x".repeat(200),
        ] {
            assert!(TicketSecret::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn audiences_round_trip_and_feed_queries_are_checked() {
        let id = ContractorId::generate();
        let a = Audience::Contractor(id.clone());
        assert_eq!(Audience::parse(&a.key()), Some(a));
        assert_eq!(Audience::parse("reviewers"), Some(Audience::Reviewers));
        assert_eq!(Audience::parse("contractor#nope"), None);
        assert_eq!(
            FeedQuery::parse(None, None),
            Ok(FeedQuery {
                after: 0,
                limit: 100
            })
        );
        assert_eq!(
            FeedQuery::parse(Some("7"), Some("5")),
            Ok(FeedQuery { after: 7, limit: 5 })
        );
        assert!(FeedQuery::parse(Some("-1"), None).is_err());
        assert!(FeedQuery::parse(None, Some("0")).is_err());
        assert!(FeedQuery::parse(None, Some("201")).is_err());
    }
}
