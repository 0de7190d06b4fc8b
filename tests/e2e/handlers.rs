//! Every function called directly through its real handler with its sample event from
//! `events/` (the payloads API Gateway and EventBridge send), built exactly as its main.rs
//! builds it, against the local stack's resources.

use e2e_tests::{product, registration, repo_root};
use lambda_runtime::LambdaEvent;
use serde_json::{Value, json};

const SAMPLE_ID: &str = "ctr_01jd0000000000000000000000";

async fn invoke(binary: &str, event: Value) -> Result<Value, platform::BoxError> {
    let stack = product();
    let env = stack
        .function_envs
        .get(binary)
        .unwrap_or_else(|| panic!("{binary} is not in the template"))
        .clone();
    let factory = local_runner::product_registry()
        .remove(binary)
        .expect("registered");
    let handler = factory(platform::Env::from_map(env))
        .await
        .expect("cold start");
    handler(LambdaEvent::new(
        event,
        platform::invoke::local_context(binary, std::time::Duration::from_secs(10)),
    ))
    .await
}

fn sample(name: &str, id: &str, sub: &str) -> Value {
    let text = std::fs::read_to_string(repo_root().join("events").join(name))
        .unwrap()
        .replace(SAMPLE_ID, id);
    let mut event: Value = serde_json::from_str(&text).unwrap();
    if let Some(claims) = event.pointer_mut("/requestContext/authorizer/jwt/claims") {
        claims["sub"] = json!(sub);
    }
    event
}

#[tokio::test]
async fn every_function_answers_its_sample_event() {
    let stack = product();
    let sub = format!(
        "auth0|samples-{}",
        ulid::Ulid::new().to_string().to_lowercase()
    );
    let token = stack.token(&sub, json!({})).await;
    let (status, _, created) = stack
        .post_as(&token, "/v1/contractors", &registration("samples"))
        .await;
    assert_eq!(status, 201);
    let id = created["id"].as_str().unwrap();

    let mut submit = sample("http-api-contractors-submit.json", id, &sub);
    submit["headers"]["if-match"] = json!("\"2\"");
    let cases = [
        (
            "contractors-get",
            sample("http-api-contractors-get.json", id, &sub),
            200,
            None,
        ),
        (
            "contractors-save-step",
            sample("http-api-contractors-save-step.json", id, &sub),
            200,
            None,
        ),
        (
            "contractors-submit",
            submit,
            409,
            Some("requirements_incomplete"),
        ),
        (
            "contractors-audit",
            sample("http-api-contractors-audit.json", id, &sub),
            200,
            None,
        ),
        (
            "contractors-list",
            sample("http-api-contractors-list.json", id, &sub),
            200,
            None,
        ),
        (
            "api-docs",
            sample("http-api-api-docs.json", id, &sub),
            200,
            None,
        ),
        // A path the API has, with a method it does not take.
        (
            "api-fallback",
            sample("http-api-api-fallback.json", id, &sub),
            405,
            Some("method_not_allowed"),
        ),
        (
            "contractors-register",
            sample("http-api-contractors-register.json", id, &sub),
            409,
            Some("contractor_already_registered"),
        ),
        (
            "documents-upload-intent",
            sample("http-api-documents-upload-intent.json", id, &sub),
            201,
            None,
        ),
        (
            "documents-list",
            sample("http-api-documents-list.json", id, &sub),
            200,
            None,
        ),
        (
            "documents-get",
            sample("http-api-documents-get.json", id, &sub),
            404,
            Some("not_found"),
        ),
        // A signature made with the wrong secret: refused, nothing recorded.
        (
            "webhooks-receive",
            sample("http-api-webhooks-receive.json", id, &sub),
            401,
            None,
        ),
        // A contractor is not a reviewer.
        (
            "contractors-reject",
            sample("http-api-contractors-reject.json", id, &sub),
            403,
            None,
        ),
        (
            "reviews-claim",
            sample("http-api-reviews-claim.json", id, &sub),
            403,
            None,
        ),
        (
            "bank-link-token",
            sample("http-api-bank-link-token.json", id, &sub),
            201,
            None,
        ),
        // The sample's public token was never issued by the (sandbox) Plaid.
        (
            "bank-exchange",
            sample("http-api-bank-exchange.json", id, &sub),
            422,
            Some("provider_refused"),
        ),
    ];
    for (binary, event, status, code) in cases {
        let answer = invoke(binary, event)
            .await
            .unwrap_or_else(|e| panic!("{binary}: {e}"));
        assert_eq!(answer["statusCode"], status, "{binary}: {answer}");
        let body: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
        if let Some(code) = code {
            assert_eq!(body["code"], code, "{binary}");
        }
    }

    let relay = invoke(
        "events-relay",
        serde_json::from_str(
            &std::fs::read_to_string(repo_root().join("events/schedule-events-relay.json"))
                .unwrap(),
        )
        .unwrap(),
    )
    .await
    .expect("the relay runs");
    assert!(relay["published"].is_u64());

    // The pipeline's consumers and sweeper with their sample events: a notification and an
    // event for a document that does not exist are acknowledged (nothing to do), not retried.
    for (binary, file) in [
        ("documents-scan", "sqs-documents-scan.json"),
        ("documents-extract", "sqs-documents-extract.json"),
        ("verification-insurance", "sqs-verification-insurance.json"),
        ("verification-license", "sqs-verification-license.json"),
        ("verification-standing", "sqs-verification-standing.json"),
    ] {
        let answer = invoke(binary, sample(file, id, &sub))
            .await
            .unwrap_or_else(|e| panic!("{binary}: {e}"));
        assert_eq!(answer, json!({"batchItemFailures": []}), "{binary}");
    }
    let swept = invoke(
        "documents-sweeper",
        sample("schedule-documents-sweeper.json", id, &sub),
    )
    .await
    .expect("the sweeper runs");
    assert!(swept["expired"].is_u64(), "{swept}");
    let rechecked = invoke(
        "verification-recheck",
        sample("schedule-verification-recheck.json", id, &sub),
    )
    .await
    .expect("the re-check runs");
    assert!(rechecked["lapsed"].is_u64(), "{rechecked}");
    // Its tick is days ago: no draft of this run is 180 days old, so nothing is erased.
    let retained = invoke(
        "privacy-retention",
        sample("schedule-privacy-retention.json", id, &sub),
    )
    .await
    .expect("the retention job runs");
    assert_eq!(retained["drafts_erased"], 0, "{retained}");
}

