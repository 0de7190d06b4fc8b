//! The words of the data map: whose data a stored thing is, what personal data it holds,
//! how long it stays, why we may keep it, and how it goes when its subject asks to be
//! erased. The map itself (which item type or object prefix is which) lives beside the key
//! layout in `store::data_map`; export, erasure and the retention jobs read it, and a test
//! walks the table and bucket so nothing exists that it does not name.

/// Whose data it is: how export and erasure find it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    /// Keyed by the contractor id (in the key, or in an attribute named here).
    Contractor { via: &'static str },
    /// Keyed by the login's subject (the owner lock, idempotency records).
    Login,
    /// Keyed by a digest of an email address (suppressions): no contractor id, and no
    /// address to read back.
    AddressDigest,
    /// About the system, not a person (breakers, the outbox cursor).
    NoOne,
}

/// How long it stays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retention {
    /// As long as the account exists (then erasure or the draft retention job).
    Account,
    /// Removed by a TTL after about this many hours.
    Ttl { hours: u32 },
    /// Until a job removes it after this many days (named in `by`).
    Job { days: u32, by: &'static str },
    /// Kept for this many years after the account closes, for a legal obligation.
    Years { years: u32 },
    /// Until it is handled (a queue item), normally seconds.
    Transient,
    /// The system's own state, kept while it runs.
    System,
}

/// Why we may hold it (GDPR art. 6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LegalBasis {
    /// Needed to onboard and pay the contractor (6(1)(b)).
    Contract,
    /// Required by law, e.g. tax records behind a W-9 (6(1)(c)).
    LegalObligation,
    /// Security, fraud prevention, deliverability (6(1)(f)).
    LegitimateInterest,
    /// Optional messages the contractor may turn off (6(1)(a)).
    Consent,
}

/// What erasure does with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Erasure {
    Delete,
    /// Left in place (backups hold copies anyway), unreadable once the contractor's data
    /// key is gone.
    CryptoShred,
    /// Kept, with the reason reported to the person asking.
    LegalHold {
        reason: &'static str,
    },
    /// Holds nothing personal about the subject (or only hashes); kept.
    NothingPersonal,
    /// Gone by itself within the retention (TTL); erasure may delete it sooner.
    Expires,
}

/// One kind of stored thing, as the data map declares it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Holding {
    /// What it is, as `docs/privacy.md` names it.
    pub name: &'static str,
    pub subject: Subject,
    /// The personal data it holds (attribute names), empty when none.
    pub personal: &'static [&'static str],
    pub retention: Retention,
    pub basis: LegalBasis,
    pub erasure: Erasure,
}

impl Holding {
    /// Whether an export for its subject includes it: everything about a person, even
    /// what holds only ids (the audit trail says what happened to them).
    pub fn exported(&self) -> bool {
        !matches!(self.subject, Subject::NoOne)
    }
}

/// A draft nobody has touched for this long is erased (after the idle-draft reminders at
/// 3 and 10 days).
pub const DRAFT_RETENTION_DAYS: i64 = 180;

/// The last change a draft may have had and still be kept at `now`: anything older is due.
pub fn drafts_kept_since(now: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    now - chrono::Duration::days(DRAFT_RETENTION_DAYS)
}

/// How recent the owner's sign-in must be to ask for erasure (the `max_age` of an RFC 9470
/// step-up challenge): a phone left signed in must not be enough to delete an account.
pub const ERASURE_LOGIN_MAX_AGE_SECONDS: i64 = 300;

/// A document replaced by a newer one of its kind is kept this long after the
/// replacement (a dispute about what was on file), then deleted.
pub const SUPERSEDED_RETENTION_DAYS: i64 = 365;

/// How long an export's archive and download stay available.
pub const EXPORT_DAYS: i64 = 7;

/// Who asks for a contractor's erasure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErasureRequester<'a> {
    /// The account's owner, with when they last signed in (`auth_time`).
    Owner {
        signed_in_at: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// A reviewer or admin, with the reason the request is kept with.
    Staff { reason: &'a str },
}

/// Why an erasure request is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ErasureRefusal {
    #[error("the owner signed in too long ago")]
    SignInTooOld,
    #[error("staff must say why, in 1 to 1000 characters")]
    ReasonRequired,
    /// An approved account may have jobs in flight on the marketplace (ADR 0016): the
    /// owner asks support, whose staff close the work and then erase with a reason.
    #[error("the account is active on the marketplace")]
    AccountActive,
}

/// Whether `requester` may have a contractor in `status` erased at `now` (ADR 0016).
pub fn may_request_erasure(
    requester: ErasureRequester<'_>,
    status: crate::terms::Status,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), ErasureRefusal> {
    match requester {
        ErasureRequester::Staff { reason } => {
            let reason = reason.trim();
            if reason.is_empty() || reason.chars().count() > 1000 {
                return Err(ErasureRefusal::ReasonRequired);
            }
            Ok(())
        }
        ErasureRequester::Owner { signed_in_at } => {
            let recent = signed_in_at.is_some_and(|at| {
                let age = (now - at).num_seconds();
                // A clock a little ahead of ours is still a fresh sign-in.
                (-60..=ERASURE_LOGIN_MAX_AGE_SECONDS).contains(&age)
            });
            if !recent {
                return Err(ErasureRefusal::SignInTooOld);
            }
            if status == crate::terms::Status::Approved {
                return Err(ErasureRefusal::AccountActive);
            }
            Ok(())
        }
    }
}

