//! The engines the document pipeline runs next to the function: ClamAV's daemon over its
//! INSTREAM protocol, and text readers (a PDF's text layer with `pdftotext -layout`, OCR
//! with Tesseract). In the cloud they ship in the functions' container images; locally the
//! runner starts clamd and the binaries come from Debian packages (docs/adr/0006).

pub mod clamd;
pub mod text;

pub use clamd::ClamdScanner;
pub use text::CliTextReader;
