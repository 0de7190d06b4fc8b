//! What the scanner checks before a virus engine sees a file: that the bytes are the file
//! the intent declared (size, SHA-256), that their real type (magic bytes, not the name or
//! the declared type) is allowed for the document's kind, and that a PDF carries no active
//! content (JavaScript, launch actions, embedded files). Every refusal has a reason the
//! contractor can act on.

use base64::Engine;
use sha2::{Digest, Sha256};

use crate::documents::Document;

/// The type the bytes really are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sniffed {
    Pdf,
    Jpeg,
    Png,
    Heic,
    /// A Windows executable (PE), whatever its name says.
    WindowsExecutable,
    /// An ELF executable.
    LinuxExecutable,
    Zip,
    Unknown,
}

impl Sniffed {
    pub fn content_type(self) -> Option<&'static str> {
        match self {
            Sniffed::Pdf => Some("application/pdf"),
            Sniffed::Jpeg => Some("image/jpeg"),
            Sniffed::Png => Some("image/png"),
            Sniffed::Heic => Some("image/heic"),
            _ => None,
        }
    }
}

/// The real type from the first bytes.
pub fn sniff(bytes: &[u8]) -> Sniffed {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    // PDF readers accept the header within the first KB; so do we.
    let head = &bytes[..bytes.len().min(1024)];
    if starts(b"MZ") {
        Sniffed::WindowsExecutable
    } else if starts(b"\x7fELF") {
        Sniffed::LinuxExecutable
    } else if head.windows(5).any(|w| w == b"%PDF-") {
        Sniffed::Pdf
    } else if starts(&[0xFF, 0xD8, 0xFF]) {
        Sniffed::Jpeg
    } else if starts(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Sniffed::Png
    } else if bytes.len() >= 12
        && &bytes[4..8] == b"ftyp"
        && matches!(
            &bytes[8..12],
            b"heic" | b"heix" | b"hevc" | b"heim" | b"heis" | b"mif1" | b"msf1"
        )
    {
        Sniffed::Heic
    } else if starts(b"PK\x03\x04") {
        Sniffed::Zip
    } else {
        Sniffed::Unknown
    }
}

/// Why a file is refused: a stable code and a sentence for the contractor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub code: &'static str,
    pub reason: String,
}

fn reject(code: &'static str, reason: impl Into<String>) -> Rejection {
    Rejection {
        code,
        reason: reason.into(),
    }
}

/// PDF name tokens that make a document do something when opened, and whether a rewrite
/// can take them out (form software's scripts and forms) or the file is refused (a launch
/// action runs a program; an embedded file or media can carry anything).
const ACTIVE_NAMES: [(&str, &str, Active); 7] = [
    ("/JavaScript", "JavaScript", Active::Disarmable),
    ("/JS", "JavaScript", Active::Disarmable),
    ("/Launch", "a launch action", Active::Refused),
    ("/EmbeddedFile", "an embedded file", Active::Refused),
    ("/RichMedia", "embedded media", Active::Refused),
    ("/XFA", "an XFA form", Active::Disarmable),
    (
        "/SubmitForm",
        "a form that submits data",
        Active::Disarmable,
    ),
];

/// What can be done about a kind of active content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Active {
    /// Rewritten into a clean derivative (docs/adr/0009): agency form software leaves
    /// scripts and form definitions in certificates every day.
    Disarmable,
    /// Refused: no rewrite makes it safe to keep.
    Refused,
}

/// PDF names with `#xx` escapes decoded (`/Java#53cript` is `/JavaScript`), so escapes
/// cannot hide a name from the check.
fn pdf_names(bytes: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'/' {
            let mut name = String::from("/");
            let mut j = i + 1;
            while j < bytes.len() {
                let b = bytes[j];
                if b.is_ascii_whitespace() || b"/[]<>(){}%".contains(&b) {
                    break;
                }
                if b == b'#' && j + 2 < bytes.len() + 1 {
                    let hex = std::str::from_utf8(bytes.get(j + 1..j + 3).unwrap_or_default())
                        .unwrap_or("");
                    if let Ok(v) = u8::from_str_radix(hex, 16) {
                        name.push(v as char);
                        j += 3;
                        continue;
                    }
                }
                name.push(b as char);
                j += 1;
            }
            if name.len() > 1 {
                names.push(name);
            }
            i = j;
        } else {
            i += 1;
        }
    }
    names
}

