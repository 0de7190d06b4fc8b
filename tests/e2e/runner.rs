//! The local runner's own behaviour, on a fixture template (tests/fixtures/) with test
//! functions: the API Gateway event shape and authorizer, CORS, an SQS event source with a
//! poison message, an S3 PUT reaching a consumer through the bucket notification, schedules
//! fired on demand, and a clean shutdown.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use e2e_tests::{Stack, client, eventually, read, repo_root, start_stack};
use futures::future::BoxFuture;
use lambda_runtime::LambdaEvent;
use local_runner::{Factory, Registry};
use platform::invoke::{json_scheduled, json_sqs};
use platform::schedule::ScheduledJob;
use platform::sqs::{MessageContext, SqsConsumer};
use platform::{BoxError, Env};
use serde_json::{Value, json};

/// What the fixture functions saw, shared with the tests.
#[derive(Default)]
struct Seen {
    jobs: Vec<(String, u32)>,
    job_times: Vec<(String, std::time::Instant)>,
    correlation_ids: Vec<(String, String)>,
    uploads: Vec<String>,
    ticks: Vec<Value>,
}

fn seen() -> &'static Mutex<Seen> {
    static SEEN: OnceLock<Mutex<Seen>> = OnceLock::new();
    SEEN.get_or_init(Default::default)
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Failure(String);

/// Retries failed records after 6 s (the queue's visibility timeout is 3 s).
struct Jobs {
    backoff: platform::sqs::Backoff,
}

impl Jobs {
    fn new(env: &Env) -> Jobs {
        let conf = aws_sdk_sqs::Config::builder()
            .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
            .region(aws_sdk_sqs::config::Region::new("us-east-1"))
            .endpoint_url(env.get("AWS_ENDPOINT_URL").expect("moto endpoint"))
            .credentials_provider(aws_sdk_sqs::config::Credentials::new(
                "testing", "testing", None, None, "fixture",
            ))
            .build();
        Jobs {
            backoff: platform::sqs::Backoff::new(
                aws_sdk_sqs::Client::from_conf(conf),
                &[Duration::from_secs(6)],
            ),
        }
    }
}

impl SqsConsumer for Jobs {
    const NAME: &'static str = "fixture-jobs";
    /// The jobs queue carries JSON strings.
    type Message = String;
    type Error = Failure;
    fn backoff(&self) -> Option<&platform::sqs::Backoff> {
        Some(&self.backoff)
    }
    async fn handle(&self, body: &String, ctx: &MessageContext) -> Result<(), Failure> {
        let mut seen = seen().lock().unwrap();
        seen.jobs.push((body.clone(), ctx.receive_count));
        seen.job_times
            .push((body.clone(), std::time::Instant::now()));
        seen.correlation_ids
            .push((body.clone(), ctx.correlation_id.to_string()));
        drop(seen);
        if body.contains("poison") {
            Err(Failure("poison".into()))
        } else {
            Ok(())
        }
    }
}

struct Uploads;
impl SqsConsumer for Uploads {
    const NAME: &'static str = "fixture-uploads";
    type Message = platform::s3::Notification;
    type Error = Failure;
    async fn handle(
        &self,
        notification: &platform::s3::Notification,
        _ctx: &MessageContext,
    ) -> Result<(), Failure> {
        let objects = notification
            .objects_created()
            .map_err(|e| Failure(e.to_string()))?;
        seen()
            .lock()
            .unwrap()
            .uploads
            .extend(objects.into_iter().map(|o| o.key));
        Ok(())
    }
}

struct Tick;
impl ScheduledJob for Tick {
    const NAME: &'static str = "fixture-tick";
    async fn run(&self, event: &EventBridgeEvent<Value>) -> Result<Value, BoxError> {
        seen()
            .lock()
            .unwrap()
            .ticks
            .push(serde_json::to_value(event)?);
        Ok(json!({"ticked": true}))
    }
}

/// A raw function for `Input` payloads, which are not EventBridge events.
fn raw_recorder() -> platform::invoke::JsonFunction {
    Arc::new(|event: LambdaEvent<Value>| {
        Box::pin(async move {
            seen().lock().unwrap().ticks.push(event.payload.clone());
            Ok(json!({"recorded": true}))
        }) as BoxFuture<'static, _>
    })
}

