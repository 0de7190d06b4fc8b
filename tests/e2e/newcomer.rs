//! What a newcomer needs to find without reading logs (issue 17): where every sandbox
//! listens and how to drive it, from `/_local/health`.

use e2e_tests::{client, product};
use serde_json::Value;

#[tokio::test]
async fn health_lists_every_sandbox_with_its_address_and_how_to_drive_it() {
    let stack = product();
    let health: Value = client()
        .get(stack.url("/_local/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
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
