//! The OpenAPI document against the running API and the template: every route is described
//! and nothing else is, the served document is the committed one, and the schemas name the
//! fields the code really returns.

use std::collections::BTreeSet;

use e2e_tests::{client, product, read, registration, repo_root};
use local_runner::template::Template;
use serde_json::{Value, json};

fn committed() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("openapi/openapi.json")).unwrap(),
    )
    .unwrap()
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn every_template_route_is_described_and_nothing_else() {
    let doc = committed();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut described = BTreeSet::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            described.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    let t = Template::load(&repo_root().join("template.yaml")).unwrap();
    let mut routes = BTreeSet::new();
    let mut public = BTreeSet::new();
    let mut default_routes = 0;
    for f in t.of_kind("AWS::Serverless::Function") {
        for (_, e) in f
            .properties
            .get("Events")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
        {
            // `ANY /{proxy+}` answers what no route takes (405 or 404); it is not an
            // operation of the API.
            if e["Type"] == "HttpApi" && e["Properties"]["Path"] == "/{proxy+}" {
                assert_eq!(e["Properties"]["Method"], "ANY");
                default_routes += 1;
                continue;
            }
            if e["Type"] == "HttpApi" {
                let route = format!(
                    "{} {}",
                    e["Properties"]["Method"].as_str().unwrap(),
                    e["Properties"]["Path"].as_str().unwrap()
                );
                if e.pointer("/Properties/Auth/Authorizer") == Some(&json!("NONE")) {
                    public.insert(route.clone());
                }
                routes.insert(route);
            }
        }
    }
    assert_eq!(default_routes, 1, "one catch-all route answers 404 and 405");
    assert_eq!(described, routes);
    for route in &routes {
        let (method, path) = route.split_once(' ').unwrap();
        let op = &doc["paths"][path][method.to_lowercase()];
        let open = op.get("security") == Some(&json!([]));
        assert_eq!(
            open,
            public.contains(route),
            "{route}: security in the document matches the authorizer"
        );
    }
}