fn factory(f: impl Fn(Env) -> platform::invoke::JsonFunction + Send + Sync + 'static) -> Factory {
    let f = Arc::new(f);
    Arc::new(move |env: Env| {
        let f = f.clone();
        Box::pin(async move { Ok(f(env)) }) as BoxFuture<'static, Result<_, BoxError>>
    })
}

fn fixture_registry() -> Registry {
    let mut r: Registry = HashMap::new();
    r.insert(
        "fixture-echo".into(),
        factory(|env: Env| {
            let vars = json!({
                "FIXTURE": env.get("FIXTURE"),
                "JOBS_QUEUE_URL": env.get("JOBS_QUEUE_URL"),
                "JOBS_QUEUE_ARN": env.get("JOBS_QUEUE_ARN"),
                "AWS_ENDPOINT_URL": env.get("AWS_ENDPOINT_URL"),
            });
            Arc::new(move |event: LambdaEvent<Value>| {
                let vars = vars.clone();
                Box::pin(async move {
                    let body = json!({"event": event.payload, "env": vars, "request_id": event.context.request_id});
                    Ok(json!({"statusCode": 200, "headers": {"content-type": "application/json", "x-correlation-id": "echo"}, "body": body.to_string()}))
                }) as BoxFuture<'static, _>
            })
        }),
    );
    r.insert(
        "fixture-jobs".into(),
        factory(|env| json_sqs(Jobs::new(&env))),
    );
    r.insert("fixture-uploads".into(), factory(|_| json_sqs(Uploads)));
    // Scheduled Event payloads go to the typed job; `Input` payloads to a raw recorder.
    r.insert(
        "fixture-tick".into(),
        factory(|_| {
            let typed = json_scheduled(Tick);
            let raw = raw_recorder();
            Arc::new(move |event: LambdaEvent<Value>| {
                if event.payload.get("detail-type").is_some() {
                    typed(event)
                } else {
                    raw(event)
                }
            })
        }),
    );
    r
}

fn fixture() -> &'static Stack {
    static STACK: OnceLock<Stack> = OnceLock::new();
    STACK.get_or_init(|| {
        start_stack(
            repo_root().join("tests/fixtures/runner-template.yaml"),
            fixture_registry,
        )
    })
}

