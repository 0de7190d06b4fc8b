//! Plaid (Auth): Link tokens, public-token exchange, and the account's verification status.
//! Account and routing numbers come back from `/auth/get`; they are dropped at once (never
//! returned from here, stored or logged): only the mask, names and status leave this module.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub use domain::banking::AccountVerification;

use crate::{ProviderError, read};

#[derive(Clone, Debug)]
pub struct Plaid {
    pub http: reqwest::Client,
    pub base_url: String,
    /// `{"client_id": …, "secret": …}`, read on first use (`platform::secrets`).
    pub credentials: std::sync::Arc<platform::secrets::Secret>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkToken {
    pub link_token: String,
    pub expiration: String,
}

/// What we keep of a linked account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedAccount {
    pub account_id: String,
    pub mask: Option<String>,
    pub name: Option<String>,
    pub subtype: Option<String>,
    pub verification: AccountVerification,
    /// Whether Plaid returned ACH numbers for it (then discarded).
    pub numbers_available: bool,
}

/// What this integration reads from Plaid's answers and webhooks, by operation (or webhook
/// schema) and field path. The contract tests check every one exists in Plaid's definition,
/// so a misspelt read can't silently come back empty. Keep it beside the code that reads.
pub const READS: &[(&str, &[&str])] = &[
    ("POST /link/token/create", &["link_token"]),
    ("POST /link/token/create", &["expiration"]),
    ("POST /item/public_token/exchange", &["access_token"]),
    ("POST /item/public_token/exchange", &["item_id"]),
    ("POST /auth/get", &["numbers", "ach", "account_id"]),
    ("POST /auth/get", &["accounts", "account_id"]),
    ("POST /auth/get", &["accounts", "type"]),
    ("POST /auth/get", &["accounts", "mask"]),
    ("POST /auth/get", &["accounts", "name"]),
    ("POST /auth/get", &["accounts", "subtype"]),
    ("POST /auth/get", &["accounts", "verification_status"]),
    ("POST /accounts/get", &["accounts", "account_id"]),
    ("POST /accounts/get", &["accounts", "verification_status"]),
    ("POST /webhook_verification_key/get", &["key", "kid"]),
    ("POST /webhook_verification_key/get", &["key", "kty"]),
    ("POST /webhook_verification_key/get", &["key", "crv"]),
    ("POST /webhook_verification_key/get", &["key", "x"]),
    ("POST /webhook_verification_key/get", &["key", "y"]),
    ("POST /webhook_verification_key/get", &["key", "alg"]),
    ("POST /webhook_verification_key/get", &["key", "expired_at"]),
    // `webhooks-process` reads these of the Auth webhooks.
    ("AutomaticallyVerifiedWebhook", &["webhook_type"]),
    ("AutomaticallyVerifiedWebhook", &["webhook_code"]),
    ("AutomaticallyVerifiedWebhook", &["item_id"]),
    ("AutomaticallyVerifiedWebhook", &["account_id"]),
    ("VerificationExpiredWebhook", &["account_id"]),
    ("HostedMMDVerificationWebhook", &["account_id"]),
    ("HostedMMDVerificationWebhook", &["status"]),
];

/// What this integration reads of Plaid's error object (every operation's `default` answer).
pub const ERROR_READS: &[&str] = &["error_type", "error_code", "display_message", "request_id"];

/// The API version every call asks for (the one our definitions are checked against).
pub const PLAID_VERSION: &str = "2020-09-14";

/// What a refusal tells our caller: Plaid's `display_message` (meant for users) with the
/// error code, never `error_message` (developer text, "not safe for programmatic use").
/// The request id goes to the log for support.
pub fn refusal(error: &Value) -> String {
    let code = error["error_code"].as_str().unwrap_or("UNKNOWN");
    match error["display_message"]
        .as_str()
        .filter(|m| !m.trim().is_empty())
    {
        Some(user) => format!("{user} ({code})"),
        None => format!("Plaid could not complete the bank link ({code})"),
    }
}

/// The Plaid client from its secret (`PLAID_SECRET_ARN`: `client_id`, `secret`) and
/// `PLAID_BASE_URL`.
pub async fn from_env(
    env: &platform::Env,
    aws: &platform::aws::Aws,
) -> Result<Plaid, platform::BoxError> {
    Ok(Plaid {
        http: reqwest::Client::new(),
        base_url: env.required("PLAID_BASE_URL")?,
        credentials: std::sync::Arc::new(platform::secrets::Secret::from_env(
            env,
            aws,
            "PLAID_SECRET_ARN",
        )?),
    })
}

impl Plaid {
    async fn call(&self, path: &str, body: Value) -> Result<Value, ProviderError> {
        self.call_or_refusal(path, body)
            .await?
            .map_err(|error| ProviderError::Refused(refusal(&error)))
    }

