//! JSON logs. Every line written during an invocation carries the Lambda request id, the
//! X-Ray trace id and the correlation id, through the `invocation` span.

use lambda_runtime::Context;
use tracing::Span;
use tracing_subscriber::EnvFilter;

use crate::correlation::CorrelationId;

/// Installs the JSON subscriber once per process. The level comes from `RUST_LOG`, else from
/// Lambda's `AWS_LAMBDA_LOG_LEVEL` (set by the template's `ApplicationLogLevel`), else `info`.
/// Calling it again (tests, the local runner) is harmless.
pub fn init() {
    init_with_writer(std::io::stdout);
}

/// [`init`] writing somewhere else (tests capture the log lines to check what they carry).
pub fn init_with_writer<W>(writer: W)
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
            .map(|l| l.to_lowercase())
            .unwrap_or_else(|_| "info".to_owned());
        EnvFilter::new(format!(
            "{level},aws_config=warn,aws_smithy_runtime=warn,hyper=warn,h2=warn"
        ))
    });
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_ansi(false)
        .with_env_filter(filter)
        .with_writer(writer)
        .try_init();
}

/// The span one invocation runs in.
pub fn invocation_span(function: &str, ctx: &Context, correlation_id: &CorrelationId) -> Span {
    tracing::info_span!(
        "invocation",
        function = function,
        request_id = %ctx.request_id,
        trace_id = ctx.xray_trace_id.as_deref().unwrap_or(""),
        correlation_id = %correlation_id,
    )
}
