//! A circuit breaker per provider, as plain state the store keeps (one item per provider,
//! written conditionally on its version so concurrent functions agree). Closed: calls go
//! through and consecutive failures are counted; at the threshold it opens. Open: no calls
//! until the cool-down ends; then one caller gets the probe (half-open) and its outcome
//! closes or reopens the breaker. A probe that never reports is given up after its timeout.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum BreakerState {
    Closed {
        failures: u32,
    },
    Open {
        until: DateTime<Utc>,
        reason: String,
    },
    HalfOpen {
        probe_since: DateTime<Utc>,
        reason: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BreakerSettings {
    /// Consecutive failures that open the breaker.
    pub failure_threshold: u32,
    pub cool_down: Duration,
    /// How long a probe may take before another caller may probe.
    pub probe_timeout: Duration,
}

impl Default for BreakerSettings {
    fn default() -> Self {
        BreakerSettings {
            failure_threshold: 5,
            cool_down: Duration::minutes(5),
            probe_timeout: Duration::minutes(1),
        }
    }
}

/// What a caller may do now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Permit {
    Call,
    /// The one call that tests whether the provider is back.
    Probe,
    /// No call: send the work to manual review (or wait) with this reason.
    Refuse {
        until: DateTime<Utc>,
        reason: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breaker {
    pub provider: String,
    pub state: BreakerState,
    /// Bumped on every change; the store writes conditionally on it.
    pub version: u64,
}

impl Breaker {
    pub fn new(provider: &str) -> Self {
        Breaker {
            provider: provider.to_owned(),
            state: BreakerState::Closed { failures: 0 },
            version: 0,
        }
    }

    /// Whether to call now; taking the probe changes the state (save it before calling).
    pub fn permit(&mut self, now: DateTime<Utc>, s: &BreakerSettings) -> Permit {
        match &self.state {
            BreakerState::Closed { .. } => Permit::Call,
            BreakerState::Open { until, reason } if now < *until => Permit::Refuse {
                until: *until,
                reason: reason.clone(),
            },
            BreakerState::Open { reason, .. } => {
                let reason = reason.clone();
                self.set(BreakerState::HalfOpen {
                    probe_since: now,
                    reason,
                });
                Permit::Probe
            }
            BreakerState::HalfOpen {
                probe_since,
                reason,
            } if now < *probe_since + s.probe_timeout => Permit::Refuse {
                until: *probe_since + s.probe_timeout,
                reason: reason.clone(),
            },
            BreakerState::HalfOpen { reason, .. } => {
                let reason = reason.clone();
                self.set(BreakerState::HalfOpen {
                    probe_since: now,
                    reason,
                });
                Permit::Probe
            }
        }
    }

    pub fn succeeded(&mut self) {
        if self.state != (BreakerState::Closed { failures: 0 }) {
            self.set(BreakerState::Closed { failures: 0 });
        }
    }

    pub fn failed(&mut self, now: DateTime<Utc>, reason: &str, s: &BreakerSettings) {
        let next = match &self.state {
            BreakerState::Closed { failures } if failures + 1 < s.failure_threshold => {
                BreakerState::Closed {
                    failures: failures + 1,
                }
            }
            // The threshold reached, or the probe failed: open for a cool-down.
            _ => BreakerState::Open {
                until: now + s.cool_down,
                reason: reason.to_owned(),
            },
        };
        self.set(next);
    }

    fn set(&mut self, state: BreakerState) {
        self.state = state;
        self.version += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_795_000_000, 0).unwrap() + Duration::minutes(minutes)
    }

    #[test]
    fn opens_after_consecutive_failures_then_probes_after_the_cool_down() {
        let s = BreakerSettings::default();
        let mut b = Breaker::new("trustlayer");
        for _ in 0..4 {
            assert_eq!(b.permit(at(0), &s), Permit::Call);
            b.failed(at(0), "HTTP 503", &s);
        }
        b.succeeded();
        assert_eq!(
            b.state,
            BreakerState::Closed { failures: 0 },
            "a success resets the count"
        );
        for _ in 0..5 {
            b.failed(at(0), "HTTP 503", &s);
        }
        assert_eq!(
            b.permit(at(1), &s),
            Permit::Refuse {
                until: at(5),
                reason: "HTTP 503".into()
            }
        );
        assert_eq!(
            b.permit(at(5), &s),
            Permit::Probe,
            "cool-down over: one probe"
        );
        assert!(
            matches!(b.permit(at(5), &s), Permit::Refuse { .. }),
            "only one probe at a time"
        );
        b.failed(at(5), "timeout", &s);
        assert!(
            matches!(b.permit(at(6), &s), Permit::Refuse { .. }),
            "a failed probe reopens"
        );
        assert_eq!(b.permit(at(10), &s), Permit::Probe);
        b.succeeded();
        assert_eq!(b.permit(at(10), &s), Permit::Call);
    }

    #[test]
    fn a_probe_that_never_reports_is_retaken_after_its_timeout() {
        let s = BreakerSettings::default();
        let mut b = Breaker::new("plaid");
        for _ in 0..5 {
            b.failed(at(0), "HTTP 500", &s);
        }
        assert_eq!(b.permit(at(5), &s), Permit::Probe);
        let version = b.version;
        assert_eq!(b.permit(at(7), &s), Permit::Probe, "the first prober died");
        assert!(b.version > version, "taking a probe is a write");
    }
}
