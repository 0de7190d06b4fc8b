//! Which email a domain event means. Pure: the event in, at most one [`Notice`] out (the
//! template, whether a contractor may opt out of it, and the event's part of the template's
//! data); the consumer adds who it goes to and renders it. A notice's id is derived from
//! the event and the template, so a redelivered or duplicated event names the same
//! notification and is sent once.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::badges::Lang;
use crate::events::{DomainEvent, Event};
use domain_kernel::terms::{DocumentKind, RequirementState};

/// Whether a contractor can turn a message off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// About their account; always sent (welcome, action needed, approved, suspended…).
    Transactional,
    /// Progress they may silence (a document received, a requirement verified).
    Updates,
    /// Scheduled nudges (expiring insurance, an idle draft); unsubscribe stops them.
    Reminders,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Notice {
    /// The notification's id: the same event and template always give the same id.
    pub id: String,
    pub template: &'static str,
    pub category: Category,
    /// The event's part of the template data (labels in both languages are chosen at
    /// rendering).
    pub data: Value,
}

/// Every template, for the tests that render them all.
pub const TEMPLATES: [&str; 12] = [
    "welcome",
    "document_received",
    "action_needed",
    "verified",
    "approved",
    "suspended",
    "rejected",
    "expiring",
    "idle_draft",
    "errors_unresolved",
    "badges",
    "erasure_confirmed",
];

/// What a contractor chose to receive, and in which language. Transactional emails (about
/// the account itself) always go out; updates and reminders can be turned off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preferences {
    pub language: Lang,
    pub updates: bool,
    pub reminders: bool,
}

impl Default for Preferences {
    fn default() -> Self {
        Preferences {
            language: Lang::En,
            updates: true,
            reminders: true,
        }
    }
}

/// A change to [`Preferences`] (`PATCH`): absent fields stay as they are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreferencesChange {
    pub language: Option<Lang>,
    pub updates: Option<bool>,
    pub reminders: Option<bool>,
}

impl Preferences {
    /// Whether an email of `category` may go out.
    pub fn allows(&self, category: Category) -> bool {
        match category {
            Category::Transactional => true,
            Category::Updates => self.updates,
            Category::Reminders => self.reminders,
        }
    }

    pub fn apply(self, change: PreferencesChange) -> Preferences {
        Preferences {
            language: change.language.unwrap_or(self.language),
            updates: change.updates.unwrap_or(self.updates),
            reminders: change.reminders.unwrap_or(self.reminders),
        }
    }

    /// What a one-click unsubscribe leaves: only what is about the account.
    pub fn unsubscribed(self) -> Preferences {
        Preferences {
            updates: false,
            reminders: false,
            ..self
        }
    }
}

/// What a requirement or a document is called in an email.
pub fn label(subject: &str, lang: Lang) -> &'static str {
    match (subject, lang) {
        ("insurance" | "insurance_certificate", Lang::En) => "insurance certificate",
        ("insurance" | "insurance_certificate", Lang::Es) => "certificado de seguro",
        ("license", Lang::En) => "contractor license",
        ("license", Lang::Es) => "licencia de contratista",
        ("tax_identity" | "w9", Lang::En) => "W-9",
        ("tax_identity" | "w9", Lang::Es) => "W-9",
        ("bank_account", Lang::En) => "bank account",
        ("bank_account", Lang::Es) => "cuenta bancaria",
        ("photo_id", Lang::En) => "photo ID",
        ("photo_id", Lang::Es) => "identificación con foto",
        (_, Lang::En) => "onboarding details",
        (_, Lang::Es) => "datos de registro",
    }
}

/// What to do about a failed requirement or a refused document.
pub fn action(subject: &str, lang: Lang) -> &'static str {
    match (subject, lang) {
        ("bank_account", Lang::En) => "Link your bank account again in the app.",
        ("bank_account", Lang::Es) => "Vuelve a conectar tu cuenta bancaria en la app.",
        (_, Lang::En) => "Upload a new, complete copy in the app; we check it right away.",
        (_, Lang::Es) => "Sube una copia nueva y completa en la app; la revisamos de inmediato.",
    }
}

fn kind_name(kind: DocumentKind) -> &'static str {
    kind.as_str()
}

/// The last email an erased contractor gets, sent before anything is deleted (the
/// address goes with the profile): what happens, what is kept and why. One per erasure
/// request, whatever retries.
pub fn erasure_notice(erasure_id: &str) -> Notice {
    Notice {
        id: format!(
            "ntf_{}_erasure_confirmed",
            erasure_id.trim_start_matches("era_")
        ),
        template: "erasure_confirmed",
        category: Category::Transactional,
        data: json!({"erasure_id": erasure_id}),
    }
}

