//! The document pipeline after the upload: scan (checks, virus engine, quarantine),
//! extraction (text, fields, the TIN encrypted), and the sweeper that finds documents stuck
//! in between. Every step is at-least-once safe: a document only moves forward from the state
//! the step expects (writes are conditional on its revision), and the side effects that follow
//! a move (quarantine, tags) are repeated, harmlessly, when a message comes again.

use std::future::Future;

use chrono::{DateTime, Duration, Utc};

use crate::documents::{Document, DocumentRepository, DocumentStatus};
use crate::events::{DomainEvent, Event};
use crate::extraction::{self, ReadDocument};
use crate::ids::DocumentId;
use crate::inspection::{self, Sniffed};
use crate::ports::{CryptoError, FieldCipher, RepoError};
use crate::steps::{Tin, TinKind};

/// An object as S3 announced it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadedObject {
    pub key: String,
    pub version_id: Option<String>,
    pub size: u64,
}

impl UploadedObject {
    /// The document an object key belongs to: `contractors/{ctr}/documents/{doc}/original.*`.
    pub fn document_id(&self) -> Option<DocumentId> {
        let parts: Vec<&str> = self.key.split('/').collect();
        match parts.as_slice() {
            ["contractors", _, "documents", doc, name] if name.starts_with("original.") => {
                DocumentId::parse(doc)
            }
            _ => None,
        }
    }
}

/// The engine's verdict on a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Clean,
    /// The signature name the engine found.
    Infected(String),
}

/// A failure of an engine or the object store: worth retrying.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct EngineError(pub String);

pub trait ObjectStore: Send + Sync + 'static {
    /// The object's bytes; `Ok(None)` when it does not exist (any more).
    fn fetch(
        &self,
        key: &str,
        version: Option<&str>,
    ) -> impl Future<Output = Result<Option<Vec<u8>>, EngineError>> + Send;
    /// The object as it is now, if there is one.
    fn head(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<UploadedObject>, EngineError>> + Send;
    /// Moves the object under the quarantine prefix, tagged with why. Idempotent: an object
    /// already moved is fine.
    fn quarantine(
        &self,
        key: &str,
        version: Option<&str>,
        code: &str,
    ) -> impl Future<Output = Result<(), EngineError>> + Send;
    /// Stores a derivative the pipeline made (a disarmed rewrite).
    fn put(
        &self,
        key: &str,
        bytes: &[u8],
        content_type: &str,
    ) -> impl Future<Output = Result<(), EngineError>> + Send;
    /// Tags the object as scanned clean.
    fn mark_clean(
        &self,
        key: &str,
        version: Option<&str>,
    ) -> impl Future<Output = Result<(), EngineError>> + Send;
}

pub trait VirusScanner: Send + Sync + 'static {
    fn scan(&self, bytes: &[u8]) -> impl Future<Output = Result<Verdict, EngineError>> + Send;
}

pub trait TextReader: Send + Sync + 'static {
    /// The text of a file whose real type is `sniffed` (a PDF's text layer, else OCR).
    fn read(
        &self,
        bytes: &[u8],
        sniffed: Sniffed,
    ) -> impl Future<Output = Result<ReadDocument, EngineError>> + Send;
}

/// Rewrites a PDF without its active content (scripts, forms), keeping its text layer and
/// its look.
pub trait PdfDisarmer: Send + Sync + 'static {
    fn disarm(&self, pdf: &[u8]) -> impl Future<Output = Result<Vec<u8>, EngineError>> + Send;
    /// How the rewrite is made, for the record.
    fn method(&self) -> &'static str;
}

/// Asks for a scan again (the sweeper, when an upload's notification was lost).
pub trait ScanRequests: Send + Sync + 'static {
    fn request_scan(
        &self,
        object: &UploadedObject,
    ) -> impl Future<Output = Result<(), EngineError>> + Send;
}