#[tokio::test]
async fn the_served_document_is_the_committed_one_and_matches_real_responses() {
    let stack = product();
    let (status, _, served) = read(
        client()
            .get(stack.url("/v1/openapi.json"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "public, no token");
    assert_eq!(served, committed());

    let token = stack
        .token(&format!("auth0|openapi-{}", ulid::Ulid::new()), json!({}))
        .await;
    let (_, _, contractor) = stack
        .post_as(&token, "/v1/contractors", &registration("openapi"))
        .await;
    let schema = &served["components"]["schemas"];
    assert_eq!(
        keys(&contractor),
        keys(&schema["Contractor"]["properties"]),
        "Contractor schema names the fields returned"
    );
    assert_eq!(
        keys(&contractor["requirements"]),
        keys(&schema["Requirements"]["properties"])
    );
    assert_eq!(
        keys(&contractor["steps"]),
        keys(&schema["Contractor"]["properties"]["steps"]["properties"])
    );

    let (_, _, problem) = stack.post_as(&token, "/v1/contractors", &json!({})).await;
    let problem_fields = keys(&schema["Problem"]["properties"]);
    assert!(keys(&problem).is_subset(&problem_fields), "{problem}");
    assert_eq!(
        keys(&problem["errors"][0]),
        keys(&schema["FieldError"]["properties"])
    );

    let id = contractor["id"].as_str().unwrap();
    let (_, _, audit) = stack
        .get_as(&token, &format!("/v1/contractors/{id}/audit"))
        .await;
    assert_eq!(keys(&audit), keys(&schema["AuditTrail"]["properties"]));
    assert_eq!(
        keys(&audit["data"][0]),
        keys(&schema["AuditEntry"]["properties"])
    );
}

/// Every enum the documents list is the code's own list, so they can't drift apart again:
/// document statuses, extraction problem codes, the W-9 tax classes (in docs/api.md).
#[test]
fn documented_enums_match_the_code() {
    let doc = committed();
    let schemas = &doc["components"]["schemas"];
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap_or_else(|| panic!("an enum: {v}"))
            .iter()
            .map(|s| s.as_str().unwrap().to_owned())
            .collect()
    };
    let statuses: Vec<String> = domain::documents::DocumentStatus::ALL
        .iter()
        .map(|s| s.as_str().to_owned())
        .collect();
    for schema in ["Document", "DocumentWithUpload"] {
        assert_eq!(
            strings(&schemas[schema]["properties"]["status"]["enum"]),
            statuses,
            "{schema}.status"
        );
    }
    assert_eq!(
        strings(
            &schemas["Document"]["properties"]["extraction"]["properties"]["problems"]["items"]["properties"]
                ["code"]["enum"]
        ),
        reading::fields::PROBLEM_CODES.map(str::to_owned).to_vec(),
    );
    let verification: Vec<String> = domain::banking::AccountVerification::ALL
        .iter()
        .map(|v| {
            serde_json::to_value(v)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        strings(
            &doc["paths"]["/v1/contractors/{id}/bank/exchange"]["post"]["responses"]["200"]["content"]
                ["application/json"]["schema"]["properties"]["account"]["properties"]["verification"]
                ["enum"]
        ),
        verification,
        "bank account verification"
    );
    let api_md = std::fs::read_to_string(repo_root().join("docs/api.md")).unwrap();
    let listed = domain::steps::TAX_CLASSIFICATIONS
        .iter()
        .map(|c| format!("`{c}`"))
        .collect::<Vec<_>>()
        .join(", ");
    assert!(
        api_md.contains(&format!("tax_classification* ({listed})")),
        "docs/api.md lists the tax classes: {listed}"
    );
    assert!(api_md.contains("verification {valid, entries, broken_at?, reason?}"));
}

/// A request without a valid token is refused by API Gateway's authorizer before any
/// function runs, in its own shape; every secured operation documents exactly that.
#[tokio::test]
async fn the_authorizers_refusal_is_documented_on_every_secured_operation() {
    let doc = committed();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            if op.get("security") == Some(&json!([])) {
                continue;
            }
            let r = &op["responses"]["401"];
            let content = match r.get("$ref").and_then(Value::as_str) {
                Some(reference) => {
                    let name = reference.rsplit('/').next().unwrap();
                    doc["components"]["responses"][name]["content"].clone()
                }
                None => r["content"].clone(),
            };
            assert!(
                content.get("application/json").is_some(),
                "{method} {path}: the authorizer's 401 is not documented"
            );
        }
    }
    let stack = product();
    let response = client()
        .get(stack.url("/v1/contractors/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({"message": "Unauthorized"}));
}

/// What no route takes: a path the API has, with another method, is 405 and says which
/// methods it takes (RFC 9110 §15.5.6); a path it does not have is a 404 problem. Neither
/// needs a token: the catch-all route has no authorizer.
#[tokio::test]
async fn unrouted_requests_get_405_with_allow_or_a_404_problem() {
    let stack = product();
    for (method, path, allow) in [
        ("TRACE", "/v1/contractors/me", "GET"),
        ("DELETE", "/v1/contractors", "GET, POST"),
        (
            "PUT",
            "/v1/contractors/ctr_01jd0000000000000000000000/progress",
            "PATCH",
        ),
    ] {
        let resp = client()
            .request(method.parse().unwrap(), stack.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 405, "{method} {path}");
        assert_eq!(resp.headers()["allow"], allow, "{method} {path}");
        assert_eq!(
            resp.headers()["content-type"],
            "application/problem+json",
            "{method} {path}"
        );
        let (_, _, body) = read(resp).await;
        assert_eq!(body["code"], "method_not_allowed");
    }
    let (status, headers, body) =
        read(client().get(stack.url("/v1/nowhere")).send().await.unwrap()).await;
    assert_eq!(status, 404);
    assert_eq!(headers["content-type"], "application/problem+json");
    assert_eq!(body["code"], "not_found");
}

/// If-Match as RFC 9110 reads it: `*` names no version (428), a value that is not an
/// entity tag is malformed (400), and an entity tag that cannot be ours is a failed
/// precondition, but only for a contractor that exists (404 comes first).
#[tokio::test]
async fn if_match_is_read_as_an_entity_tag() {
    let stack = product();
    let token = stack
        .token(&format!("auth0|ifmatch-{}", ulid::Ulid::new()), json!({}))
        .await;
    let (status, _, contractor) = stack
        .post_as(&token, "/v1/contractors", &registration("ifmatch"))
        .await;
    assert_eq!(status, 201);
    let id = contractor["id"].as_str().unwrap();
    let submit = |id: String, if_match: &'static str| {
        let token = token.clone();
        async move {
            client()
                .post(product().url(&format!("/v1/contractors/{id}/submit")))
                .bearer_auth(token)
                .header("if-match", if_match)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(submit(id.to_owned(), "*").await, 428);
    assert_eq!(submit(id.to_owned(), "1").await, 400);
    assert_eq!(submit(id.to_owned(), "\"abc\"").await, 412);
    assert_eq!(
        submit("ctr_00000000000000000000000000".into(), "\"abc\"").await,
        404
    );
}
