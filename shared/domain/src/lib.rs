//! The business rules of contractor onboarding, in plain Rust: no AWS types, no I/O.
//! Storage and other side effects sit behind the ports in [`ports`].

pub mod audit;
pub mod banking;
pub mod breaker;
pub mod compliance;
pub mod contractor;
pub mod documents;
pub mod events;
pub mod evidence;
pub mod extraction;
pub mod ids;
pub mod inspection;
pub mod licensing;
pub mod lifecycle;
pub mod onboarding;
pub mod pipeline;
pub mod ports;
pub mod requirements;
pub mod standing;
pub mod steps;
pub mod validation;
pub mod values;
pub mod verification;
pub mod verifying;

pub use validation::{Invalid, Violation};
