//! Documents: upload intents, inspection of what arrived, the scan and extraction
//! pipeline, and the evidence verification reads from documents. Depends on the kernel,
//! onboarding (whose contractor a document belongs to) and verification's results.

pub mod documents;
pub mod evidence;
pub mod extraction;
pub mod inspection;
pub mod pipeline;

// Modules of the crates below under the names this crate's modules use.
use domain_kernel::{events, ids, validation};
use domain_onboarding::{contractor, onboarding, ports, steps};
use domain_verification::verification;
