//! Amazon SES v2 `SendEmail`, the failover when SendGrid could not have accepted an email
//! (a connection error, 429, 5xx; never after a 202). The same rendered message (subject,
//! text, HTML; the one-click unsubscribe headers), our notification id as a message tag.

use aws_sdk_sesv2::types::{
    Body, Content, Destination, EmailContent, Message, MessageHeader, MessageTag,
};

use crate::ProviderError;
use crate::sendgrid::{Accepted, Outgoing};

#[derive(Clone, Debug)]
pub struct Ses {
    client: aws_sdk_sesv2::Client,
    from: String,
    /// Where SES publishes bounces and complaints (`SES_CONFIGURATION_SET`).
    configuration_set: Option<String>,
}

pub fn from_env(
    env: &platform::Env,
    aws: &platform::aws::Aws,
) -> Result<Ses, platform::ConfigError> {
    let name = env
        .get("EMAIL_FROM_NAME")
        .unwrap_or_else(|| "Holiday Lights".into());
    Ok(Ses {
        client: aws_sdk_sesv2::Client::new(&aws.sdk),
        from: format!("{name} <{}>", env.required("EMAIL_FROM")?),
        configuration_set: env
            .get("SES_CONFIGURATION_SET")
            .filter(|v| !v.trim().is_empty()),
    })
}

fn content(data: &str) -> Result<Content, ProviderError> {
    Content::builder()
        .data(data)
        .charset("UTF-8")
        .build()
        .map_err(|e| ProviderError::Refused(e.to_string()))
}

impl Ses {
    pub async fn send(&self, email: &Outgoing<'_>) -> Result<Accepted, ProviderError> {
        let mut message = Message::builder().subject(content(email.subject)?).body(
            Body::builder()
                .text(content(email.text)?)
                .html(content(email.html)?)
                .build(),
        );
        if let Some(url) = email.unsubscribe_url {
            for (name, value) in [
                ("List-Unsubscribe", format!("<{url}>")),
                (
                    "List-Unsubscribe-Post",
                    "List-Unsubscribe=One-Click".to_owned(),
                ),
            ] {
                message = message.headers(
                    MessageHeader::builder()
                        .name(name)
                        .value(value)
                        .build()
                        .map_err(|e| ProviderError::Refused(e.to_string()))?,
                );
            }
        }
        // Tag values allow letters, digits, `_` and `-`: our ids are made of those.
        let tag = MessageTag::builder()
            .name("notification_id")
            .value(email.notification_id)
            .build()
            .map_err(|e| ProviderError::Refused(e.to_string()))?;
        let sent = self
            .client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(email.to_email).build())
            .content(EmailContent::builder().simple(message.build()).build())
            .email_tags(tag)
            .set_configuration_set_name(self.configuration_set.clone())
            .send()
            .await;
        match sent {
            Ok(out) => Ok(Accepted {
                message_id: out.message_id().map(str::to_owned),
            }),
            Err(e) => {
                use aws_sdk_sesv2::operation::send_email::SendEmailError as E;
                let text = aws_sdk_sesv2::error::DisplayErrorContext(&e).to_string();
                Err(match e.as_service_error() {
                    Some(E::TooManyRequestsException(_) | E::LimitExceededException(_)) => {
                        ProviderError::RateLimited {
                            retry_after_seconds: 60,
                        }
                    }
                    Some(
                        E::MessageRejected(_)
                        | E::AccountSuspendedException(_)
                        | E::MailFromDomainNotVerifiedException(_)
                        | E::SendingPausedException(_)
                        | E::BadRequestException(_)
                        | E::NotFoundException(_),
                    ) => ProviderError::Refused(text),
                    _ => ProviderError::Unavailable(text),
                })
            }
        }
    }
}
