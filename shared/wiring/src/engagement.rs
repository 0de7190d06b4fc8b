//! What the engagement API functions share: the onboarding service (to read the contractor a
//! route names, as its owner or staff), the activity feed, badge holdings, realtime tickets
//! and the badge rules; and the achievements view the app shows.

use chrono::{DateTime, Utc};
use domain::contractor::Contractor;
use domain::engagement::badges::{BadgeRules, Holding, Lang};
use domain::engagement::facts::Facts;
use domain::engagement::progress;
use platform::aws::Aws;
use platform::{BoxError, Env};
use serde_json::{Value, json};
use store::{DynamoBadges, DynamoFeed, DynamoTickets, Table};

use crate::Api;

pub struct Engagement {
    pub api: Api,
    pub feed: DynamoFeed,
    pub tickets: DynamoTickets,
    pub badges: DynamoBadges,
    pub rules: BadgeRules,
}

impl Engagement {
    pub async fn from_env(env: &Env) -> Result<(Engagement, Aws), BoxError> {
        let (api, aws) = Api::from_env(env).await?;
        let table = Table::from_env(env, &aws)?;
        Ok((
            Engagement {
                api,
                feed: DynamoFeed::new(table.clone()),
                tickets: DynamoTickets::new(table.clone()),
                // Reads only: awarding (and publishing) is the badges consumer's.
                badges: DynamoBadges::new(table, None),
                rules: BadgeRules::shipped(),
            },
            aws,
        ))
    }

    /// The state badges and the ring are decided from.
    pub fn facts(&self, c: &Contractor) -> Facts {
        Facts::of(c, &self.api.service.requirements(c))
    }
}

/// Badges earned (with when), badges still open, the ring and the next action, in `lang`.
pub fn achievements(
    rules: &BadgeRules,
    facts: &Facts,
    held: &[Holding],
    lang: Lang,
    now: DateTime<Utc>,
) -> Value {
    let mut earned = Vec::new();
    let mut open = Vec::new();
    for badge in &rules.badges {
        let base = json!({
            "id": badge.id,
            "kind": badge.kind,
            "title": badge.title.get(lang),
            "description": badge.description.get(lang),
        });
        match held.iter().find(|h| h.badge == badge.id && h.held) {
            Some(h) => {
                let mut b = base;
                b["earned_at"] = json!(h.earned_at);
                earned.push(b);
            }
            None => {
                let mut b = base;
                if let Some(h) = held.iter().find(|h| h.badge == badge.id) {
                    b["revoked_at"] = json!(h.revoked_at);
                }
                open.push(b);
            }
        }
    }
    let ring = progress::ring(rules, facts, lang);
    json!({
        "rules_version": rules.version,
        "language": lang,
        "progress": {"percent": ring.percent, "next_action": ring.next_action},
        "badges": {"earned": earned, "open": open},
        "as_of": now,
    })
}
