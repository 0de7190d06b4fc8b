//! A contractor's verification requirements (`CONTRACTOR#id / REQUIREMENT#name`), each
//! written conditionally on its version together with its outbox events.

use aws_sdk_dynamodb::types::{AttributeValue, Put};
use domain::events::DomainEvent;
use domain::ids::ContractorId;
use domain::ports::RepoError;
use domain::verification::Requirement;
use platform::events::SnsPublisher;
use serde::{Deserialize, Serialize};

use crate::{Table, keys};

#[derive(Clone, Debug)]
pub struct DynamoRequirements {
    table: Table,
    publisher: Option<SnsPublisher>,
}

#[derive(Serialize, Deserialize)]
struct RequirementItem {
    pk: String,
    sk: String,
    entity: String,
    version: u64,
    #[serde(default)]
    contractor_id: Option<ContractorId>,
    /// GSI2 `REVIEW#open` while the requirement waits for a reviewer, `ERRORS#requirement`
    /// while it is in `errors` (sparse).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi2pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi2sk: Option<String>,
    /// GSI1 `EXPIRY#requirement` by `valid_until` while verified evidence has an end date
    /// (sparse), for the scheduled re-check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi1pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi1sk: Option<String>,
    requirement: Requirement,
}

fn store_err(e: impl std::error::Error + Send + Sync + 'static) -> RepoError {
    RepoError::Store(Box::new(e))
}

/// The contractor's requirement items (one query on the contractor's partition).
pub(crate) async fn all_of(
    table: &Table,
    contractor: &ContractorId,
) -> Result<Vec<Requirement>, RepoError> {
    let items: Vec<RequirementItem> = table
        .query_prefix(keys::contractor_pk(contractor), &keys::requirement_sk(""))
        .await?;
    Ok(items.into_iter().map(|i| i.requirement).collect())
}

impl DynamoRequirements {
    /// Reads only (the scheduled jobs that look requirements up): no events to publish.
    pub fn reader(table: Table) -> Self {
        DynamoRequirements {
            table,
            publisher: None,
        }
    }

    pub fn from_env(
        env: &platform::Env,
        aws: &platform::aws::Aws,
    ) -> Result<Self, platform::ConfigError> {
        Ok(DynamoRequirements {
            table: Table::from_env(env, aws)?,
            publisher: Some(SnsPublisher::from_env(env, aws)?),
        })
    }

    /// The requirement and its version (0: never written).
    pub async fn get(
        &self,
        contractor: &ContractorId,
        name: &str,
    ) -> Result<Option<(Requirement, u64)>, RepoError> {
        self.table
            .get_item(keys::contractor_pk(contractor), &keys::requirement_sk(name))
            .await?
            .map(|item| {
                serde_dynamo::from_item::<_, RequirementItem>(item)
                    .map(|i| (i.requirement, i.version))
                    .map_err(store_err)
            })
            .transpose()
    }

    /// Every verification requirement of a contractor.
    pub async fn all_of(&self, contractor: &ContractorId) -> Result<Vec<Requirement>, RepoError> {
        all_of(&self.table, contractor).await
    }

    /// Requirements waiting for a reviewer, oldest first.
    pub async fn open_reviews(
        &self,
        limit: usize,
    ) -> Result<Vec<(ContractorId, Requirement)>, RepoError> {
        self.index_page(
            keys::GSI2,
            "gsi2pk = :pk",
            &[(":pk", keys::OPEN_REVIEWS_GSI2PK.to_owned())],
            limit.clamp(1, 100),
        )
        .await
    }

    /// Verified requirements whose evidence ends before `today` (their `valid_until` is
    /// earlier), oldest first, a page at a time.
    pub async fn lapsed_before(
        &self,
        today: chrono::NaiveDate,
        limit: usize,
    ) -> Result<Vec<(ContractorId, Requirement)>, RepoError> {
        self.index_page(
            keys::GSI1,
            "gsi1pk = :pk AND gsi1sk < :today",
            &[
                (":pk", keys::EXPIRY_GSI1PK.to_owned()),
                (":today", today.to_string()),
            ],
            limit.clamp(1, 500),
        )
        .await
    }

    /// Verified requirements whose evidence ends between `from` and `to` (inclusive), soonest
    /// first: what the expiry reminders read. At most `cap` items; `true` when more remain.
    pub async fn expiring_between(
        &self,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
        cap: usize,
    ) -> Result<(Vec<(ContractorId, Requirement)>, bool), RepoError> {
        self.index_all(
            keys::GSI1,
            "gsi1pk = :pk AND gsi1sk BETWEEN :from AND :to",
            &[
                (":pk", keys::EXPIRY_GSI1PK.to_owned()),
                (":from", from.to_string()),
                // Keys are `<day>#<contractor>#<name>`: everything on `to` sorts before `to` + "$".
                (":to", format!("{to}$")),
            ],
            cap,
        )
        .await
    }

    /// Requirements in `errors` whose last verdict fell between `from` and `to`, oldest first:
    /// what the unresolved-errors reminder reads. At most `cap`; `true` when more remain.
    pub async fn errors_decided_between(
        &self,
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
        cap: usize,
    ) -> Result<(Vec<(ContractorId, Requirement)>, bool), RepoError> {
        let micros = |t: chrono::DateTime<chrono::Utc>| {
            t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        };
        self.index_all(
            keys::GSI2,
            "gsi2pk = :pk AND gsi2sk BETWEEN :from AND :to",
            &[
                (":pk", keys::ERRORS_GSI2PK.to_owned()),
                (":from", micros(from)),
                (":to", format!("{}$", micros(to))),
            ],
            cap,
        )
        .await
    }

