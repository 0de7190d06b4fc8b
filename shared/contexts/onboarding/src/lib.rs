//! Onboarding: the contractor account, the wizard's steps, the lifecycle, standing (what
//! verification means for the account) and the onboarding use cases. Depends on the
//! kernel and on verification's rules.

pub mod contractor;
pub mod lifecycle;
pub mod onboarding;
pub mod ports;
pub mod requirements;
pub mod standing;
pub mod steps;

// Kernel and verification modules under the names this crate's modules use.
use domain_kernel::{Invalid, Violation, audit, events, ids, validation, values};
use domain_verification::{licensing, verification, verifying};
