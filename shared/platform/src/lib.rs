//! Runtime glue shared by every Lambda function, written once:
//! typed configuration from the environment, AWS clients built once per cold start,
//! JSON logs with request/trace/correlation ids, RFC 9457 problems at the HTTP edge,
//! SQS partial-batch handling, CloudWatch Embedded Metric Format, and the JSON-in/JSON-out
//! adapters the local runner uses to call the very same handlers in-process.

pub mod auth;
pub mod aws;
pub mod correlation;
pub mod env;
pub mod events;
pub mod http;
pub mod idempotency;
pub mod invoke;
pub mod metrics;
pub mod problem;
pub mod s3;
pub mod schedule;
pub mod secrets;
pub mod sqs;
pub mod telemetry;

pub use env::{ConfigError, Env};
pub use problem::{ApiError, FieldError, Problem};

/// The error type Lambda runtimes accept from a handler.
pub type BoxError = lambda_runtime::Error;