    /// Plaid's answer, or its error object when it refused (logged with its request id).
    async fn call_or_refusal(
        &self,
        path: &str,
        mut body: Value,
    ) -> Result<Result<Value, Value>, ProviderError> {
        body["client_id"] = json!(self.credentials.field("client_id").await?);
        body["secret"] = json!(self.credentials.field("secret").await?);
        let answer = read(
            self.http
                .post(format!("{}{path}", self.base_url.trim_end_matches('/')))
                // Without it Plaid answers in the dashboard's default version, whose
                // `/auth/get` numbers differ.
                .header("Plaid-Version", PLAID_VERSION)
                .timeout(Duration::from_secs(15))
                .json(&body)
                .send()
                .await,
        )
        .await?;
        let parsed: Value = serde_json::from_str(&answer.body).unwrap_or_default();
        if answer.status == 200 {
            return Ok(Ok(parsed));
        }
        tracing::warn!(
            path,
            status = answer.status,
            error_type = parsed["error_type"].as_str().unwrap_or_default(),
            error_code = parsed["error_code"].as_str().unwrap_or_default(),
            request_id = parsed["request_id"].as_str().unwrap_or_default(),
            "Plaid refused the request"
        );
        Ok(Err(parsed))
    }

    /// `/link/token/create` for Auth, with automated micro-deposits as the fallback when
    /// the bank has no instant verification.
    pub async fn link_token(
        &self,
        client_user_id: &str,
        webhook: &str,
    ) -> Result<LinkToken, ProviderError> {
        let out = self
            .call(
                "/link/token/create",
                json!({
                    "client_name": "Holiday Lights Marketplace",
                    "user": {"client_user_id": client_user_id},
                    "products": ["auth"],
                    "country_codes": ["US"],
                    "language": "en",
                    "webhook": webhook,
                    "auth": {"automated_microdeposits_enabled": true},
                }),
            )
            .await?;
        serde_json::from_value(out)
            .map_err(|e| ProviderError::Unavailable(format!("link token answer: {e}")))
    }

    /// `/item/public_token/exchange`: `(access_token, item_id)`.
    pub async fn exchange(&self, public_token: &str) -> Result<(String, String), ProviderError> {
        let out = self
            .call(
                "/item/public_token/exchange",
                json!({"public_token": public_token}),
            )
            .await?;
        match (out["access_token"].as_str(), out["item_id"].as_str()) {
            (Some(t), Some(i)) => Ok((t.to_owned(), i.to_owned())),
            _ => Err(ProviderError::Unavailable(
                "exchange answer without a token".into(),
            )),
        }
    }

    /// The item's accounts with their verification status: `/auth/get` (numbers present
    /// means verified), or `/accounts/get` while micro-deposits are pending
    /// (`PRODUCT_NOT_READY`).
    pub async fn accounts(&self, access_token: &str) -> Result<Vec<LinkedAccount>, ProviderError> {
        let (out, numbers) = match self
            .call_or_refusal("/auth/get", json!({"access_token": access_token}))
            .await?
        {
            Ok(out) => {
                let numbers: Vec<String> = out["numbers"]["ach"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|n| n["account_id"].as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                (out, numbers)
            }
            Err(error) if error["error_code"] == "PRODUCT_NOT_READY" => (
                self.call("/accounts/get", json!({"access_token": access_token}))
                    .await?,
                Vec::new(),
            ),
            Err(error) => return Err(ProviderError::Refused(refusal(&error))),
        };
        Ok(out["accounts"]
            .as_array()
            .map(|a| a.as_slice())
            .unwrap_or_default()
            .iter()
            .filter(|a| a["type"] == "depository" || a["type"].is_null())
            .map(|a| {
                let id = a["account_id"].as_str().unwrap_or_default().to_owned();
                LinkedAccount {
                    numbers_available: numbers.contains(&id),
                    account_id: id,
                    mask: a["mask"].as_str().map(str::to_owned),
                    name: a["name"].as_str().map(str::to_owned),
                    subtype: a["subtype"].as_str().map(str::to_owned),
                    verification: AccountVerification::from_plaid(
                        a["verification_status"].as_str(),
                    ),
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_shows_the_user_text_never_the_developer_text() {
        let error = json!({"error_type": "ITEM_ERROR", "error_code": "INVALID_CREDENTIALS",
            "error_message": "the provided credentials were not correct (internal detail)",
            "display_message": "The credentials you entered were incorrect. Please try again.",
            "request_id": "req-123"});
        let shown = refusal(&error);
        assert_eq!(
            shown,
            "The credentials you entered were incorrect. Please try again. (INVALID_CREDENTIALS)"
        );
        assert!(!shown.contains("internal detail"));
        let silent = json!({"error_code": "PRODUCT_NOT_READY", "error_message": "dev text", "display_message": null});
        assert_eq!(
            refusal(&silent),
            "Plaid could not complete the bank link (PRODUCT_NOT_READY)"
        );
    }
}
