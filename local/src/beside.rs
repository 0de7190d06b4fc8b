//! What runs beside the functions when their environment asks for it: clamd for the scan
//! function and one sandbox per provider. Each is a [`Companion`] behind one trait: which
//! variable in a function's environment asks for it, how it starts, how it points a
//! function's environment at itself, and how a newcomer drives it. The stack starts the
//! ones its template asks for and knows nothing else about them.

use std::collections::HashMap;
use std::path::Path;

use futures::future::BoxFuture;
use serde_json::{Map, Value, json};

use crate::RunnerError;
use crate::clamd::Clamd;
use crate::sandboxes::{self, Sandbox};

/// What a companion may read when it starts.
pub struct Context<'a> {
    /// The repository (beside `template.yaml`): clamd's configuration, the providers'
    /// definitions next to it.
    pub repo_dir: &'a Path,
    /// The stack's own API, where providers send webhooks.
    pub base_url: &'a str,
    /// The local secrets, by template logical id.
    pub secrets: &'a Map<String, Value>,
}

impl Context<'_> {
    fn secret(&self, name: &str, key: &str) -> String {
        self.secrets
            .get(name)
            .and_then(|s| s.get(key))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }

    fn definition(&self, file: &str) -> Option<std::sync::Arc<contracts::Definition>> {
        sandboxes::definition(&sandboxes::specs_dir(self.repo_dir), file)
    }
}

/// Something the runner starts beside the functions.
pub trait Companion: Send + Sync {
    /// Its name in `/_local/health` and the ready banner.
    fn name(&self) -> &'static str;
    /// Points the variables a function already names at this companion.
    fn rewrite_env(&self, env: &mut HashMap<String, String>);
    /// Where it listens and the calls a newcomer drives it with.
    fn describe(&self) -> Value;
    fn stop(&mut self) -> BoxFuture<'_, ()>;
}

type Start = for<'a> fn(&'a Context<'a>) -> BoxFuture<'a, Result<Box<dyn Companion>, RunnerError>>;

/// A kind of companion: the variable that asks for it, and how it starts.
pub struct Kind {
    pub wanted_by: &'static str,
    pub start: Start,
}

/// Every kind the runner knows, in the order they start.
pub fn kinds() -> [Kind; 5] {
    [
        Kind {
            wanted_by: "CLAMD_ADDRESS",
            start: |ctx| Box::pin(ClamdCompanion::start(ctx)),
        },
        Kind {
            wanted_by: "INSURANCE_VERIFIER_BASE_URL",
            start: |ctx| Box::pin(InsuranceCompanion::start(ctx)),
        },
        Kind {
            wanted_by: "PLAID_BASE_URL",
            start: |ctx| Box::pin(PlaidCompanion::start(ctx)),
        },
        Kind {
            wanted_by: "LICENSE_REGISTRY_CSLB_URL",
            start: |ctx| Box::pin(LicenseCompanion::start(ctx)),
        },
        Kind {
            wanted_by: "SENDGRID_BASE_URL",
            start: |ctx| Box::pin(SendGridCompanion::start(ctx)),
        },
    ]
}

/// Starts every companion some function's environment asks for; stops those already
/// started if one fails.
pub async fn start_wanted<'e>(
    envs: impl Iterator<Item = &'e HashMap<String, String>> + Clone,
    ctx: &Context<'_>,
) -> Result<Vec<Box<dyn Companion>>, RunnerError> {
    let mut started: Vec<Box<dyn Companion>> = Vec::new();
    for kind in kinds() {
        if !envs.clone().any(|env| env.contains_key(kind.wanted_by)) {
            continue;
        }
        match (kind.start)(ctx).await {
            Ok(companion) => started.push(companion),
            Err(e) => {
                for companion in &mut started {
                    companion.stop().await;
                }
                return Err(e);
            }
        }
    }
    Ok(started)
}

/// Sets `var` to `value` if the function names it.
fn point(env: &mut HashMap<String, String>, var: &str, value: String) {
    if let Some(slot) = env.get_mut(var) {
        *slot = value;
    }
}

struct ClamdCompanion(Clamd);

impl ClamdCompanion {
    async fn start(ctx: &Context<'_>) -> Result<Box<dyn Companion>, RunnerError> {
        Ok(Box::new(ClamdCompanion(
            Clamd::start_or_attach(ctx.repo_dir).await?,
        )))
    }
}

