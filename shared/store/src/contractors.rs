//! [`ContractorRepository`] on DynamoDB.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use domain::contractor::Contractor;
use domain::ids::{ContractorId, OwnerId};
use domain::ports::{ContractorRepository, RepoError};
use serde::{Deserialize, Serialize};

use crate::keys;

#[derive(Clone, Debug)]
pub struct DynamoContractors {
    client: Client,
    table: String,
}

impl DynamoContractors {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoContractors {
            client,
            table: table.into(),
        }
    }
}

/// The stored item: keys and index attributes around the domain record.
#[derive(Serialize, Deserialize)]
struct ContractorItem {
    pk: String,
    sk: String,
    entity: String,
    gsi1pk: String,
    gsi1sk: String,
    #[serde(flatten)]
    contractor: Contractor,
}

impl ContractorItem {
    fn from_domain(c: &Contractor) -> Self {
        ContractorItem {
            pk: keys::contractor_pk(&c.id),
            sk: keys::CONTRACTOR_SK.to_owned(),
            entity: "contractor".to_owned(),
            gsi1pk: keys::status_gsi1pk(c.status.as_str()),
            gsi1sk: format!("{}#{}", c.updated_at.to_rfc3339(), c.id),
            contractor: c.clone(),
        }
    }
}

fn store_err(err: impl std::error::Error + Send + Sync + 'static) -> RepoError {
    RepoError::Store(Box::new(err))
}

impl ContractorRepository for DynamoContractors {
    async fn insert(&self, contractor: &Contractor) -> Result<(), RepoError> {
        let item =
            serde_dynamo::to_item(ContractorItem::from_domain(contractor)).map_err(store_err)?;
        let owner_lock: HashMap<String, AttributeValue> = HashMap::from([
            (
                keys::PK.to_owned(),
                AttributeValue::S(keys::owner_pk(&contractor.owner)),
            ),
            (
                keys::SK.to_owned(),
                AttributeValue::S(keys::OWNER_SK.to_owned()),
            ),
            ("entity".to_owned(), AttributeValue::S("owner".to_owned())),
            (
                "contractor_id".to_owned(),
                AttributeValue::S(contractor.id.to_string()),
            ),
        ]);
        let put = |item: HashMap<String, AttributeValue>| {
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map(|p| TransactWriteItem::builder().put(p).build())
        };
        let result = self
            .client
            .transact_write_items()
            .transact_items(put(item).map_err(store_err)?)
            .transact_items(put(owner_lock).map_err(store_err)?)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) => {
                let owner_taken = err
                    .as_service_error()
                    .and_then(|e| match e {
                        TransactWriteItemsError::TransactionCanceledException(canceled) => {
                            canceled.cancellation_reasons.as_ref()
                        }
                        _ => None,
                    })
                    .and_then(|reasons| reasons.get(1))
                    .is_some_and(|r| r.code() == Some("ConditionalCheckFailed"));
                if owner_taken
                    && let Some(existing) = self.owner_contractor_id(&contractor.owner).await?
                {
                    return Err(RepoError::OwnerAlreadyRegistered { existing });
                }
                Err(RepoError::Store(crate::failure(&err)))
            }
        }
    }

    async fn get(&self, id: &ContractorId) -> Result<Option<Contractor>, RepoError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, AttributeValue::S(keys::contractor_pk(id)))
            .key(keys::SK, AttributeValue::S(keys::CONTRACTOR_SK.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| RepoError::Store(crate::failure(&e)))?;
        match out.item {
            None => Ok(None),
            Some(item) => {
                let stored: ContractorItem = serde_dynamo::from_item(item).map_err(store_err)?;
                Ok(Some(stored.contractor))
            }
        }
    }

    async fn find_by_owner(&self, owner: &OwnerId) -> Result<Option<Contractor>, RepoError> {
        match self.owner_contractor_id(owner).await? {
            None => Ok(None),
            Some(id) => self.get(&id).await,
        }
    }
}

impl DynamoContractors {
    async fn owner_contractor_id(
        &self,
        owner: &OwnerId,
    ) -> Result<Option<ContractorId>, RepoError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, AttributeValue::S(keys::owner_pk(owner)))
            .key(keys::SK, AttributeValue::S(keys::OWNER_SK.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| RepoError::Store(crate::failure(&e)))?;
        Ok(out.item.and_then(|item| {
            item.get("contractor_id")
                .and_then(|v| v.as_s().ok())
                .and_then(|s| ContractorId::parse(s))
        }))
    }
}

impl DynamoContractors {
    /// The adapter for the table named by `TABLE_NAME`.
    pub fn from_env(
        env: &platform::Env,
        aws: &platform::aws::Aws,
    ) -> Result<Self, platform::ConfigError> {
        Ok(DynamoContractors::new(
            aws.dynamodb(),
            env.required("TABLE_NAME")?,
        ))
    }
}
