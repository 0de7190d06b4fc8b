//! The verification use cases over ports: recording a result on a requirement (read, apply,
//! write conditionally with its `requirement.updated` event, re-read on a concurrent write),
//! handing evidence to a reviewer, a reviewer claiming an item, and the provider-call policy
//! every consumer of an outside provider follows (breaker gate → call → success or failure
//! counted → a reviewer when the provider can't answer). Time comes from a [`Clock`], so
//! expiry, breaker and retry behaviour is tested without waiting.

use std::future::Future;

use chrono::{DateTime, Utc};

use crate::breaker::{Breaker, BreakerSettings, BreakerState, Permit};
use crate::events::{DomainEvent, Event, RequirementClaimed, RequirementUpdated};
use crate::ids::ContractorId;
use crate::ports::RepoError;
use crate::verification::{
    ClaimError, Outcome, Recorded, Requirement, RequirementState, VerificationResult,
};

/// What time it is. Production reads the system clock; tests move a fixed one.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Where requirement items live: read with their version (0: never written), written only
/// if the stored version is still the one read, together with their events.
pub trait RequirementRepository: Send + Sync + 'static {
    fn get(
        &self,
        contractor: &ContractorId,
        name: &str,
    ) -> impl Future<Output = Result<Option<(Requirement, u64)>, RepoError>> + Send;
    fn save(
        &self,
        contractor: &ContractorId,
        requirement: &Requirement,
        read_version: u64,
        events: &[DomainEvent],
    ) -> impl Future<Output = Result<(), RepoError>> + Send;
}

/// Where each provider's breaker lives: read with its version, written conditionally.
pub trait BreakerRepository: Send + Sync + 'static {
    fn get(&self, provider: &str) -> impl Future<Output = Result<Breaker, RepoError>> + Send;
    /// Stores `breaker` if the stored one is still at `read_version` (nothing to do when
    /// the breaker did not change).
    fn save(
        &self,
        breaker: &Breaker,
        read_version: u64,
    ) -> impl Future<Output = Result<(), RepoError>> + Send;
}

/// How many times a write is tried again after a concurrent one.
const WRITE_TRIES: usize = 3;

/// The requirement use cases.
#[derive(Clone, Debug)]
pub struct Verifying<R, C = SystemClock> {
    pub requirements: R,
    pub clock: C,
}

