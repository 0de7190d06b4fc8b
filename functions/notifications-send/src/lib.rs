//! Sends the email a domain event means (notifications queue: the events topic filtered to
//! the types that mean one, raw delivery). Which email is the domain's
//! (`engagement::notifications`), rendered in the app (`engagement::email`); the log
//! (`store::notifications`) is written before the provider is called and completed after,
//! so duplicates, redeliveries and a crash mid-batch send nothing twice. SendGrid first;
//! Amazon SES only when SendGrid could not have accepted it (a connection error, a timeout
//! before an answer, 429, 5xx), never after a 202, which would send it twice. Both down:
//! the record waits with backoff and tries again. Addresses are masked in logs.

use domain::engagement::badges::Lang;
use domain::engagement::email::{Recipient, Renderer};
use domain::engagement::notifications::Category;
use domain::engagement::notifications::notice_for;
use domain::events::DomainEvent;
use domain::ports::{ContractorRepository, RepoError};
use platform::sqs::{Backoff, MessageContext, Retries, SqsConsumer};
use platform::{BoxError, Env};
use providers::ProviderError;
use providers::sendgrid::{Outgoing, SendGrid};
use providers::ses::Ses;
use store::notifications::Begin;
use store::suppressions::Scope;
use store::{DynamoNotifications, DynamoSuppressions, Table};

pub struct Notify {
    pub service: wiring::Service,
    pub log: DynamoNotifications,
    pub suppressions: DynamoSuppressions,
    pub renderer: Renderer,
    pub sendgrid: SendGrid,
    pub ses: Ses,
    /// The app's base URL, for links in emails.
    pub app_url: String,
    pub backoff: Backoff,
}

pub async fn build(env: &Env) -> Result<Notify, BoxError> {
    let (api, aws) = wiring::Api::from_env(env).await?;
    Ok(Notify {
        service: api.service,
        log: DynamoNotifications::new(Table::from_env(env, &aws)?),
        suppressions: DynamoSuppressions::new(Table::from_env(env, &aws)?),
        renderer: Renderer::shipped(),
        sendgrid: providers::sendgrid::from_env(env, &aws).await?,
        ses: providers::ses::from_env(env, &aws)?,
        app_url: env.required("APP_URL")?,
        backoff: Backoff::from_env(aws.sqs(), env, Retries::Provider)?,
    })
}

/// `d***@example.com`: enough to tell addresses apart in logs, not to read them.
pub fn masked(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            format!("{}***@{domain}", local.chars().next().unwrap_or('*'))
        }
        None => "***".to_owned(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

impl SqsConsumer for Notify {
    const NAME: &'static str = "notifications-send";
    type Message = DomainEvent;
    type Error = NotifyError;

    fn backoff(&self) -> Option<&Backoff> {
        Some(&self.backoff)
    }

    fn retry_hint(&self, error: &NotifyError) -> Option<std::time::Duration> {
        match error {
            NotifyError::Provider(e) => e.retry_after(),
            NotifyError::Repo(_) => None,
        }
    }

    async fn handle(&self, event: &DomainEvent, _ctx: &MessageContext) -> Result<(), NotifyError> {
        let Some(notice) = notice_for(event) else {
            return Ok(());
        };
        let Some(contractor) = self.service.contractors.get(&event.contractor_id).await? else {
            tracing::warn!(contractor_id = %event.contractor_id, "no such contractor; nothing sent");
            return Ok(());
        };
        let to = contractor.contact.email.as_str();
        // The suppression list first: a bounced or complaining address gets nothing, an
        // unsubscribed one only what is about its account.
        if let Some(s) = self.suppressions.check(to).await? {
            let stops = s.scope == Scope::Everything || notice.category != Category::Transactional;
            if stops {
                tracing::info!(notification_id = %notice.id, to = %masked(to), reason = %s.reason, "address suppressed; not sent");
                return Ok(());
            }
        }
        match self
            .log
            .begin(
                &notice.id,
                contractor.id.as_str(),
                notice.template,
                chrono::Utc::now(),
            )
            .await?
        {
            Begin::Send => {}
            Begin::AlreadySent | Begin::Failed => return Ok(()),
            Begin::InFlight { since } => {
                tracing::warn!(notification_id = %notice.id, since = %since, "an earlier attempt did not finish; not sent again (at most once)");
                return Ok(());
            }
        }
        let recipient = Recipient {
            name: contractor.contact.name.as_str(),
            business_name: contractor.business_name.as_str(),
            lang: Lang::En,
            app_url: &self.app_url,
            unsubscribe_url: None,
        };
        let rendered = match self.renderer.render(&notice, &recipient) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(notification_id = %notice.id, error = %e, "email could not be rendered");
                self.log.failed(&notice.id, &e.to_string()).await?;
                return Ok(());
            }
        };
        let category = serde_json::to_value(notice.category)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let email = Outgoing {
            notification_id: &notice.id,
            to_email: to,
            to_name: recipient.name,
            subject: &rendered.subject,
            text: &rendered.text,
            html: &rendered.html,
            categories: [notice.template, &category],
            asm_group_id: None,
            unsubscribe_url: None,
        };
        let (provider, outcome) = match self.sendgrid.send(&email).await {
            Err(e @ (ProviderError::Unavailable(_) | ProviderError::RateLimited { .. })) => {
                // SendGrid could not have accepted it: SES sends the same message.
                tracing::warn!(notification_id = %notice.id, error = %e, "SendGrid unavailable; failing over to SES");
                ("ses", self.ses.send(&email).await)
            }
            other => ("sendgrid", other),
        };
        match outcome {
            Ok(accepted) => {
                self.log
                    .sent(&notice.id, provider, accepted.message_id.as_deref())
                    .await?;
                tracing::info!(notification_id = %notice.id, template = notice.template, provider, to = %masked(to), "email sent");
                Ok(())
            }
            Err(e @ ProviderError::Refused(_)) => {
                tracing::error!(notification_id = %notice.id, to = %masked(to), error = %e, "the provider refused the email");
                self.log.failed(&notice.id, &e.to_string()).await?;
                Ok(())
            }
            Err(e) => {
                // Neither provider could have accepted it: free it for the next attempt.
                self.log.retry(&notice.id, &e.to_string()).await?;
                Err(e.into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_masked_in_logs() {
        assert_eq!(
            masked("dana@brightnights.example"),
            "d***@brightnights.example"
        );
        assert_eq!(masked("nope"), "***");
    }
}