/// Writes a document conditionally on the revision it was read at, with its events.
pub trait DocumentWrites: DocumentRepository {
    fn save(
        &self,
        doc: &Document,
        read_at_revision: u64,
        events: &[DomainEvent],
    ) -> impl Future<Output = Result<(), RepoError>> + Send;
    /// In-flight documents in `status` whose deadline is before `now`, oldest first.
    fn overdue(
        &self,
        status: DocumentStatus,
        now: DateTime<Utc>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Document>, RepoError>> + Send;
}

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// What a step did with a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Scanned,
    Rejected(&'static str),
    Extracted {
        problems: usize,
        /// The lowest confidence among the fields read, in percent (none read: `None`):
        /// the extraction-confidence metric.
        lowest_confidence: Option<u8>,
    },
    /// The document had already moved past this step: a duplicate or late message.
    AlreadyDone(DocumentStatus),
    /// Not one of ours (a key outside the document layout, an unknown document).
    Ignored(&'static str),
}

fn malware_reason(signature: &str) -> String {
    format!(
        "This file contains malware ({signature}) and was quarantined. Check your device and upload a clean copy."
    )
}

/// The scan step: size and checksum against the intent, the virus engine, then the type
/// and active-content checks. Refused files are quarantined and never go further.
pub struct Scanning<D, O, V> {
    pub documents: D,
    pub objects: O,
    pub scanner: V,
    /// How long extraction may take before the sweeper steps in.
    pub extract_deadline: Duration,
}

impl<D: DocumentWrites, O: ObjectStore, V: VirusScanner> Scanning<D, O, V> {
    pub async fn on_upload(
        &self,
        object: &UploadedObject,
        now: DateTime<Utc>,
        correlation_id: &str,
    ) -> Result<Outcome, PipelineError> {
        let Some(id) = object.document_id() else {
            return Ok(Outcome::Ignored("key outside the document layout"));
        };
        let Some(mut doc) = self.documents.get(&id).await? else {
            return Ok(Outcome::Ignored("no such document"));
        };
        if doc.object_key != object.key {
            return Ok(Outcome::Ignored("key does not match the document"));
        }
        match doc.status {
            DocumentStatus::AwaitingUpload => {}
            DocumentStatus::Rejected => {
                // Redelivered after the move was recorded: finish the quarantine.
                let code = doc
                    .rejection
                    .as_ref()
                    .map_or("rejected", |r| r.code.as_str());
                self.objects
                    .quarantine(&doc.object_key, doc.object_version.as_deref(), code)
                    .await?;
                return Ok(Outcome::AlreadyDone(doc.status));
            }
            other => return Ok(Outcome::AlreadyDone(other)),
        }
        let revision = doc.revision;
        doc.object_version = object.version_id.clone();

        // Refuse on the announced size before downloading anything big.
        let verdict = if object.size != doc.size {
            Err(inspection::Rejection {
                code: "size_mismatch",
                reason: format!(
                    "The upload is {} bytes but {} were announced; upload the file again.",
                    object.size, doc.size
                ),
            })
        } else {
            match self
                .objects
                .fetch(&object.key, object.version_id.as_deref())
                .await?
            {
                None => return Ok(Outcome::Ignored("object no longer exists")),
                Some(bytes) => self.check(&doc, &bytes).await?,
            }
        };
        match verdict {
            Ok(()) => {
                doc.mark_scanned(object.version_id.clone(), now, now + self.extract_deadline);
                let event = doc.event(Event::DocumentScanned, now, correlation_id);
                if !self.saved(&doc, revision, &[event]).await? {
                    return self.already(&id).await;
                }
                self.objects
                    .mark_clean(&doc.object_key, object.version_id.as_deref())
                    .await?;
                Ok(Outcome::Scanned)
            }
            Err(rejection) => {
                doc.mark_rejected(rejection.code, &rejection.reason, now);
                let event = doc.event(Event::DocumentRejected, now, correlation_id);
                if !self.saved(&doc, revision, &[event]).await? {
                    return self.already(&id).await;
                }
                self.objects
                    .quarantine(
                        &doc.object_key,
                        object.version_id.as_deref(),
                        rejection.code,
                    )
                    .await?;
                Ok(Outcome::Rejected(rejection.code))
            }
        }
    }

    /// Size and checksum first (is this the file announced?), then the engine, then type
    /// and active content. An engine failure is an error (retried), never "clean".
    async fn check(
        &self,
        doc: &Document,
        bytes: &[u8],
    ) -> Result<Result<(), inspection::Rejection>, PipelineError> {
        if let Err(r) = inspection::matches_intent(doc, bytes) {
            return Ok(Err(r));
        }
        if let Verdict::Infected(signature) = self.scanner.scan(bytes).await? {
            return Ok(Err(inspection::Rejection {
                code: "malware",
                reason: malware_reason(&signature),
            }));
        }
        Ok(inspection::inspect(doc, bytes).map(|_| ()))
    }

    async fn saved(
        &self,
        doc: &Document,
        revision: u64,
        events: &[DomainEvent],
    ) -> Result<bool, PipelineError> {
        match self.documents.save(doc, revision, events).await {
            Ok(()) => Ok(true),
            Err(RepoError::VersionConflict) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    async fn already(&self, id: &DocumentId) -> Result<Outcome, PipelineError> {
        let status = self
            .documents
            .get(id)
            .await?
            .map_or(DocumentStatus::AwaitingUpload, |d| d.status);
        Ok(Outcome::AlreadyDone(status))
    }
}

/// The extraction step: text (layer or OCR), fields per kind, the TIN encrypted at once.
pub struct Extracting<D, O, R, K> {
    pub documents: D,
    pub objects: O,
    pub reader: R,
    pub cipher: K,
}

impl<D: DocumentWrites, O: ObjectStore, R: TextReader + PdfDisarmer, K: FieldCipher>
    Extracting<D, O, R, K>
{
    pub async fn on_scanned(
        &self,
        id: &DocumentId,
        now: DateTime<Utc>,
        correlation_id: &str,
    ) -> Result<Outcome, PipelineError> {
        let Some(mut doc) = self.documents.get(id).await? else {
            return Ok(Outcome::Ignored("no such document"));
        };
        if doc.status != DocumentStatus::Scanned {
            return Ok(Outcome::AlreadyDone(doc.status));
        }
        let revision = doc.revision;
        let Some(bytes) = self
            .objects
            .fetch(&doc.object_key, doc.object_version.as_deref())
            .await?
        else {
            doc.mark_failed(
                "The file disappeared before we could read it. Upload it again.",
                now,
            );
            let event = doc.event(Event::DocumentFailed, now, correlation_id);
            return match self.documents.save(&doc, revision, &[event]).await {
                Ok(()) | Err(RepoError::VersionConflict) => Ok(Outcome::AlreadyDone(doc.status)),
                Err(e) => Err(e.into()),
            };
        };
        let sniffed = inspection::sniff(&bytes);
        let removed = if sniffed == Sniffed::Pdf {
            inspection::needs_disarming(&bytes)
        } else {
            vec![]
        };
        let bytes = if removed.is_empty() {
            bytes
        } else {
            // Form software's scripts: read (and let others read) a clean rewrite instead.
            let clean = self.reader.disarm(&bytes).await?;
            if !inspection::pdf_active_content(&clean).is_empty() {
                return Err(EngineError(
                    "the disarmed rewrite still carries active content".into(),
                )
                .into());
            }
            let key = doc.derivative_key();
            self.objects.put(&key, &clean, "application/pdf").await?;
            doc.derivative = Some(crate::documents::Derivative {
                object_key: key,
                removed: removed.iter().map(|r| (*r).to_owned()).collect(),
                method: self.reader.method().to_owned(),
            });
            clean
        };
        let text = self.reader.read(&bytes, sniffed).await?;
        let mut extraction = extraction::extract(doc.kind, &text);
        let tin = self.protect_tin(&doc, &mut extraction).await?;
        let problems = extraction.problems.len();
        let lowest_confidence = extraction
            .fields
            .values()
            .map(|f| (f.confidence.clamp(0.0, 1.0) * 100.0).round() as u8)
            .min();
        doc.mark_extracted(extraction, tin, now);
        let event = doc.event(Event::DocumentExtracted, now, correlation_id);
        let outcome = match self.documents.save(&doc, revision, &[event]).await {
            Ok(()) => Outcome::Extracted {
                problems,
                lowest_confidence,
            },
            Err(RepoError::VersionConflict) => Outcome::AlreadyDone(DocumentStatus::Extracted),
            Err(e) => return Err(e.into()),
        };
        // Also after a lost race: the winner may have died before marking them.
        self.supersede_older(&doc, now).await?;
        Ok(outcome)
    }

    /// Starts the retention clock of the documents `doc` replaces (idempotent: marked
    /// ones are left alone; one changed meanwhile is marked by the next read).
    async fn supersede_older(
        &self,
        doc: &Document,
        now: DateTime<Utc>,
    ) -> Result<(), PipelineError> {
        let all = self.documents.list_for(&doc.contractor_id).await?;
        for (older, read_at) in crate::documents::superseded_by(doc, all, now) {
            match self.documents.save(&older, read_at, &[]).await {
                Ok(()) | Err(RepoError::VersionConflict) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Encrypts a W-9's TIN and leaves only its mask in the fields; an invalid TIN becomes
    /// a problem instead.
    async fn protect_tin(
        &self,
        doc: &Document,
        extraction: &mut extraction::Extraction,
    ) -> Result<Option<crate::ports::EncryptedField>, PipelineError> {
        let kind = match extraction.fields.get("tin_type").map(|f| f.value.as_str()) {
            Some("ssn") => TinKind::Ssn,
            _ => TinKind::Ein,
        };
        let Some(field) = extraction.fields.get_mut("tin") else {
            return Ok(None);
        };
        match Tin::parse(kind, &field.value) {
            Ok(tin) => {
                let encrypted = self
                    .cipher
                    .encrypt(
                        tin.expose_digits().as_bytes(),
                        &[
                            ("contractor_id", doc.contractor_id.as_str()),
                            ("document_id", doc.id.as_str()),
                            ("field", "tin"),
                        ],
                    )
                    .await?;
                field.value = tin.masked();
                Ok(Some(encrypted))
            }
            Err((code, message)) => {
                extraction.fields.remove("tin");
                extraction.problems.push(extraction::FieldProblem::new(
                    "tin",
                    code,
                    format!("{message} Check the TIN on the form and upload it again."),
                ));
                Ok(None)
            }
        }
    }
}

#[derive(Clone, Debug)]
pub struct SweepSettings {
    /// Re-drives before a document fails.
    pub max_attempts: u32,
    /// The next deadline after a re-drive.
    pub retry_after: Duration,
    /// Documents looked at per status and run.
    pub batch: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub expired: usize,
    pub rescanned: usize,
    pub re_extracted: usize,
    pub failed: usize,
}

/// Finds documents past their deadline: an upload that never arrived expires; one that
/// arrived but was never scanned (a lost notification) is scanned again; a scan whose
/// extraction never finished is re-driven; after `max_attempts` the document fails with a
/// reason, so nothing stays in between.
pub struct Sweeping<D, O, Q> {
    pub documents: D,
    pub objects: O,
    pub scans: Q,
    pub settings: SweepSettings,
}

const GAVE_UP: &str = "We could not process this file after several tries. Upload it again; if it keeps failing, contact support.";

impl<D: DocumentWrites, O: ObjectStore, Q: ScanRequests> Sweeping<D, O, Q> {
    pub async fn sweep(
        &self,
        now: DateTime<Utc>,
        correlation_id: &str,
    ) -> Result<SweepReport, PipelineError> {
        let mut report = SweepReport::default();
        let s = &self.settings;
        for mut doc in self
            .documents
            .overdue(DocumentStatus::AwaitingUpload, now, s.batch)
            .await?
        {
            let revision = doc.revision;
            let events = match self.objects.head(&doc.object_key).await? {
                None => {
                    doc.mark_expired(now);
                    report.expired += 1;
                    vec![doc.event(Event::DocumentExpired, now, correlation_id)]
                }
                Some(_) if doc.attempts >= s.max_attempts => {
                    doc.mark_failed(GAVE_UP, now);
                    report.failed += 1;
                    vec![doc.event(Event::DocumentFailed, now, correlation_id)]
                }
                Some(object) => {
                    doc.redriven(now + s.retry_after);
                    self.scans.request_scan(&object).await?;
                    report.rescanned += 1;
                    vec![]
                }
            };
            self.save_quietly(&doc, revision, &events).await?;
        }
        for mut doc in self
            .documents
            .overdue(DocumentStatus::Scanned, now, s.batch)
            .await?
        {
            let revision = doc.revision;
            let event = if doc.attempts >= s.max_attempts {
                doc.mark_failed(GAVE_UP, now);
                report.failed += 1;
                doc.event(Event::DocumentFailed, now, correlation_id)
            } else {
                // Published again through the outbox with this write: extraction consumes it.
                doc.redriven(now + s.retry_after);
                report.re_extracted += 1;
                doc.event(Event::DocumentScanned, now, correlation_id)
            };
            self.save_quietly(&doc, revision, &[event]).await?;
        }
        Ok(report)
    }

    /// A document that moved meanwhile was handled by its step; that is not an error.
    async fn save_quietly(
        &self,
        doc: &Document,
        revision: u64,
        events: &[DomainEvent],
    ) -> Result<(), PipelineError> {
        match self.documents.save(doc, revision, events).await {
            Ok(()) | Err(RepoError::VersionConflict) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use base64::Engine as _;
    use sha2::{Digest, Sha256};

    use super::*;
    use crate::documents::UploadIntent;
    use crate::extraction::{Page, ReadMethod};
    use crate::ids::ContractorId;
    use crate::ports::memory::TestCipher;

    #[derive(Default)]
    struct Docs {
        docs: Mutex<HashMap<DocumentId, Document>>,
        events: Mutex<Vec<DomainEvent>>,
    }

    impl DocumentRepository for &'static Docs {
        async fn create(&self, doc: &Document) -> Result<(), RepoError> {
            self.docs
                .lock()
                .unwrap()
                .insert(doc.id.clone(), doc.clone());
            Ok(())
        }
        async fn get(&self, id: &DocumentId) -> Result<Option<Document>, RepoError> {
            Ok(self.docs.lock().unwrap().get(id).cloned())
        }
        async fn list_for(&self, _: &ContractorId) -> Result<Vec<Document>, RepoError> {
            Ok(self.docs.lock().unwrap().values().cloned().collect())
        }
    }

    impl DocumentWrites for &'static Docs {
        async fn save(
            &self,
            doc: &Document,
            at: u64,
            events: &[DomainEvent],
        ) -> Result<(), RepoError> {
            let mut docs = self.docs.lock().unwrap();
            if docs.get(&doc.id).map(|d| d.revision) != Some(at) {
                return Err(RepoError::VersionConflict);
            }
            docs.insert(doc.id.clone(), doc.clone());
            self.events.lock().unwrap().extend(events.iter().cloned());
            Ok(())
        }
        async fn overdue(
            &self,
            status: DocumentStatus,
            now: DateTime<Utc>,
            _: usize,
        ) -> Result<Vec<Document>, RepoError> {
            Ok(self
                .docs
                .lock()
                .unwrap()
                .values()
                .filter(|d| d.status == status && d.deadline.is_some_and(|t| t < now))
                .cloned()
                .collect())
        }
    }

    #[derive(Default)]
    struct Objects {
        objects: Mutex<HashMap<String, Vec<u8>>>,
        quarantined: Mutex<Vec<(String, String)>>,
        clean: Mutex<Vec<String>>,
        rescans: Mutex<Vec<String>>,
    }

    impl ObjectStore for &'static Objects {
        async fn fetch(&self, key: &str, _: Option<&str>) -> Result<Option<Vec<u8>>, EngineError> {
            Ok(self.objects.lock().unwrap().get(key).cloned())
        }
        async fn head(&self, key: &str) -> Result<Option<UploadedObject>, EngineError> {
            Ok(self
                .objects
                .lock()
                .unwrap()
                .get(key)
                .map(|b| UploadedObject {
                    key: key.to_owned(),
                    version_id: None,
                    size: b.len() as u64,
                }))
        }
        async fn quarantine(
            &self,
            key: &str,
            _: Option<&str>,
            code: &str,
        ) -> Result<(), EngineError> {
            let moved = self.objects.lock().unwrap().remove(key);
            if let Some(bytes) = moved {
                self.objects
                    .lock()
                    .unwrap()
                    .insert(format!("quarantine/{key}"), bytes);
                self.quarantined
                    .lock()
                    .unwrap()
                    .push((key.to_owned(), code.to_owned()));
            }
            Ok(())
        }
        async fn mark_clean(&self, key: &str, _: Option<&str>) -> Result<(), EngineError> {
            self.clean.lock().unwrap().push(key.to_owned());
            Ok(())
        }
        async fn put(&self, key: &str, bytes: &[u8], _: &str) -> Result<(), EngineError> {
            self.objects
                .lock()
                .unwrap()
                .insert(key.to_owned(), bytes.to_vec());
            Ok(())
        }
    }

    impl ScanRequests for &'static Objects {
        async fn request_scan(&self, object: &UploadedObject) -> Result<(), EngineError> {
            self.rescans.lock().unwrap().push(object.key.clone());
            Ok(())
        }
    }

    /// Flags EICAR; fails when told to, like a clamd that is down.
    struct Engine {
        down: bool,
    }

    impl VirusScanner for Engine {
        async fn scan(&self, bytes: &[u8]) -> Result<Verdict, EngineError> {
            if self.down {
                return Err(EngineError("clamd: connection refused".into()));
            }
            Ok(if bytes.windows(5).any(|w| w == b"EICAR") {
                Verdict::Infected("Eicar-Test-Signature".into())
            } else {
                Verdict::Clean
            })
        }
    }

    struct Reader(&'static str);

    /// Takes scripts out by renaming their keys, as a rewrite would drop them.
    impl PdfDisarmer for Reader {
        async fn disarm(&self, pdf: &[u8]) -> Result<Vec<u8>, EngineError> {
            let text = String::from_utf8_lossy(pdf)
                .replace("/JavaScript", "/Removed")
                .replace("/JS", "/Removed");
            Ok(text.into_bytes())
        }
        fn method(&self) -> &'static str {
            "test-rewrite"
        }
    }

    impl TextReader for Reader {
        async fn read(&self, _: &[u8], _: Sniffed) -> Result<ReadDocument, EngineError> {
            Ok(ReadDocument {
                pages: vec![Page::laid_out(self.0, ReadMethod::TextLayer, 0.99)],
                page_count: 1,
                hidden: vec![],
            })
        }
    }

    fn leak<T>(v: T) -> &'static T {
        Box::leak(Box::new(v))
    }

    const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n";

    fn uploaded(
        docs: &'static Docs,
        objects: &'static Objects,
        kind: &str,
        bytes: &[u8],
    ) -> (Document, UploadedObject) {
        let sha = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes));
        let intent: UploadIntent = serde_json::from_value(serde_json::json!({
            "kind": kind, "file_name": "f.pdf", "content_type": "application/pdf",
            "size": bytes.len(), "sha256": sha
        }))
        .unwrap();
        let doc = intent
            .into_document(&ContractorId::generate(), Utc::now(), Duration::minutes(10))
            .unwrap();
        docs.docs
            .lock()
            .unwrap()
            .insert(doc.id.clone(), doc.clone());
        objects
            .objects
            .lock()
            .unwrap()
            .insert(doc.object_key.clone(), bytes.to_vec());
        let object = UploadedObject {
            key: doc.object_key.clone(),
            version_id: Some("v1".into()),
            size: bytes.len() as u64,
        };
        (doc, object)
    }

    fn scanning(
        docs: &'static Docs,
        objects: &'static Objects,
        down: bool,
    ) -> Scanning<&'static Docs, &'static Objects, Engine> {
        Scanning {
            documents: docs,
            objects,
            scanner: Engine { down },
            extract_deadline: Duration::minutes(30),
        }
    }

    #[tokio::test]
    async fn a_clean_file_is_scanned_once_however_often_it_is_announced() {
        let (docs, objects) = (leak(Docs::default()), leak(Objects::default()));
        let (doc, object) = uploaded(docs, objects, "insurance_certificate", PDF);
        let s = scanning(docs, objects, false);
        assert_eq!(
            s.on_upload(&object, Utc::now(), "c").await.unwrap(),
            Outcome::Scanned
        );
        assert_eq!(
            s.on_upload(&object, Utc::now(), "c").await.unwrap(),
            Outcome::AlreadyDone(DocumentStatus::Scanned)
        );
        let stored = docs.docs.lock().unwrap()[&doc.id].clone();
        assert_eq!(stored.status, DocumentStatus::Scanned);
        assert_eq!(stored.object_version.as_deref(), Some("v1"));
        assert!(stored.deadline.is_some());
        let events = docs.events.lock().unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind(), "document.scanned");
    }

    #[tokio::test]
    async fn malware_is_quarantined_with_a_reason_and_goes_no_further() {
        let (docs, objects) = (leak(Docs::default()), leak(Objects::default()));
        let bytes = [PDF, b"% EICAR-STANDARD-ANTIVIRUS-TEST-FILE\n"].concat();
        let (doc, object) = uploaded(docs, objects, "insurance_certificate", &bytes);
        let s = scanning(docs, objects, false);
        assert_eq!(
            s.on_upload(&object, Utc::now(), "c").await.unwrap(),
            Outcome::Rejected("malware")
        );
        let stored = docs.docs.lock().unwrap()[&doc.id].clone();
        assert_eq!(stored.status, DocumentStatus::Rejected);
        assert!(
            stored
                .rejection
                .unwrap()
                .reason
                .contains("Eicar-Test-Signature")
        );
        assert_eq!(
            objects.quarantined.lock().unwrap().as_slice(),
            &[(doc.object_key.clone(), "malware".to_owned())]
        );
        assert!(
            objects
                .objects
                .lock()
                .unwrap()
                .contains_key(&format!("quarantine/{}", doc.object_key))
        );
    }

    #[tokio::test]
    async fn size_and_checksum_mismatches_are_rejected() {
        let (docs, objects) = (leak(Docs::default()), leak(Objects::default()));
        let (_, mut object) = uploaded(docs, objects, "w9", PDF);
        object.size += 1;
        let s = scanning(docs, objects, false);
        assert_eq!(
            s.on_upload(&object, Utc::now(), "c").await.unwrap(),
            Outcome::Rejected("size_mismatch")
        );

        let (doc, object) = uploaded(docs, objects, "w9", PDF);
        let mut tampered = PDF.to_vec();
        tampered[10] = b'X';
        objects
            .objects
            .lock()
            .unwrap()
            .insert(doc.object_key.clone(), tampered);
        assert_eq!(
            s.on_upload(&object, Utc::now(), "c").await.unwrap(),
            Outcome::Rejected("checksum_mismatch")
        );
    }

    #[tokio::test]
    async fn an_engine_failure_is_retried_never_taken_as_clean() {
        let (docs, objects) = (leak(Docs::default()), leak(Objects::default()));
        let (doc, object) = uploaded(docs, objects, "w9", PDF);
        let err = scanning(docs, objects, true)
            .on_upload(&object, Utc::now(), "c")
            .await;
        assert!(matches!(err, Err(PipelineError::Engine(_))));
        assert_eq!(
            docs.docs.lock().unwrap()[&doc.id].status,
            DocumentStatus::AwaitingUpload
        );
    }

    #[tokio::test]
    async fn keys_outside_the_layout_are_ignored() {
        let (docs, objects) = (leak(Docs::default()), leak(Objects::default()));
        let s = scanning(docs, objects, false);
        let stray = UploadedObject {
            key: "contractors/x/notes.txt".into(),
            version_id: None,
            size: 3,
        };
        assert!(matches!(
            s.on_upload(&stray, Utc::now(), "c").await.unwrap(),
            Outcome::Ignored(_)
        ));
    }

    #[tokio::test]
    async fn a_w9_is_extracted_with_its_tin_encrypted_and_masked() {
        let (docs, objects) = (leak(Docs::default()), leak(Objects::default()));
        let (doc, object) = uploaded(docs, objects, "w9", PDF);
        scanning(docs, objects, false)
            .on_upload(&object, Utc::now(), "c")
            .await
            .unwrap();
        let x = Extracting {
            documents: docs,
            objects,
            reader: Reader(
                "1 Name of entity/individual: James Fairbanks\n3a Federal tax classification: [X] Partnership\nEmployer identification number: 60-9802211",
            ),
            cipher: TestCipher,
        };
        let outcome = x.on_scanned(&doc.id, Utc::now(), "c").await.unwrap();
        assert!(
            matches!(
                outcome,
                Outcome::Extracted {
                    problems: 0,
                    lowest_confidence: Some(c)
                } if c <= 100
            ),
            "{outcome:?}"
        );
        assert_eq!(
            x.on_scanned(&doc.id, Utc::now(), "c").await.unwrap(),
            Outcome::AlreadyDone(DocumentStatus::Extracted)
        );
        let stored = docs.docs.lock().unwrap()[&doc.id].clone();
        let fields = &stored.extraction.as_ref().unwrap().fields;
        assert_eq!(fields["tin"].value, "**-***2211");
        assert!(stored.tin.is_some());
        let json = serde_json::to_string(&stored.extraction).unwrap();
        assert!(
            !json.contains("9802211"),
            "the extraction never carries the TIN"
        );
        let events = docs.events.lock().unwrap();
        assert!(!serde_json::to_string(&*events).unwrap().contains("9802211"));
    }

    #[tokio::test]
    async fn a_newer_read_document_starts_the_retention_clock_of_the_older_ones() {
        let (docs, objects) = (leak(Docs::default()), leak(Objects::default()));
        let (first, object) = uploaded(docs, objects, "insurance_certificate", PDF);
        let x = Extracting {
            documents: docs,
            objects,
            reader: Reader("CERTIFICATE OF LIABILITY INSURANCE"),
            cipher: TestCipher,
        };
        scanning(docs, objects, false)
            .on_upload(&object, Utc::now(), "c")
            .await
            .unwrap();
        x.on_scanned(&first.id, Utc::now(), "c").await.unwrap();
        // A second certificate from the same contractor, and a W-9 (another kind).
        let later = |kind: &str, version: u32| {
            let (mut d, o) = uploaded(docs, objects, kind, PDF);
            d.contractor_id = first.contractor_id.clone();
            d.version = version;
            docs.docs.lock().unwrap().insert(d.id.clone(), d.clone());
            (d, o)
        };
        let (w9, w9_object) = later("w9", 1);
        let (second, second_object) = later("insurance_certificate", 2);
        for o in [&w9_object, &second_object] {
            scanning(docs, objects, false)
                .on_upload(o, Utc::now(), "c")
                .await
                .unwrap();
        }
        x.on_scanned(&w9.id, Utc::now(), "c").await.unwrap();
        let stored = |id: &DocumentId| docs.docs.lock().unwrap()[id].clone();
        assert!(
            stored(&first.id).superseded_at.is_none(),
            "another kind replaces nothing"
        );
        let now = Utc::now();
        x.on_scanned(&second.id, now, "c").await.unwrap();
        assert_eq!(stored(&first.id).superseded_at, Some(now));
        assert!(stored(&second.id).superseded_at.is_none());
        assert!(stored(&w9.id).superseded_at.is_none());
        // Read again (a redelivery): the clock does not restart.
        x.on_scanned(&second.id, now + Duration::days(3), "c")
            .await
            .unwrap();
        assert_eq!(stored(&first.id).superseded_at, Some(now));
    }

    #[tokio::test]
    async fn form_scripts_are_taken_out_and_the_clean_rewrite_is_what_is_read() {
        let js: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
        let (docs, objects) = (leak(Docs::default()), leak(Objects::default()));
        let (doc, object) = uploaded(docs, objects, "w9", js);
        assert_eq!(
            scanning(docs, objects, false)
                .on_upload(&object, Utc::now(), "c")
                .await
                .unwrap(),
            Outcome::Scanned,
            "a form script is no reason to refuse the file"
        );
        let x = Extracting {
            documents: docs,
            objects,
            reader: Reader(
                "1 Name of entity/individual: James Fairbanks\n3a Federal tax classification: [X] Partnership\nEmployer identification number: 60-9802211",
            ),
            cipher: TestCipher,
        };
        x.on_scanned(&doc.id, Utc::now(), "c").await.unwrap();
        let stored = docs.docs.lock().unwrap()[&doc.id].clone();
        let derivative = stored.derivative.clone().expect("a derivative");
        assert_eq!(derivative.removed, ["JavaScript"]);
        assert!(derivative.object_key.ends_with("/derivative.pdf"));
        let kept = objects.objects.lock().unwrap()[&derivative.object_key].clone();
        assert!(inspection::pdf_active_content(&kept).is_empty());
        assert_eq!(stored.readable_key(), derivative.object_key);
        let events = docs.events.lock().unwrap();
        let extracted = events
            .iter()
            .find_map(|e| match &e.event {
                Event::DocumentExtracted(d) => Some(d),
                _ => None,
            })
            .unwrap();
        assert_eq!(
            extracted.object_key,
            derivative.object_key.as_str(),
            "consumers read the derivative"
        );
    }

    #[tokio::test]
    async fn the_sweeper_expires_rescans_re_extracts_and_finally_fails() {
        let (docs, objects) = (leak(Docs::default()), leak(Objects::default()));
        let (never, _) = uploaded(docs, objects, "w9", PDF);
        objects.objects.lock().unwrap().remove(&never.object_key);
        let (lost, _) = uploaded(docs, objects, "w9", PDF);
        let (stuck, object) = uploaded(docs, objects, "license", PDF);
        scanning(docs, objects, false)
            .on_upload(&object, Utc::now(), "c")
            .await
            .unwrap();

        let sweeper = Sweeping {
            documents: docs,
            objects,
            scans: objects,
            settings: SweepSettings {
                max_attempts: 2,
                retry_after: Duration::minutes(5),
                batch: 50,
            },
        };
        let mut later = Utc::now() + Duration::hours(1);
        let report = sweeper.sweep(later, "c").await.unwrap();
        assert_eq!(
            report,
            SweepReport {
                expired: 1,
                rescanned: 1,
                re_extracted: 1,
                failed: 0
            }
        );
        let get = |id: &DocumentId| docs.docs.lock().unwrap()[id].clone();
        assert_eq!(get(&never.id).status, DocumentStatus::Expired);
        assert_eq!(
            objects.rescans.lock().unwrap().as_slice(),
            std::slice::from_ref(&lost.object_key)
        );
        assert_eq!(get(&stuck.id).attempts, 1);

        for _ in 0..2 {
            later += Duration::hours(1);
            sweeper.sweep(later, "c").await.unwrap();
        }
        assert_eq!(get(&lost.id).status, DocumentStatus::Failed);
        assert_eq!(get(&stuck.id).status, DocumentStatus::Failed);
        assert!(
            get(&stuck.id)
                .history
                .last()
                .unwrap()
                .reason
                .as_deref()
                .unwrap()
                .contains("Upload it again")
        );
        let nothing = sweeper
            .sweep(later + Duration::hours(1), "c")
            .await
            .unwrap();
        assert_eq!(nothing, SweepReport::default());
    }
}
