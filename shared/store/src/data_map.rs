//! The data map: every kind of item in the table and every kind of object in the documents
//! bucket, recognised by its key, with what it holds about whom, how long, why, and how
//! erasure treats it (`domain::privacy`). Beside `keys` because it names the same layout;
//! `docs/privacy.md` shows it as a table (a test keeps the two together), and an
//! end-to-end test walks the table and bucket after the suite so that nothing is stored
//! that the map does not name.

use domain::privacy::{Erasure, Holding, LegalBasis, Retention, Subject};

/// How a key part is recognised.
#[derive(Clone, Copy, Debug)]
pub enum Shape {
    Exact(&'static str),
    Prefix(&'static str),
}

impl Shape {
    fn matches(&self, value: &str) -> bool {
        match self {
            Shape::Exact(v) => value == *v,
            Shape::Prefix(p) => value.starts_with(p) && value.len() > p.len(),
        }
    }
}

/// An item type: its key shapes and what it holds.
#[derive(Clone, Copy, Debug)]
pub struct ItemKind {
    pub pk: Shape,
    pub sk: Shape,
    pub holding: Holding,
}

const fn item(pk: Shape, sk: Shape, holding: Holding) -> ItemKind {
    ItemKind { pk, sk, holding }
}

use Shape::{Exact, Prefix};

const TTL_RECORDS: LegalBasis = LegalBasis::LegitimateInterest;

/// Every item type in `OnboardingTable`.
pub const ITEMS: &[ItemKind] = &[
    item(
        Prefix("CONTRACTOR#"),
        Exact("PROFILE"),
        Holding {
            name: "contractor profile",
            subject: Subject::Contractor { via: "pk" },
            personal: &[
                "business_name",
                "contact (name, email, phone)",
                "steps (addresses, owner names, masked TIN)",
                "consents",
                "secrets.tin (sealed under the contractor's data key)",
            ],
            retention: Retention::Account,
            basis: LegalBasis::Contract,
            erasure: Erasure::Delete,
        },
    ),
    item(
        Prefix("CONTRACTOR#"),
        Prefix("AUDIT#"),
        Holding {
            name: "audit entry",
            subject: Subject::Contractor { via: "pk" },
            personal: &[],
            retention: Retention::Years { years: 7 },
            basis: LegalBasis::LegitimateInterest,
            erasure: Erasure::NothingPersonal,
        },
    ),
    item(
        Prefix("CONTRACTOR#"),
        Prefix("REQUIREMENT#"),
        Holding {
            name: "verification requirement",
            subject: Subject::Contractor { via: "pk" },
            personal: &["results (findings, evidence, valid_until)", "claim"],
            retention: Retention::Account,
            basis: LegalBasis::Contract,
            erasure: Erasure::Delete,
        },
    ),
    item(
        Prefix("CONTRACTOR#"),
        Exact("PREFERENCES"),
        Holding {
            name: "email preferences",
            subject: Subject::Contractor { via: "pk" },
            personal: &["language", "updates", "reminders"],
            retention: Retention::Account,
            basis: LegalBasis::Consent,
            erasure: Erasure::Delete,
        },
    ),
    item(
        Prefix("CONTRACTOR#"),
        Exact("DATAKEY"),
        Holding {
            name: "contractor data key",
            subject: Subject::Contractor { via: "pk" },
            personal: &[],
            retention: Retention::Account,
            basis: LegalBasis::Contract,
            // Deleting it is the crypto-shredding of every field sealed under it.
            erasure: Erasure::Delete,
        },
    ),
    item(
        Prefix("CONTRACTOR#"),
        Exact("TOMBSTONE"),
        Holding {
            name: "erasure tombstone",
            subject: Subject::Contractor { via: "pk" },
            personal: &[],
            retention: Retention::Years { years: 7 },
            basis: LegalBasis::LegitimateInterest,
            erasure: Erasure::NothingPersonal,
        },
    ),
    item(
        Prefix("CONTRACTOR#"),
        Prefix("BADGE#"),
        Holding {
            name: "badge",
            subject: Subject::Contractor { via: "pk" },
            personal: &["held", "earned_at", "revoked_at"],
            retention: Retention::Account,
            basis: LegalBasis::Contract,
            erasure: Erasure::Delete,
        },
    ),
    item(
        Prefix("OWNER#"),
        Exact("OWNER"),
        Holding {
            name: "owner lock",
            subject: Subject::Login,
            personal: &["pk (the login's subject)", "contractor_id"],
            retention: Retention::Account,
            basis: LegalBasis::Contract,
            erasure: Erasure::Delete,
        },
    ),
    item(
        Prefix("OUTBOX#"),
        Exact("EVENT"),
        Holding {
            name: "outbox event",
            subject: Subject::Contractor {
                via: "event.contractor_id",
            },
            personal: &[],
            retention: Retention::Transient,
            basis: LegalBasis::Contract,
            erasure: Erasure::NothingPersonal,
        },
    ),
    item(
        Prefix("IDEMPOTENCY#"),
        Exact("RECORD"),
        Holding {
            name: "idempotency record",
            subject: Subject::Login,
            personal: &["response (the answer replayed, which may echo the profile)"],
            retention: Retention::Ttl { hours: 24 },
            basis: TTL_RECORDS,
            erasure: Erasure::Expires,
        },
    ),
    item(
        Prefix("DOCUMENT#"),
        Exact("META"),
        Holding {
            name: "document",
            subject: Subject::Contractor {
                via: "contractor_id",
            },
            personal: &[
                "file_name",
                "extraction (names, addresses, policy and license numbers)",
                "secrets.tin (W-9, sealed under the contractor's data key)",
            ],
            retention: Retention::Account,
            basis: LegalBasis::Contract,
            erasure: Erasure::Delete,
        },
    ),
    item(
        Prefix("WEBHOOK#"),
        Exact("RECEIVED"),
        Holding {
            name: "provider webhook",
            subject: Subject::Contractor {
                via: "body (the provider's reference)",
            },
            personal: &["body (a provider's event, e.g. an insured's name)"],
            retention: Retention::Ttl { hours: 30 * 24 },
            basis: TTL_RECORDS,
            erasure: Erasure::Expires,
        },
    ),
    item(
        Prefix("BREAKER#"),
        Exact("STATE"),
        Holding {
            name: "circuit breaker",
            subject: Subject::NoOne,
            personal: &[],
            retention: Retention::System,
            basis: LegalBasis::LegitimateInterest,
            erasure: Erasure::NothingPersonal,
        },
    ),
    item(
        Prefix("LICENSE#"),
        Exact("LOOKUP"),
        Holding {
            name: "registry answer",
            subject: Subject::Contractor {
                via: "evidence (the card that asked)",
            },
            personal: &["record (the public registry's licensee, address, status)"],
            retention: Retention::Ttl { hours: 24 },
            basis: TTL_RECORDS,
            erasure: Erasure::Expires,
        },
    ),
    item(
        Prefix("BANKLINK#"),
        Exact("LINK"),
        Holding {
            name: "bank link",
            subject: Subject::Contractor {
                via: "contractor_id",
            },
            personal: &[
                "account mask",
                "names on the account",
                "institution",
                "access token (sealed under the contractor's data key)",
            ],
            retention: Retention::Account,
            basis: LegalBasis::Contract,
            erasure: Erasure::Delete,
        },
    ),
    item(
        Prefix("TICKET#"),
        Exact("TICKET"),
        Holding {
            name: "realtime ticket",
            subject: Subject::Login,
            personal: &["subject", "audience"],
            retention: Retention::Ttl { hours: 1 },
            basis: TTL_RECORDS,
            erasure: Erasure::Expires,
        },
    ),
    item(
        Prefix("AUDIENCE#"),
        Prefix("CONN#"),
        Holding {
            name: "realtime connection (by audience)",
            subject: Subject::Contractor { via: "pk" },
            personal: &["subject"],
            retention: Retention::Ttl { hours: 3 },
            basis: TTL_RECORDS,
            erasure: Erasure::Delete,
        },
    ),
    item(
        Prefix("CONN#"),
        Exact("CONN"),
        Holding {
            name: "realtime connection (by id)",
            subject: Subject::Contractor { via: "audience" },
            personal: &["subject"],
            retention: Retention::Ttl { hours: 3 },
            basis: TTL_RECORDS,
            erasure: Erasure::Delete,
        },
    ),
    item(
        Prefix("FEED#"),
        Exact("HEAD"),
        Holding {
            name: "activity feed head",
            subject: Subject::Contractor { via: "pk" },
            personal: &[],
            retention: Retention::Account,
            basis: LegalBasis::Contract,
            erasure: Erasure::Delete,
        },
    ),
    item(
        Prefix("FEED#"),
        Prefix("SEQ#"),
        Holding {
            name: "activity feed entry",
            subject: Subject::Contractor { via: "pk" },
            personal: &["message (what happened to the account and its documents)"],
            retention: Retention::Ttl { hours: 90 * 24 },
            basis: LegalBasis::Contract,
            erasure: Erasure::Delete,
        },
    ),
    item(
        Prefix("FEED#"),
        Prefix("EVT#"),
        Holding {
            name: "activity feed marker",
            subject: Subject::Contractor { via: "pk" },
            personal: &[],
            retention: Retention::Ttl { hours: 90 * 24 },
            basis: LegalBasis::Contract,
            erasure: Erasure::Delete,
        },
    ),
    item(
        Prefix("NOTIFY#"),
        Exact("NOTIFICATION"),
        Holding {
            name: "notification log",
            subject: Subject::Contractor {
                via: "contractor_id",
            },
            personal: &["template (what we wrote to them)", "provider_message_id"],
            retention: Retention::Account,
            basis: LegalBasis::Contract,
            erasure: Erasure::Delete,
        },
    ),
    item(
        Prefix("SUPPRESS#"),
        Exact("SUPPRESSION"),
        Holding {
            name: "email suppression",
            subject: Subject::AddressDigest,
            personal: &["pk (the address's SHA-256)", "reason"],
            retention: Retention::System,
            basis: LegalBasis::LegitimateInterest,
            erasure: Erasure::LegalHold {
                reason: "an address that bounced, complained or unsubscribed must not be mailed again; only its SHA-256 is kept",
            },
        },
    ),
    item(
        Prefix("DIGEST#"),
        Prefix("ctr_"),
        Holding {
            name: "digest badge",
            subject: Subject::Contractor { via: "sk" },
            personal: &["badge earned that day"],
            retention: Retention::Ttl { hours: 14 * 24 },
            basis: LegalBasis::Consent,
            erasure: Erasure::Delete,
        },
    ),
    item(
        Prefix("ERASURE#"),
        Exact("REQUEST"),
        Holding {
            name: "erasure request",
            subject: Subject::Contractor {
                via: "contractor_id",
            },
            personal: &[
                "requester_digest, owner_digest (SHA-256 of the logins)",
                "staff reason",
            ],
            retention: Retention::Years { years: 7 },
            basis: LegalBasis::LegalObligation,
            erasure: Erasure::LegalHold {
                reason: "proof that the erasure was asked for and done (GDPR art. 5(2), 17)",
            },
        },
    ),
    item(
        Prefix("EXPORT#"),
        Exact("JOB"),
        Holding {
            name: "personal data export job",
            subject: Subject::Contractor {
                via: "gsi1pk SUBJECT#<ctr>",
            },
            personal: &["requester_digest (SHA-256 of the login)"],
            retention: Retention::Ttl { hours: 8 * 24 },
            basis: LegalBasis::LegitimateInterest,
            erasure: Erasure::Delete,
        },
    ),
];

/// The item type of a key, if the map names it.
pub fn item_kind(pk: &str, sk: &str) -> Option<&'static ItemKind> {
    ITEMS.iter().find(|k| k.pk.matches(pk) && k.sk.matches(sk))
}

/// An object kind in the documents bucket.
#[derive(Clone, Copy, Debug)]
pub struct ObjectKind {
    /// The key's shape, as `docs/privacy.md` writes it.
    pub pattern: &'static str,
    pub holding: Holding,
}

const DOCUMENT_FILE: Holding = Holding {
    name: "document original",
    subject: Subject::Contractor {
        via: "key: contractors/<ctr>/",
    },
    personal: &["the file (a certificate, license card or W-9)"],
    retention: Retention::Account,
    basis: LegalBasis::Contract,
    erasure: Erasure::Delete,
};

/// Every object kind in the documents bucket.
pub const OBJECTS: &[ObjectKind] = &[
    ObjectKind {
        pattern: "contractors/<ctr>/documents/<doc>/original.<ext>",
        holding: DOCUMENT_FILE,
    },
    ObjectKind {
        pattern: "contractors/<ctr>/documents/<doc>/derivative.pdf",
        holding: Holding {
            name: "disarmed derivative",
            ..DOCUMENT_FILE
        },
    },
    ObjectKind {
        pattern: "quarantine/contractors/<ctr>/documents/<doc>/original.<ext>",
        holding: Holding {
            name: "quarantined upload",
            personal: &["the file the scan refused"],
            retention: Retention::Job {
                days: 30,
                by: "S3 lifecycle rule expire-quarantine",
            },
            basis: LegalBasis::LegitimateInterest,
            ..DOCUMENT_FILE
        },
    },
    ObjectKind {
        pattern: "ledger/erasures/<sha256 of the contractor id>",
        holding: Holding {
            name: "erasure ledger entry",
            subject: Subject::NoOne,
            personal: &[],
            retention: Retention::System,
            basis: LegalBasis::LegitimateInterest,
            erasure: Erasure::NothingPersonal,
        },
    },
    ObjectKind {
        pattern: "exports/contractors/<ctr>/<exp>.zip",
        holding: Holding {
            name: "personal data export",
            personal: &["everything the export gathers (a copy of the rows above)"],
            retention: Retention::Job {
                days: domain::privacy::EXPORT_DAYS as u32,
                by: "S3 lifecycle rule expire-exports",
            },
            basis: LegalBasis::LegitimateInterest,
            ..DOCUMENT_FILE
        },
    },
];

/// The object kind of a key, if the map names it.
pub fn object_kind(key: &str) -> Option<&'static ObjectKind> {
    if let Some(hash) = key.strip_prefix(crate::erasure::LEDGER_PREFIX) {
        return (hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| &OBJECTS[3]);
    }
    if let Some(rest) = key.strip_prefix(crate::privacy_jobs::EXPORTS_PREFIX) {
        let parts: Vec<&str> = rest.split('/').collect();
        let ["contractors", contractor, file] = parts.as_slice() else {
            return None;
        };
        let export = file.strip_suffix(".zip")?;
        return (contractor.starts_with("ctr_") && export.starts_with("exp_")).then(|| &OBJECTS[4]);
    }
    let (quarantined, rest) = match key.strip_prefix(crate::objects::QUARANTINE_PREFIX) {
        Some(rest) => (true, rest),
        None => (false, key),
    };
    let parts: Vec<&str> = rest.split('/').collect();
    let ["contractors", contractor, "documents", document, file] = parts.as_slice() else {
        return None;
    };
    if !contractor.starts_with("ctr_") || !document.starts_with("doc_") {
        return None;
    }
    let index = match (quarantined, *file) {
        (true, f) if f.starts_with("original.") => 2,
        (false, f) if f.starts_with("original.") => 0,
        (false, "derivative.pdf") => 1,
        _ => return None,
    };
    OBJECTS.get(index)
}