/// A holding that says it keeps personal data must say how erasure handles it, and one
/// held under a legal obligation must be kept or shredded, not deleted: the rules the map
/// obeys, checked by its test.
pub fn consistent(h: &Holding) -> Result<(), String> {
    if h.personal.is_empty() && matches!(h.erasure, Erasure::CryptoShred) {
        return Err(format!("{}: nothing personal to shred", h.name));
    }
    if !h.personal.is_empty() && matches!(h.erasure, Erasure::NothingPersonal) {
        return Err(format!(
            "{}: holds {:?} but says nothing personal",
            h.name, h.personal
        ));
    }
    if matches!(h.basis, LegalBasis::LegalObligation)
        && matches!(h.erasure, Erasure::Delete | Erasure::Expires)
    {
        return Err(format!("{}: a legal obligation is not deleted", h.name));
    }
    if matches!(h.subject, Subject::NoOne) && !h.personal.is_empty() {
        return Err(format!("{}: personal data about no one", h.name));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erasure_needs_a_fresh_sign_in_or_a_reason() {
        use crate::terms::Status;
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-03T12:00:00Z")
            .unwrap()
            .to_utc();
        let owner = |ago: i64| ErasureRequester::Owner {
            signed_in_at: Some(now - chrono::Duration::seconds(ago)),
        };
        assert_eq!(may_request_erasure(owner(299), Status::Draft, now), Ok(()));
        assert_eq!(
            may_request_erasure(owner(300), Status::Rejected, now),
            Ok(())
        );
        assert_eq!(
            may_request_erasure(owner(301), Status::Draft, now),
            Err(ErasureRefusal::SignInTooOld)
        );
        assert_eq!(
            may_request_erasure(owner(-3600), Status::Draft, now),
            Err(ErasureRefusal::SignInTooOld),
            "a sign-in in the future is not a sign-in"
        );
        assert_eq!(
            may_request_erasure(
                ErasureRequester::Owner { signed_in_at: None },
                Status::Draft,
                now
            ),
            Err(ErasureRefusal::SignInTooOld)
        );
        assert_eq!(
            may_request_erasure(owner(10), Status::Approved, now),
            Err(ErasureRefusal::AccountActive)
        );
        let staff = |reason| ErasureRequester::Staff { reason };
        assert_eq!(
            may_request_erasure(staff("ticket 4411: jobs closed"), Status::Approved, now),
            Ok(())
        );
        for bad in ["", "   ", &"x".repeat(1001)] {
            assert_eq!(
                may_request_erasure(staff(bad), Status::Draft, now),
                Err(ErasureRefusal::ReasonRequired)
            );
        }
    }

    const PROFILE: Holding = Holding {
        name: "contractor profile",
        subject: Subject::Contractor { via: "pk" },
        personal: &["contact", "steps"],
        retention: Retention::Account,
        basis: LegalBasis::Contract,
        erasure: Erasure::Delete,
    };

    #[test]
    fn the_rules_catch_a_map_that_contradicts_itself() {
        assert!(consistent(&PROFILE).is_ok());
        let shred_nothing = Holding {
            personal: &[],
            erasure: Erasure::CryptoShred,
            ..PROFILE
        };
        assert!(consistent(&shred_nothing).is_err());
        let silent = Holding {
            erasure: Erasure::NothingPersonal,
            ..PROFILE
        };
        assert!(consistent(&silent).is_err());
        let deleted_tax = Holding {
            basis: LegalBasis::LegalObligation,
            ..PROFILE
        };
        assert!(consistent(&deleted_tax).is_err());
        let nobody = Holding {
            subject: Subject::NoOne,
            ..PROFILE
        };
        assert!(consistent(&nobody).is_err());
    }

    #[test]
    fn a_draft_is_due_after_180_days_without_a_change() {
        let now: chrono::DateTime<chrono::Utc> = "2027-06-01T12:00:00Z".parse().unwrap();
        let kept_since = drafts_kept_since(now);
        let day_179: chrono::DateTime<chrono::Utc> = "2026-12-04T12:00:00Z".parse().unwrap();
        let day_181: chrono::DateTime<chrono::Utc> = "2026-12-02T12:00:00Z".parse().unwrap();
        assert!(day_179 > kept_since, "kept");
        assert!(day_181 < kept_since, "due");
    }

    #[test]
    fn only_holdings_about_someone_are_exported() {
        assert!(PROFILE.exported());
        let breaker = Holding {
            subject: Subject::NoOne,
            personal: &[],
            erasure: Erasure::NothingPersonal,
            ..PROFILE
        };
        assert!(!breaker.exported());
    }
}
