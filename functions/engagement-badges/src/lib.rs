//! Awards and revokes badges (badges queue: the events topic filtered to the events that
//! change a contractor's steps, status or requirements). Each badge is decided from the
//! contractor as stored now, not from the event at hand, so a duplicated, late or shuffled
//! event awards the same set; each move is a conditional write on the badge's revision with
//! its `badge.awarded` / `badge.revoked` event in the same transaction (the outbox), so a
//! badge is awarded once however many consumers race.

use domain::engagement::badges::{BadgeRules, Move, moves};
use domain::engagement::facts::Facts;
use domain::engagement::ports::BadgeStore;
use domain::events::{BadgeChanged, DomainEvent, Event};
use domain::ports::{ContractorRepository, RepoError};
use platform::sqs::{Backoff, MessageContext, Retries, SqsConsumer};
use platform::{BoxError, Env};
use store::{DynamoBadges, Table};

pub struct Badges {
    pub service: wiring::Service,
    pub badges: DynamoBadges,
    pub rules: BadgeRules,
    pub backoff: Backoff,
}

pub async fn build(env: &Env) -> Result<Badges, BoxError> {
    let (api, aws) = wiring::Api::from_env(env).await?;
    Ok(Badges {
        service: api.service,
        badges: DynamoBadges::new(
            Table::from_env(env, &aws)?,
            Some(platform::events::SnsPublisher::from_env(env, &aws)?),
        ),
        rules: BadgeRules::shipped(),
        backoff: Backoff::from_env(aws.sqs(), env, Retries::Pipeline)?,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum BadgesError {
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error("badges kept moving under us; retrying later")]
    Contended,
}

/// Whether an event can change what a contractor has earned.
pub fn concerns(event: &Event) -> bool {
    matches!(
        event,
        Event::StepSaved(_)
            | Event::StatusChanged(_)
            | Event::ContractorSubmitted(_)
            | Event::ContractorApproved(_)
            | Event::ContractorSuspended(_)
            | Event::ContractorRejected(_)
            | Event::RequirementUpdated(_)
    )
}

impl SqsConsumer for Badges {
    const NAME: &'static str = "engagement-badges";
    type Message = DomainEvent;
    type Error = BadgesError;

    fn backoff(&self) -> Option<&Backoff> {
        Some(&self.backoff)
    }

    async fn handle(&self, event: &DomainEvent, ctx: &MessageContext) -> Result<(), BadgesError> {
        if !concerns(&event.event) {
            return Ok(());
        }
        let id = &event.contractor_id;
        'evaluate: for _ in 0..5 {
            let Some(contractor) = self.service.contractors.get(id).await? else {
                tracing::warn!(contractor_id = %id, "no such contractor; event skipped");
                return Ok(());
            };
            let facts = Facts::of(&contractor, &self.service.requirements(&contractor));
            let held = self.badges.held(id).await?;
            let now = chrono::Utc::now();
            for change in moves(&self.rules, &facts, &held, now) {
                let h = change.holding();
                let data = BadgeChanged {
                    badge_revision: h.revision,
                    badge: h.badge.clone(),
                    rules_version: h.rules_version,
                };
                let kind = match &change {
                    Move::Award(_) => Event::BadgeAwarded(data),
                    Move::Revoke(_) => Event::BadgeRevoked(data),
                };
                let announced = DomainEvent::new(id, now, ctx.correlation_id.as_str(), kind);
                match self.badges.apply(id, &change, &announced).await {
                    Ok(()) => {
                        tracing::info!(contractor_id = %id, badge = %h.badge, revision = h.revision, awarded = h.held, "badge moved");
                    }
                    // Someone else moved this badge since we read it: decide again.
                    Err(RepoError::VersionConflict) => continue 'evaluate,
                    Err(e) => return Err(e.into()),
                }
            }
            return Ok(());
        }
        Err(BadgesError::Contended)
    }
}
