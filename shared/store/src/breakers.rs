//! Circuit breaker state per provider (`BREAKER#<provider> / STATE`), written conditionally
//! on its version so every function instance sees one state.

use aws_sdk_dynamodb::types::AttributeValue;
use domain::breaker::Breaker;
use domain::ports::RepoError;

use crate::{Table, keys};

#[derive(Clone, Debug)]
pub struct DynamoBreakers {
    table: Table,
}

impl DynamoBreakers {
    pub fn new(table: Table) -> Self {
        DynamoBreakers { table }
    }

    pub async fn get(&self, provider: &str) -> Result<Breaker, RepoError> {
        Ok(self
            .table
            .get_item(keys::breaker_pk(provider), keys::BREAKER_SK)
            .await?
            .and_then(|item| item.get("breaker").and_then(|v| v.as_s().ok()).cloned())
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_else(|| Breaker::new(provider)))
    }

    /// Writes `breaker` if it changed since it was read at `read_version`.
    pub async fn save(&self, breaker: &Breaker, read_version: u64) -> Result<(), RepoError> {
        if breaker.version == read_version {
            return Ok(());
        }
        let json = serde_json::to_string(breaker).map_err(|e| RepoError::Store(Box::new(e)))?;
        let mut put = self
            .table
            .client
            .put_item()
            .table_name(&self.table.name)
            .item(
                keys::PK,
                AttributeValue::S(keys::breaker_pk(&breaker.provider)),
            )
            .item(keys::SK, AttributeValue::S(keys::BREAKER_SK.to_owned()))
            .item("entity", AttributeValue::S("breaker".into()))
            .item("version", AttributeValue::N(breaker.version.to_string()))
            .item("breaker", AttributeValue::S(json));
        put = if read_version == 0 {
            put.condition_expression("attribute_not_exists(pk)")
        } else {
            put.condition_expression("version = :v")
                .expression_attribute_values(":v", AttributeValue::N(read_version.to_string()))
        };
        match put.send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Err(RepoError::VersionConflict)
            }
            Err(e) => Err(RepoError::Store(crate::failure(&e))),
        }
    }
}

/// What the breaker says before a provider call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Gate {
    /// Call the provider (normally, or as the single probe after the cool-down).
    Call,
    /// Don't call: the provider is failing; the reason says why.
    Refused(String),
    /// Another instance is probing right now: try again later.
    Busy,
}

/// One provider's circuit breaker as every function instance shares it: ask before a call,
/// report its outcome after.
#[derive(Clone, Debug)]
pub struct ProviderGuard {
    pub breakers: DynamoBreakers,
    pub provider: String,
    pub settings: domain::breaker::BreakerSettings,
}

impl ProviderGuard {
    pub fn new(
        table: Table,
        provider: &str,
        env: &platform::Env,
    ) -> Result<Self, platform::ConfigError> {
        Ok(ProviderGuard {
            breakers: DynamoBreakers::new(table),
            provider: provider.to_owned(),
            settings: domain::breaker::BreakerSettings {
                failure_threshold: env.parse_or("BREAKER_FAILURE_THRESHOLD", 5)?,
                cool_down: chrono::Duration::seconds(
                    env.parse_or("BREAKER_COOL_DOWN_SECONDS", 300)?,
                ),
                probe_timeout: chrono::Duration::seconds(60),
            },
        })
    }

    pub async fn gate(&self, now: chrono::DateTime<chrono::Utc>) -> Result<Gate, RepoError> {
        let mut breaker = self.breakers.get(&self.provider).await?;
        let read = breaker.version;
        if let domain::breaker::Permit::Refuse { reason, .. } = breaker.permit(now, &self.settings)
        {
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
    pub async fn failed(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        reason: &str,
    ) -> Result<bool, RepoError> {
        let breaker = self
            .update(|b| b.failed(now, reason, &self.settings))
            .await?;
        Ok(matches!(
            breaker.state,
            domain::breaker::BreakerState::Open { .. }
        ))
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
}
