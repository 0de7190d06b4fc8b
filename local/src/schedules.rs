//! Schedule events: timers that invoke functions as EventBridge would, plus on-demand firing
//! (`POST /_local/schedules/{Function}/{Event}`) so tests need not wait for the clock.

use std::sync::Arc;

use chrono::Utc;
use platform::BoxError;
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::RunnerError;
use crate::functions::LoadedFunction;
use crate::model::ScheduleDef;
use crate::resolve::{ACCOUNT_ID, REGION};
use crate::schedule_expression::{Expression, parse};

struct Entry {
    def: ScheduleDef,
    expression: Expression,
    function: Arc<LoadedFunction>,
}

#[derive(Default)]
pub struct Schedules {
    entries: Vec<Entry>,
}

impl Schedules {
    pub fn new(defs: Vec<(ScheduleDef, Arc<LoadedFunction>)>) -> Result<Schedules, RunnerError> {
        let entries = defs
            .into_iter()
            .map(|(def, function)| {
                Ok(Entry {
                    expression: parse(&def.expression)?,
                    def,
                    function,
                })
            })
            .collect::<Result<_, RunnerError>>()?;
        Ok(Schedules { entries })
    }

    pub fn describe(&self) -> Value {
        let now = Utc::now();
        json!(
            self.entries
                .iter()
                .map(|e| json!({
                    "function": e.def.function,
                    "event": e.def.name,
                    "expression": e.def.expression,
                    "enabled": e.def.enabled,
                    "next": e.expression.next_after(now, now).map(|t| t.to_rfc3339()),
                    "fire": format!("POST /_local/schedules/{}/{}", e.def.function, e.def.name),
                }))
                .collect::<Vec<_>>()
        )
    }

    /// The payload EventBridge sends: the event's `Input` if it has one, else a
    /// "Scheduled Event".
    fn payload(entry: &Entry) -> Value {
        if let Some(input) = &entry.def.input {
            return input.clone();
        }
        json!({
            "version": "0",
            "id": ulid::Ulid::new().to_string().to_lowercase(),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": ACCOUNT_ID,
            "time": Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "region": REGION,
            "resources": [format!("arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{}-{}", entry.def.function, entry.def.name)],
            "detail": {},
        })
    }

    /// Fires one schedule now; `None` if there is no such schedule.
    pub async fn fire(&self, function: &str, event: &str) -> Option<Result<Value, BoxError>> {
        let entry = self
            .entries
            .iter()
            .find(|e| e.def.function == function && e.def.name == event)?;
        Some(entry.function.invoke(Self::payload(entry)).await)
    }

    /// One timer task per enabled schedule.
    pub fn spawn_timers(self: &Arc<Self>) -> Vec<JoinHandle<()>> {
        (0..self.entries.len())
            .filter(|i| self.entries[*i].def.enabled)
            .map(|i| {
                let this = self.clone();
                tokio::spawn(async move {
                    let entry = &this.entries[i];
                    let origin = Utc::now();
                    loop {
                        let now = Utc::now();
                        let Some(next) = entry.expression.next_after(now, origin) else { return };
                        let wait = (next - now).to_std().unwrap_or_default();
                        tokio::time::sleep(wait).await;
                        match entry.function.invoke(Self::payload(entry)).await {
                            Ok(_) => tracing::info!(function = %entry.def.function, event = %entry.def.name, "schedule fired"),
                            Err(e) => tracing::warn!(function = %entry.def.function, event = %entry.def.name, error = %e, "scheduled invocation failed"),
                        }
                    }
                })
            })
            .collect()
    }
}
