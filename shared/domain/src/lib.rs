//! The business rules of contractor onboarding, in plain Rust: no AWS types, no I/O.
//! Storage and other side effects sit behind the ports in [`ports`].

pub mod contractor;
pub mod ids;
pub mod ports;
pub mod validation;
pub mod values;

pub use validation::{Invalid, Violation};