#[tokio::test]
async fn http_routes_get_the_api_gateway_v2_event() {
    let stack = fixture();
    let token = stack
        .token("auth0|echo", json!({"roles": ["reviewer", "admin"]}))
        .await;
    let (status, _, body) = read(
        client()
            .get(stack.url("/items/abc%20def?x=1&x=2&y=a+b"))
            .bearer_auth(&token)
            .header("cookie", "a=1; b=2")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let event = &body["event"];
    assert_eq!(event["version"], "2.0");
    assert_eq!(event["routeKey"], "GET /items/{id}");
    assert_eq!(event["rawPath"], "/items/abc%20def");
    assert_eq!(event["rawQueryString"], "x=1&x=2&y=a+b");
    assert_eq!(event["pathParameters"]["id"], "abc def");
    assert_eq!(
        event["queryStringParameters"],
        json!({"x": "1,2", "y": "a b"})
    );
    assert_eq!(event["cookies"], json!(["a=1", "b=2"]));
    assert_eq!(event["requestContext"]["http"]["method"], "GET");
    assert_eq!(event["requestContext"]["stage"], "$default");
    let claims = &event["requestContext"]["authorizer"]["jwt"]["claims"];
    assert_eq!(claims["sub"], "auth0|echo");
    assert_eq!(
        claims["roles"], "[reviewer admin]",
        "arrays arrive flattened, as on AWS"
    );
    assert!(claims["exp"].is_string());
    assert!(!body["request_id"].as_str().unwrap().is_empty());

    // The function's environment: globals merged with its own, intrinsics resolved.
    let env = &body["env"];
    assert_eq!(env["FIXTURE"], "yes");
    assert_eq!(env["JOBS_QUEUE_URL"], stack.refs["JobsQueue"].as_str());
    assert_eq!(
        env["JOBS_QUEUE_ARN"],
        "arn:aws:sqs:us-east-1:123456789012:JobsQueue"
    );
    assert_eq!(env["AWS_ENDPOINT_URL"], stack.moto_endpoint.as_str());
}

#[tokio::test]
async fn authorizer_opt_out_cors_and_not_found() {
    let stack = fixture();
    let (status, _, _) = read(client().get(stack.url("/items/1")).send().await.unwrap()).await;
    assert_eq!(status, 401);
    let (status, _, body) = read(
        client()
            .post(stack.url("/public/a/b"))
            .body("raw")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "Auth: NONE routes skip the authorizer");
    assert_eq!(body["event"]["pathParameters"]["proxy"], "a/b");
    assert!(body["event"]["requestContext"].get("authorizer").is_none());
    let (status, _, _) = read(
        client()
            .get(stack.url("/items/1/extra"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _, _) = read(client().post(stack.url("/items/1")).send().await.unwrap()).await;
    assert_eq!(
        status, 404,
        "a path without that method is Not Found, as on API Gateway"
    );

    let preflight = client()
        .request(reqwest::Method::OPTIONS, stack.url("/items/1"))
        .header("origin", "http://app.local")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization,x-evil")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status().as_u16(), 204);
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "http://app.local"
    );
    assert_eq!(
        preflight.headers()["access-control-allow-headers"],
        "authorization"
    );
    let foreign = client()
        .request(reqwest::Method::OPTIONS, stack.url("/items/1"))
        .header("origin", "http://evil.local")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert!(
        !foreign
            .headers()
            .contains_key("access-control-allow-origin")
    );
    let token = stack.token("auth0|cors", json!({})).await;
    let actual = client()
        .get(stack.url("/items/1"))
        .bearer_auth(token)
        .header("origin", "http://app.local")
        .send()
        .await
        .unwrap();
    assert_eq!(
        actual.headers()["access-control-allow-origin"],
        "http://app.local"
    );
    assert_eq!(
        actual.headers()["access-control-expose-headers"],
        "x-correlation-id"
    );
}

#[tokio::test]
async fn one_poison_message_is_retried_alone_then_dead_lettered() {
    let stack = fixture();
    let sqs = stack.aws().await.sqs();
    let tag = ulid::Ulid::new().to_string();
    let bodies = [
        format!("ok-1-{tag}"),
        format!("poison-{tag}"),
        format!("ok-2-{tag}"),
    ];
    let mut batch = sqs.send_message_batch().queue_url(&stack.refs["JobsQueue"]);
    let correlation = platform::correlation::CorrelationId::parse(&format!("corr-{tag}")).unwrap();
    for (i, body) in bodies.iter().enumerate() {
        let mut entry = aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
            .id(format!("e{i}"))
            .message_body(serde_json::to_string(body).unwrap());
        if i == 0 {
            let (name, value) = platform::correlation::sqs_attribute(&correlation);
            entry = entry.message_attributes(name, value);
        }
        batch = batch.entries(entry.build().unwrap());
    }
    batch.send().await.unwrap();

    let dlq = stack.refs["JobsDLQ"].clone();
    let dead = eventually(Duration::from_secs(45), || {
        let sqs = sqs.clone();
        let dlq = dlq.clone();
        let tag = tag.clone();
        async move {
            let out = sqs
                .receive_message()
                .queue_url(&dlq)
                .max_number_of_messages(10)
                .send()
                .await
                .ok()?;
            out.messages
                .unwrap_or_default()
                .into_iter()
                .find_map(|m| m.body.filter(|b| b.contains(&tag)))
        }
    })
    .await
    .expect("the poison message reaches the DLQ");
    assert_eq!(
        serde_json::from_str::<String>(&dead).unwrap(),
        format!("poison-{tag}")
    );

    let seen: Vec<(String, u32)> = seen()
        .lock()
        .unwrap()
        .jobs
        .iter()
        .filter(|(b, _)| b.contains(&tag))
        .cloned()
        .collect();
    let count = |body: &str| seen.iter().filter(|(b, _)| b == body).count();
    assert_eq!(
        count(&bodies[0]),
        1,
        "good messages are not delivered again: {seen:?}"
    );
    assert_eq!(
        count(&bodies[2]),
        1,
        "good messages are not delivered again: {seen:?}"
    );
    let poison_receives: Vec<u32> = seen
        .iter()
        .filter(|(b, _)| b == &bodies[1])
        .map(|(_, n)| *n)
        .collect();
    assert_eq!(
        poison_receives,
        vec![1, 2],
        "retried until maxReceiveCount, then redriven"
    );
    let times: Vec<std::time::Instant> = self::seen()
        .lock()
        .unwrap()
        .job_times
        .iter()
        .filter(|(b, _)| b == &bodies[1])
        .map(|(_, t)| *t)
        .collect();
    let waited = times[1] - times[0];
    assert!(
        waited >= Duration::from_millis(4800),
        "the retry waited the backoff (6 s ± 20%), not the 3 s visibility timeout: {waited:?}"
    );
    let correlated = self::seen()
        .lock()
        .unwrap()
        .correlation_ids
        .iter()
        .find(|(b, _)| b == &bodies[0])
        .cloned();
    assert_eq!(
        correlated.map(|(_, c)| c),
        Some(correlation.to_string()),
        "the correlation id travels with the message"
    );

    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&stack.refs["JobsQueue"])
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap_or_default();
    let visible = attrs
        .get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
        .cloned();
    assert_eq!(visible.as_deref(), Some("0"));
}

#[tokio::test]
async fn an_s3_put_reaches_the_consumer_with_its_key_decoded() {
    let stack = fixture();
    let s3 = stack.aws().await.s3();
    let bucket = &stack.refs["UploadsBucket"];
    let tag = ulid::Ulid::new().to_string();
    let ignored = format!("elsewhere/{tag}.pdf");
    let key = format!("incoming/{tag}/My License (1)+final ü.pdf");
    s3.put_object()
        .bucket(bucket)
        .key(&ignored)
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap();
    s3.put_object()
        .bucket(bucket)
        .key(&key)
        .body(b"%PDF-1.7".to_vec().into())
        .send()
        .await
        .unwrap();
    let got = eventually(Duration::from_secs(20), || {
        let tag = tag.clone();
        async move {
            seen()
                .lock()
                .unwrap()
                .uploads
                .iter()
                .find(|k| k.contains(&tag))
                .cloned()
        }
    })
    .await
    .expect("the notification reaches the consumer");
    assert_eq!(got, key, "keys arrive form-encoded and are decoded back");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !seen().lock().unwrap().uploads.contains(&ignored),
        "the prefix filter holds"
    );
}