/// What active content a PDF carries, by description and what can be done about it.
pub fn pdf_active(bytes: &[u8]) -> Vec<(&'static str, Active)> {
    let names = pdf_names(bytes);
    let mut found: Vec<(&'static str, Active)> = Vec::new();
    for (token, what, kind) in ACTIVE_NAMES {
        if names.iter().any(|n| n == token) && !found.iter().any(|(w, _)| *w == what) {
            found.push((what, kind));
        }
    }
    found
}

/// What active content a PDF carries, by description.
pub fn pdf_active_content(bytes: &[u8]) -> Vec<&'static str> {
    pdf_active(bytes).into_iter().map(|(w, _)| w).collect()
}

/// The active content a rewrite must take out of this PDF before anyone reads it (empty
/// when it has none, or when it has content that is refused outright).
pub fn needs_disarming(bytes: &[u8]) -> Vec<&'static str> {
    let active = pdf_active(bytes);
    if active.iter().any(|(_, k)| *k == Active::Refused) {
        return vec![];
    }
    active.into_iter().map(|(w, _)| w).collect()
}

/// Whether `bytes` are the file the intent announced: its size and SHA-256.
pub fn matches_intent(doc: &Document, bytes: &[u8]) -> Result<(), Rejection> {
    if bytes.len() as u64 != doc.size {
        return Err(reject(
            "size_mismatch",
            format!(
                "The upload is {} bytes but {} were announced; upload the file again.",
                bytes.len(),
                doc.size
            ),
        ));
    }
    let digest = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes));
    if digest != doc.sha256 {
        return Err(reject(
            "checksum_mismatch",
            "The upload does not match its checksum; it may be damaged. Upload the file again.",
        ));
    }
    Ok(())
}

