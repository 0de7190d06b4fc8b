//! Domain events: what happened, published to the events topic for other consumers
//! (verification, standing, realtime progress, badges, email). Written to an outbox in the
//! same transaction as the change, so an event is never lost and never published for a
//! change that did not happen.
//!
//! [`Event`] is the only way an event is built or read: one struct per type, each naming
//! what orders it (`contractor_version`, `document_revision`, `requirement_version`). On the
//! wire an event is the envelope consumers have always read (`id`, `type`,
//! `contractor_id`, `version`, `occurred_at`, `correlation_id`, `data`); `version` repeats
//! the event's own ordering number, and `data` also carries it under its explicit name.
//! The catalogue with examples is `docs/events.md`, checked against this enum by a test.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use reading::Extraction;

use crate::ids::{ContractorId, DocumentId, EventId};
use crate::terms::{
    DocumentKind, DocumentStatus, Finding, RejectionNote, RequirementState, Service, Status,
    StepName, StepStatus,
};
use crate::values::UsState;

/// One domain event with its envelope.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(into = "Wire", try_from = "Wire")]
pub struct DomainEvent {
    pub id: EventId,
    pub contractor_id: ContractorId,
    pub occurred_at: DateTime<Utc>,
    pub correlation_id: String,
    pub event: Event,
}

/// What happened, one variant per event type (`type` on the wire).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum Event {
    #[serde(rename = "contractor.registered")]
    ContractorRegistered(ContractorRegistered),
    #[serde(rename = "step.saved")]
    StepSaved(StepSaved),
    #[serde(rename = "status.changed")]
    StatusChanged(StatusChanged),
    #[serde(rename = "contractor.submitted")]
    ContractorSubmitted(ContractorSubmitted),
    #[serde(rename = "contractor.approved")]
    ContractorApproved(StandingChanged),
    #[serde(rename = "contractor.suspended")]
    ContractorSuspended(StandingChanged),
    #[serde(rename = "contractor.rejected")]
    ContractorRejected(ContractorRejected),
    #[serde(rename = "document.scanned")]
    DocumentScanned(DocumentChanged),
    #[serde(rename = "document.rejected")]
    DocumentRejected(DocumentChanged),
    #[serde(rename = "document.extracted")]
    DocumentExtracted(DocumentChanged),
    #[serde(rename = "document.failed")]
    DocumentFailed(DocumentChanged),
    #[serde(rename = "document.expired")]
    DocumentExpired(DocumentChanged),
    #[serde(rename = "requirement.updated")]
    RequirementUpdated(RequirementUpdated),
    #[serde(rename = "requirement.claimed")]
    RequirementClaimed(RequirementClaimed),
    #[serde(rename = "badge.awarded")]
    BadgeAwarded(BadgeChanged),
    #[serde(rename = "badge.revoked")]
    BadgeRevoked(BadgeChanged),
}

