//! Moves a contractor as its verification requirements say (standing queue: the events
//! topic filtered to `requirement.updated` and `contractor.submitted`, raw delivery): a
//! submitted account whose requirements are all verified is approved; an approved account
//! whose requirement fails is suspended, and approved again once it is fixed. The decision
//! is derived from the requirements as stored now, so duplicates and out-of-order events
//! change nothing; every move is audited with the system as the actor.

use domain::events::{DomainEvent, Event};
use domain::onboarding::{OnboardingError, RequestFacts};
use platform::sqs::{Backoff, MessageContext, Retries, SqsConsumer};
use platform::{BoxError, Env};

pub struct Standing {
    pub service: wiring::Service,
    pub backoff: Backoff,
}

pub async fn build(env: &Env) -> Result<Standing, BoxError> {
    let (api, aws) = wiring::Api::from_env(env).await?;
    Ok(Standing {
        service: api.service,
        backoff: Backoff::from_env(aws.sqs(), env, Retries::Pipeline)?,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum StandingError {
    #[error(transparent)]
    Onboarding(#[from] OnboardingError),
}

impl SqsConsumer for Standing {
    const NAME: &'static str = "verification-standing";
    type Message = DomainEvent;
    type Error = StandingError;

    fn backoff(&self) -> Option<&Backoff> {
        Some(&self.backoff)
    }

    async fn handle(&self, event: &DomainEvent, ctx: &MessageContext) -> Result<(), StandingError> {
        // The events that can change a contractor's standing.
        if !matches!(
            event.event,
            Event::RequirementUpdated(_) | Event::ContractorSubmitted(_)
        ) {
            return Ok(());
        }
        let facts = RequestFacts {
            request_id: ctx.message_id.clone(),
            correlation_id: ctx.correlation_id.as_str().to_owned(),
            source_ip: None,
            user_agent: None,
            now: chrono::Utc::now(),
        };
        match self
            .service
            .settle(&event.contractor_id, Self::NAME, &facts)
            .await
        {
            Ok(Some(c)) => {
                tracing::info!(contractor_id = %c.id, status = c.status.as_str(), "standing changed");
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(OnboardingError::NotFound) => {
                tracing::warn!(contractor_id = %event.contractor_id, "no such contractor; event skipped");
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }
}
