//! Documents a contractor uploads (insurance certificate, license card, W-9, photo ID): the
//! upload intent with its limits per kind, and the record that follows the file through
//! scanning and extraction. The object key is always ours, never the user's file name.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use domain_kernel::terms::{DocumentKind, DocumentStatus, RejectionNote};

use crate::ids::{ContractorId, DocumentId};
use crate::validation::{Collector, Invalid};

/// File extension we give an object of `content_type` (the user's name is display only).
fn extension(content_type: &str) -> &'static str {
    match content_type {
        "application/pdf" => "pdf",
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/heic" => "heic",
        _ => "bin",
    }
}

/// A clean rewrite of an upload whose only fault was active content that form software
/// leaves behind (scripts, XFA): what extraction, providers and reviewers read. The
/// original stays where it was uploaded, never served (docs/adr/0009).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Derivative {
    pub object_key: String,
    /// What was taken out, e.g. `["JavaScript", "an XFA form"]`.
    pub removed: Vec<String>,
    /// How it was rewritten.
    pub method: String,
}

/// A status change, kept on the record for people reading its history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    pub status: DocumentStatus,
    pub at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Document {
    pub id: DocumentId,
    pub contractor_id: ContractorId,
    pub kind: DocumentKind,
    /// The name the user's device gave the file, tidied; shown to people, never used as a key.
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    /// Base64 SHA-256 of the content, as S3's `x-amz-checksum-sha256` carries it.
    pub sha256: String,
    pub object_key: String,
    pub status: DocumentStatus,
    pub created_at: DateTime<Utc>,
    /// When the presigned upload stops working.
    pub upload_expires_at: DateTime<Utc>,
    pub history: Vec<StatusChange>,
    /// Which upload of this kind this is for the contractor (1 for the first); earlier
    /// versions stay until retention removes them.
    #[serde(default = "first_version")]
    pub version: u32,
    /// Bumped on every write; writes are conditional on it.
    #[serde(default)]
    pub revision: u64,
    /// The S3 object version that was scanned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection: Option<RejectionNote>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extraction: Option<reading::Extraction>,
    /// A W-9's TIN, encrypted at field level; the extraction holds only the masked form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tin: Option<crate::ports::EncryptedField>,
    /// The disarmed rewrite read instead of the original, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derivative: Option<Derivative>,
    /// How many times the sweeper re-drove this document.
    #[serde(default)]
    pub attempts: u32,
    /// When an in-flight document is overdue (the sweeper's index).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<DateTime<Utc>>,
    /// When a newer document of its kind was read: the retention clock of this one
    /// (`privacy-retention` deletes it a year later; docs/privacy.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub superseded_at: Option<DateTime<Utc>>,
}

/// The documents `newer` replaces, marked at `now`, each with the revision it was read at:
/// the contractor's earlier read (extracted) documents of the same kind not marked yet.
/// A failed or rejected upload replaces nothing; neither does an older one read late.
pub fn superseded_by(
    newer: &Document,
    documents: Vec<Document>,
    now: DateTime<Utc>,
) -> Vec<(Document, u64)> {
    documents
        .into_iter()
        .filter(|d| {
            d.id != newer.id
                && d.contractor_id == newer.contractor_id
                && d.kind == newer.kind
                && d.status == DocumentStatus::Extracted
                && d.version < newer.version
                && d.superseded_at.is_none()
        })
        .map(|mut d| {
            let read_at = d.revision;
            d.superseded_at = Some(now);
            d.revision += 1;
            (d, read_at)
        })
        .collect()
}

fn first_version() -> u32 {
    1
}

/// `POST /v1/contractors/{id}/documents` as sent.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadIntent {
    pub kind: Option<String>,
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    #[serde(default, deserialize_with = "domain_kernel::validation::whole_number")]
    pub size: Option<i64>,
    pub sha256: Option<String>,
}

