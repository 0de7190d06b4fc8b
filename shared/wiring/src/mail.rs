//! The one way an email goes out, for every function that sends one (the event consumer,
//! the scheduled reminders): the contractor's preferences and the suppression list first,
//! then the notification log (written before the provider is called, completed after, so
//! nothing is sent twice), rendering in the contractor's language, and the providers behind
//! a circuit breaker each. SendGrid first; Amazon SES only when SendGrid could not have
//! accepted the message (a connection error, 429, 5xx, or its breaker open), never after a
//! 202. Addresses are masked in logs.

use domain::engagement::email::{Recipient, Renderer};
use domain::engagement::notifications::{Category, Notice};
use domain::ids::ContractorId;
use domain::ports::{ContractorRepository, RepoError};
use domain::verifying::{Gate, ProviderGuard};
use platform::aws::Aws;
use platform::secrets::Secret;
use platform::{BoxError, Env};
use providers::ProviderError;
use providers::sendgrid::{Accepted, Outgoing, SendGrid};
use providers::ses::Ses;
use store::notifications::Begin;
use store::suppressions::Scope;
use store::{
    DynamoBreakers, DynamoContractors, DynamoNotifications, DynamoPreferences, DynamoSuppressions,
    Table,
};
use webhooks::links::UnsubscribeLinks;

/// What became of a notice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    Sent {
        provider: &'static str,
    },
    /// Not sent, on purpose (preferences, suppression, no such contractor).
    Skipped(&'static str),
    /// Sent, refused or begun before: nothing more to do (at most once).
    AlreadyHandled,
    /// Refused for good by the provider, or it could not be rendered.
    Failed,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// Neither provider could take it now; the notice is free for the next attempt.
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

impl MailError {
    /// How long a provider asked us to wait, if it said.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            MailError::Provider(e) => e.retry_after(),
            MailError::Repo(_) => None,
        }
    }
}

pub struct Mailer {
    pub contractors: DynamoContractors,
    pub log: DynamoNotifications,
    pub suppressions: DynamoSuppressions,
    pub preferences: DynamoPreferences,
    pub renderer: Renderer,
    pub sendgrid: SendGrid,
    pub sendgrid_breaker: ProviderGuard<DynamoBreakers>,
    pub ses: Ses,
    pub ses_breaker: ProviderGuard<DynamoBreakers>,
    pub links: LinkSigner,
    /// The app's base URL, for links in emails.
    pub app_url: String,
    /// The API's public base URL, for unsubscribe links.
    pub api_url: String,
    /// SendGrid's unsubscribe group for what a contractor may turn off, if configured.
    pub asm_group_id: Option<u32>,
}

/// Signs and verifies one-click unsubscribe links with the key in `UNSUBSCRIBE_SECRET_ARN`
/// (`signing_key`), read on first use (`platform::secrets`).
pub struct LinkSigner {
    key: Secret,
}

impl LinkSigner {
    pub fn from_env(env: &Env, aws: &Aws) -> Result<LinkSigner, BoxError> {
        Ok(LinkSigner {
            key: Secret::from_env(env, aws, "UNSUBSCRIBE_SECRET_ARN")?,
        })
    }