    /// Every page of a sparse index's query, up to `cap` items; `true` when more remain.
    async fn index_all(
        &self,
        index: &str,
        key_condition: &str,
        values: &[(&str, String)],
        cap: usize,
    ) -> Result<(Vec<(ContractorId, Requirement)>, bool), RepoError> {
        let (items, more) = self
            .table
            .query_index_capped::<RequirementItem>(index, key_condition, values, cap)
            .await?;
        let found = items
            .into_iter()
            .filter_map(|i| i.contractor_id.map(|c| (c, i.requirement)))
            .collect();
        Ok((found, more))
    }

    /// One page of requirement items from a sparse index, with their contractors.
    async fn index_page(
        &self,
        index: &str,
        key_condition: &str,
        values: &[(&str, String)],
        limit: usize,
    ) -> Result<Vec<(ContractorId, Requirement)>, RepoError> {
        let mut query = self
            .table
            .client
            .query()
            .table_name(&self.table.name)
            .index_name(index)
            .key_condition_expression(key_condition)
            .limit(limit as i32);
        for (name, value) in values {
            query = query.expression_attribute_values(*name, AttributeValue::S(value.clone()));
        }
        let out = query
            .send()
            .await
            .map_err(|e| RepoError::Store(crate::failure(&e)))?;
        out.items
            .unwrap_or_default()
            .into_iter()
            .filter_map(|item| {
                serde_dynamo::from_item::<_, RequirementItem>(item)
                    .map_err(store_err)
                    .map(|i| i.contractor_id.map(|c| (c, i.requirement)))
                    .transpose()
            })
            .collect()
    }
}

/// The conditional put of `requirement` at `read_version + 1` (new if `read_version` is 0),
/// with its review-queue and expiry index keys; for a transaction of its own or a
/// contractor's commit.
pub(crate) fn requirement_put(
    table: &str,
    contractor: &ContractorId,
    requirement: &Requirement,
    read_version: u64,
) -> Result<Put, RepoError> {
    let expiry = (requirement.state() == domain::verification::RequirementState::Verified)
        .then(|| requirement.valid_until())
        .flatten();
    // Sparse GSI2: the review queue by hand-over time, or the unresolved errors by verdict.
    let micros =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let gsi2 = match requirement.state() {
        domain::verification::RequirementState::ManualReview => Some((
            keys::OPEN_REVIEWS_GSI2PK.to_owned(),
            format!(
                "{}#{contractor}#{}",
                micros(chrono::Utc::now()),
                requirement.name
            ),
        )),
        domain::verification::RequirementState::Errors => Some((
            keys::ERRORS_GSI2PK.to_owned(),
            format!(
                "{}#{contractor}#{}",
                micros(requirement.decided_at().unwrap_or_else(chrono::Utc::now)),
                requirement.name
            ),
        )),
        _ => None,
    };
    let item = serde_dynamo::to_item(RequirementItem {
        pk: keys::contractor_pk(contractor),
        sk: keys::requirement_sk(&requirement.name),
        entity: "requirement".into(),
        version: read_version + 1,
        contractor_id: Some(contractor.clone()),
        gsi2pk: gsi2.as_ref().map(|(pk, _)| pk.clone()),
        gsi2sk: gsi2.map(|(_, sk)| sk),
        gsi1pk: expiry.map(|_| keys::EXPIRY_GSI1PK.to_owned()),
        gsi1sk: expiry.map(|d| format!("{d}#{contractor}#{}", requirement.name)),
        requirement: requirement.clone(),
    })
    .map_err(store_err)?;
    let mut put = Put::builder().table_name(table).set_item(Some(item));
    put = if read_version == 0 {
        put.condition_expression("attribute_not_exists(pk)")
    } else {
        put.condition_expression("version = :v")
            .expression_attribute_values(":v", AttributeValue::N(read_version.to_string()))
    };
    put.build().map_err(store_err)
}

impl domain::verifying::RequirementRepository for DynamoRequirements {
    async fn get(
        &self,
        contractor: &ContractorId,
        name: &str,
    ) -> Result<Option<(Requirement, u64)>, RepoError> {
        DynamoRequirements::get(self, contractor, name).await
    }

    async fn save(
        &self,
        contractor: &ContractorId,
        requirement: &Requirement,
        read_version: u64,
        events: &[DomainEvent],
    ) -> Result<(), RepoError> {
        // Writes the requirement if it is still at `read_version`, with `events`.
        let put = requirement_put(&self.table.name, contractor, requirement, read_version)?;
        crate::outbox::commit_with_events(&self.table, self.publisher.as_ref(), put, events).await
    }
}

/// The verification use cases on the table (requirements, hand-overs, claims).
pub type Verification = domain::verifying::Verifying<DynamoRequirements>;

pub fn verification(
    env: &platform::Env,
    aws: &platform::aws::Aws,
) -> Result<Verification, platform::ConfigError> {
    Ok(domain::verifying::Verifying {
        requirements: DynamoRequirements::from_env(env, aws)?,
        clock: domain::verifying::SystemClock,
    })
}