/// Why a claim was refused.
#[derive(Debug, thiserror::Error)]
pub enum ClaimFailure {
    #[error("no such requirement")]
    NotFound,
    #[error(transparent)]
    Refused(#[from] ClaimError),
    /// Another write landed between our read and our write: reload and try again.
    #[error("the requirement changed meanwhile")]
    ChangedMeanwhile,
    #[error(transparent)]
    Repo(RepoError),
}

impl<R: RequirementRepository, C: Clock> Verifying<R, C> {
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Records `result` on the contractor's requirement `name` (created with `sources` if
    /// new) and publishes `requirement.updated`; re-reads and retries on a concurrent write.
    /// `None` when the result was a duplicate or for older evidence (nothing changed).
    pub async fn record(
        &self,
        contractor: &ContractorId,
        name: &str,
        sources: &[&str],
        result: &VerificationResult,
        correlation_id: &str,
    ) -> Result<Option<RequirementState>, RepoError> {
        for _ in 0..WRITE_TRIES {
            let (mut requirement, version) = self
                .requirements
                .get(contractor, name)
                .await?
                .unwrap_or_else(|| (Requirement::new(name, sources), 0));
            if requirement.record(result.clone()) != Recorded::Applied {
                return Ok(None);
            }
            let state = requirement.state();
            let updated = updated_event(
                contractor,
                &requirement,
                version + 1,
                &result.source,
                self.clock.now(),
                correlation_id,
            );
            match self
                .requirements
                .save(contractor, &requirement, version, &[updated])
                .await
            {
                Ok(()) => return Ok(Some(state)),
                Err(RepoError::VersionConflict) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(RepoError::VersionConflict)
    }

    /// Hands the requirement's current evidence to a reviewer: records `source`'s manual-
    /// review result with `reason` (one per `key` and evidence version, so a retry records
    /// it once).
    pub async fn send_to_review(
        &self,
        handover: &Handover<'_>,
        reason: &str,
    ) -> Result<(), RepoError> {
        let result = VerificationResult {
            id: format!(
                "review-needed:{}:{}:{}",
                handover.source, handover.key, handover.evidence_version
            ),
            source: handover.source.to_owned(),
            evidence_version: handover.evidence_version,
            outcome: Outcome::ManualReview {
                reason: reason.to_owned(),
            },
            at: self.clock.now(),
            evidence: serde_json::json!({"reason": reason}),
            valid_until: None,
        };
        self.record(
            handover.contractor,
            handover.requirement,
            handover.sources,
            &result,
            handover.correlation_id,
        )
        .await
        .map(|_| ())
    }

    /// `reviewer` takes the manual-review item for `lease`, publishing `requirement.claimed`.
    pub async fn claim(
        &self,
        contractor: &ContractorId,
        name: &str,
        reviewer: &str,
        lease: chrono::Duration,
        correlation_id: &str,
    ) -> Result<Requirement, ClaimFailure> {
        let now = self.clock.now();
        let (mut requirement, version) = self
            .requirements
            .get(contractor, name)
            .await
            .map_err(ClaimFailure::Repo)?
            .ok_or(ClaimFailure::NotFound)?;
        requirement.take_claim(reviewer, now, lease)?;
        let claimed = DomainEvent::new(
            contractor,
            now,
            correlation_id,
            Event::RequirementClaimed(RequirementClaimed {
                requirement_version: version + 1,
                requirement: name.to_owned(),
                reviewer: reviewer.to_owned(),
                until: requirement.claim.as_ref().map(|c| c.until),
            }),
        );
        match self
            .requirements
            .save(contractor, &requirement, version, &[claimed])
            .await
        {
            Ok(()) => Ok(requirement),
            Err(RepoError::VersionConflict) => Err(ClaimFailure::ChangedMeanwhile),
            Err(e) => Err(ClaimFailure::Repo(e)),
        }
    }
}

/// `requirement.updated` for `requirement` as written at `requirement_version`, after a
/// result from `source`.
pub fn updated_event(
    contractor: &ContractorId,
    requirement: &Requirement,
    requirement_version: u64,
    source: &str,
    now: DateTime<Utc>,
    correlation_id: &str,
) -> DomainEvent {
    DomainEvent::new(
        contractor,
        now,
        correlation_id,
        Event::RequirementUpdated(RequirementUpdated {
            requirement_version,
            requirement: requirement.name.clone(),
            state: requirement.state(),
            evidence_version: requirement.evidence_version,
            findings: requirement.findings().into_iter().cloned().collect(),
            source: source.to_owned(),
        }),
    )
}

/// Whose evidence goes to a reviewer, and in whose name.
#[derive(Clone, Copy, Debug)]
pub struct Handover<'a> {
    pub contractor: &'a ContractorId,
    /// The requirement (`insurance`, `license`, …) and its sources if it is new.
    pub requirement: &'a str,
    pub sources: &'a [&'a str],
    /// The source whose verdict the reviewer gives instead.
    pub source: &'a str,
    /// What the hand-over is about (a document id): one hand-over per key and version.
    pub key: &'a str,
    pub evidence_version: u32,
    pub correlation_id: &'a str,
}

/// What a provider call gave, once the policy has been applied. Both `Refused` and
/// `Unavailable` mean a reviewer takes the work now.
#[derive(Debug, PartialEq, Eq)]
pub enum Call<T, E> {
    Answered(T),
    /// The provider understood the request and refused it; it is healthy.
    Refused(E),
    /// The provider can't answer now (breaker open, or the failure that opened it).
    Unavailable(String),
}

/// Why a provider call must be tried again later (the message is retried with backoff).
#[derive(Debug, thiserror::Error)]
pub enum CallError<E: std::error::Error + 'static> {
    /// The provider failed; the breaker is still closed.
    #[error(transparent)]
    Provider(E),
    /// Another instance is probing the provider after a cool-down.
    #[error("another instance is probing {0}; try again later")]
    Busy(String),
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// How a provider error counts for the policy.
pub trait ProviderFailure: std::error::Error + Send + Sync + 'static {
    /// The provider understood and refused this request (bad input, unsupported document):
    /// retrying won't help and the provider is healthy.
    fn is_refusal(&self) -> bool;
    /// How long the provider asked us to wait (a 429's `Retry-After`), if it said.
    fn retry_after(&self) -> Option<std::time::Duration> {
        None
    }
}