/// Every event type, as `type` names it on the wire (SNS filter policies, docs).
pub const EVENT_TYPES: [&str; 16] = [
    "contractor.registered",
    "step.saved",
    "status.changed",
    "contractor.submitted",
    "contractor.approved",
    "contractor.suspended",
    "contractor.rejected",
    "document.scanned",
    "document.rejected",
    "document.extracted",
    "document.failed",
    "document.expired",
    "requirement.updated",
    "requirement.claimed",
    "badge.awarded",
    "badge.revoked",
];

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContractorRegistered {
    pub contractor_version: u64,
    pub status: Status,
    pub services: Vec<Service>,
    pub states: Vec<UsState>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepSaved {
    pub contractor_version: u64,
    pub step: StepName,
    pub step_status: StepStatus,
    pub percent_complete: u8,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusChanged {
    pub contractor_version: u64,
    pub from: Status,
    pub to: Status,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContractorSubmitted {
    pub contractor_version: u64,
}

/// The account moved as its verification requirements say (approved, suspended).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StandingChanged {
    pub contractor_version: u64,
    pub status_before: Status,
    pub status_after: Status,
    /// The requirements that are satisfied.
    pub verified: Vec<String>,
    /// The requirements that failed (why an approved account is suspended).
    pub failed: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContractorRejected {
    pub contractor_version: u64,
    /// The reviewer's reason, which the contractor reads.
    pub reason: String,
}

/// A document moved through the pipeline; `status` is where it is now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DocumentChanged {
    pub document_revision: u64,
    pub document_id: DocumentId,
    pub kind: DocumentKind,
    /// Which upload of its kind this is for the contractor (1 for the first): the
    /// evidence version of the requirement it supports.
    pub version: u32,
    pub status: DocumentStatus,
    /// What extraction, providers and reviewers read (the disarmed copy when there is one).
    pub object_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection: Option<RejectionNote>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extraction: Option<Extraction>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequirementUpdated {
    pub requirement_version: u64,
    pub requirement: String,
    pub state: RequirementState,
    pub evidence_version: u32,
    pub findings: Vec<Finding>,
    /// Whose result changed it (`rules`, `provider:trustlayer`, `reviewer`, …).
    pub source: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequirementClaimed {
    pub requirement_version: u64,
    pub requirement: String,
    pub reviewer: String,
    pub until: Option<DateTime<Utc>>,
}

/// A badge was earned or, for a badge backed by a fact that can lapse, lost. Ordered per
/// badge by `badge_revision` (1 when first awarded, +1 on every move).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BadgeChanged {
    pub badge_revision: u64,
    pub badge: String,
    /// The version of the badge rules that decided it.
    pub rules_version: u32,
}

impl Event {
    /// The type as the wire names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::ContractorRegistered(_) => "contractor.registered",
            Event::StepSaved(_) => "step.saved",
            Event::StatusChanged(_) => "status.changed",
            Event::ContractorSubmitted(_) => "contractor.submitted",
            Event::ContractorApproved(_) => "contractor.approved",
            Event::ContractorSuspended(_) => "contractor.suspended",
            Event::ContractorRejected(_) => "contractor.rejected",
            Event::DocumentScanned(_) => "document.scanned",
            Event::DocumentRejected(_) => "document.rejected",
            Event::DocumentExtracted(_) => "document.extracted",
            Event::DocumentFailed(_) => "document.failed",
            Event::DocumentExpired(_) => "document.expired",
            Event::RequirementUpdated(_) => "requirement.updated",
            Event::RequirementClaimed(_) => "requirement.claimed",
            Event::BadgeAwarded(_) => "badge.awarded",
            Event::BadgeRevoked(_) => "badge.revoked",
        }
    }

    /// The number that orders this event among its subject's events: the contractor's
    /// version, the document's revision or the requirement's version (the wire's `version`).
    pub fn sequence(&self) -> Sequence {
        match self {
            Event::ContractorRegistered(e) => Sequence::Contractor(e.contractor_version),
            Event::StepSaved(e) => Sequence::Contractor(e.contractor_version),
            Event::StatusChanged(e) => Sequence::Contractor(e.contractor_version),
            Event::ContractorSubmitted(e) => Sequence::Contractor(e.contractor_version),
            Event::ContractorApproved(e) | Event::ContractorSuspended(e) => {
                Sequence::Contractor(e.contractor_version)
            }
            Event::ContractorRejected(e) => Sequence::Contractor(e.contractor_version),
            Event::DocumentScanned(e)
            | Event::DocumentRejected(e)
            | Event::DocumentExtracted(e)
            | Event::DocumentFailed(e)
            | Event::DocumentExpired(e) => Sequence::Document(e.document_revision),
            Event::RequirementUpdated(e) => Sequence::Requirement(e.requirement_version),
            Event::RequirementClaimed(e) => Sequence::Requirement(e.requirement_version),
            Event::BadgeAwarded(e) | Event::BadgeRevoked(e) => Sequence::Badge(e.badge_revision),
        }
    }

    /// The document this event is about, for document events.
    pub fn document(&self) -> Option<&DocumentChanged> {
        match self {
            Event::DocumentScanned(d)
            | Event::DocumentRejected(d)
            | Event::DocumentExtracted(d)
            | Event::DocumentFailed(d)
            | Event::DocumentExpired(d) => Some(d),
            _ => None,
        }
    }
}

/// What an event's ordering number counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sequence {
    Contractor(u64),
    Document(u64),
    Requirement(u64),
    Badge(u64),
}