/// The notification `event` means, if any.
pub fn notice_for(event: &DomainEvent) -> Option<Notice> {
    let (template, category, data) = match &event.event {
        Event::ContractorRegistered(_) => ("welcome", Category::Transactional, json!({})),
        Event::DocumentScanned(d) => (
            "document_received",
            Category::Updates,
            json!({"subject": kind_name(d.kind), "path": format!("documents/{}", d.document_id)}),
        ),
        Event::DocumentRejected(d) => (
            "action_needed",
            Category::Transactional,
            json!({
                "subject": kind_name(d.kind),
                "reasons": d.rejection.iter().map(|r| json!({"code": r.code, "message": r.reason})).collect::<Vec<_>>(),
                "path": format!("documents/{}", d.document_id),
            }),
        ),
        Event::RequirementUpdated(r) if r.state == RequirementState::Errors => (
            "action_needed",
            Category::Transactional,
            json!({
                "subject": r.requirement,
                "reasons": r.findings.iter().map(|f| json!({"code": f.code, "message": f.message})).collect::<Vec<_>>(),
                "path": format!("requirements/{}", r.requirement),
            }),
        ),
        Event::RequirementUpdated(r) if r.state == RequirementState::Verified => (
            "verified",
            Category::Updates,
            json!({"subject": r.requirement, "path": format!("requirements/{}", r.requirement)}),
        ),
        Event::ContractorApproved(_) => ("approved", Category::Transactional, json!({})),
        Event::ContractorSuspended(s) => (
            "suspended",
            Category::Transactional,
            json!({"subject": s.failed.first().cloned().unwrap_or_default(), "failed": s.failed}),
        ),
        Event::ContractorRejected(r) => (
            "rejected",
            Category::Transactional,
            json!({"reason": r.reason}),
        ),
        _ => return None,
    };
    Some(Notice {
        id: format!(
            "ntf_{}_{template}",
            event.id.as_str().trim_start_matches("evt_")
        ),
        template,
        category,
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{ContractorRegistered, DocumentChanged, RequirementUpdated};
    use crate::ids::ContractorId;
    use domain_kernel::ids::DocumentId;
    use domain_kernel::terms::{DocumentStatus, Finding, RejectionNote, Status};

    fn event(e: Event) -> DomainEvent {
        DomainEvent::new(
            &ContractorId::generate(),
            "2026-12-01T10:00:00Z".parse().unwrap(),
            "c",
            e,
        )
    }

    #[test]
    fn one_event_one_notice_with_an_id_its_redelivery_repeats() {
        let registered = event(Event::ContractorRegistered(ContractorRegistered {
            contractor_version: 1,
            status: Status::Draft,
            services: vec![],
            states: vec![],
        }));
        let notice = notice_for(&registered).unwrap();
        assert_eq!(notice.template, "welcome");
        assert_eq!(notice.category, Category::Transactional);
        assert_eq!(notice_for(&registered.clone()).unwrap().id, notice.id);
        assert!(notice.id.starts_with("ntf_") && notice.id.ends_with("_welcome"));
    }

    #[test]
    fn preferences_stop_updates_and_reminders_never_account_emails() {
        let p = Preferences::default();
        assert!(p.allows(Category::Updates) && p.allows(Category::Reminders));
        let off = p.unsubscribed();
        assert!(!off.allows(Category::Updates) && !off.allows(Category::Reminders));
        assert!(off.allows(Category::Transactional));
        let es = off.apply(PreferencesChange {
            language: Some(Lang::Es),
            reminders: Some(true),
            ..Default::default()
        });
        assert_eq!(
            (es.language, es.updates, es.reminders),
            (Lang::Es, false, true)
        );
        let parsed: Result<PreferencesChange, _> = serde_json::from_str(r#"{"language":"fr"}"#);
        assert!(parsed.is_err(), "only the languages we write in");
    }

    #[test]
    fn a_refused_document_and_a_failed_requirement_say_why() {
        let rejected = event(Event::DocumentRejected(DocumentChanged {
            document_revision: 2,
            document_id: DocumentId::generate(),
            kind: DocumentKind::InsuranceCertificate,
            version: 1,
            status: DocumentStatus::Rejected,
            object_key: "k".into(),
            rejection: Some(RejectionNote {
                code: "malware".into(),
                reason: "The file contains malware.".into(),
            }),
            extraction: None,
        }));
        let n = notice_for(&rejected).unwrap();
        assert_eq!(n.template, "action_needed");
        assert_eq!(
            n.data["reasons"][0]["message"],
            "The file contains malware."
        );
        let failed = event(Event::RequirementUpdated(RequirementUpdated {
            requirement_version: 3,
            requirement: "insurance".into(),
            state: RequirementState::Errors,
            evidence_version: 1,
            findings: vec![Finding {
                code: "limit_too_low".into(),
                message: "Raise the limit.".into(),
            }],
            source: "rules".into(),
        }));
        let n = notice_for(&failed).unwrap();
        assert_eq!(
            (n.template, n.data["subject"].as_str()),
            ("action_needed", Some("insurance"))
        );
        let mut pending = failed.clone();
        if let Event::RequirementUpdated(r) = &mut pending.event {
            r.state = RequirementState::PendingVerification;
        }
        assert_eq!(notice_for(&pending), None, "nothing to say while checking");
    }
}
