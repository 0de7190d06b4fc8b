//! Twilio SendGrid v3 `POST /v3/mail/send`: one rendered email (text and HTML parts), our
//! notification id in `custom_args` (it comes back on every Event Webhook), categories, the
//! reminders' unsubscribe group (`asm.group_id`) and RFC 8058 one-click unsubscribe
//! headers. SendGrid answers 202 and has no idempotency key: whoever calls must never send
//! the same notification again after a 202 (see `notifications-send`).

use serde_json::{Value, json};

use crate::ProviderError;

#[derive(Clone, Debug)]
pub struct SendGrid {
    http: reqwest::Client,
    base_url: String,
    /// `{"api_key": …}`, read on first use (`platform::secrets`).
    api_key: std::sync::Arc<platform::secrets::Secret>,
    from_email: String,
    from_name: String,
}

/// One email to send.
#[derive(Clone, Debug)]
pub struct Outgoing<'a> {
    pub notification_id: &'a str,
    pub to_email: &'a str,
    pub to_name: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub html: &'a str,
    /// Template and category, for SendGrid's statistics.
    pub categories: [&'a str; 2],
    /// The unsubscribe group of reminders (SendGrid's ASM), if this is one.
    pub asm_group_id: Option<u32>,
    /// The signed one-click unsubscribe URL (RFC 8058), if the message can be unsubscribed from.
    pub unsubscribe_url: Option<&'a str>,
}

/// SendGrid took the message (202).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    /// `X-Message-Id`, when SendGrid gave one.
    pub message_id: Option<String>,
}

/// The fields of SendGrid's answers the product reads, for the contract check.
pub const READS: &[&str] = &[];

pub async fn from_env(
    env: &platform::Env,
    aws: &platform::aws::Aws,
) -> Result<SendGrid, platform::BoxError> {
    let api_key = std::sync::Arc::new(platform::secrets::Secret::from_env(
        env,
        aws,
        "SENDGRID_SECRET_ARN",
    )?);
    Ok(SendGrid {
        http: reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(
                env.parse_or("SENDGRID_TIMEOUT_SECONDS", 10)?,
            ))
            .build()?,
        base_url: env.required("SENDGRID_BASE_URL")?,
        api_key,
        from_email: env.required("EMAIL_FROM")?,
        from_name: env
            .get("EMAIL_FROM_NAME")
            .unwrap_or_else(|| "Holiday Lights".into()),
    })
}

impl SendGrid {
    /// The request body SendGrid's v3 mail send takes.
    pub fn body(&self, email: &Outgoing<'_>) -> Value {
        let mut body = json!({
            "personalizations": [{
                "to": [{"email": email.to_email, "name": email.to_name}],
                "custom_args": {"notification_id": email.notification_id},
            }],
            "from": {"email": self.from_email, "name": self.from_name},
            "subject": email.subject,
            "content": [
                {"type": "text/plain", "value": email.text},
                {"type": "text/html", "value": email.html},
            ],
            "categories": email.categories,
        });
        if let Some(url) = email.unsubscribe_url {
            body["headers"] = json!({
                "List-Unsubscribe": format!("<{url}>"),
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            });
        }
        if let Some(group) = email.asm_group_id {
            body["asm"] = json!({"group_id": group});
        }
        body
    }

    /// Sends one email. `Unavailable` and `RateLimited` mean SendGrid could not have
    /// accepted it (a connection error, 5xx, 429): only then may another provider send it.
    /// A timeout after the request was written is the one blind spot (SendGrid may have
    /// accepted it); it counts as unavailable, so a failover may duplicate that one email.
    pub async fn send(&self, email: &Outgoing<'_>) -> Result<Accepted, ProviderError> {
        let sent = self
            .http
            .post(format!(
                "{}/v3/mail/send",
                self.base_url.trim_end_matches('/')
            ))
            .bearer_auth(self.api_key.field("api_key").await?)
            .json(&self.body(email))
            .send()
            .await;
        let message_id = sent
            .as_ref()
            .ok()
            .and_then(|r| r.headers().get("x-message-id"))
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let answer = crate::read(sent).await?;
        match answer.status {
            202 | 200 => Ok(Accepted { message_id }),
            status => {
                // SendGrid's errors name the field; never the recipient's address.
                let errors: Value = serde_json::from_str(&answer.body).unwrap_or_default();
                let first = errors["errors"][0]["message"]
                    .as_str()
                    .unwrap_or("refused")
                    .to_owned();
                Err(ProviderError::Refused(format!("HTTP {status}: {first}")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> SendGrid {
        SendGrid {
            http: reqwest::Client::new(),
            base_url: "http://127.0.0.1:9".into(),
            api_key: std::sync::Arc::new(platform::secrets::Secret::fixed(
                serde_json::json!({"api_key": "SG.x"}),
            )),
            from_email: "hello@holidaylights.example".into(),
            from_name: "Holiday Lights".into(),
        }
    }

    fn email(unsubscribe: Option<&'static str>, group: Option<u32>) -> Outgoing<'static> {
        Outgoing {
            notification_id: "ntf_1_welcome",
            to_email: "dana@example.com",
            to_name: "Dana",
            subject: "Welcome",
            text: "t",
            html: "<p>h</p>",
            categories: ["welcome", "transactional"],
            asm_group_id: group,
            unsubscribe_url: unsubscribe,
        }
    }

    #[test]
    fn the_body_carries_our_id_both_parts_and_unsubscribe_only_when_asked() {
        let body = client().body(&email(None, None));
        assert_eq!(
            body["personalizations"][0]["custom_args"]["notification_id"],
            "ntf_1_welcome"
        );
        assert_eq!(body["content"][0]["type"], "text/plain");
        assert_eq!(body["content"][1]["type"], "text/html");
        assert!(body.get("headers").is_none() && body.get("asm").is_none());
        let body = client().body(&email(Some("https://x/u?t=1"), Some(42)));
        assert_eq!(body["headers"]["List-Unsubscribe"], "<https://x/u?t=1>");
        assert_eq!(
            body["headers"]["List-Unsubscribe-Post"],
            "List-Unsubscribe=One-Click"
        );
        assert_eq!(body["asm"]["group_id"], 42);
    }

    #[tokio::test]
    async fn a_connection_failure_is_unavailable_so_another_provider_may_send() {
        let err = client().send(&email(None, None)).await.unwrap_err();
        assert!(matches!(err, ProviderError::Unavailable(_)), "{err}");
    }
}
