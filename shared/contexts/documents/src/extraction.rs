//! Field extraction. The readers hand over pages of words with their boxes; the form
//! parsers (crate `reading`: ACORD 25, W-9, license cards, packets) read the form the
//! document's kind says it is. This module maps a document's kind to that form.

pub use reading::page::Page;
pub use reading::{
    ExtractedField, Extraction, FieldProblem, MIN_CONFIDENCE, ReadDocument, ReadMethod, canonical,
};

use domain_kernel::terms::DocumentKind;

/// The form a document of `kind` must be.
pub fn form_kind(kind: DocumentKind) -> reading::FormKind {
    match kind {
        DocumentKind::InsuranceCertificate => reading::FormKind::InsuranceCertificate,
        DocumentKind::License => reading::FormKind::License,
        DocumentKind::W9 => reading::FormKind::W9,
        DocumentKind::PhotoId => reading::FormKind::PhotoId,
    }
}

/// Extracts the fields of `kind` from what the reader read. Photo IDs carry no fields we
/// use (identity is checked by a person or an identity provider), so their extraction is
/// empty.
pub fn extract(kind: DocumentKind, doc: &ReadDocument) -> Extraction {
    reading::extract(form_kind(kind), doc)
}