/// Why an intent is refused, mapped to 413/415/422 at the edge.
#[derive(Debug, thiserror::Error)]
pub enum IntentError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("{kind} files must be at most {limit} bytes")]
    TooLarge { kind: &'static str, limit: u64 },
    #[error("{kind} files must be one of {allowed}")]
    UnsupportedType { kind: &'static str, allowed: String },
}

const HEX: &str = "0123456789abcdef";

/// Normalises a SHA-256 given as hex (64) or base64 (44) to base64.
pub fn sha256_base64(raw: &str) -> Option<String> {
    use base64::Engine;
    let raw = raw.trim();
    if raw.len() == 64 && raw.chars().all(|c| HEX.contains(c.to_ascii_lowercase())) {
        let bytes: Vec<u8> = (0..32)
            .map(|i| u8::from_str_radix(&raw[i * 2..i * 2 + 2], 16).unwrap_or(0))
            .collect();
        return Some(base64::engine::general_purpose::STANDARD.encode(bytes));
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(raw).ok()?;
    (decoded.len() == 32).then(|| raw.to_owned())
}

fn tidy_file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .to_owned();
    cleaned.chars().take(120).collect()
}

impl UploadIntent {
    /// Validates the intent and builds the document, `awaiting_upload`.
    pub fn into_document(
        self,
        contractor_id: &ContractorId,
        now: DateTime<Utc>,
        upload_window: chrono::Duration,
    ) -> Result<Document, IntentError> {
        let mut c = Collector::new();
        let kind = match self.kind.as_deref() {
            None => {
                c.push("kind", "required", "Say what the document is.");
                None
            }
            Some(raw) => {
                let kind = DocumentKind::parse(raw);
                if kind.is_none() {
                    let known: Vec<&str> = DocumentKind::ALL.iter().map(|k| k.as_str()).collect();
                    c.push(
                        "kind",
                        "invalid_choice",
                        format!("Use one of {}.", known.join(", ")),
                    );
                }
                kind
            }
        };
        let file_name = match self.file_name.as_deref().map(tidy_file_name) {
            Some(name) if !name.is_empty() => Some(name),
            _ => {
                c.push("file_name", "required", "Give the file's name.");
                None
            }
        };
        let content_type = self.content_type.as_deref().map(|t| {
            t.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
        if content_type.as_deref().is_none_or(str::is_empty) {
            c.push(
                "content_type",
                "required",
                "Give the file's media type, like application/pdf.",
            );
        }
        let size = match self.size {
            None => {
                c.push("size", "required", "Give the file's size in bytes.");
                None
            }
            Some(n) if n <= 0 => {
                c.push("size", "out_of_range", "The file is empty.");
                None
            }
            Some(n) => Some(n as u64),
        };
        let sha256 = match self.sha256.as_deref() {
            None => {
                c.push(
                    "sha256",
                    "required",
                    "Give the SHA-256 of the file (hex or base64).",
                );
                None
            }
            Some(raw) => {
                let v = sha256_base64(raw);
                if v.is_none() {
                    c.push(
                        "sha256",
                        "invalid_checksum",
                        "The SHA-256 must be 64 hex characters or 44 base64 characters.",
                    );
                }
                v
            }
        };
        c.finish(|| ())?;
        let (kind, file_name, content_type, size, sha256) = (
            kind.expect("checked"),
            file_name.expect("checked"),
            content_type.expect("checked"),
            size.expect("checked"),
            sha256.expect("checked"),
        );
        if !kind.content_types().contains(&content_type.as_str()) {
            return Err(IntentError::UnsupportedType {
                kind: kind.as_str(),
                allowed: kind.content_types().join(", "),
            });
        }
        if size > kind.max_bytes() {
            return Err(IntentError::TooLarge {
                kind: kind.as_str(),
                limit: kind.max_bytes(),
            });
        }
        let id = DocumentId::generate();
        Ok(Document {
            object_key: format!(
                "contractors/{contractor_id}/documents/{id}/original.{}",
                extension(&content_type)
            ),
            id,
            contractor_id: contractor_id.clone(),
            kind,
            file_name,
            content_type,
            size,
            sha256,
            status: DocumentStatus::AwaitingUpload,
            created_at: now,
            upload_expires_at: now + upload_window,
            history: vec![StatusChange {
                status: DocumentStatus::AwaitingUpload,
                at: now,
                reason: None,
            }],
            version: 1,
            revision: 0,
            object_version: None,
            rejection: None,
            extraction: None,
            tin: None,
            derivative: None,
            attempts: 0,
            deadline: Some(now + upload_window),
            superseded_at: None,
        })
    }
}

impl Document {
    /// The object people and providers may read: the disarmed derivative when there is
    /// one, else the upload itself.
    pub fn readable_key(&self) -> &str {
        self.derivative
            .as_ref()
            .map_or(&self.object_key, |d| &d.object_key)
    }

    /// Where a disarmed rewrite of this document's upload is kept.
    pub fn derivative_key(&self) -> String {
        match self.object_key.rsplit_once('/') {
            Some((folder, _)) => format!("{folder}/derivative.pdf"),
            None => format!("{}.derivative.pdf", self.object_key),
        }
    }

    fn change(&mut self, status: DocumentStatus, reason: Option<String>, now: DateTime<Utc>) {
        self.status = status;
        self.history.push(StatusChange {
            status,
            at: now,
            reason,
        });
        self.revision += 1;
        if !status.in_flight() {
            self.deadline = None;
        }
    }

    /// Clean: on to extraction, which must finish by `deadline`.
    pub fn mark_scanned(
        &mut self,
        object_version: Option<String>,
        now: DateTime<Utc>,
        deadline: DateTime<Utc>,
    ) {
        self.object_version = object_version;
        self.attempts = 0;
        self.deadline = Some(deadline);
        self.change(DocumentStatus::Scanned, None, now);
    }

    pub fn mark_rejected(&mut self, code: &str, reason: &str, now: DateTime<Utc>) {
        self.rejection = Some(RejectionNote {
            code: code.to_owned(),
            reason: reason.to_owned(),
        });
        self.change(DocumentStatus::Rejected, Some(reason.to_owned()), now);
    }

    pub fn mark_extracted(
        &mut self,
        extraction: reading::Extraction,
        tin: Option<crate::ports::EncryptedField>,
        now: DateTime<Utc>,
    ) {
        let reason = (!extraction.problems.is_empty()).then(|| {
            extraction
                .problems
                .iter()
                .map(|p| p.message.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        });
        self.extraction = Some(extraction);
        self.tin = tin;
        self.change(DocumentStatus::Extracted, reason, now);
    }

    pub fn mark_expired(&mut self, now: DateTime<Utc>) {
        self.change(
            DocumentStatus::Expired,
            Some(
                "The upload did not arrive before its link expired. Start the upload again.".into(),
            ),
            now,
        );
    }

    pub fn mark_failed(&mut self, reason: &str, now: DateTime<Utc>) {
        self.change(DocumentStatus::Failed, Some(reason.to_owned()), now);
    }

    /// The sweeper tried again; the next deadline is `deadline`.
    pub fn redriven(&mut self, deadline: DateTime<Utc>) {
        self.attempts += 1;
        self.deadline = Some(deadline);
        self.revision += 1;
    }

    /// What other services read about the document's current state.
    pub fn changed(&self) -> crate::events::DocumentChanged {
        crate::events::DocumentChanged {
            document_revision: self.revision,
            document_id: self.id.clone(),
            kind: self.kind,
            version: self.version,
            status: self.status,
            object_key: self.readable_key().to_owned(),
            rejection: self.rejection.clone(),
            extraction: self.extraction.clone(),
        }
    }

    /// The event `announce` makes of the document's current state, e.g.
    /// `Event::DocumentScanned`.
    pub fn event(
        &self,
        announce: fn(crate::events::DocumentChanged) -> crate::events::Event,
        now: DateTime<Utc>,
        correlation_id: &str,
    ) -> crate::events::DomainEvent {
        crate::events::DomainEvent::new(
            &self.contractor_id,
            now,
            correlation_id,
            announce(self.changed()),
        )
    }
}

/// A presigned upload: what the client sends, exactly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PresignedUpload {
    pub method: String,
    pub url: String,
    /// Headers the client must send unchanged (they are signed).
    pub headers: std::collections::BTreeMap<String, String>,
    pub expires_at: DateTime<Utc>,
}

pub trait DocumentRepository: Send + Sync + 'static {
    fn create(
        &self,
        doc: &Document,
    ) -> impl std::future::Future<Output = Result<(), crate::ports::RepoError>> + Send;
    fn get(
        &self,
        id: &DocumentId,
    ) -> impl std::future::Future<Output = Result<Option<Document>, crate::ports::RepoError>> + Send;
    /// The contractor's documents, newest first.
    fn list_for(
        &self,
        contractor: &ContractorId,
    ) -> impl std::future::Future<Output = Result<Vec<Document>, crate::ports::RepoError>> + Send;
}

pub trait UploadSigner: Send + Sync + 'static {
    /// A PUT that only accepts this document's exact length, type and checksum.
    fn presign_put(
        &self,
        doc: &Document,
    ) -> impl std::future::Future<Output = Result<PresignedUpload, SigningError>> + Send;
}

/// The object store could not sign an upload.
#[derive(Debug, thiserror::Error)]
#[error("presigning the upload failed: {0}")]
pub struct SigningError(pub String);

#[derive(Debug, thiserror::Error)]
pub enum DocumentsError {
    #[error(transparent)]
    Intent(#[from] IntentError),
    #[error(transparent)]
    Onboarding(#[from] crate::onboarding::OnboardingError),
    #[error("document not found")]
    NotFound,
    #[error(transparent)]
    Repo(#[from] crate::ports::RepoError),
    #[error(transparent)]
    Signer(#[from] SigningError),
}

/// Upload intents and document reads, with the contractor's access rules.
pub struct Documents<D, C, S> {
    pub documents: D,
    pub contractors: C,
    pub signer: S,
    /// How long a presigned upload works.
    pub upload_window: chrono::Duration,
}

impl<D: DocumentRepository, C: crate::ports::ContractorRepository, S: UploadSigner>
    Documents<D, C, S>
{
    async fn contractor(
        &self,
        viewer: &crate::onboarding::Viewer,
        id: &str,
    ) -> Result<crate::contractor::Contractor, DocumentsError> {
        let found = match ContractorId::parse(id) {
            Some(id) => self.contractors.get(&id).await?,
            None => None,
        };
        found
            .filter(|c| c.visible_to(&viewer.subject, viewer.staff))
            .ok_or(DocumentsError::Onboarding(
                crate::onboarding::OnboardingError::NotFound,
            ))
    }

    /// Records the intent and signs its upload. Only the owner uploads.
    pub async fn create_intent(
        &self,
        viewer: &crate::onboarding::Viewer,
        contractor_id: &str,
        intent: UploadIntent,
        now: DateTime<Utc>,
    ) -> Result<(Document, PresignedUpload), DocumentsError> {
        let contractor = self.contractor(viewer, contractor_id).await?;
        if contractor.owner.as_str() != viewer.subject {
            return Err(crate::onboarding::OnboardingError::Forbidden(
                "only the contractor's owner uploads its documents",
            )
            .into());
        }
        let mut doc = intent.into_document(&contractor.id, now, self.upload_window)?;
        // A new upload of a kind is the next version of that requirement's evidence.
        doc.version = self
            .documents
            .list_for(&contractor.id)
            .await?
            .iter()
            .filter(|d| d.kind == doc.kind)
            .map(|d| d.version)
            .max()
            .unwrap_or(0)
            + 1;
        self.documents.create(&doc).await?;
        let upload = self.signer.presign_put(&doc).await?;
        Ok((doc, upload))
    }

    pub async fn list(
        &self,
        viewer: &crate::onboarding::Viewer,
        contractor_id: &str,
    ) -> Result<Vec<Document>, DocumentsError> {
        let contractor = self.contractor(viewer, contractor_id).await?;
        Ok(self.documents.list_for(&contractor.id).await?)
    }

    pub async fn get(
        &self,
        viewer: &crate::onboarding::Viewer,
        id: &str,
    ) -> Result<Document, DocumentsError> {
        let doc = match DocumentId::parse(id) {
            Some(id) => self.documents.get(&id).await?,
            None => None,
        }
        .ok_or(DocumentsError::NotFound)?;
        // Visible exactly when its contractor is.
        self.contractor(viewer, doc.contractor_id.as_str())
            .await
            .map_err(|_| DocumentsError::NotFound)?;
        Ok(doc)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const HEX_SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    fn intent(v: serde_json::Value) -> Result<Document, IntentError> {
        let intent: UploadIntent = serde_json::from_value(v).unwrap();
        intent.into_document(
            &ContractorId::generate(),
            Utc::now(),
            chrono::Duration::minutes(10),
        )
    }

    #[test]
    fn a_valid_intent_gets_our_key_not_the_file_name() {
        let d = intent(json!({"kind": "insurance_certificate", "file_name": "../../etc/COI 2026.pdf", "content_type": "application/pdf; charset=binary", "size": 48213, "sha256": HEX_SHA})).unwrap();
        assert_eq!(d.status, DocumentStatus::AwaitingUpload);
        assert_eq!(d.file_name, "COI 2026.pdf");
        assert!(d.object_key.starts_with(&format!(
            "contractors/{}/documents/{}/original.pdf",
            d.contractor_id, d.id
        )));
        assert!(!d.object_key.contains("COI"));
        assert_eq!(d.sha256, "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=");
    }

    #[test]
    fn limits_and_types_per_kind() {
        let too_big = intent(
            json!({"kind": "license", "file_name": "x.jpg", "content_type": "image/jpeg", "size": 11 * 1024 * 1024, "sha256": HEX_SHA}),
        );
        assert!(matches!(too_big, Err(IntentError::TooLarge { .. })));
        let pdf_id = intent(
            json!({"kind": "photo_id", "file_name": "id.pdf", "content_type": "application/pdf", "size": 10, "sha256": HEX_SHA}),
        );
        assert!(matches!(pdf_id, Err(IntentError::UnsupportedType { .. })));
        let exe = intent(
            json!({"kind": "w9", "file_name": "w9.exe", "content_type": "application/x-msdownload", "size": 10, "sha256": HEX_SHA}),
        );
        assert!(matches!(exe, Err(IntentError::UnsupportedType { .. })));
    }

    #[test]
    fn every_missing_or_bad_field_is_reported() {
        let Err(IntentError::Invalid(Invalid(v))) =
            intent(json!({"kind": "passport", "size": 0, "sha256": "abc"}))
        else {
            panic!("expected field errors")
        };
        let fields: Vec<&str> = v.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec!["kind", "file_name", "content_type", "size", "sha256"]
        );
    }
}