/// Checks `bytes` against the intent of `doc`: size, checksum, real type for the kind, no
/// active content in a PDF.
pub fn inspect(doc: &Document, bytes: &[u8]) -> Result<Sniffed, Rejection> {
    matches_intent(doc, bytes)?;
    let sniffed = sniff(bytes);
    match sniffed {
        Sniffed::WindowsExecutable | Sniffed::LinuxExecutable => {
            return Err(reject(
                "executable",
                "This file is a program, not a document. Upload a PDF or a photo.",
            ));
        }
        _ => {}
    }
    let Some(real_type) = sniffed.content_type() else {
        return Err(reject(
            "unsupported_format",
            "We could not recognise this file as a PDF, JPEG, PNG or HEIC. Upload one of those.",
        ));
    };
    if !doc.kind.content_types().contains(&real_type) {
        return Err(reject(
            "unsupported_format",
            format!(
                "A {} must be one of: {}.",
                doc.kind.as_str(),
                doc.kind.content_types().join(", ")
            ),
        ));
    }
    if real_type != doc.content_type {
        return Err(reject(
            "type_mismatch",
            format!(
                "The file is really {real_type}, not {} as announced.",
                doc.content_type
            ),
        ));
    }
    if sniffed == Sniffed::Pdf {
        // Form software's scripts and forms are taken out at extraction (a clean derivative
        // is read instead); what can run a program or carry a file is refused.
        let refused: Vec<&str> = pdf_active(bytes)
            .into_iter()
            .filter(|(_, k)| *k == Active::Refused)
            .map(|(w, _)| w)
            .collect();
        if !refused.is_empty() {
            return Err(reject(
                "active_content",
                format!(
                    "This PDF contains {}, which we do not accept. Print it to a new PDF or upload a photo.",
                    refused.join(" and ")
                ),
            ));
        }
        // Every complete PDF ends with %%EOF (readers allow trailing bytes after it).
        let tail = &bytes[bytes.len().saturating_sub(1024)..];
        if !tail.windows(5).any(|w| w == b"%%EOF") {
            return Err(reject(
                "damaged",
                "This PDF is incomplete or damaged (it looks cut off). Save or export it again and upload it.",
            ));
        }
    }
    Ok(sniffed)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::json;

    use super::*;
    use crate::documents::UploadIntent;
    use crate::ids::ContractorId;

    const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

    fn doc_for(bytes: &[u8], kind: &str, content_type: &str) -> Document {
        let sha: String = Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let intent: UploadIntent = serde_json::from_value(json!({
            "kind": kind, "file_name": "f", "content_type": content_type, "size": bytes.len(), "sha256": sha
        }))
        .unwrap();
        intent
            .into_document(
                &ContractorId::generate(),
                Utc::now(),
                chrono::Duration::minutes(10),
            )
            .unwrap()
    }

    #[test]
    fn a_clean_pdf_passes() {
        assert_eq!(
            inspect(&doc_for(PDF, "w9", "application/pdf"), PDF),
            Ok(Sniffed::Pdf)
        );
    }

    #[test]
    fn size_and_checksum_must_match_the_intent() {
        let doc = doc_for(PDF, "w9", "application/pdf");
        let mut longer = PDF.to_vec();
        longer.push(b'\n');
        assert_eq!(inspect(&doc, &longer).unwrap_err().code, "size_mismatch");
        let mut flipped = PDF.to_vec();
        flipped[10] ^= 1;
        assert_eq!(
            inspect(&doc, &flipped).unwrap_err().code,
            "checksum_mismatch"
        );
    }

    #[test]
    fn the_real_type_decides_not_the_name() {
        let exe = b"MZ\x90\x00\x03\x00\x00\x00This program cannot be run in DOS mode.".to_vec();
        assert_eq!(
            inspect(&doc_for(&exe, "w9", "application/pdf"), &exe)
                .unwrap_err()
                .code,
            "executable"
        );
        let elf = b"\x7fELF\x02\x01\x01\x00".to_vec();
        assert_eq!(
            inspect(&doc_for(&elf, "license", "image/png"), &elf)
                .unwrap_err()
                .code,
            "executable"
        );
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F'];
        assert_eq!(
            inspect(&doc_for(&jpeg, "license", "image/png"), &jpeg)
                .unwrap_err()
                .code,
            "type_mismatch"
        );
        let zip = b"PK\x03\x04rest".to_vec();
        assert_eq!(
            inspect(&doc_for(&zip, "w9", "application/pdf"), &zip)
                .unwrap_err()
                .code,
            "unsupported_format"
        );
        let heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00".to_vec();
        assert_eq!(sniff(&heic), Sniffed::Heic);
    }

    #[test]
    fn launch_actions_and_embedded_files_are_refused_even_when_escaped() {
        for body in [
            &b"%PDF-1.4\n1 0 obj << /S /Launch /F (cmd.exe) >> endobj\n%%EOF"[..],
            &b"%PDF-1.4\n1 0 obj << /S /Lau#6Ech /F (cmd.exe) >> endobj\n%%EOF"[..],
            &b"%PDF-1.4\n1 0 obj << /Type /EmbeddedFile /Length 3 >> stream\nabc\nendstream\n%%EOF"[..],
            &b"%PDF-1.4\n1 0 obj << /OpenAction << /S /JavaScript /JS (x) >> /Type /EmbeddedFile >> endobj\n%%EOF"[..],
        ] {
            let rejection = inspect(
                &doc_for(body, "insurance_certificate", "application/pdf"),
                body,
            )
            .unwrap_err();
            assert_eq!(
                rejection.code,
                "active_content",
                "{}",
                String::from_utf8_lossy(body)
            );
            assert!(needs_disarming(body).is_empty(), "refused content is never disarmed");
        }
        assert!(pdf_active_content(PDF).is_empty());
    }

    /// Agency form software's JavaScript and XFA are not a reason to turn a certificate
    /// away: the scan lets it through, and extraction reads a disarmed derivative.
    #[test]
    fn form_scripts_pass_the_scan_and_are_marked_for_disarming() {
        for body in [
            &b"%PDF-1.4\n1 0 obj << /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >> endobj\n%%EOF"[..],
            &b"%PDF-1.4\n1 0 obj << /OpenAction << /S /Java#53cript /JS (x) >> >> endobj\n%%EOF"[..],
            &b"%PDF-1.4\n1 0 obj << /AcroForm << /XFA 5 0 R >> >> endobj\n%%EOF"[..],
        ] {
            assert_eq!(
                inspect(&doc_for(body, "insurance_certificate", "application/pdf"), body),
                Ok(Sniffed::Pdf)
            );
            assert!(!needs_disarming(body).is_empty());
        }
        assert_eq!(pdf_active_content(b"/Java#53cript"), vec!["JavaScript"]);
        assert!(needs_disarming(PDF).is_empty());
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R /Names << /JavaScript 4 0 R >> /OpenAction 3 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [5 0 R] /Count 1 >> endobj\n3 0 obj << /S /JavaScript /JS (app.alert\\(1\\)) >> endobj\n4 0 obj << /Names [(a) 3 0 R] >> endobj\n5 0 obj << /Type /Page /Parent 2 0 R /AA << /O 3 0 R >> /Annots [<< /Subtype /Link /A << /S /Launch /F (x.exe) >> >>] >> endobj\n6 0 obj << /Type /EmbeddedFile /Length 3 >> stream\nabc\nendstream endobj\n7 0 obj << /AcroForm << /XFA 8 0 R >> >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

    /// A PDF with some of its bytes flipped, cut, repeated or spliced with PDF tokens.
    fn mutated() -> impl Strategy<Value = Vec<u8>> {
        let tokens = prop::sample::select(vec![
            &b"/JavaScript"[..],
            b"/JS",
            b"/OpenAction",
            b"/AA",
            b"/Launch",
            b"/EmbeddedFile",
            b"/XFA",
            b"#",
            b"#4A",
            b"<<",
            b">>",
            b"(",
            b")",
            b"\\",
            b"stream",
            b"endstream",
            b"/Filter /FlateDecode",
            b"\x00",
            b"\xff",
        ]);
        (
            prop::collection::vec((any::<usize>(), any::<u8>()), 0..40),
            prop::collection::vec((any::<usize>(), tokens), 0..20),
            any::<usize>(),
            1usize..4,
        )
            .prop_map(|(flips, splices, cut, repeat)| {
                let mut bytes = PDF.repeat(repeat);
                for (at, b) in flips {
                    let i = at % bytes.len();
                    bytes[i] = b;
                }
                for (at, token) in splices {
                    let i = at % (bytes.len() + 1);
                    bytes.splice(i..i, token.iter().copied());
                }
                bytes.truncate(cut % (bytes.len() + 1));
                bytes
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, timeout: 10_000, ..ProptestConfig::default() })]

        /// Whatever the bytes, the inspector answers: no panic, no hang, and its answers
        /// agree with each other (what needs disarming is active content it found).
        #[test]
        fn mutated_pdfs_are_inspected_without_panic(bytes in mutated()) {
            let _ = sniff(&bytes);
            let active = pdf_active(&bytes);
            let content = pdf_active_content(&bytes);
            for name in needs_disarming(&bytes) {
                prop_assert!(active.iter().any(|(n, _)| *n == name), "{} not among {:?}", name, active);
            }
            for name in content {
                prop_assert!(active.iter().any(|(n, _)| *n == name));
            }
        }

        #[test]
        fn arbitrary_bytes_are_inspected_without_panic(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
            let _ = sniff(&bytes);
            let _ = pdf_active(&bytes);
            let _ = needs_disarming(&bytes);
        }
    }
}