/// The contractor an object belongs to.
pub fn object_contractor(key: &str) -> Option<&str> {
    let rest = key
        .strip_prefix(crate::objects::QUARANTINE_PREFIX)
        .or_else(|| key.strip_prefix(crate::privacy_jobs::EXPORTS_PREFIX))
        .unwrap_or(key);
    rest.strip_prefix("contractors/")?
        .split('/')
        .next()
        .filter(|c| !c.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys;
    use domain::ids::{ContractorId, DocumentId, EventId, OwnerId};

    #[test]
    fn the_map_obeys_its_own_rules() {
        for k in ITEMS {
            domain::privacy::consistent(&k.holding).unwrap();
        }
        for o in OBJECTS {
            domain::privacy::consistent(&o.holding).unwrap();
        }
    }

    #[test]
    fn every_key_the_store_builds_is_named_once() {
        let ctr = ContractorId::generate();
        let doc = DocumentId::generate();
        let evt = EventId::generate();
        let owner = OwnerId::parse("auth0|someone").unwrap();
        let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        let built = [
            (keys::contractor_pk(&ctr), keys::CONTRACTOR_SK.to_owned()),
            (keys::contractor_pk(&ctr), keys::audit_sk(7)),
            (keys::contractor_pk(&ctr), keys::requirement_sk("insurance")),
            (keys::contractor_pk(&ctr), keys::PREFERENCES_SK.to_owned()),
            (keys::contractor_pk(&ctr), keys::badge_sk("insured")),
            (keys::contractor_pk(&ctr), keys::DATA_KEY_SK.to_owned()),
            (keys::contractor_pk(&ctr), keys::TOMBSTONE_SK.to_owned()),
            (keys::owner_pk(&owner), keys::OWNER_SK.to_owned()),
            (keys::outbox_pk(&evt), keys::OUTBOX_SK.to_owned()),
            (
                keys::idempotency_pk("auth0|someone#k1"),
                keys::IDEMPOTENCY_SK.to_owned(),
            ),
            (keys::document_pk(&doc), keys::DOCUMENT_SK.to_owned()),
            (
                keys::webhook_pk("plaid", "abc"),
                keys::WEBHOOK_SK.to_owned(),
            ),
            (keys::breaker_pk("sendgrid"), keys::BREAKER_SK.to_owned()),
            (keys::license_pk("tx", "123"), keys::LICENSE_SK.to_owned()),
            (keys::bank_link_pk("item"), keys::BANK_LINK_SK.to_owned()),
            (keys::ticket_pk("digest"), keys::TICKET_SK.to_owned()),
            (
                keys::audience_pk(&format!("contractor#{ctr}")),
                keys::audience_connection_sk("c1"),
            ),
            (keys::connection_pk("c1"), keys::CONNECTION_SK.to_owned()),
            (keys::feed_pk(&ctr), keys::FEED_HEAD_SK.to_owned()),
            (keys::feed_pk(&ctr), keys::feed_entry_sk(3)),
            (keys::feed_pk(&ctr), keys::feed_event_sk("evt_1")),
            (
                keys::notification_pk("ntf_1"),
                keys::NOTIFICATION_SK.to_owned(),
            ),
            (
                keys::suppression_pk("ab12"),
                keys::SUPPRESSION_SK.to_owned(),
            ),
            (keys::digest_pk(day, 3), format!("{ctr}#insured")),
            (
                keys::erasure_pk(&domain::ids::ErasureId::for_contractor(&ctr)),
                keys::ERASURE_SK.to_owned(),
            ),
            (
                keys::export_pk(&domain::ids::ExportId::generate()),
                keys::EXPORT_SK.to_owned(),
            ),
        ];
        let mut named = std::collections::HashSet::new();
        for (pk, sk) in &built {
            let matching: Vec<_> = ITEMS
                .iter()
                .filter(|k| k.pk.matches(pk) && k.sk.matches(sk))
                .collect();
            assert_eq!(matching.len(), 1, "{pk} / {sk}: {matching:?}");
            named.insert(matching[0].holding.name);
        }
        assert_eq!(named.len(), ITEMS.len(), "a map entry no key uses");
    }

    #[test]
    fn objects_are_recognised_by_their_key() {
        let original = "contractors/ctr_1/documents/doc_2/original.pdf";
        assert_eq!(
            object_kind(original).unwrap().holding.name,
            "document original"
        );
        assert_eq!(
            object_kind("contractors/ctr_1/documents/doc_2/derivative.pdf")
                .unwrap()
                .holding
                .name,
            "disarmed derivative"
        );
        assert_eq!(
            object_kind(&format!("quarantine/{original}"))
                .unwrap()
                .holding
                .name,
            "quarantined upload"
        );
        assert!(object_kind("contractors/ctr_1/notes.txt").is_none());
        assert_eq!(
            object_kind("exports/contractors/ctr_1/exp_2.zip")
                .unwrap()
                .holding
                .name,
            "personal data export"
        );
        assert!(object_kind("exports/contractors/ctr_1/notes.zip").is_none());
        assert!(object_kind("exports/contractors/ctr_1/exp_2.zip/x").is_none());
        assert_eq!(
            object_kind(&format!("ledger/erasures/{}", "ab".repeat(32)))
                .unwrap()
                .holding
                .name,
            "erasure ledger entry"
        );
        assert!(object_kind("ledger/erasures/not-a-hash").is_none());
        assert!(
            object_kind("quarantine/contractors/ctr_1/documents/doc_2/derivative.pdf").is_none()
        );
        assert_eq!(object_contractor(original), Some("ctr_1"));
        assert_eq!(
            object_contractor(&format!("quarantine/{original}")),
            Some("ctr_1")
        );
    }

    #[test]
    fn the_privacy_doc_names_every_holding() {
        let doc = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/privacy.md"),
        )
        .expect("docs/privacy.md");
        for h in ITEMS
            .iter()
            .map(|k| k.holding)
            .chain(OBJECTS.iter().map(|o| o.holding))
        {
            assert!(
                doc.contains(&format!("| {} |", h.name)),
                "docs/privacy.md has no row for {}",
                h.name
            );
        }
    }
}