/// The realtime and engagement functions with their sample events: the HTTP routes, the
/// `$connect` authorizer with a forged and a real ticket, `$connect`/`$default`/
/// `$disconnect` with the authorizer's context, and the two consumers.
#[tokio::test]
async fn realtime_functions_answer_their_sample_events() {
    let stack = product();
    let sub = format!(
        "auth0|samples-live-{}",
        ulid::Ulid::new().to_string().to_lowercase()
    );
    let token = stack.token(&sub, json!({})).await;
    let (status, _, created) = stack
        .post_as(&token, "/v1/contractors", &registration("samples-live"))
        .await;
    assert_eq!(status, 201);
    let id = created["id"].as_str().unwrap();
    let body = |answer: &Value| -> Value {
        serde_json::from_str(answer["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null)
    };

    let ticket = invoke(
        "realtime-tickets",
        sample("http-api-realtime-tickets.json", id, &sub),
    )
    .await
    .unwrap();
    assert_eq!(ticket["statusCode"], 201, "{ticket}");
    let secret = body(&ticket)["ticket"].as_str().unwrap().to_owned();
    for (binary, file) in [
        ("engagement-activity", "http-api-engagement-activity.json"),
        (
            "engagement-achievements",
            "http-api-engagement-achievements.json",
        ),
    ] {
        let answer = invoke(binary, sample(file, id, &sub)).await.unwrap();
        assert_eq!(answer["statusCode"], 200, "{binary}: {answer}");
    }
    let achievements = invoke(
        "engagement-achievements",
        sample("http-api-engagement-achievements.json", id, &sub),
    )
    .await
    .unwrap();
    assert_eq!(body(&achievements)["language"], "es");

    // The sample's ticket was never issued: API Gateway hears `Unauthorized` (401).
    let forged = invoke(
        "realtime-authorize",
        sample("websocket-realtime-authorize.json", id, &sub),
    )
    .await
    .unwrap_err();
    assert_eq!(forged.to_string(), "Unauthorized");
    let mut real = sample("websocket-realtime-authorize.json", id, &sub);
    real["queryStringParameters"]["ticket"] = json!(secret);
    real["multiValueQueryStringParameters"]["ticket"] = json!([secret]);
    let policy = invoke("realtime-authorize", real.clone()).await.unwrap();
    assert_eq!(policy["principalId"], sub.as_str());
    assert_eq!(policy["policyDocument"]["Statement"][0]["Effect"], "Allow");
    assert_eq!(
        policy["policyDocument"]["Statement"][0]["Resource"][0],
        real["methodArn"]
    );
    assert_eq!(policy["context"]["audience"], format!("contractor#{id}"));
    assert_eq!(
        invoke("realtime-authorize", real)
            .await
            .unwrap_err()
            .to_string(),
        "Unauthorized",
        "a ticket works once"
    );

    let mut connect = sample("websocket-realtime-connect.json", id, &sub);
    let connection = format!("Sm{}=", &ulid::Ulid::new().to_string()[..13]);
    connect["requestContext"]["connectionId"] = json!(connection);
    connect["requestContext"]["authorizer"]["subject"] = json!(sub);
    let answer = invoke("realtime-connect", connect.clone()).await.unwrap();
    assert_eq!(answer["statusCode"], 200, "{answer}");
    assert!(
        stack
            .table_item(&format!("CONN#{connection}"), "CONN")
            .await
            .is_some()
    );
    // Without the authorizer's context (no authorizer in front): refused.
    let mut bare = connect.clone();
    bare["requestContext"]
        .as_object_mut()
        .unwrap()
        .remove("authorizer");
    let answer = invoke("realtime-connect", bare).await.unwrap();
    assert_eq!(answer["statusCode"], 403);

    let pong = invoke(
        "realtime-default",
        sample("websocket-realtime-default.json", id, &sub),
    )
    .await
    .unwrap();
    assert_eq!(body(&pong)["type"], "pong");
    let mut disconnect = sample("websocket-realtime-disconnect.json", id, &sub);
    disconnect["requestContext"]["connectionId"] = json!(connection);
    let answer = invoke("realtime-disconnect", disconnect).await.unwrap();
    assert_eq!(answer["statusCode"], 200);
    assert!(
        stack
            .table_item(&format!("CONN#{connection}"), "CONN")
            .await
            .is_none()
    );

    for (binary, file) in [
        ("realtime-push", "sqs-realtime-push.json"),
        ("engagement-badges", "sqs-engagement-badges.json"),
    ] {
        let answer = invoke(binary, sample(file, id, &sub))
            .await
            .unwrap_or_else(|e| panic!("{binary}: {e}"));
        assert_eq!(answer, json!({"batchItemFailures": []}), "{binary}");
    }
}

/// `sample` with the placeholder export or erasure id replaced too.
fn sample_for(name: &str, id: &str, sub: &str, placeholder: &str, real: &str) -> Value {
    let text = sample(name, id, sub).to_string().replace(placeholder, real);
    serde_json::from_str(&text).unwrap()
}

/// The privacy functions with their sample events, in the order a person meets them: ask
/// for an export, the worker builds it, read it with its link; ask for erasure (an owner
/// who just signed in), the worker erases, read the request done.
#[tokio::test]
async fn privacy_functions_answer_their_sample_events() {
    let stack = product();
    let sub = format!(
        "auth0|samples-privacy-{}",
        ulid::Ulid::new().to_string().to_lowercase()
    );
    let token = stack.token(&sub, json!({})).await;
    let (status, _, created) = stack
        .post_as(&token, "/v1/contractors", &registration("samples-privacy"))
        .await;
    assert_eq!(status, 201);
    let id = created["id"].as_str().unwrap();
    let body = |answer: &Value| -> Value {
        serde_json::from_str(answer["body"].as_str().unwrap()).unwrap()
    };

    let asked = invoke(
        "privacy-export-request",
        sample("http-api-privacy-export-request.json", id, &sub),
    )
    .await
    .unwrap();
    assert_eq!(asked["statusCode"], 202, "{asked}");
    let export = body(&asked)["id"].as_str().unwrap().to_owned();
    let placeholder = "exp_01jd0000000000000000000002";
    let built = invoke(
        "privacy-export",
        sample_for("sqs-privacy-export.json", id, &sub, placeholder, &export),
    )
    .await
    .unwrap();
    assert_eq!(built, json!({"batchItemFailures": []}));
    let read = invoke(
        "privacy-export-status",
        sample_for(
            "http-api-privacy-export-status.json",
            id,
            &sub,
            placeholder,
            &export,
        ),
    )
    .await
    .unwrap();
    assert_eq!(read["statusCode"], 200, "{read}");
    assert_eq!(body(&read)["status"], "ready");
    assert!(body(&read)["download"]["url"].is_string());
    // Someone else's export is not found, as an unknown one is.
    let other = invoke(
        "privacy-export-status",
        sample("http-api-privacy-export-status.json", id, &sub),
    )
    .await
    .unwrap();
    assert_eq!(other["statusCode"], 404, "{other}");

    let mut erase = sample("http-api-privacy-erasure-request.json", id, &sub);
    erase["requestContext"]["authorizer"]["jwt"]["claims"]["auth_time"] =
        json!(chrono::Utc::now().timestamp().to_string());
    let asked = invoke("privacy-erasure-request", erase).await.unwrap();
    assert_eq!(asked["statusCode"], 202, "{asked}");
    let erasure = body(&asked)["id"].as_str().unwrap().to_owned();
    let placeholder = "era_01jd0000000000000000000003";
    let erased = invoke(
        "privacy-erasure",
        sample_for("sqs-privacy-erasure.json", id, &sub, placeholder, &erasure),
    )
    .await
    .unwrap();
    assert_eq!(erased, json!({"batchItemFailures": []}));
    let read = invoke(
        "privacy-erasure-status",
        sample_for(
            "http-api-privacy-erasure-status.json",
            id,
            &sub,
            placeholder,
            &erasure,
        ),
    )
    .await
    .unwrap();
    assert_eq!(read["statusCode"], 200, "{read}");
    assert_eq!(body(&read)["status"], "done", "{read}");
    // Asked again after the erasure: the account is gone.
    let stale = invoke(
        "privacy-erasure-request",
        sample("http-api-privacy-erasure-request.json", id, &sub),
    )
    .await
    .unwrap();
    assert_eq!(stale["statusCode"], 404, "the account is gone: {stale}");
}

/// Nothing at init that can wait: every function starts with AWS out of reach (its
/// endpoint a closed port), so a cold start makes no call (provider secrets are read on
/// first use, `platform::secrets`), and the first invocation pays only for what it uses.
#[tokio::test]
async fn every_function_starts_without_calling_aws() {
    let stack = product();
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut registry = local_runner::product_registry();
    let mut names: Vec<String> = stack.function_envs.keys().cloned().collect();
    names.sort();
    let mut started = 0;
    for name in names {
        let Some(factory) = registry.remove(&name) else {
            continue;
        };
        let mut env = stack.function_envs[&name].clone();
        env.insert(
            "AWS_ENDPOINT_URL".into(),
            format!("http://127.0.0.1:{closed}"),
        );
        let began = std::time::Instant::now();
        let built = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            factory(platform::Env::from_map(env)),
        )
        .await
        .unwrap_or_else(|_| panic!("{name} waited at init"));
        assert!(
            built.is_ok(),
            "{name} could not start without AWS: {:?}",
            built.err()
        );
        assert!(
            began.elapsed() < std::time::Duration::from_secs(2),
            "{name} took {:?} to start",
            began.elapsed()
        );
        started += 1;
    }
    assert!(started >= 40, "only {started} functions started");
}
