//! What a newcomer needs to find without reading logs (issue 17): where every sandbox
//! listens and how to drive it, from `/_local/health`.

use e2e_tests::{client, product};
use serde_json::Value;

/// What `/_local/health` says.
async fn health() -> Value {
    e2e_tests::get_json(&product().url("/_local/health")).await
}

#[tokio::test]
async fn health_lists_every_sandbox_with_its_address_and_how_to_drive_it() {
    let health = health().await;
    let sandboxes = health["sandboxes"].as_object().expect("sandboxes");
    for name in ["clamd", "plaid", "insurance_verifier", "license_registries"] {
        assert!(sandboxes.contains_key(name), "{name} is listed: {health}");
    }
    let plaid = &sandboxes["plaid"];
    assert_eq!(plaid["credentials"]["client_id"], "local-plaid-client");
    assert!(
        plaid["public_token"]
            .as_str()
            .unwrap()
            .contains("/sandbox/public_token/create")
    );
    // The addresses are live: the registry sandbox answers its lookup counter.
    let registries = sandboxes["license_registries"]["url"].as_str().unwrap();
    let lookups = client()
        .get(format!("{registries}/sandbox/lookups"))
        .send()
        .await
        .unwrap();
    assert_eq!(lookups.status(), 200);
    assert!(
        sandboxes["license_registries"]["records"]
            .as_str()
            .unwrap()
            .contains("\"status\": \"active\" | \"inactive\"")
    );
}

/// The README's walkthrough, exactly: `scripts/walkthrough.sh` against the running stack
/// takes a new contractor from a token to `approved`, sandboxes included. Runs inside the
/// insurance provider's sequence (verification.rs), which shares its circuit breaker.
pub async fn the_readme_walkthrough_reaches_approved() {
    let stack = product();
    let base = stack.url("");
    let out = tokio::process::Command::new("bash")
        .arg(e2e_tests::repo_root().join("scripts/walkthrough.sh"))
        .arg(base.trim_end_matches('/'))
        .output()
        .await
        .expect("run the walkthrough");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the walkthrough failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("status: approved"), "{stdout}");
    assert!(stdout.contains("PUT 200"), "{stdout}");
}

/// The Plaid sandbox refuses what Plaid refuses (issue 19): a link token without the
/// fields Plaid's definition requires, an unknown product or country, an empty public-token
/// request, a call without `Plaid-Version`; with Plaid's error shape.
#[tokio::test]
async fn the_plaid_sandbox_refuses_what_plaid_refuses() {
    let health = health().await;
    let plaid = health["sandboxes"]["plaid"]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let keys =
        serde_json::json!({"client_id": "local-plaid-client", "secret": "local-plaid-secret"});
    let with = |extra: Value| {
        let mut body = keys.clone();
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    let good = with(
        serde_json::json!({"client_name": "Holiday Lights", "language": "en", "country_codes": ["US"], "user": {"client_user_id": "u1"}, "products": ["auth"]}),
    );
    let call = |path: &str, body: Value, version: bool| {
        let mut req = client().post(format!("{plaid}{path}")).json(&body);
        if version {
            req = req.header("Plaid-Version", "2020-09-14");
        }
        req.send()
    };
    let ok = call("/link/token/create", good.clone(), true)
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    for (body, code) in [
        (
            with(serde_json::json!({"user": {"client_user_id": "u1"}, "products": ["auth"]})),
            "MISSING_FIELDS",
        ),
        (
            with(
                serde_json::json!({"client_name": "x", "language": "en", "country_codes": ["US"], "user": {"client_user_id": "u1"}, "products": ["bogus"]}),
            ),
            "INVALID_FIELD",
        ),
        (
            with(
                serde_json::json!({"client_name": "x", "language": "en", "country_codes": ["ZZ"], "user": {"client_user_id": "u1"}, "products": ["auth"]}),
            ),
            "INVALID_FIELD",
        ),
    ] {
        let resp = call("/link/token/create", body, true).await.unwrap();
        assert_eq!(resp.status(), 400);
        let error: Value = resp.json().await.unwrap();
        assert_eq!(error["error_code"], code, "{error}");
        assert_eq!(error["error_type"], "INVALID_REQUEST");
        assert!(error["request_id"].is_string());
    }
    let empty: Value = call("/sandbox/public_token/create", keys.clone(), false)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(empty["error_code"], "MISSING_FIELDS", "{empty}");
    let unversioned: Value = call("/link/token/create", good, false)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        unversioned["error_code"], "INVALID_HEADERS",
        "{unversioned}"
    );
    let bad_keys: Value = call("/link/token/create", serde_json::json!({}), true)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(bad_keys["error_type"], "INVALID_INPUT", "{bad_keys}");
}
