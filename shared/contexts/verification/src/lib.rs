//! Verification: a requirement's state derived from the results recorded for its evidence,
//! the insurance and license rules, bank account checks, the provider breaker and the
//! verification service over its ports. Depends on the kernel only.

pub mod banking;
pub mod breaker;
pub mod compliance;
pub mod licensing;
pub mod verification;
pub mod verifying;

// Kernel modules under the names this crate's modules use.
use domain_kernel::{events, ids, ports, validation};
