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

impl domain::verifying::BreakerRepository for DynamoBreakers {
    async fn get(&self, provider: &str) -> Result<Breaker, RepoError> {
        DynamoBreakers::get(self, provider).await
    }

    async fn save(&self, breaker: &Breaker, read_version: u64) -> Result<(), RepoError> {
        DynamoBreakers::save(self, breaker, read_version).await
    }
}

/// One provider's breaker in the table, with the settings from the environment
/// (`BREAKER_FAILURE_THRESHOLD`, `BREAKER_COOL_DOWN_SECONDS`; 5 failures, 5 minutes).
pub fn provider_guard(
    table: Table,
    provider: &str,
    env: &platform::Env,
) -> Result<domain::verifying::ProviderGuard<DynamoBreakers>, platform::ConfigError> {
    guard_from_env(table, provider, env, "BREAKER", 300)
}

/// An email provider's breaker (`EMAIL_BREAKER_FAILURE_THRESHOLD`,
/// `EMAIL_BREAKER_COOL_DOWN_SECONDS`; 5 failures, 1 minute): shorter than a verification
/// provider's, since mail fails over to the other provider meanwhile and the primary
/// should be back in use soon.
pub fn email_provider_guard(
    table: Table,
    provider: &str,
    env: &platform::Env,
) -> Result<domain::verifying::ProviderGuard<DynamoBreakers>, platform::ConfigError> {
    guard_from_env(table, provider, env, "EMAIL_BREAKER", 60)
}

fn guard_from_env(
    table: Table,
    provider: &str,
    env: &platform::Env,
    prefix: &str,
    cool_down_seconds: i64,
) -> Result<domain::verifying::ProviderGuard<DynamoBreakers>, platform::ConfigError> {
    Ok(domain::verifying::ProviderGuard::new(
        DynamoBreakers::new(table),
        provider,
        domain::breaker::BreakerSettings {
            failure_threshold: env.parse_or(&format!("{prefix}_FAILURE_THRESHOLD"), 5)?,
            cool_down: chrono::Duration::seconds(
                env.parse_or(&format!("{prefix}_COOL_DOWN_SECONDS"), cool_down_seconds)?,
            ),
            probe_timeout: chrono::Duration::seconds(60),
        },
    ))
}
