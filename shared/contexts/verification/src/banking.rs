//! The payout bank account as Plaid verified it. We keep what is needed to show and pay it
//! (mask, names, institution, verification status) and Plaid's access token encrypted; never
//! the account or routing number.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::ContractorId;
use crate::ports::EncryptedField;
use crate::verification::{Finding, Outcome, PLAID, VerificationResult};

/// Plaid's `verification_status` for an account, every value of its enum (API version
/// 2020-09-14) mapped on purpose; absent or empty means no micro-deposit or database
/// verification happened: instant Auth, verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountVerification {
    /// Instant Auth, micro-deposits confirmed, or Database Auth matched / passed.
    Verified,
    PendingAutomaticVerification,
    /// Micro-deposits are pending but Plaid has not sent them yet (`unsent`).
    DepositsNotSent,
    /// Same-day micro-deposits: the user must confirm the amounts (or an SMS code) in
    /// Link's update mode, which this product does not offer: a reviewer confirms instead.
    PendingManualVerification,
    VerificationExpired,
    VerificationFailed,
    /// Database Auth's "pass with caution": plausible numbers, not recognised on Plaid's
    /// network. A person decides.
    PassedWithCaution,
    /// A value Plaid added after the version we speak: never taken as failed.
    Unrecognised,
}

impl AccountVerification {
    /// Every value, as the API shows them.
    pub const ALL: [AccountVerification; 8] = [
        Self::Verified,
        Self::PendingAutomaticVerification,
        Self::DepositsNotSent,
        Self::PendingManualVerification,
        Self::VerificationExpired,
        Self::VerificationFailed,
        Self::PassedWithCaution,
        Self::Unrecognised,
    ];

    pub fn from_plaid(status: Option<&str>) -> AccountVerification {
        match status {
            None
            | Some("" | "automatically_verified" | "manually_verified")
            | Some("database_matched" | "database_insights_pass") => Self::Verified,
            Some("pending_automatic_verification") => Self::PendingAutomaticVerification,
            Some("unsent") => Self::DepositsNotSent,
            Some("pending_manual_verification") => Self::PendingManualVerification,
            Some("verification_expired") => Self::VerificationExpired,
            Some("verification_failed" | "database_insights_fail") => Self::VerificationFailed,
            Some("database_insights_pass_with_caution") => Self::PassedWithCaution,
            Some(_) => Self::Unrecognised,
        }
    }

    /// The requirement's outcome for this status.
    pub fn outcome(self) -> Outcome {
        let review = |reason: &str| Outcome::ManualReview {
            reason: reason.into(),
        };
        match self {
            Self::Verified => Outcome::Verified,
            Self::PendingAutomaticVerification => Outcome::Pending {
                reason: "Plaid is confirming the account with small deposits (1–2 business days).".into(),
            },
            Self::DepositsNotSent => Outcome::Pending {
                reason: "Plaid is about to send the small deposits that confirm the account (1–2 business days).".into(),
            },
            Self::PendingManualVerification => review(
                "The bank account needs its small deposits (or a texted code) confirmed; a reviewer will confirm the account with you.",
            ),
            Self::PassedWithCaution => review(
                "Plaid could not fully confirm the account numbers; a reviewer will check the account.",
            ),
            Self::Unrecognised => review(
                "Plaid reported a verification status we do not know yet; a reviewer will check the account.",
            ),
            Self::VerificationExpired => Outcome::Errors {
                findings: vec![Finding {
                    code: "bank_verification_expired".into(),
                    message: "The small-deposit check expired before it was completed; link your bank account again.".into(),
                }],
            },
            Self::VerificationFailed => Outcome::Errors {
                findings: vec![Finding {
                    code: "bank_verification_failed".into(),
                    message: "Your bank account could not be verified; link it again or use another account.".into(),
                }],
            },
        }
    }
}

/// One linked Plaid item and the account chosen for payouts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankLink {
    pub item_id: String,
    pub contractor_id: ContractorId,
    pub account_id: String,
    pub mask: Option<String>,
    pub account_name: Option<String>,
    pub subtype: Option<String>,
    pub institution_id: Option<String>,
    pub institution_name: Option<String>,
    pub verification: AccountVerification,
    /// The bank requirement's evidence version this link is.
    pub evidence_version: u32,
    /// Plaid's access token, encrypted with the field key (bound to the item id).
    pub access_token: EncryptedField,
    pub linked_at: DateTime<Utc>,
}

impl BankLink {
    /// What the contractor and reviewers see of the account.
    pub fn summary(&self) -> serde_json::Value {
        serde_json::json!({
            "item_id": self.item_id,
            "mask": self.mask,
            "account_name": self.account_name,
            "subtype": self.subtype,
            "institution_id": self.institution_id,
            "institution_name": self.institution_name,
            "verification": self.verification,
        })
    }