impl Sequence {
    pub fn number(self) -> u64 {
        match self {
            Sequence::Contractor(n)
            | Sequence::Document(n)
            | Sequence::Requirement(n)
            | Sequence::Badge(n) => n,
        }
    }

    /// The data field that names the number explicitly.
    fn field(self) -> &'static str {
        match self {
            Sequence::Contractor(_) => "contractor_version",
            Sequence::Document(_) => "document_revision",
            Sequence::Requirement(_) => "requirement_version",
            Sequence::Badge(_) => "badge_revision",
        }
    }
}

impl DomainEvent {
    /// A new event (fresh id) about `contractor_id`.
    pub fn new(
        contractor_id: &ContractorId,
        at: DateTime<Utc>,
        correlation_id: &str,
        event: Event,
    ) -> Self {
        DomainEvent {
            id: EventId::generate(),
            contractor_id: contractor_id.clone(),
            occurred_at: at,
            correlation_id: correlation_id.to_owned(),
            event,
        }
    }

    /// The type as the wire names it (the SNS `event_type` attribute subscribers filter on).
    pub fn kind(&self) -> &'static str {
        self.event.kind()
    }

    /// The wire's `version`: the event's own ordering number.
    pub fn version(&self) -> u64 {
        self.event.sequence().number()
    }

    /// The JSON published on the topic.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a domain event always serializes")
    }
}

/// Why a message is not a domain event we know.
#[derive(Debug, thiserror::Error)]
#[error("not a domain event: {0}")]
pub struct NotAnEvent(String);

impl std::str::FromStr for DomainEvent {
    type Err = NotAnEvent;

    fn from_str(body: &str) -> Result<Self, NotAnEvent> {
        serde_json::from_str(body).map_err(|e| NotAnEvent(e.to_string()))
    }
}

/// The envelope as it travels.
#[derive(Serialize, Deserialize)]
struct Wire {
    id: EventId,
    #[serde(rename = "type")]
    kind: String,
    contractor_id: ContractorId,
    version: u64,
    occurred_at: DateTime<Utc>,
    correlation_id: String,
    #[serde(default)]
    data: Value,
}

impl From<DomainEvent> for Wire {
    fn from(e: DomainEvent) -> Wire {
        let version = e.version();
        let tagged = serde_json::to_value(&e.event).expect("event data always serializes");
        let Value::Object(mut tagged) = tagged else {
            unreachable!("an adjacently tagged enum serializes to an object")
        };
        let data = tagged
            .remove("data")
            .unwrap_or_else(|| Value::Object(Default::default()));
        Wire {
            id: e.id,
            kind: e.event.kind().to_owned(),
            contractor_id: e.contractor_id,
            version,
            occurred_at: e.occurred_at,
            correlation_id: e.correlation_id,
            data,
        }
    }
}

impl TryFrom<Wire> for DomainEvent {
    type Error = String;

    fn try_from(w: Wire) -> Result<DomainEvent, String> {
        let mut data = match w.data {
            Value::Object(map) => map,
            Value::Null => Default::default(),
            other => return Err(format!("`data` is not an object: {other}")),
        };
        // Events written before the explicit names carried the number only as `version`.
        let field =
            sequence_field(&w.kind).ok_or_else(|| format!("unknown event type {:?}", w.kind))?;
        data.entry(field).or_insert(Value::from(w.version));
        let event: Event =
            serde_json::from_value(serde_json::json!({"type": w.kind, "data": data}))
                .map_err(|e| format!("{}: {e}", w.kind))?;
        Ok(DomainEvent {
            id: w.id,
            contractor_id: w.contractor_id,
            occurred_at: w.occurred_at,
            correlation_id: w.correlation_id,
            event,
        })
    }
}