impl<E: ProviderFailure> CallError<E> {
    /// How long to wait before the next try, when the provider said.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            CallError::Provider(e) => e.retry_after(),
            CallError::Busy(_) | CallError::Repo(_) => None,
        }
    }
}

/// One provider's circuit breaker as every function instance shares it: asked before a
/// call, told the outcome after.
#[derive(Clone, Debug)]
pub struct ProviderGuard<B> {
    pub breakers: B,
    pub provider: String,
    pub settings: BreakerSettings,
}

/// What the breaker says before a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Gate {
    Call,
    Refused(String),
    /// Another instance holds the probe.
    Busy,
}

impl<B: BreakerRepository> ProviderGuard<B> {
    pub fn new(breakers: B, provider: &str, settings: BreakerSettings) -> Self {
        ProviderGuard {
            breakers,
            provider: provider.to_owned(),
            settings,
        }
    }

    pub async fn gate(&self, now: DateTime<Utc>) -> Result<Gate, RepoError> {
        let mut breaker = self.breakers.get(&self.provider).await?;
        let read = breaker.version;
        if let Permit::Refuse { reason, .. } = breaker.permit(now, &self.settings) {
            return Ok(Gate::Refused(reason));
        }
        match self.breakers.save(&breaker, read).await {
            Ok(()) => Ok(Gate::Call),
            Err(RepoError::VersionConflict) => Ok(Gate::Busy),
            Err(e) => Err(e),
        }
    }

    pub async fn succeeded(&self) -> Result<(), RepoError> {
        self.update(|b| b.succeeded()).await.map(|_| ())
    }

    /// Counts a failure; `true` when the breaker is now open.
    pub async fn failed(&self, now: DateTime<Utc>, reason: &str) -> Result<bool, RepoError> {
        let breaker = self
            .update(|b| b.failed(now, reason, &self.settings))
            .await?;
        Ok(matches!(breaker.state, BreakerState::Open { .. }))
    }