impl Companion for ClamdCompanion {
    fn name(&self) -> &'static str {
        "clamd"
    }
    fn rewrite_env(&self, env: &mut HashMap<String, String>) {
        point(env, "CLAMD_ADDRESS", self.0.address.clone());
    }
    fn describe(&self) -> Value {
        json!({"address": self.0.address, "scans": "every upload (INSTREAM); EICAR is in the local signatures"})
    }
    fn stop(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(self.0.stop())
    }
}

struct InsuranceCompanion(Sandbox);

impl InsuranceCompanion {
    async fn start(ctx: &Context<'_>) -> Result<Box<dyn Companion>, RunnerError> {
        let sandbox = sandboxes::InsuranceSandbox::start(
            &ctx.secret("InsuranceVerifierSecret", "api_token"),
            &ctx.secret("InsuranceVerifierSecret", "webhook_secret"),
            &format!("{}/v1/webhooks/trustlayer", ctx.base_url),
            ctx.definition("trustlayer-platform-v1.yaml"),
            ctx.definition("trustlayer-platform-v2.yaml"),
        )
        .await?;
        Ok(Box::new(InsuranceCompanion(sandbox)))
    }
}

impl Companion for InsuranceCompanion {
    fn name(&self) -> &'static str {
        "insurance_verifier"
    }
    fn rewrite_env(&self, env: &mut HashMap<String, String>) {
        point(env, "INSURANCE_VERIFIER_BASE_URL", self.0.base_url.clone());
    }
    fn describe(&self) -> Value {
        let url = &self.0.base_url;
        json!({
            "url": url,
            "api": "TrustLayer v2 (/v2/primary-records, request records, /v2/policies/{number}; Bearer) and v1 (POST /v1/parties/{id}/documents, multipart; Authorization: <token>)",
            "scenario": format!("POST {url}/sandbox/scenario {{\"party\": \"<business name>\", \"mode\": \"compliant\" | \"non_compliant\" | \"silent\" | \"down\" | \"rate_limited\", \"copies\", \"late\", \"delay_ms\"}}"),
            "cancel": format!("POST {url}/sandbox/cancel {{\"party\", \"policy_number\"}} (the insurer cancels; request records non-compliant, webhook sent)"),
            "submissions": format!("GET {url}/sandbox/submissions"),
        })
    }
    fn stop(&mut self) -> BoxFuture<'_, ()> {
        self.0.stop();
        Box::pin(async {})
    }
}

struct PlaidCompanion {
    sandbox: Sandbox,
    client_id: String,
    secret: String,
    /// Where Plaid sends webhooks: the stack's own receiver.
    webhook_url: String,
}

impl PlaidCompanion {
    async fn start(ctx: &Context<'_>) -> Result<Box<dyn Companion>, RunnerError> {
        let client_id = ctx.secret("PlaidSecret", "client_id");
        let secret = ctx.secret("PlaidSecret", "secret");
        let sandbox = sandboxes::PlaidSandbox::start(
            &client_id,
            &secret,
            ctx.definition("plaid-2020-09-14.yml"),
        )
        .await?;
        Ok(Box::new(PlaidCompanion {
            sandbox,
            client_id,
            secret,
            webhook_url: format!("{}/v1/webhooks/plaid", ctx.base_url),
        }))
    }
}

impl Companion for PlaidCompanion {
    fn name(&self) -> &'static str {
        "plaid"
    }
    fn rewrite_env(&self, env: &mut HashMap<String, String>) {
        point(env, "PLAID_BASE_URL", self.sandbox.base_url.clone());
        point(env, "PLAID_WEBHOOK_URL", self.webhook_url.clone());
    }
    fn describe(&self) -> Value {
        let url = &self.sandbox.base_url;
        json!({
            "url": url,
            "credentials": {"client_id": self.client_id, "secret": self.secret},
            "public_token": format!("POST {url}/sandbox/public_token/create {{\"client_id\", \"secret\", \"institution_id\": \"ins_109508\", \"initial_products\": [\"auth\"], \"options\": {{\"override_username\": \"user_good\"}}}} (user_automated_micro: micro-deposits)"),
            "verification_status": format!("POST {url}/sandbox/item/set_verification_status {{\"client_id\", \"secret\", \"access_token\", \"account_id\", \"verification_status\": \"automatically_verified\" | \"verification_expired\"}} sends the signed AUTH webhook (an item's access token: POST /sandbox/items/access_token {{\"item_id\"}})"),
            "fire_webhook": format!("POST {url}/sandbox/item/fire_webhook {{\"client_id\", \"secret\", \"access_token\", \"webhook_code\": \"DEFAULT_UPDATE\" | \"SMS_MICRODEPOSITS_VERIFICATION\"}}"),
            "rotate_key": format!("POST {url}/sandbox/webhook_key/rotate (the old key answers with expired_at)"),
        })
    }
    fn stop(&mut self) -> BoxFuture<'_, ()> {
        self.sandbox.stop();
        Box::pin(async {})
    }
}