/// The explicit ordering field of an event type.
fn sequence_field(kind: &str) -> Option<&'static str> {
    let sequence = match kind.split('.').next()? {
        "contractor" | "step" | "status" => Sequence::Contractor(0),
        "document" => Sequence::Document(0),
        "requirement" => Sequence::Requirement(0),
        "badge" => Sequence::Badge(0),
        _ => return None,
    };
    EVENT_TYPES.contains(&kind).then(|| sequence.field())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime<Utc> {
        "2026-12-01T10:00:00Z".parse().unwrap()
    }

    fn contractor() -> ContractorId {
        ContractorId::generate()
    }

    fn one_of_each() -> Vec<Event> {
        let doc = DocumentChanged {
            document_revision: 3,
            document_id: DocumentId::generate(),
            kind: DocumentKind::InsuranceCertificate,
            version: 2,
            status: DocumentStatus::Extracted,
            object_key: "contractors/x/documents/y/original.pdf".into(),
            rejection: None,
            extraction: None,
        };
        let standing = StandingChanged {
            contractor_version: 9,
            status_before: Status::UnderReview,
            status_after: Status::Approved,
            verified: vec!["insurance".into()],
            failed: vec![],
        };
        vec![
            Event::ContractorRegistered(ContractorRegistered {
                contractor_version: 1,
                status: Status::Draft,
                services: vec![Service::PermanentLighting],
                states: vec![],
            }),
            Event::StepSaved(StepSaved {
                contractor_version: 2,
                step: StepName::BusinessProfile,
                step_status: StepStatus::Complete,
                percent_complete: 17,
            }),
            Event::StatusChanged(StatusChanged {
                contractor_version: 2,
                from: Status::Draft,
                to: Status::InProgress,
            }),
            Event::ContractorSubmitted(ContractorSubmitted {
                contractor_version: 8,
            }),
            Event::ContractorApproved(standing.clone()),
            Event::ContractorSuspended(standing),
            Event::ContractorRejected(ContractorRejected {
                contractor_version: 10,
                reason: "fraud".into(),
            }),
            Event::DocumentScanned(doc.clone()),
            Event::DocumentRejected(doc.clone()),
            Event::DocumentExtracted(doc.clone()),
            Event::DocumentFailed(doc.clone()),
            Event::DocumentExpired(doc),
            Event::RequirementUpdated(RequirementUpdated {
                requirement_version: 4,
                requirement: "insurance".into(),
                state: RequirementState::Verified,
                evidence_version: 2,
                findings: vec![],
                source: "rules".into(),
            }),
            Event::RequirementClaimed(RequirementClaimed {
                requirement_version: 5,
                requirement: "insurance".into(),
                reviewer: "auth0|r1".into(),
                until: Some(at()),
            }),
            Event::BadgeAwarded(BadgeChanged {
                badge_revision: 1,
                badge: "insured".into(),
                rules_version: 1,
            }),
            Event::BadgeRevoked(BadgeChanged {
                badge_revision: 2,
                badge: "insured".into(),
                rules_version: 1,
            }),
        ]
    }

    #[test]
    fn every_type_is_listed_once_and_round_trips_on_the_wire() {
        let events = one_of_each();
        let kinds: Vec<&str> = events.iter().map(Event::kind).collect();
        assert_eq!(kinds, EVENT_TYPES.to_vec());
        for event in events {
            let sent = DomainEvent::new(&contractor(), at(), "corr-1", event);
            let wire: Value = serde_json::from_str(&sent.to_json()).unwrap();
            assert_eq!(wire["type"], sent.kind());
            assert_eq!(wire["version"], sent.version());
            assert_eq!(wire["correlation_id"], "corr-1");
            assert!(wire["data"].is_object(), "{wire}");
            let received: DomainEvent = sent.to_json().parse().unwrap();
            assert_eq!(received, sent);
        }
    }

    /// The fields `docs/events.md` lists for each type, in its order (`?`: optional).
    fn catalogue() -> Vec<(String, Vec<String>)> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../docs/events.md");
        let text = std::fs::read_to_string(path).expect("docs/events.md");
        let mut entries = Vec::new();
        let mut current: Option<String> = None;
        for line in text.lines() {
            if let Some(kind) = line.strip_prefix("### `").and_then(|l| l.strip_suffix('`')) {
                current = Some(kind.to_owned());
            } else if let (Some(kind), Some(fields)) = (&current, line.strip_prefix("Data: ")) {
                let fields = fields
                    .split(", ")
                    .map(|f| f.trim_matches('`').trim_end_matches('?').to_owned())
                    .collect();
                entries.push((kind.clone(), fields));
                current = None;
            }
        }
        entries
    }

    #[test]
    fn the_catalogue_matches_the_enum() {
        let documented = catalogue();
        let kinds: Vec<&str> = documented.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            kinds,
            EVENT_TYPES.to_vec(),
            "docs/events.md lists every type once"
        );
        for mut event in one_of_each() {
            // Every optional field present, so the catalogue must name it.
            if let Event::DocumentScanned(d) = &mut event {
                d.rejection = Some(RejectionNote {
                    code: "c".into(),
                    reason: "r".into(),
                });
                d.extraction = Some(Extraction {
                    method: reading::ReadMethod::TextLayer,
                    fields: Default::default(),
                    problems: vec![],
                    pages: vec![],
                    page_count: None,
                });
            }
            let data =
                serde_json::to_value(DomainEvent::new(&contractor(), at(), "c", event.clone()))
                    .unwrap()["data"]
                    .clone();
            let mut keys: Vec<String> = data.as_object().unwrap().keys().cloned().collect();
            keys.sort();
            let (_, fields) = documented.iter().find(|(k, _)| k == event.kind()).unwrap();
            let mut fields = fields.clone();
            fields.sort();
            if event.document().is_some_and(|d| d.rejection.is_none()) {
                fields.retain(|f| f != "rejection" && f != "extraction");
            }
            assert_eq!(keys, fields, "docs/events.md on {}", event.kind());
        }
    }

    #[test]
    fn the_explicit_number_is_in_data_and_older_events_get_it_from_version() {
        let sent = DomainEvent::new(
            &contractor(),
            at(),
            "c",
            Event::StatusChanged(StatusChanged {
                contractor_version: 7,
                from: Status::Draft,
                to: Status::InProgress,
            }),
        );
        let mut wire: Value = serde_json::to_value(&sent).unwrap();
        assert_eq!(wire["data"]["contractor_version"], 7);
        assert_eq!(wire["version"], 7);
        // As published before the explicit names existed.
        wire["data"]
            .as_object_mut()
            .unwrap()
            .remove("contractor_version");
        let old: DomainEvent = serde_json::from_value(wire).unwrap();
        assert_eq!(old, sent);
    }

    #[test]
    fn unknown_types_and_wrong_data_are_refused_with_the_reason() {
        let good = serde_json::to_value(DomainEvent::new(
            &contractor(),
            at(),
            "c",
            Event::ContractorSubmitted(ContractorSubmitted {
                contractor_version: 3,
            }),
        ))
        .unwrap();
        let mut unknown = good.clone();
        unknown["type"] = "contractor.teleported".into();
        let err = serde_json::from_value::<DomainEvent>(unknown).unwrap_err();
        assert!(err.to_string().contains("unknown event type"), "{err}");

        let mut wrong = good.clone();
        wrong["type"] = "status.changed".into();
        wrong["data"] = serde_json::json!({"from": "draft", "to": "flying"});
        let err = serde_json::from_value::<DomainEvent>(wrong).unwrap_err();
        assert!(err.to_string().contains("status.changed"), "{err}");

        assert!("not json".parse::<DomainEvent>().is_err());
    }
}
