//! Daily reminders and the badge digest. The schedule's tick (`time`) is "now", so a late
//! or repeated run decides the same reminders, and the notification log sends each once:
//! - evidence expiring in 30 and 7 days (the expiry index, GSI1, the re-check reads too);
//! - drafts idle for 3 and 10 days (contractors by status and last change, GSI1);
//! - requirements in `errors` for 5 days (the sparse errors index, GSI2);
//! - badges earned the day before, one email per contractor (still held when it is sent).
//!
//! Each source is read within a window (reminders older than [`LOOKBACK_DAYS`] are stale)
//! and capped per run ([`CAP`]; `truncated` in the answer and a metric say when more
//! waited, for the next run). A provider that cannot take an email now leaves it for the
//! next run (`deferred`). An operator or a test can run it for one contractor with
//! `detail: {"contractor_id": "ctr_…"}`.

use std::collections::BTreeMap;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use chrono::{DateTime, Days, Utc};
use domain::contractor::Contractor;
use domain::engagement::badges::BadgeRules;
use domain::engagement::notifications::Notice;
use domain::engagement::ports::BadgeStore;
use domain::engagement::reminders::{self, DigestBadge, LOOKBACK_DAYS};
use domain::ids::ContractorId;
use domain::terms::Status;
use domain::verification::RequirementState;
use platform::metrics::Metrics;
use platform::schedule::ScheduledJob;
use platform::{BoxError, Env};
use serde_json::{Value, json};
use store::{DynamoBadges, DynamoDigests, DynamoRequirements, Table};
use wiring::mail::{Delivery, MailError, Mailer};

/// Items read per source per run.
pub const CAP: usize = 2_000;

pub struct Reminders {
    pub mailer: Mailer,
    pub requirements: DynamoRequirements,
    pub digests: DynamoDigests,
    pub badges: DynamoBadges,
    pub rules: BadgeRules,
    pub metrics_namespace: String,
}

pub async fn build(env: &Env) -> Result<Reminders, BoxError> {
    let aws = platform::aws::Aws::load(env).await;
    let table = Table::from_env(env, &aws)?;
    Ok(Reminders {
        mailer: Mailer::from_env(env, &aws).await?,
        requirements: DynamoRequirements::reader(table.clone()),
        digests: DynamoDigests::new(table.clone()),
        badges: DynamoBadges::new(table, None),
        rules: BadgeRules::shipped(),
        metrics_namespace: platform::metrics::namespace(env),
    })
}

/// What one kind of reminder did in a run.
#[derive(Debug, Default, serde::Serialize)]
pub struct Tally {
    pub candidates: u64,
    pub sent: u64,
    /// Sent (or refused) by an earlier run.
    pub already: u64,
    /// Turned off, suppressed, or nothing to say.
    pub skipped: u64,
    /// The providers could not take it now: the next run tries again.
    pub deferred: u64,
    pub failed: u64,
    pub truncated: bool,
}

impl Reminders {
    async fn send(
        &self,
        tally: &mut Tally,
        notice: Option<Notice>,
        to: &ContractorId,
    ) -> Result<(), BoxError> {
        tally.candidates += 1;
        let Some(notice) = notice else {
            tally.skipped += 1;
            return Ok(());
        };
        match self.mailer.deliver(&notice, to).await {
            Ok(Delivery::Sent { .. }) => tally.sent += 1,
            Ok(Delivery::AlreadyHandled) => tally.already += 1,
            Ok(Delivery::Skipped(_)) => tally.skipped += 1,
            Ok(Delivery::Failed) => tally.failed += 1,
            Err(MailError::Provider(e)) => {
                tracing::warn!(notification_id = %notice.id, error = %e, "no provider could take the reminder; the next run tries again");
                tally.deferred += 1;
            }
            Err(MailError::Repo(e)) => return Err(e.into()),
        }
        Ok(())
    }

    async fn expiring(
        &self,
        now: DateTime<Utc>,
        only: Option<&ContractorId>,
    ) -> Result<Tally, BoxError> {
        let today = now.date_naive();
        let last = today + Days::new(reminders::EXPIRY_DAYS[1] as u64);
        let (found, truncated) = self.requirements.expiring_between(today, last, CAP).await?;
        let mut tally = Tally {
            truncated,
            ..Tally::default()
        };
        for (contractor, requirement) in found {
            if only.is_some_and(|o| *o != contractor)
                || requirement.state() != RequirementState::Verified
            {
                continue;
            }
            let Some(until) = requirement.valid_until() else {
                continue;
            };
            let notice = reminders::expiring(contractor.as_str(), &requirement.name, until, today);
            self.send(&mut tally, notice, &contractor).await?;
        }
        Ok(tally)
    }

