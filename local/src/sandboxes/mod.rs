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

pub use insurance::InsuranceSandbox;
pub use licenses::LicenseSandbox;
pub use plaid::PlaidSandbox;

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