struct LicenseCompanion(Sandbox);

impl LicenseCompanion {
    async fn start(_ctx: &Context<'_>) -> Result<Box<dyn Companion>, RunnerError> {
        Ok(Box::new(LicenseCompanion(
            sandboxes::LicenseSandbox::start().await?,
        )))
    }
}

impl Companion for LicenseCompanion {
    fn name(&self) -> &'static str {
        "license_registries"
    }
    fn rewrite_env(&self, env: &mut HashMap<String, String>) {
        for (var, path) in [
            ("LICENSE_REGISTRY_CSLB_URL", "cslb"),
            ("LICENSE_REGISTRY_TDLR_URL", "tdlr"),
            ("LICENSE_REGISTRY_DBPR_URL", "dbpr"),
        ] {
            point(env, var, format!("{}/{path}", self.0.base_url));
        }
    }
    fn describe(&self) -> Value {
        let url = &self.0.base_url;
        json!({
            "url": url,
            "records": format!("POST {url}/sandbox/records {{\"state\": \"CA\" | \"TX\" | \"FL\", \"number\", \"status\": \"active\" | \"inactive\" | \"expired\" | \"suspended\" | \"revoked\", \"business_name\", \"licensee_name\", \"classifications\": [...], \"expires_on\": \"YYYY-MM-DD\", \"bond_active\": true}}"),
            "scenario": format!("POST {url}/sandbox/scenario {{\"state\", \"mode\": \"ok\" | \"down\" | \"rate_limited\", \"delay_ms\"}}"),
            "lookups": format!("GET {url}/sandbox/lookups"),
        })
    }
    fn stop(&mut self) -> BoxFuture<'_, ()> {
        self.0.stop();
        Box::pin(async {})
    }
}

struct SendGridCompanion {
    sandbox: Sandbox,
    /// The Event Webhook verification key the sandbox signs for.
    public_key: String,
}

impl SendGridCompanion {
    async fn start(ctx: &Context<'_>) -> Result<Box<dyn Companion>, RunnerError> {
        let signer = std::sync::Arc::new(webhooks::sendgrid::Signer::generate());
        let public_key = signer.public_key();
        let sandbox = sandboxes::SendGridSandbox::start(
            &ctx.secret("SendGridSecret", "api_key"),
            ctx.definition("sendgrid-v3.json"),
            signer,
            &format!("{}/v1/webhooks/sendgrid", ctx.base_url),
        )
        .await?;
        Ok(Box::new(SendGridCompanion {
            sandbox,
            public_key,
        }))
    }
}

impl Companion for SendGridCompanion {
    fn name(&self) -> &'static str {
        "sendgrid"
    }
    fn rewrite_env(&self, env: &mut HashMap<String, String>) {
        point(env, "SENDGRID_BASE_URL", self.sandbox.base_url.clone());
        point(env, "SENDGRID_WEBHOOK_PUBLIC_KEY", self.public_key.clone());
    }
    fn describe(&self) -> Value {
        let url = &self.sandbox.base_url;
        json!({
            "url": url,
            "api": "SendGrid v3 POST /v3/mail/send (Bearer <api key>; checked against sendgrid-v3.json)",
            "mailbox": format!("GET {url}/sandbox/mail (JSON) or {url}/sandbox/mail.html; the stack's GET /_local/mail and /_local/mail.html show the same"),
            "scenario": format!("POST {url}/sandbox/scenario {{\"mode\": \"ok\" | \"down\" | \"rate_limited\" | \"slow\", \"delay_ms\", \"retry_after\"}}"),
            "events": format!("POST {url}/sandbox/events {{\"events\": [{{\"email\", \"event\": \"bounce\" | \"spamreport\" | \"unsubscribe\" | \"delivered\"}}], \"signing\": \"good\" | \"none\" | \"forged\" | \"stale\"}} (a signed Event Webhook to the stack)"),
            "verification_key": self.public_key,
        })
    }
    fn stop(&mut self) -> BoxFuture<'_, ()> {
        self.sandbox.stop();
        Box::pin(async {})
    }
}