    /// The bank requirement's result for the link's status; `cause` names what reported it
    /// (`linked`, a webhook code), which with the item makes the id unique per report.
    pub fn result(&self, cause: &str, at: DateTime<Utc>) -> VerificationResult {
        VerificationResult {
            id: format!("plaid:{}:{cause}", self.item_id),
            source: PLAID.into(),
            evidence_version: self.evidence_version,
            outcome: self.verification.outcome(),
            at,
            evidence: self.summary(),
            valid_until: None,
        }
    }
}

#[cfg(test)]
mod mapping_tests {
    use super::*;

    /// Every value of Plaid's `verification_status` enum (2020-09-14), on purpose.
    #[test]
    fn every_official_status_is_mapped_deliberately() {
        use AccountVerification::*;
        for (plaid, ours) in [
            (None, Verified),
            (Some(""), Verified),
            (Some("automatically_verified"), Verified),
            (Some("manually_verified"), Verified),
            (Some("database_matched"), Verified),
            (Some("database_insights_pass"), Verified),
            (
                Some("pending_automatic_verification"),
                PendingAutomaticVerification,
            ),
            (Some("unsent"), DepositsNotSent),
            (
                Some("pending_manual_verification"),
                PendingManualVerification,
            ),
            (Some("verification_expired"), VerificationExpired),
            (Some("verification_failed"), VerificationFailed),
            (Some("database_insights_fail"), VerificationFailed),
            (
                Some("database_insights_pass_with_caution"),
                PassedWithCaution,
            ),
            (Some("something_new"), Unrecognised),
        ] {
            assert_eq!(AccountVerification::from_plaid(plaid), ours, "{plaid:?}");
        }
        // Nothing a person can act on is a dead end: unknown and cautious go to a reviewer,
        // same-day micro-deposits too (no update-mode link here), unsent waits.
        for review in [Unrecognised, PassedWithCaution, PendingManualVerification] {
            assert!(
                matches!(review.outcome(), Outcome::ManualReview { .. }),
                "{review:?}"
            );
        }
        assert!(matches!(DepositsNotSent.outcome(), Outcome::Pending { .. }));
        assert_eq!(
            AccountVerification::from_plaid(Some("")).outcome(),
            Outcome::Verified
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verification::{BANK_ACCOUNT, BANK_SOURCES, Requirement, RequirementState};

    fn link(verification: AccountVerification) -> BankLink {
        BankLink {
            item_id: "item-1".into(),
            contractor_id: ContractorId::generate(),
            account_id: "acc-1".into(),
            mask: Some("0000".into()),
            account_name: Some("Plaid Checking".into()),
            subtype: Some("checking".into()),
            institution_id: Some("ins_109508".into()),
            institution_name: Some("First Platypus Bank".into()),
            verification,
            evidence_version: 1,
            access_token: EncryptedField {
                key_id: "k".into(),
                algorithm: "a".into(),
                encrypted_key: "e".into(),
                nonce: "n".into(),
                ciphertext: "c".into(),
            },
            linked_at: Utc::now(),
        }
    }

    #[test]
    fn micro_deposits_wait_then_verify_or_expire() {
        let t0 = Utc::now();
        let mut r = Requirement::new(BANK_ACCOUNT, &BANK_SOURCES);
        let pending = link(AccountVerification::PendingAutomaticVerification);
        r.record(pending.result("linked", t0));
        assert_eq!(r.state(), RequirementState::PendingVerification);
        let verified = BankLink {
            verification: AccountVerification::from_plaid(Some("automatically_verified")),
            ..pending.clone()
        };
        r.record(verified.result("AUTOMATICALLY_VERIFIED", t0 + chrono::Duration::seconds(5)));
        assert_eq!(r.state(), RequirementState::Verified);

        let mut r = Requirement::new(BANK_ACCOUNT, &BANK_SOURCES);
        r.record(pending.result("linked", t0));
        let expired = BankLink {
            verification: AccountVerification::VerificationExpired,
            ..pending
        };
        r.record(expired.result("VERIFICATION_EXPIRED", t0 + chrono::Duration::seconds(5)));
        assert_eq!(r.state(), RequirementState::Errors);
        assert_eq!(r.findings()[0].code, "bank_verification_expired");
        assert_eq!(
            link(AccountVerification::Verified).summary()["mask"],
            "0000"
        );
        assert!(
            !link(AccountVerification::Verified)
                .summary()
                .to_string()
                .contains("ciphertext")
        );
    }
}
