//! What a verification consumer evaluates: a document's extracted fields, from the
//! `document.extracted` event that announces it, or — when the contractor changes their
//! business profile (legal name, DBA), which the rules compare against — from the newest
//! extracted document of the kind, re-evaluated. Both kinds of event reach the same consumer,
//! so "the profile changed" and "a new document" converge on one derived requirement state.

use std::collections::BTreeMap;

use crate::documents::{Document, DocumentKind, DocumentRepository, DocumentStatus};
use crate::events::{DomainEvent, Event};
use crate::extraction::{ExtractedField, FieldProblem};
use crate::ids::ContractorId;
use crate::ports::RepoError;
use crate::steps::StepName;
use crate::verification::VerificationResult;
use domain_verification::verifying::Handover;

#[derive(Clone, Debug, PartialEq)]
pub struct Evidence {
    pub contractor_id: ContractorId,
    pub document_id: String,
    /// The document's version of its kind: the requirement's evidence version.
    pub version: u32,
    pub object_key: String,
    pub fields: BTreeMap<String, ExtractedField>,
    /// What extraction found wrong with the document (a possible alteration, a sample).
    pub problems: Vec<FieldProblem>,
    /// The contractor version whose profile change asked for a re-evaluation.
    pub reevaluation: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error("malformed event: {0}")]
    Malformed(String),
    #[error(transparent)]
    Repo(#[from] RepoError),
}

impl Evidence {
    /// The possible alteration extraction found (hidden text under what the page shows).
    pub fn alteration(&self) -> Option<&FieldProblem> {
        self.problems
            .iter()
            .find(|p| p.code == "possible_alteration")
    }

    fn from_document(doc: &Document, reevaluation: u64) -> Option<Evidence> {
        let extraction = doc.extraction.as_ref()?;
        Some(Evidence {
            contractor_id: doc.contractor_id.clone(),
            document_id: doc.id.to_string(),
            version: doc.version,
            object_key: doc.readable_key().to_owned(),
            fields: extraction.fields.clone(),
            problems: extraction.problems.clone(),
            reevaluation: Some(reevaluation),
        })
    }

    /// This evidence handed to a reviewer for `requirement`, in place of `source`'s verdict
    /// (one hand-over per document and version).
    pub fn handover<'a>(
        &'a self,
        requirement: &'a str,
        sources: &'a [&'a str],
        source: &'a str,
        correlation_id: &'a str,
    ) -> Handover<'a> {
        Handover {
            contractor: &self.contractor_id,
            requirement,
            sources,
            source,
            key: &self.document_id,
            evidence_version: self.version,
            correlation_id,
        }
    }

    /// Makes a re-evaluation's result a new result (ids are unique per evaluation), so it
    /// replaces the earlier one from the same source.
    pub fn tag(&self, result: &mut VerificationResult) {
        if let Some(v) = self.reevaluation {
            result.id = format!("{}:profile-v{v}", result.id);
        }
    }
}

/// The evidence of `kind` an event asks to evaluate, if any: the extracted document it
/// announces, or on a business-profile save the contractor's newest extracted document of
/// that kind.
pub async fn for_event<D: DocumentRepository>(
    event: &DomainEvent,
    kind: DocumentKind,
    documents: &D,
) -> Result<Option<Evidence>, EvidenceError> {
    match &event.event {
        Event::DocumentExtracted(doc) if doc.kind == kind => {
            let extraction = doc.extraction.as_ref().ok_or_else(|| {
                EvidenceError::Malformed("document.extracted without its extraction".into())
            })?;
            Ok(Some(Evidence {
                contractor_id: event.contractor_id.clone(),
                document_id: doc.document_id.to_string(),
                version: doc.version,
                object_key: doc.object_key.clone(),
                fields: extraction.fields.clone(),
                problems: extraction.problems.clone(),
                reevaluation: None,
            }))
        }
        Event::StepSaved(saved) if saved.step == StepName::BusinessProfile => {
            let newest = documents
                .list_for(&event.contractor_id)
                .await?
                .into_iter()
                .filter(|d| d.kind == kind && d.status == DocumentStatus::Extracted)
                .max_by_key(|d| d.version);
            Ok(newest.and_then(|d| Evidence::from_document(&d, saved.contractor_version)))
        }
        _ => Ok(None),
    }
}
