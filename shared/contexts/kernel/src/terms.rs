//! The published language of the contexts: the names and states every context and every
//! event speaks of (an account's status, a step, a document's kind and state, a
//! requirement's state). Behaviour stays in the owning context; only the vocabulary is
//! shared, so events can live in the kernel and dependencies run one way.

use std::fmt;

use serde::{Deserialize, Serialize};

// ---- Onboarding ----

/// Where an account stands in onboarding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Draft,
    InProgress,
    UnderReview,
    Approved,
    Rejected,
    Suspended,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::InProgress => "in_progress",
            Status::UnderReview => "under_review",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
            Status::Suspended => "suspended",
        }
    }
}

/// What the crew does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    ResidentialInstallation,
    CommercialInstallation,
    PermanentLighting,
    TakedownAndStorage,
    DisplayDesign,
}

impl Service {
    pub const ALL: [(&'static str, Service); 5] = [
        ("residential_installation", Service::ResidentialInstallation),
        ("commercial_installation", Service::CommercialInstallation),
        ("permanent_lighting", Service::PermanentLighting),
        ("takedown_and_storage", Service::TakedownAndStorage),
        ("display_design", Service::DisplayDesign),
    ];

    pub fn parse(raw: &str) -> Option<Service> {
        Self::ALL
            .iter()
            .find(|(name, _)| *name == raw.trim())
            .map(|(_, s)| *s)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepName {
    BusinessProfile,
    TaxIdentity,
    License,
    Insurance,
    BankAccount,
    Agreements,
}

pub const ALL_STEPS: [StepName; 6] = [
    StepName::BusinessProfile,
    StepName::TaxIdentity,
    StepName::License,
    StepName::Insurance,
    StepName::BankAccount,
    StepName::Agreements,
];

impl StepName {
    pub fn as_str(self) -> &'static str {
        match self {
            StepName::BusinessProfile => "business_profile",
            StepName::TaxIdentity => "tax_identity",
            StepName::License => "license",
            StepName::Insurance => "insurance",
            StepName::BankAccount => "bank_account",
            StepName::Agreements => "agreements",
        }
    }

    pub fn parse(raw: &str) -> Option<StepName> {
        ALL_STEPS.into_iter().find(|s| s.as_str() == raw)
    }
}

impl fmt::Display for StepName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a step stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    NotStarted,
    InProgress,
    Complete,
}

// ---- Documents ----

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    InsuranceCertificate,
    License,
    W9,
    PhotoId,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 4] = [
        DocumentKind::InsuranceCertificate,
        DocumentKind::License,
        DocumentKind::W9,
        DocumentKind::PhotoId,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::InsuranceCertificate => "insurance_certificate",
            DocumentKind::License => "license",
            DocumentKind::W9 => "w9",
            DocumentKind::PhotoId => "photo_id",
        }
    }

    pub fn parse(raw: &str) -> Option<DocumentKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw.trim())
    }

    /// The largest file accepted for this kind. Phone photos of a certificate are the
    /// biggest honest uploads; 15 MB leaves room for a HEIC from a recent phone.
    pub fn max_bytes(self) -> u64 {
        match self {
            DocumentKind::InsuranceCertificate | DocumentKind::W9 => 15 * 1024 * 1024,
            DocumentKind::License | DocumentKind::PhotoId => 10 * 1024 * 1024,
        }
    }

    /// Media types accepted for this kind.
    pub fn content_types(self) -> &'static [&'static str] {
        match self {
            DocumentKind::PhotoId => &["image/jpeg", "image/png", "image/heic"],
            _ => &["application/pdf", "image/jpeg", "image/png", "image/heic"],
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentStatus {
    /// The intent exists; the file has not been scanned yet.
    AwaitingUpload,
    /// Clean; waiting for text extraction.
    Scanned,
    /// Fields read (with any problems listed); final.
    Extracted,
    /// Malware or not the file announced; quarantined; final.
    Rejected,
    /// The upload never arrived; final.
    Expired,
    /// The pipeline gave up after its retries; final, with a reason.
    Failed,
}

impl DocumentStatus {
    /// Every status, in the order a document meets them.
    pub const ALL: [DocumentStatus; 6] = [
        DocumentStatus::AwaitingUpload,
        DocumentStatus::Scanned,
        DocumentStatus::Extracted,
        DocumentStatus::Rejected,
        DocumentStatus::Expired,
        DocumentStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DocumentStatus::AwaitingUpload => "awaiting_upload",
            DocumentStatus::Scanned => "scanned",
            DocumentStatus::Extracted => "extracted",
            DocumentStatus::Rejected => "rejected",
            DocumentStatus::Expired => "expired",
            DocumentStatus::Failed => "failed",
        }
    }

    /// States the pipeline must move on from; the sweeper watches them.
    pub fn in_flight(self) -> bool {
        matches!(
            self,
            DocumentStatus::AwaitingUpload | DocumentStatus::Scanned
        )
    }
}

/// Why the scanner refused a file, kept with the document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectionNote {
    pub code: String,
    pub reason: String,
}

// ---- Verification ----

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequirementState {
    CurrentlyDue,
    PendingVerification,
    Verified,
    Errors,
    ManualReview,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub code: String,
    pub message: String,
}
