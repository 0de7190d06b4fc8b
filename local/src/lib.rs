//! The local runner: plays AWS's part on a laptop, reading `template.yaml`.
//! See `docs/local-stack.md` for what is emulated and how faithfully.

pub mod api;
pub mod beside;
pub mod clamd;
pub mod functions;
pub mod issuer;
pub mod model;
pub mod moto;
pub mod provision;
pub mod resolve;
pub mod sandboxes;
pub mod schedule_expression;
pub mod schedules;
pub mod sqs_source;
pub mod stack;
pub mod template;
pub mod websocket;

pub use functions::{Factory, Registry, product_registry};
pub use stack::{LocalStack, StackOptions};

#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error("template: {0}")]
    Template(String),
    #[error("moto: {0}")]
    Moto(String),
    #[error("provisioning: {0}")]
    Provision(String),
    #[error("token issuer: {0}")]
    Issuer(String),
    #[error("function: {0}")]
    Function(String),
    #[error("{0}")]
    Io(String),
}
