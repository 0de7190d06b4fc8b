//! The kernel every context shares: ids and values, the published language ([`terms`]),
//! typed domain events, who is asking ([`access`]), the audit chain and the ports every
//! context uses. Depends on no context; every context depends on it.

pub mod access;
pub mod audit;
pub mod events;
pub mod ids;
pub mod ports;
pub mod privacy;
pub mod terms;
pub mod validation;
pub mod values;

pub use validation::{Invalid, Violation};
