//! Sends the email a domain event means (notifications queue: the events topic filtered to
//! the types that mean one, raw delivery). Which email is the domain's
//! (`engagement::notifications`); sending it — preferences, suppressions, the log that sends
//! it once, rendering, SendGrid with SES failover behind breakers — is the shared
//! [`wiring::mail::Mailer`]. A badge award is not an email of its own: it is noted for the
//! next day's digest (`notifications-reminders` sends it).

use domain::engagement::notifications::notice_for;
use domain::events::{DomainEvent, Event};
use platform::sqs::{Backoff, MessageContext, Retries, SqsConsumer};
use platform::{BoxError, Env};
use store::{DynamoDigests, Table};
use wiring::mail::{MailError, Mailer};

pub struct Notify {
    pub mailer: Mailer,
    pub digests: DynamoDigests,
    pub backoff: Backoff,
}

pub async fn build(env: &Env) -> Result<Notify, BoxError> {
    let aws = platform::aws::Aws::load(env).await;
    Ok(Notify {
        mailer: Mailer::from_env(env, &aws).await?,
        digests: DynamoDigests::new(Table::from_env(env, &aws)?),
        backoff: Backoff::from_env(aws.sqs(), env, Retries::Provider)?,
    })
}

impl SqsConsumer for Notify {
    const NAME: &'static str = "notifications-send";
    type Message = DomainEvent;
    type Error = MailError;

    fn backoff(&self) -> Option<&Backoff> {
        Some(&self.backoff)
    }

    fn retry_hint(&self, error: &MailError) -> Option<std::time::Duration> {
        error.retry_after()
    }

    async fn handle(&self, event: &DomainEvent, _ctx: &MessageContext) -> Result<(), MailError> {
        if let Event::BadgeAwarded(b) = &event.event {
            // The day it was earned (the event's time), so a late delivery joins its digest.
            self.digests
                .note(
                    event.occurred_at.date_naive(),
                    &event.contractor_id,
                    &b.badge,
                )
                .await?;
            return Ok(());
        }
        let Some(notice) = notice_for(event) else {
            return Ok(());
        };
        self.mailer.deliver(&notice, &event.contractor_id).await?;
        Ok(())
    }
}