    /// The signer of the key held now. A key that cannot be read, or is too short to sign
    /// with, is a provider failure: the email waits for its next attempt.
    pub async fn links(&self) -> Result<UnsubscribeLinks, ProviderError> {
        let key = self.key.field("signing_key").await?;
        UnsubscribeLinks::new(key.as_bytes())
            .map_err(|e| ProviderError::Unavailable(format!("UNSUBSCRIBE_SECRET_ARN: {e}")))
    }
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

impl Mailer {
    pub async fn from_env(env: &Env, aws: &Aws) -> Result<Mailer, BoxError> {
        let table = Table::from_env(env, aws)?;
        Ok(Mailer {
            contractors: DynamoContractors::from_env(env, aws)?,
            log: DynamoNotifications::new(table.clone()),
            suppressions: DynamoSuppressions::new(table.clone()),
            preferences: DynamoPreferences::new(table.clone()),
            renderer: Renderer::shipped(),
            sendgrid: providers::sendgrid::from_env(env, aws).await?,
            sendgrid_breaker: store::email_provider_guard(table.clone(), "sendgrid", env)?,
            ses: providers::ses::from_env(env, aws)?,
            ses_breaker: store::email_provider_guard(table, "ses", env)?,
            links: LinkSigner::from_env(env, aws)?,
            app_url: env.required("APP_URL")?,
            api_url: env.required("PUBLIC_API_URL")?,
            asm_group_id: env
                .get("SENDGRID_UNSUBSCRIBE_GROUP_ID")
                .filter(|v| !v.trim().is_empty())
                .map(|v| v.trim().parse())
                .transpose()
                .map_err(|e| format!("SENDGRID_UNSUBSCRIBE_GROUP_ID: {e}"))?,
        })
    }

    /// The one-click unsubscribe URL of `contractor`'s emails.
    pub async fn unsubscribe_url(&self, contractor: &ContractorId) -> Result<String, MailError> {
        Ok(format!(
            "{}/v1/unsubscribe/{}",
            self.api_url.trim_end_matches('/'),
            self.links.links().await?.token(contractor.as_str())
        ))
    }

