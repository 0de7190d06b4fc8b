//! Daily re-check: verified evidence whose date has passed (a policy's or a license's expiry,
//! a reviewer's waiver) becomes an `expiry` error on its requirement, which the standing
//! consumer turns into a suspension. Reads the sparse expiry index (GSI1), so it touches only
//! what has lapsed; the day is the schedule's tick (`time`), so a late or repeated run
//! records the same results once. An operator (or a test) can re-check one contractor now by
//! invoking it with `detail: {"contractor_id": "ctr_…"}`.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use platform::schedule::ScheduledJob;
use platform::{BoxError, Env};
use serde_json::{Value, json};

pub struct Recheck {
    pub verification: store::Verification,
    pub metrics_namespace: String,
}

pub async fn build(env: &Env) -> Result<Recheck, BoxError> {
    let aws = platform::aws::Aws::load(env).await;
    Ok(Recheck {
        verification: store::verification(env, &aws)?,
        metrics_namespace: platform::metrics::namespace(env),
    })
}

/// Pages per run; what is left is found by the next run.
const MAX_PAGES: usize = 20;

impl ScheduledJob for Recheck {
    const NAME: &'static str = "verification-recheck";

    async fn run(&self, event: &EventBridgeEvent<Value>) -> Result<Value, BoxError> {
        let today = event
            .time
            .unwrap_or_else(|| self.verification.now())
            .date_naive();
        let correlation_id = event.id.clone().unwrap_or_default();
        let (mut lapsed, mut seen) = (0u64, 0u64);
        let only = event.detail["contractor_id"]
            .as_str()
            .and_then(domain::ids::ContractorId::parse);
        for _ in 0..MAX_PAGES {
            let page = match &only {
                Some(id) => self
                    .verification
                    .requirements
                    .all_of(id)
                    .await?
                    .into_iter()
                    .map(|r| (id.clone(), r))
                    .collect(),
                None => {
                    self.verification
                        .requirements
                        .lapsed_before(today, 100)
                        .await?
                }
            };
            if page.is_empty() {
                break;
            }
            let mut progressed = false;
            for (contractor, requirement) in page {
                seen += 1;
                let Some(result) = requirement.lapse(today, self.verification.now()) else {
                    continue;
                };
                if self
                    .verification
                    .record(
                        &contractor,
                        &requirement.name,
                        &[],
                        &result,
                        &correlation_id,
                    )
                    .await?
                    .is_some()
                {
                    lapsed += 1;
                    progressed = true;
                    tracing::info!(contractor_id = %contractor, requirement = %requirement.name, "evidence lapsed");
                }
            }
            // Nothing on this page changed (all already recorded): the rest waits for a
            // later run rather than spinning here.
            if !progressed || only.is_some() {
                break;
            }
        }
        platform::metrics::emit_count(
            &self.metrics_namespace,
            Self::NAME,
            "EvidenceLapsed",
            lapsed,
        );
        Ok(json!({"today": today, "seen": seen, "lapsed": lapsed}))
    }
}
