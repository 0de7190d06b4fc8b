//! Provider sandboxes the runner starts beside the stack, speaking the providers' documented
//! API shapes so the product's real adapters run against them: the insurance verifier
//! ([`insurance`]), Plaid ([`plaid`]) and the state license registries ([`licenses`]). Each
//! has scenario controls under `/sandbox/…` that tests use to make it fail, throttle, or
//! send (duplicated, stale, forged) webhooks.

use axum::Router;

use crate::RunnerError;

pub mod insurance;
pub mod licenses;
pub mod plaid;
pub mod sendgrid;

pub use insurance::InsuranceSandbox;
pub use licenses::LicenseSandbox;
pub use plaid::PlaidSandbox;
pub use sendgrid::SendGridSandbox;

/// A sandbox server on a free loopback port, stopped with the stack.
pub struct Sandbox {
    pub base_url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Sandbox {
    async fn serve(name: &str, app: Router) -> Result<Sandbox, RunnerError> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| RunnerError::Io(format!("{name} sandbox: {e}")))?;
        let port = listener
            .local_addr()
            .map_err(|e| RunnerError::Io(e.to_string()))?
            .port();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        tracing::info!(port, sandbox = name, "sandbox ready");
        Ok(Sandbox {
            base_url: format!("http://127.0.0.1:{port}"),
            task,
        })
    }

    pub fn stop(&self) {
        self.task.abort();
    }
}

/// Where the providers' published API definitions are read from: `PROVIDER_SPECS_DIR`, or
/// `../shared/specs` beside the repository. They are never copied into the repository.
pub fn specs_dir(repo_dir: &std::path::Path) -> std::path::PathBuf {
    std::env::var_os("PROVIDER_SPECS_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| repo_dir.join("../shared/specs"))
}

/// A provider's definition, parsed once per process (Plaid's is 3 MB of YAML). `None`, with
/// a warning, when it isn't there: the sandbox then checks only what it checks by hand.
pub fn definition(
    dir: &std::path::Path,
    file: &str,
) -> Option<std::sync::Arc<contracts::Definition>> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    static LOADED: OnceLock<Mutex<HashMap<std::path::PathBuf, Arc<contracts::Definition>>>> =
        OnceLock::new();
    let path = dir.join(file);
    let mut loaded = LOADED
        .get_or_init(|| Mutex::new(HashMap::new()))
        .lock()
        .expect("definitions");
    if let Some(found) = loaded.get(&path) {
        return Some(found.clone());
    }
    match contracts::Definition::load(&path) {
        Ok(d) => {
            let d = Arc::new(d);
            loaded.insert(path, d.clone());
            Some(d)
        }
        Err(e) => {
            tracing::warn!(error = %e, "provider definition not loaded; the sandbox checks requests only by hand");
            None
        }
    }
}

/// What the definition says of a request: `None` when the operation isn't in it (a
/// sandbox control) or the request is acceptable, else the violations a provider refuses
/// (lenient: required fields, types, enums, ranges).
pub fn refusals(
    definition: Option<&contracts::Definition>,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: &serde_json::Value,
) -> Option<Vec<contracts::Violation>> {
    let definition = definition?;
    let operation = definition.operation(method, path)?;
    let schema = operation.request_schema(content_type)?;
    let found = definition.check(schema, body, contracts::Strictness::Lenient);
    (!found.is_empty()).then_some(found)
}
