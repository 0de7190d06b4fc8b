//! Separation of duties and the caller's identity, probed as an attacker would (issue 17):
//! registration needs the contractor role; staff never claim, decide or reject anything on
//! an account they own (and the refusal is audited); one role value never becomes several;
//! idempotency records of different subjects never meet; subjects are taken as sent.

use e2e_tests::{client, product, read, registration};
use serde_json::{Value, json};

fn unique(tag: &str) -> String {
    format!(
        "auth0|{tag}-{}",
        ulid::Ulid::new().to_string().to_lowercase()
    )
}

async fn register(token: &str, tag: &str, key: Option<&str>) -> (u16, Value) {
    let mut req = client()
        .post(product().url("/v1/contractors"))
        .bearer_auth(token)
        .json(&registration(tag));
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    let (status, _, body) = read(req.send().await.unwrap()).await;
    (status, body)
}

#[tokio::test]
async fn registration_needs_the_contractor_role() {
    let stack = product();
    let reviewer = stack
        .token(&unique("rev-only"), json!({"roles": ["reviewer"]}))
        .await;
    let (status, body) = register(&reviewer, "rev-only", None).await;
    assert_eq!(status, 403, "{body}");
    let none = stack.token(&unique("no-roles"), json!({"roles": []})).await;
    assert_eq!(register(&none, "no-roles", None).await.0, 403);
}

#[tokio::test]
async fn staff_never_review_their_own_account_and_the_refusal_is_audited() {
    let stack = product();
    let both = stack
        .token(
            &unique("rev-owner"),
            json!({"roles": ["contractor", "reviewer"]}),
        )
        .await;
    let (status, body) = register(&both, "rev-owner", None).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap();
    for (action, path, payload) in [
        (
            "claim",
            format!("/v1/contractors/{id}/requirements/insurance/claim"),
            json!({}),
        ),
        (
            "decide",
            format!("/v1/contractors/{id}/requirements/insurance/decision"),
            json!({"decision": "approve", "reason": "looks fine"}),
        ),
    ] {
        let (status, _, problem) = stack.post_as(&both, &path, &payload).await;
        assert_eq!(status, 403, "{action}: {problem}");
    }
    let (status, _, current) = stack.get_as(&both, &format!("/v1/contractors/{id}")).await;
    assert_eq!(status, 200);
    let version = current["version"].as_u64().unwrap();
    let (status, _, problem) = read(
        client()
            .post(stack.url(&format!("/v1/contractors/{id}/reject")))
            .bearer_auth(&both)
            .header("if-match", format!("\"{version}\""))
            .json(&json!({"reason": "closing my own account"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 403, "{problem}");
    let (status, _, audit) = stack
        .get_as(&both, &format!("/v1/contractors/{id}/audit"))
        .await;
    assert_eq!(status, 200, "{audit}");
    let refused: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "review.refused")
        .map(|e| e["summary"]["action"].as_str().unwrap())
        .collect();
    assert_eq!(refused, ["claim", "decide", "reject"], "{audit}");
}

#[tokio::test]
async fn one_role_value_never_becomes_several() {
    let stack = product();
    for roles in [
        json!(["contractor reviewer"]),
        json!(["[reviewer]"]),
        json!(["contractor,reviewer"]),
        json!(["Reviewer"]),
    ] {
        let token = stack.token(&unique("roles"), json!({"roles": roles})).await;
        let (status, _, body) = stack.get_as(&token, "/v1/reviews").await;
        assert_eq!(status, 403, "{roles}: {body}");
    }
    let reviewer = stack
        .token(&unique("roles"), json!({"roles": ["reviewer"]}))
        .await;
    assert_eq!(stack.get_as(&reviewer, "/v1/reviews").await.0, 200);
}

#[tokio::test]
async fn idempotency_records_of_different_subjects_never_meet() {
    let stack = product();
    let base = unique("idem");
    // Subject `B#x` with key `k1`, and subject `B` with key `x#k1`: once `B#x#k1` both.
    let first = stack.token(&format!("{base}#x"), json!({})).await;
    let second = stack.token(&base, json!({})).await;
    let (s1, a) = register(&first, "idem-a", Some("k1")).await;
    let (s2, b) = register(&second, "idem-b", Some("x#k1")).await;
    assert_eq!((s1, s2), (201, 201), "{a} {b}");
    assert_ne!(
        a["id"], b["id"],
        "the second subject gets its own contractor"
    );
}

#[tokio::test]
async fn a_subject_with_surrounding_spaces_is_refused_not_trimmed() {
    let stack = product();
    let sub = unique("spaced");
    let spaced = stack.token(&format!(" {sub}"), json!({})).await;
    let (status, _, body) = stack.get_as(&spaced, "/v1/contractors/me").await;
    assert_eq!(status, 401, "{body}");
}

#[tokio::test]
async fn answers_are_never_cached_or_sniffed_and_errors_repeat_little() {
    let stack = product();
    let (token, id, _) = e2e_tests::registered_contractor("headers").await;
    let resp = client()
        .get(stack.url(&format!("/v1/contractors/{id}")))
        .bearer_auth(&token)
        .header("origin", "http://localhost:5173")
        .send()
        .await
        .unwrap();
    let h = resp.headers().clone();
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(
        h.get_all("vary").iter().any(|v| v
            .to_str()
            .unwrap()
            .to_ascii_lowercase()
            .contains("origin")),
        "{h:?}"
    );
    // A problem answer carries them too, and a 50 KB If-Match is not echoed back.
    let huge = format!("\"{}\"", "9".repeat(50_000));
    let resp = client()
        .patch(stack.url(&format!("/v1/contractors/{id}/progress")))
        .bearer_auth(&token)
        .header("if-match", huge)
        .json(&json!({"step": "license", "data": {"state": "TX"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 412);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body = resp.text().await.unwrap();
    assert!(
        body.len() < 1024,
        "the problem repeats at most a few characters: {} bytes",
        body.len()
    );
}

#[tokio::test]
async fn a_made_up_list_cursor_is_a_field_error_not_a_server_error() {
    use base64::Engine;
    let stack = product();
    let reviewer = stack
        .token(&unique("cursor"), json!({"roles": ["reviewer"]}))
        .await;
    let enc = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    for cursor in [
        enc(json!({})),
        enc(json!({"pk": "CONTRACTOR#x"})),
        enc(json!({"pk": "a", "sk": "b", "gsi1pk": "STATUS#approved", "gsi1sk": "c"})),
    ] {
        let (status, _, body) = stack
            .get_as(
                &reviewer,
                &format!("/v1/contractors?status=under_review&cursor={cursor}"),
            )
            .await;
        assert_eq!(status, 422, "{cursor}: {body}");
        assert_eq!(body["errors"][0]["field"], "cursor");
    }
}
