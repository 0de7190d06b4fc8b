//! The functions the runner can call in-process: each template function's cargo binary maps
//! to a factory that builds the same application its `main.rs` builds, from the function's
//! own environment.

use std::collections::HashMap;
use std::sync::Arc;

use futures::future::BoxFuture;
use platform::invoke::{JsonFunction, json_event, json_http, json_scheduled, json_sqs};
use platform::{BoxError, Env};
use serde_json::Value;

use crate::model::FunctionDef;

/// Builds a function's handler from its environment (its cold start).
pub type Factory =
    Arc<dyn Fn(Env) -> BoxFuture<'static, Result<JsonFunction, BoxError>> + Send + Sync>;

/// Binary name → factory.
pub type Registry = HashMap<String, Factory>;

/// Every function of this product. A test (`tests/`) checks that this list, the template and
/// the crates under `functions/` name the same set.
pub fn product_registry() -> Registry {
    let mut r = Registry::new();
    macro_rules! http {
        ($name:literal, $krate:ident) => {
            r.insert(
                $name.into(),
                Arc::new(|env: Env| {
                    Box::pin(async move { Ok(json_http($krate::build(&env).await?)) })
                        as BoxFuture<'static, _>
                }),
            );
        };
    }
    http!("contractors-register", contractors_register);
    http!("contractors-get", contractors_get);
    http!("contractors-save-step", contractors_save_step);
    http!("contractors-submit", contractors_submit);
    http!("contractors-reject", contractors_reject);
    http!("privacy-consent-withdrawal", privacy_consent_withdrawal);
    http!("privacy-erasure-request", privacy_erasure_request);
    http!("privacy-erasure-status", privacy_erasure_status);
    http!("privacy-export-request", privacy_export_request);
    http!("privacy-export-status", privacy_export_status);
    http!("contractors-audit", contractors_audit);
    http!("contractors-list", contractors_list);
    http!("api-docs", api_docs);
    http!("api-fallback", api_fallback);
    http!("documents-upload-intent", documents_upload_intent);
    http!("documents-list", documents_list);
    http!("documents-get", documents_get);
    http!("webhooks-receive", webhooks_receive);
    http!("reviews-list", reviews_list);
    http!("reviews-decide", reviews_decide);
    http!("reviews-claim", reviews_claim);
    http!("bank-link-token", bank_link_token);
    http!("bank-exchange", bank_exchange);
    http!("realtime-tickets", realtime_tickets);
    http!("engagement-activity", engagement_activity);
    http!("notifications-preferences", notifications_preferences);
    http!("engagement-achievements", engagement_achievements);
    macro_rules! scheduled {
        ($name:literal, $krate:ident) => {
            r.insert(
                $name.into(),
                Arc::new(|env: Env| {
                    Box::pin(async move { Ok(json_scheduled($krate::build(&env).await?)) })
                        as BoxFuture<'static, _>
                }),
            );
        };
    }
    macro_rules! sqs {
        ($name:literal, $krate:ident) => {
            r.insert(
                $name.into(),
                Arc::new(|env: Env| {
                    Box::pin(async move { Ok(json_sqs($krate::build(&env).await?)) })
                        as BoxFuture<'static, _>
                }),
            );
        };
    }
    scheduled!("events-relay", events_relay);
    scheduled!("documents-sweeper", documents_sweeper);
    scheduled!("verification-recheck", verification_recheck);
    sqs!("documents-scan", documents_scan);
    sqs!("documents-extract", documents_extract);
    sqs!("verification-insurance", verification_insurance);
    sqs!("webhooks-process", webhooks_process);
    sqs!("verification-standing", verification_standing);
    sqs!("verification-license", verification_license);
    sqs!("realtime-push", realtime_push);
    sqs!("engagement-badges", engagement_badges);
    sqs!("notifications-send", notifications_send);
    sqs!("privacy-erasure", privacy_erasure);
    sqs!("privacy-export", privacy_export);
    sqs!("notifications-feedback", notifications_feedback);
    scheduled!("notifications-reminders", notifications_reminders);
    scheduled!("privacy-retention", privacy_retention);
    macro_rules! event {
        ($name:literal, $krate:ident) => {
            r.insert(
                $name.into(),
                Arc::new(|env: Env| {
                    Box::pin(async move { Ok(json_event($krate::build(&env).await?)) })
                        as BoxFuture<'static, _>
                }),
            );
        };
    }
    event!("realtime-authorize", realtime_authorize);
    event!("realtime-connect", realtime_connect);
    event!("realtime-disconnect", realtime_disconnect);
    event!("realtime-default", realtime_default);
    r
}

/// A template function, built and ready to invoke.
pub struct LoadedFunction {
    pub def: FunctionDef,
    /// The whole environment the function was built with.
    pub env: HashMap<String, String>,
    handler: JsonFunction,
    /// An injected fault: the next batches its SQS sources deliver crash mid-batch.
    crash: std::sync::Mutex<Option<CrashFault>>,
}

/// A consumer dying mid-batch (`POST /_local/faults`): it handles the first half of the
/// batch, then "crashes" (nothing is deleted, so the whole batch comes back); the messages
/// become visible again after `redeliver_after` instead of the queue's visibility timeout,
/// so a test need not wait minutes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CrashFault {
    pub batches: u32,
    pub redeliver_after: std::time::Duration,
}

impl LoadedFunction {
    pub fn new(def: FunctionDef, env: HashMap<String, String>, handler: JsonFunction) -> Self {
        LoadedFunction {
            def,
            env,
            handler,
            crash: std::sync::Mutex::new(None),
        }
    }

    pub fn inject_crash(&self, fault: CrashFault) {
        *self.crash.lock().expect("crash fault") = Some(fault).filter(|f| f.batches > 0);
    }

    /// Takes one crash from the injected fault, if any is left.
    pub fn take_crash(&self) -> Option<std::time::Duration> {
        let mut slot = self.crash.lock().expect("crash fault");
        let fault = slot.as_mut()?;
        fault.batches -= 1;
        let after = fault.redeliver_after;
        if fault.batches == 0 {
            *slot = None;
        }
        Some(after)
    }

    /// One invocation with the function's timeout, as Lambda would run it.
    pub async fn invoke(&self, payload: Value) -> Result<Value, BoxError> {
        let ctx = platform::invoke::local_context(&self.def.logical_id, self.def.timeout);
        let started = std::time::Instant::now();
        let call = (self.handler)(lambda_runtime::LambdaEvent::new(payload, ctx));
        let result = match tokio::time::timeout(self.def.timeout, call).await {
            Ok(r) => r,
            Err(_) => Err(format!(
                "Task timed out after {:.2} seconds",
                self.def.timeout.as_secs_f64()
            )
            .into()),
        };
        tracing::debug!(function = %self.def.logical_id, ms = started.elapsed().as_millis() as u64, ok = result.is_ok(), "invoked");
        result
    }
}