    /// Sends `notice` to `contractor` once, if they want it and the address takes mail.
    pub async fn deliver(
        &self,
        notice: &Notice,
        contractor: &ContractorId,
    ) -> Result<Delivery, MailError> {
        let Some(c) = self.contractors.get(contractor).await? else {
            tracing::warn!(contractor_id = %contractor, notification_id = %notice.id, "no such contractor; nothing sent");
            return Ok(Delivery::Skipped("no such contractor"));
        };
        let preferences = self.preferences.get(contractor).await?;
        if !preferences.allows(notice.category) {
            tracing::info!(notification_id = %notice.id, "turned off in the contractor's preferences; not sent");
            return Ok(Delivery::Skipped("turned off"));
        }
        let to = c.contact.email.as_str();
        // A bounced or complaining address gets nothing; an unsubscribed one only what is
        // about its account.
        if let Some(s) = self.suppressions.check(to).await?
            && (s.scope == Scope::Everything || notice.category != Category::Transactional)
        {
            tracing::info!(notification_id = %notice.id, to = %masked(to), reason = %s.reason, "address suppressed; not sent");
            return Ok(Delivery::Skipped("suppressed"));
        }
        // Signed before the notice is claimed: a key that cannot be read now leaves the
        // notice free for the next attempt, never claimed and unsent.
        let unsubscribe = match notice.category {
            Category::Transactional => None,
            _ => Some(self.unsubscribe_url(contractor).await?),
        };
        let now = chrono::Utc::now();
        match self
            .log
            .begin(&notice.id, contractor.as_str(), notice.template, now)
            .await?
        {
            Begin::Send => {}
            Begin::AlreadySent | Begin::Failed => return Ok(Delivery::AlreadyHandled),
            Begin::InFlight { since } => {
                tracing::warn!(notification_id = %notice.id, since = %since, "an earlier attempt did not finish; not sent again (at most once)");
                return Ok(Delivery::AlreadyHandled);
            }
        }
        let recipient = Recipient {
            name: c.contact.name.as_str(),
            business_name: c.business_name.as_str(),
            lang: preferences.language,
            app_url: &self.app_url,
            unsubscribe_url: unsubscribe.as_deref(),
        };
        let rendered = match self.renderer.render(notice, &recipient) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(notification_id = %notice.id, error = %e, "email could not be rendered");
                self.log.failed(&notice.id, &e.to_string()).await?;
                return Ok(Delivery::Failed);
            }
        };
        let category = match notice.category {
            Category::Transactional => "transactional",
            Category::Updates => "updates",
            Category::Reminders => "reminders",
        };
        let email = Outgoing {
            notification_id: &notice.id,
            to_email: to,
            to_name: recipient.name,
            subject: &rendered.subject,
            text: &rendered.text,
            html: &rendered.html,
            categories: [notice.template, category],
            asm_group_id: self
                .asm_group_id
                .filter(|_| notice.category != Category::Transactional),
            unsubscribe_url: unsubscribe.as_deref(),
        };
        let (provider, outcome) = match self
            .through(&self.sendgrid_breaker, self.sendgrid.send(&email))
            .await
        {
            Err(e @ (ProviderError::Unavailable(_) | ProviderError::RateLimited { .. })) => {
                // SendGrid could not have accepted it: SES sends the same message.
                tracing::warn!(notification_id = %notice.id, error = %e, "SendGrid unavailable; failing over to SES");
                (
                    "ses",
                    self.through(&self.ses_breaker, self.ses.send(&email)).await,
                )
            }
            other => ("sendgrid", other),
        };
        match outcome {
            Ok(accepted) => {
                self.log
                    .sent(&notice.id, provider, accepted.message_id.as_deref())
                    .await?;
                tracing::info!(notification_id = %notice.id, template = notice.template, provider, to = %masked(to), "email sent");
                Ok(Delivery::Sent { provider })
            }
            Err(e @ ProviderError::Refused(_)) => {
                tracing::error!(notification_id = %notice.id, to = %masked(to), error = %e, "the provider refused the email");
                self.log.failed(&notice.id, &e.to_string()).await?;
                Ok(Delivery::Failed)
            }
            Err(e) => {
                // Neither provider could have accepted it: free it for the next attempt.
                self.log.retry(&notice.id, &e.to_string()).await?;
                Err(e.into())
            }
        }
    }

    /// Calls a provider under its breaker: while it is open (or another instance probes it)
    /// the provider is not called and the answer is `Unavailable`, which lets the caller
    /// fail over. A refusal says nothing about the provider's health.
    ///
    /// Once `deliver` has begun the notice, no store error may escape from here: the log
    /// says `sending`, so an error would leave a mail that was never sent looking in
    /// flight for ever. A breaker that can't be read counts as open (the other provider
    /// may still send; if neither does, the notice is freed for a retry), and bookkeeping
    /// that fails after the call is logged, not returned (the outcome is what matters).
    async fn through(
        &self,
        breaker: &ProviderGuard<DynamoBreakers>,
        call: impl std::future::Future<Output = Result<Accepted, ProviderError>>,
    ) -> Result<Accepted, ProviderError> {
        let now = chrono::Utc::now();
        match breaker.gate(now).await {
            Err(e) => {
                tracing::warn!(provider = %breaker.provider, error = %e, "breaker unreadable; provider not called");
                return Err(ProviderError::Unavailable(format!(
                    "{} breaker unreadable",
                    breaker.provider
                )));
            }
            Ok(Gate::Call) => {}
            Ok(Gate::Refused(reason)) => {
                return Err(ProviderError::Unavailable(format!(
                    "{} breaker open: {reason}",
                    breaker.provider
                )));
            }
            Ok(Gate::Busy) => {
                return Err(ProviderError::Unavailable(format!(
                    "{} is being probed by another instance",
                    breaker.provider
                )));
            }
        }
        let outcome = call.await;
        let bookkeeping = match &outcome {
            Ok(_) => breaker.succeeded().await,
            Err(ProviderError::Refused(_)) => Ok(()),
            Err(e) => match breaker.failed(now, &e.to_string()).await {
                Ok(true) => {
                    tracing::warn!(provider = %breaker.provider, error = %e, "breaker opened");
                    Ok(())
                }
                Ok(false) => Ok(()),
                Err(repo) => Err(repo),
            },
        };
        if let Err(e) = bookkeeping {
            // Many instances failing at once contend for the one item; the next outcome
            // counts again.
            tracing::warn!(provider = %breaker.provider, error = %e, "breaker not updated");
        }
        outcome
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
