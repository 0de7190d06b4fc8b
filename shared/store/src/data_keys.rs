//! Each contractor's wrapped data key: one item under the contractor (`DATAKEY`), written
//! once. Erasure deletes it, and with it the means to read every field sealed under it.

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use domain::ids::ContractorId;
use domain::ports::{DataKeyStore, RepoError, WrappedKey};

use crate::{Table, failure, keys};

/// The field cipher every function that seals personal data uses: each contractor's own
/// data key, wrapped by `FIELD_ENCRYPTION_KEY_ID`, kept in this table.
pub type FieldCipher = fieldcrypt::ContractorCipher<DynamoDataKeys>;

pub fn field_cipher(
    env: &platform::Env,
    aws: &platform::aws::Aws,
) -> Result<FieldCipher, platform::ConfigError> {
    Ok(fieldcrypt::ContractorCipher::new(
        aws.kms(),
        env.required("FIELD_ENCRYPTION_KEY_ID")?,
        DynamoDataKeys::new(Table::from_env(env, aws)?),
    ))
}

#[derive(Clone, Debug)]
pub struct DynamoDataKeys {
    table: Table,
}

impl DynamoDataKeys {
    pub fn new(table: Table) -> Self {
        DynamoDataKeys { table }
    }

    fn pk(contractor: &str) -> Result<String, RepoError> {
        let id = ContractorId::parse(contractor)
            .ok_or_else(|| RepoError::Store(format!("not a contractor id: {contractor}").into()))?;
        Ok(keys::contractor_pk(&id))
    }

    /// Deletes the contractor's data key (crypto-shredding); idempotent.
    pub async fn shred(&self, contractor: &ContractorId) -> Result<(), RepoError> {
        self.table
            .client
            .delete_item()
            .table_name(&self.table.name)
            .key(keys::PK, AttributeValue::S(keys::contractor_pk(contractor)))
            .key(keys::SK, AttributeValue::S(keys::DATA_KEY_SK.to_owned()))
            .send()
            .await
            .map_err(|e| RepoError::Store(failure(&e)))?;
        Ok(())
    }
}

impl DataKeyStore for DynamoDataKeys {
    async fn get(&self, contractor: &str) -> Result<Option<WrappedKey>, RepoError> {
        let Some(item) = self
            .table
            .get_item(Self::pk(contractor)?, keys::DATA_KEY_SK)
            .await?
        else {
            return Ok(None);
        };
        let master_key_id = match item.get("master_key_id") {
            Some(AttributeValue::S(s)) => s.clone(),
            _ => return Err(RepoError::Store("data key without its master key".into())),
        };
        let ciphertext = match item.get("wrapped_key") {
            Some(AttributeValue::B(b)) => b.clone().into_inner(),
            _ => return Err(RepoError::Store("data key without its ciphertext".into())),
        };
        Ok(Some(WrappedKey {
            master_key_id,
            ciphertext,
        }))
    }

    async fn put_new(&self, contractor: &str, key: &WrappedKey) -> Result<bool, RepoError> {
        let put = self
            .table
            .client
            .put_item()
            .table_name(&self.table.name)
            .item(keys::PK, AttributeValue::S(Self::pk(contractor)?))
            .item(keys::SK, AttributeValue::S(keys::DATA_KEY_SK.to_owned()))
            .item("entity", AttributeValue::S("data_key".into()))
            .item("contractor_id", AttributeValue::S(contractor.to_owned()))
            .item(
                "master_key_id",
                AttributeValue::S(key.master_key_id.clone()),
            )
            .item(
                "wrapped_key",
                AttributeValue::B(Blob::new(key.ciphertext.clone())),
            )
            .item(
                "created_at",
                AttributeValue::S(chrono::Utc::now().to_rfc3339()),
            )
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match put {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(RepoError::Store(failure(&e))),
        }
    }
}
