//! The business rules of contractor onboarding, in plain Rust: no AWS types, no I/O.
//!
//! The rules live in one crate per context under `shared/contexts/` (ADR 0011), whose
//! dependencies run one way: `domain-kernel` ← `domain-verification` ←
//! `domain-onboarding` ← `domain-documents`, and `domain-engagement` (badges, the progress
//! ring, realtime) over onboarding. This crate is the one door adapters and
//! handlers use: it re-exports each context's modules under the paths they have always had.

pub use domain_kernel::{Invalid, Violation};
pub use domain_kernel::{access, audit, events, ids, privacy, terms, validation, values};

pub use domain_verification::{banking, breaker, compliance, licensing, verification, verifying};

pub use domain_onboarding::{
    contractor, lifecycle, onboarding, ports, requirements, standing, steps,
};

pub use domain_documents::{documents, evidence, extraction, inspection, pipeline};

/// Badges, the progress ring and realtime (its own ports: tickets, connections, the feed).
pub use domain_engagement as engagement;