#[tokio::test]
async fn schedules_fire_on_demand() {
    let stack = fixture();
    let (status, _, list) = read(
        client()
            .get(stack.url("/_local/schedules"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert!(list[0]["next"].is_string());

    let before = seen().lock().unwrap().ticks.len();
    let (status, _, body) = stack.fire_schedule("TickFunction", "Nightly").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"], json!({"ticked": true}));
    let (status, _, body) = stack.fire_schedule("TickFunction", "Custom").await;
    assert_eq!(status, 200, "{body}");
    let ticks = seen().lock().unwrap().ticks[before..].to_vec();
    assert!(
        ticks
            .iter()
            .any(|t| t["detail-type"] == "Scheduled Event" && t["source"] == "aws.events")
    );
    assert!(
        ticks.iter().any(|t| t == &json!({"job": "sweep"})),
        "Input replaces the payload: {ticks:?}"
    );
    let (status, _, _) = stack.fire_schedule("TickFunction", "Nope").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn shutdown_stops_everything_it_started() {
    let mut opts = local_runner::StackOptions::new(
        repo_root().join("tests/fixtures/runner-template.yaml"),
        fixture_registry(),
    );
    opts.run_schedules = false;
    let stack = local_runner::LocalStack::start(opts)
        .await
        .expect("stack starts");
    let pid = stack.moto_pid().expect("this stack started its own moto") as i32;
    let base = stack.base_url.clone();
    // SAFETY: signal 0 only checks that the process exists.
    assert_eq!(unsafe { libc::kill(pid, 0) }, 0);
    stack.shutdown().await;
    let gone = eventually(Duration::from_secs(5), || async move {
        (unsafe { libc::kill(pid, 0) } != 0).then_some(())
    })
    .await;
    assert!(gone.is_some(), "moto {pid} still running after shutdown");
    assert!(
        client()
            .get(format!("{base}/_local/health"))
            .send()
            .await
            .is_err(),
        "the API is closed"
    );
}