    async fn idle_drafts(
        &self,
        now: DateTime<Utc>,
        only: Option<&ContractorId>,
    ) -> Result<Tally, BoxError> {
        let from = now - chrono::Duration::days(LOOKBACK_DAYS);
        let to = now - chrono::Duration::days(reminders::IDLE_DAYS[1]);
        let (found, truncated) = self
            .mailer
            .contractors
            .changed_between(Status::Draft, from, to, CAP)
            .await?;
        let mut tally = Tally {
            truncated,
            ..Tally::default()
        };
        for c in found
            .iter()
            .filter(|c: &&Contractor| only.is_none_or(|o| *o == c.id))
        {
            let notice = reminders::idle_draft(c.id.as_str(), c.updated_at, now);
            self.send(&mut tally, notice, &c.id).await?;
        }
        Ok(tally)
    }

    async fn unresolved_errors(
        &self,
        now: DateTime<Utc>,
        only: Option<&ContractorId>,
    ) -> Result<Tally, BoxError> {
        let from = now - chrono::Duration::days(LOOKBACK_DAYS);
        let to = now - chrono::Duration::days(reminders::ERRORS_DAYS);
        let (found, truncated) = self
            .requirements
            .errors_decided_between(from, to, CAP)
            .await?;
        let mut tally = Tally {
            truncated,
            ..Tally::default()
        };
        for (contractor, requirement) in found {
            if only.is_some_and(|o| *o != contractor)
                || requirement.state() != RequirementState::Errors
            {
                continue;
            }
            let Some(since) = requirement.decided_at() else {
                continue;
            };
            let reasons = requirement
                .findings()
                .into_iter()
                .map(|f| (f.code.clone(), f.message.clone()))
                .collect();
            let notice = reminders::unresolved_errors(
                contractor.as_str(),
                &requirement.name,
                since,
                reasons,
                now,
            );
            self.send(&mut tally, notice, &contractor).await?;
        }
        Ok(tally)
    }

    async fn digests(
        &self,
        now: DateTime<Utc>,
        only: Option<&ContractorId>,
    ) -> Result<Tally, BoxError> {
        let day = now.date_naive() - Days::new(1);
        let mut by_contractor: BTreeMap<ContractorId, Vec<String>> = BTreeMap::new();
        for earned in self.digests.of_day(day).await? {
            if only.is_none_or(|o| *o == earned.contractor_id) {
                by_contractor
                    .entry(earned.contractor_id)
                    .or_default()
                    .push(earned.badge);
            }
        }
        let mut tally = Tally::default();
        for (contractor, earned) in by_contractor {
            // Only what is still held (a standing badge may have been lost since).
            let held = self.badges.held(&contractor).await?;
            let badges = earned
                .iter()
                .filter(|b| held.iter().any(|h| &h.badge == *b && h.held))
                .filter_map(|b| self.rules.badges.iter().find(|r| &r.id == b))
                .map(|r| DigestBadge {
                    id: r.id.clone(),
                    en: r.title.en.clone(),
                    es: r.title.es.clone(),
                })
                .collect();
            let notice = reminders::badge_digest(contractor.as_str(), day, badges);
            self.send(&mut tally, notice, &contractor).await?;
        }
        Ok(tally)
    }
}

impl ScheduledJob for Reminders {
    const NAME: &'static str = "notifications-reminders";

    async fn run(&self, event: &EventBridgeEvent<Value>) -> Result<Value, BoxError> {
        let now = event.time.unwrap_or_else(Utc::now);
        let only = event.detail["contractor_id"]
            .as_str()
            .and_then(ContractorId::parse);
        let only = only.as_ref();
        let expiring = self.expiring(now, only).await?;
        let idle = self.idle_drafts(now, only).await?;
        let errors = self.unresolved_errors(now, only).await?;
        let digests = self.digests(now, only).await?;
        let mut metrics = Metrics::new(&self.metrics_namespace, Self::NAME);
        for (name, t) in [
            ("Expiring", &expiring),
            ("IdleDraft", &idle),
            ("UnresolvedErrors", &errors),
            ("BadgeDigest", &digests),
        ] {
            metrics
                .add(
                    &format!("{name}Sent"),
                    platform::metrics::Unit::Count,
                    t.sent as f64,
                )
                .add(
                    &format!("{name}Deferred"),
                    platform::metrics::Unit::Count,
                    t.deferred as f64,
                );
            if t.truncated {
                metrics.count(&format!("{name}Truncated"));
                tracing::warn!(
                    kind = name,
                    cap = CAP,
                    "more candidates than one run reads; the next run continues"
                );
            }
        }
        metrics.flush();
        Ok(json!({
            "now": now,
            "expiring": expiring,
            "idle_drafts": idle,
            "unresolved_errors": errors,
            "badge_digests": digests,
        }))
    }
}