    /// Applies `change` to the breaker as stored now (re-reading on a concurrent write, so
    /// every outcome counts).
    async fn update(&self, change: impl Fn(&mut Breaker)) -> Result<Breaker, RepoError> {
        for _ in 0..5 {
            let mut breaker = self.breakers.get(&self.provider).await?;
            let read = breaker.version;
            change(&mut breaker);
            match self.breakers.save(&breaker, read).await {
                Ok(()) => return Ok(breaker),
                Err(RepoError::VersionConflict) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(RepoError::VersionConflict)
    }

    /// Calls the provider under the policy: no call while the breaker refuses (the reason
    /// goes to a reviewer); a refusal by the provider goes to a reviewer without counting
    /// against it; any other failure counts, and is retried later unless it opened the
    /// breaker, in which case a reviewer takes the work now.
    pub async fn call<T, E, F>(
        &self,
        now: DateTime<Utc>,
        call: F,
    ) -> Result<Call<T, E>, CallError<E>>
    where
        E: ProviderFailure,
        F: Future<Output = Result<T, E>>,
    {
        match self.gate(now).await? {
            Gate::Call => {}
            Gate::Refused(reason) => return Ok(Call::Unavailable(reason)),
            Gate::Busy => return Err(CallError::Busy(self.provider.clone())),
        }
        match call.await {
            Ok(answer) => {
                self.succeeded().await?;
                Ok(Call::Answered(answer))
            }
            Err(e) if e.is_refusal() => Ok(Call::Refused(e)),
            Err(e) => {
                if self.failed(now, &e.to_string()).await? {
                    Ok(Call::Unavailable(e.to_string()))
                } else {
                    Err(CallError::Provider(e))
                }
            }
        }
    }
}

/// In-memory adapters for unit tests of this context and its consumers (the `testing`
/// feature lends them to other crates' tests).
#[cfg(any(test, feature = "testing"))]
pub mod memory {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use super::*;

    /// A clock tests set and move.
    #[derive(Debug)]
    pub struct FixedClock(pub Mutex<DateTime<Utc>>);

    impl FixedClock {
        pub fn at(t: DateTime<Utc>) -> Self {
            FixedClock(Mutex::new(t))
        }
        pub fn advance(&self, by: chrono::Duration) {
            *self.0.lock().expect("clock") += by;
        }
    }

    impl Clock for FixedClock {
        fn now(&self) -> DateTime<Utc> {
            *self.0.lock().expect("clock")
        }
    }

    impl<T: Clock> Clock for std::sync::Arc<T> {
        fn now(&self) -> DateTime<Utc> {
            (**self).now()
        }
    }

    /// Requirement items with versions, and every event saved with them. `conflicts` makes
    /// the next saves fail as if someone wrote first.
    #[derive(Debug, Default)]
    pub struct MemoryRequirements {
        pub items: Mutex<HashMap<(ContractorId, String), (Requirement, u64)>>,
        pub events: Mutex<Vec<DomainEvent>>,
        pub conflicts: Mutex<u32>,
    }

    impl RequirementRepository for std::sync::Arc<MemoryRequirements> {
        async fn get(
            &self,
            contractor: &ContractorId,
            name: &str,
        ) -> Result<Option<(Requirement, u64)>, RepoError> {
            Ok(self
                .items
                .lock()
                .expect("items")
                .get(&(contractor.clone(), name.to_owned()))
                .cloned())
        }

        async fn save(
            &self,
            contractor: &ContractorId,
            requirement: &Requirement,
            read_version: u64,
            events: &[DomainEvent],
        ) -> Result<(), RepoError> {
            {
                let mut conflicts = self.conflicts.lock().expect("conflicts");
                if *conflicts > 0 {
                    *conflicts -= 1;
                    return Err(RepoError::VersionConflict);
                }
            }
            let mut items = self.items.lock().expect("items");
            let key = (contractor.clone(), requirement.name.clone());
            let stored = items.get(&key).map(|(_, v)| *v).unwrap_or(0);
            if stored != read_version {
                return Err(RepoError::VersionConflict);
            }
            items.insert(key, (requirement.clone(), read_version + 1));
            self.events
                .lock()
                .expect("events")
                .extend_from_slice(events);
            Ok(())
        }
    }

    /// Breakers by provider.
    #[derive(Debug, Default)]
    pub struct MemoryBreakers(pub Mutex<HashMap<String, Breaker>>);

    impl BreakerRepository for std::sync::Arc<MemoryBreakers> {
        async fn get(&self, provider: &str) -> Result<Breaker, RepoError> {
            Ok(self
                .0
                .lock()
                .expect("breakers")
                .get(provider)
                .cloned()
                .unwrap_or_else(|| Breaker::new(provider)))
        }

        async fn save(&self, breaker: &Breaker, read_version: u64) -> Result<(), RepoError> {
            if breaker.version == read_version {
                return Ok(());
            }
            let mut all = self.0.lock().expect("breakers");
            let stored = all.get(&breaker.provider).map(|b| b.version).unwrap_or(0);
            if stored != read_version {
                return Err(RepoError::VersionConflict);
            }
            all.insert(breaker.provider.clone(), breaker.clone());
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::memory::*;
    use super::*;
    use crate::verification::{Finding, INSURANCE, INSURANCE_SOURCES, TRUSTLAYER};

    fn t0() -> DateTime<Utc> {
        "2026-12-01T10:00:00Z".parse().unwrap()
    }

    fn service() -> Verifying<Arc<MemoryRequirements>, Arc<FixedClock>> {
        Verifying {
            requirements: Arc::new(MemoryRequirements::default()),
            clock: Arc::new(FixedClock::at(t0())),
        }
    }

    fn result(id: &str, source: &str, version: u32, outcome: Outcome) -> VerificationResult {
        VerificationResult {
            id: id.into(),
            source: source.into(),
            evidence_version: version,
            outcome,
            at: t0(),
            evidence: serde_json::Value::Null,
            valid_until: None,
        }
    }

    #[tokio::test]
    async fn a_result_is_recorded_once_with_its_event_and_older_evidence_changes_nothing() {
        let s = service();
        let c = ContractorId::generate();
        let errors = Outcome::Errors {
            findings: vec![Finding {
                code: "coverage_too_low".into(),
                message: "m".into(),
            }],
        };
        let state = s
            .record(
                &c,
                INSURANCE,
                &INSURANCE_SOURCES,
                &result("r1", "rules", 2, errors),
                "corr",
            )
            .await
            .unwrap();
        assert_eq!(state, Some(RequirementState::Errors));
        let again = s
            .record(
                &c,
                INSURANCE,
                &INSURANCE_SOURCES,
                &result("r1", "rules", 2, Outcome::Verified),
                "corr",
            )
            .await
            .unwrap();
        assert_eq!(again, None, "the same result id is a duplicate");
        let older = s
            .record(
                &c,
                INSURANCE,
                &INSURANCE_SOURCES,
                &result("r0", "rules", 1, Outcome::Verified),
                "corr",
            )
            .await
            .unwrap();
        assert_eq!(older, None, "older evidence changes nothing");

        let events = s.requirements.events.lock().unwrap().clone();
        assert_eq!(events.len(), 1);
        let Event::RequirementUpdated(updated) = &events[0].event else {
            panic!("{:?}", events[0]);
        };
        assert_eq!(updated.requirement_version, 1);
        assert_eq!(updated.state, RequirementState::Errors);
        assert_eq!(updated.findings[0].code, "coverage_too_low");
        assert_eq!(updated.source, "rules");
        assert_eq!(events[0].occurred_at, t0(), "time comes from the clock");
    }

    #[tokio::test]
    async fn a_concurrent_write_is_re_read_and_retried_then_given_up() {
        let s = service();
        let c = ContractorId::generate();
        *s.requirements.conflicts.lock().unwrap() = 2;
        let state = s
            .record(
                &c,
                INSURANCE,
                &INSURANCE_SOURCES,
                &result("a", "rules", 1, Outcome::Verified),
                "x",
            )
            .await
            .unwrap();
        assert_eq!(
            state,
            Some(RequirementState::PendingVerification),
            "the provider has not answered"
        );
        *s.requirements.conflicts.lock().unwrap() = 3;
        let err = s
            .record(
                &c,
                INSURANCE,
                &INSURANCE_SOURCES,
                &result("b", TRUSTLAYER, 1, Outcome::Verified),
                "x",
            )
            .await
            .unwrap_err();
        assert!(matches!(err, RepoError::VersionConflict));
    }

    #[tokio::test]
    async fn a_handover_is_recorded_once_per_key_and_version() {
        let s = service();
        let c = ContractorId::generate();
        let handover = Handover {
            contractor: &c,
            requirement: INSURANCE,
            sources: &INSURANCE_SOURCES,
            source: TRUSTLAYER,
            key: "doc_1",
            evidence_version: 1,
            correlation_id: "x",
        };
        s.send_to_review(&handover, "provider down").await.unwrap();
        s.send_to_review(&handover, "provider down").await.unwrap();
        let (r, version) = s.requirements.get(&c, INSURANCE).await.unwrap().unwrap();
        assert_eq!(version, 1, "the second hand-over was a duplicate");
        assert_eq!(r.state(), RequirementState::ManualReview);
    }

    #[tokio::test]
    async fn a_claim_lapses_with_the_clock_and_another_reviewer_may_take_it() {
        let s = service();
        let c = ContractorId::generate();
        assert!(matches!(
            s.claim(&c, INSURANCE, "r1", chrono::Duration::minutes(30), "x")
                .await,
            Err(ClaimFailure::NotFound)
        ));
        s.send_to_review(
            &Handover {
                contractor: &c,
                requirement: INSURANCE,
                sources: &INSURANCE_SOURCES,
                source: TRUSTLAYER,
                key: "doc_1",
                evidence_version: 1,
                correlation_id: "x",
            },
            "why",
        )
        .await
        .unwrap();
        let lease = chrono::Duration::minutes(30);
        s.claim(&c, INSURANCE, "r1", lease, "x").await.unwrap();
        assert!(matches!(
            s.claim(&c, INSURANCE, "r2", lease, "x").await,
            Err(ClaimFailure::Refused(ClaimError::ClaimedByOther { .. }))
        ));
        s.clock.advance(chrono::Duration::minutes(31));
        let taken = s.claim(&c, INSURANCE, "r2", lease, "x").await.unwrap();
        assert_eq!(taken.claim.unwrap().reviewer, "r2");
        let kinds: Vec<&str> = s
            .requirements
            .events
            .lock()
            .unwrap()
            .iter()
            .map(|e| e.kind())
            .collect();
        assert_eq!(
            kinds,
            [
                "requirement.updated",
                "requirement.claimed",
                "requirement.claimed"
            ]
        );
    }

    #[derive(Debug, PartialEq, Eq, thiserror::Error)]
    enum Fake {
        #[error("refused: bad document")]
        Refused,
        #[error("503 from provider")]
        Down,
    }

    impl ProviderFailure for Fake {
        fn is_refusal(&self) -> bool {
            matches!(self, Fake::Refused)
        }
    }

    fn guard() -> ProviderGuard<Arc<MemoryBreakers>> {
        ProviderGuard::new(
            Arc::new(MemoryBreakers::default()),
            "trustlayer",
            BreakerSettings {
                failure_threshold: 3,
                cool_down: chrono::Duration::minutes(5),
                probe_timeout: chrono::Duration::minutes(1),
            },
        )
    }

    #[tokio::test]
    async fn failures_are_retried_until_the_breaker_opens_then_reviewers_get_the_work() {
        let g = guard();
        let clock = FixedClock::at(t0());
        for _ in 0..2 {
            let out = g
                .call(clock.now(), async { Err::<(), _>(Fake::Down) })
                .await;
            assert!(
                matches!(out, Err(CallError::Provider(Fake::Down))),
                "retried later"
            );
        }
        let opened = g
            .call(clock.now(), async { Err::<(), _>(Fake::Down) })
            .await
            .unwrap();
        assert!(
            matches!(&opened, Call::Unavailable(r) if r == "503 from provider"),
            "the failure that opens it hands over: {opened:?}"
        );
        let mut called = false;
        let refused = g
            .call(clock.now(), async {
                called = true;
                Ok::<_, Fake>(1)
            })
            .await
            .unwrap();
        assert!(matches!(refused, Call::Unavailable(_)));
        assert!(!called, "no call while the breaker is open");

        // After the cool-down one probe goes through; its success closes the breaker.
        clock.advance(chrono::Duration::minutes(6));
        let probe = g
            .call(clock.now(), async { Ok::<_, Fake>(7) })
            .await
            .unwrap();
        assert!(matches!(probe, Call::Answered(7)));
        let after = g
            .call(clock.now(), async { Ok::<_, Fake>(8) })
            .await
            .unwrap();
        assert!(matches!(after, Call::Answered(8)));
    }

    #[tokio::test]
    async fn a_refusal_goes_to_a_reviewer_without_counting_against_the_provider() {
        let g = guard();
        for _ in 0..5 {
            let out = g
                .call(t0(), async { Err::<(), _>(Fake::Refused) })
                .await
                .unwrap();
            assert!(matches!(out, Call::Refused(Fake::Refused)), "{out:?}");
        }
        let breaker = g.breakers.get("trustlayer").await.unwrap();
        assert_eq!(breaker.state, BreakerState::Closed { failures: 0 });
    }

    #[tokio::test]
    async fn a_probe_held_elsewhere_is_busy_not_a_version_conflict() {
        let g = guard();
        let clock = FixedClock::at(t0());
        for _ in 0..3 {
            let _ = g
                .call(clock.now(), async { Err::<(), _>(Fake::Down) })
                .await;
        }
        clock.advance(chrono::Duration::minutes(6));
        // Another instance takes the probe first.
        assert_eq!(g.gate(clock.now()).await.unwrap(), Gate::Call);
        let out = g.call(clock.now(), async { Ok::<_, Fake>(1) }).await;
        assert!(
            matches!(out, Ok(Call::Unavailable(_)) | Err(CallError::Busy(_))),
            "{out:?}"
        );
    }
}
