//! Entry points. `run_*` start the Lambda runtime (used by each function's `main.rs`);
//! `json_*` wrap the same application as a JSON-in/JSON-out function, which is exactly what
//! Lambda does with a payload, so the local runner can call it in-process.

use std::pin::Pin;
use std::sync::Arc;

use futures::future::BoxFuture;
use lambda_http::{Adapter, Service, service_fn};
use lambda_runtime::LambdaEvent;
use serde_json::Value;

use crate::BoxError;
use crate::http::{HttpApp, serve};
use crate::schedule::ScheduledJob;
use crate::sqs::{SqsConsumer, process_batch};

/// A function as the local runner sees it: an event payload in, a response payload out.
pub type JsonFunction =
    Arc<dyn Fn(LambdaEvent<Value>) -> BoxFuture<'static, Result<Value, BoxError>> + Send + Sync>;

pub async fn run_http<A: HttpApp>(app: A) -> Result<(), BoxError> {
    let app = Arc::new(app);
    lambda_http::run(service_fn(move |req| serve(app.clone(), req))).await
}

pub async fn run_sqs<C: SqsConsumer>(consumer: C) -> Result<(), BoxError> {
    let consumer = Arc::new(consumer);
    lambda_runtime::run(service_fn(move |event| {
        process_batch(consumer.clone(), event)
    }))
    .await
}

pub async fn run_scheduled<J: ScheduledJob>(job: J) -> Result<(), BoxError> {
    let job = Arc::new(job);
    lambda_runtime::run(service_fn(move |event| {
        crate::schedule::run_job(job.clone(), event)
    }))
    .await
}

/// The HTTP app behind lambda_http's own payload conversion (API Gateway v2 JSON in,
/// API Gateway v2 response JSON out).
pub fn json_http<A: HttpApp>(app: A) -> JsonFunction {
    let app = Arc::new(app);
    Arc::new(move |event: LambdaEvent<Value>| {
        let app = app.clone();
        Box::pin(async move {
            let request: lambda_http::request::LambdaRequest =
                serde_json::from_value(event.payload)?;
            let mut adapter = Adapter::from(service_fn(move |req| serve(app.clone(), req)));
            let response = adapter
                .call(LambdaEvent::new(request, event.context))
                .await?;
            Ok(serde_json::to_value(response)?)
        }) as Pin<Box<_>>
    })
}

pub fn json_sqs<C: SqsConsumer>(consumer: C) -> JsonFunction {
    let consumer = Arc::new(consumer);
    Arc::new(move |event: LambdaEvent<Value>| {
        let consumer = consumer.clone();
        Box::pin(async move {
            let payload = serde_json::from_value(event.payload)?;
            let response =
                process_batch(consumer, LambdaEvent::new(payload, event.context)).await?;
            Ok(serde_json::to_value(response)?)
        }) as Pin<Box<_>>
    })
}

pub fn json_scheduled<J: ScheduledJob>(job: J) -> JsonFunction {
    let job = Arc::new(job);
    Arc::new(move |event: LambdaEvent<Value>| {
        let job = job.clone();
        Box::pin(async move {
            let payload = serde_json::from_value(event.payload)?;
            let response =
                crate::schedule::run_job(job, LambdaEvent::new(payload, event.context)).await?;
            Ok(response)
        }) as Pin<Box<_>>
    })
}

/// A function whose event and answer are plain JSON types (a WebSocket route, a Lambda
/// authorizer): the runtime and the local runner call it the same way.
pub trait EventHandler: Send + Sync + 'static {
    const NAME: &'static str;
    type Request: serde::de::DeserializeOwned + Send;
    type Response: serde::Serialize;
    fn handle(
        &self,
        request: Self::Request,
        context: lambda_runtime::Context,
    ) -> impl std::future::Future<Output = Result<Self::Response, BoxError>> + Send;
}

/// What a WebSocket route answers API Gateway: a status (non-2xx on `$connect` refuses the
/// connection) and, on a two-way route, the body sent back to the client.
pub fn route_answer(
    status: i64,
    body: Option<String>,
) -> aws_lambda_events::apigw::ApiGatewayProxyResponse {
    let mut answer = aws_lambda_events::apigw::ApiGatewayProxyResponse::default();
    answer.status_code = status;
    answer.body = body.map(aws_lambda_events::encodings::Body::Text);
    answer
}

async fn handle_event<H: EventHandler>(
    handler: Arc<H>,
    event: LambdaEvent<Value>,
) -> Result<Value, BoxError> {
    let request: H::Request = serde_json::from_value(event.payload).map_err(|e| {
        tracing::error!(function = H::NAME, error = %e, "event is not the shape this function takes");
        e
    })?;
    let response = handler.handle(request, event.context).await?;
    Ok(serde_json::to_value(response)?)
}

pub async fn run_event<H: EventHandler>(handler: H) -> Result<(), BoxError> {
    let handler = Arc::new(handler);
    lambda_runtime::run(service_fn(move |event| {
        handle_event(handler.clone(), event)
    }))
    .await
}

pub fn json_event<H: EventHandler>(handler: H) -> JsonFunction {
    let handler = Arc::new(handler);
    Arc::new(move |event: LambdaEvent<Value>| {
        Box::pin(handle_event(handler.clone(), event)) as Pin<Box<_>>
    })
}

/// The context Lambda would pass: a fresh request id, the deadline from `timeout`, an ARN
/// and a trace header for `function`.
pub fn local_context(function: &str, timeout: std::time::Duration) -> lambda_runtime::Context {
    let mut ctx = lambda_runtime::Context::default();
    let now_ms = chrono::Utc::now().timestamp_millis().max(0) as u64;
    ctx.request_id = ulid::Ulid::new().to_string().to_lowercase();
    ctx.deadline = now_ms + timeout.as_millis() as u64;
    ctx.invoked_function_arn = format!("arn:aws:lambda:us-east-1:123456789012:function:{function}");
    ctx.xray_trace_id = Some(format!(
        "Root=1-{:08x}-{:024x};Parent={:016x};Sampled=0",
        now_ms / 1000,
        rand_u96(),
        rand_u64()
    ));
    ctx
}

fn rand_u64() -> u64 {
    let id = ulid::Ulid::new();
    (id.random() & u64::MAX as u128) as u64
}

fn rand_u96() -> u128 {
    ulid::Ulid::new().random() & ((1u128 << 96) - 1)
}

/// Invokes `function` with `payload` the way Lambda would, for tests and the local runner.
pub async fn call(function: &JsonFunction, name: &str, payload: Value) -> Result<Value, BoxError> {
    function(LambdaEvent::new(
        payload,
        local_context(name, std::time::Duration::from_secs(30)),
    ))
    .await
}
