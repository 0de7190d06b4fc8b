//! Linked bank accounts (`BANKLINK#<item_id> / LINK`): found by Plaid's item id when its
//! webhooks arrive. Holds the mask, names and status, and the access token encrypted.

use aws_sdk_dynamodb::types::AttributeValue;
use domain::banking::BankLink;
use domain::ports::RepoError;

use crate::{Table, keys};

#[derive(Clone, Debug)]
pub struct BankLinks {
    table: Table,
}

impl BankLinks {
    pub fn new(table: Table) -> Self {
        BankLinks { table }
    }

    pub async fn get(&self, item_id: &str) -> Result<Option<BankLink>, RepoError> {
        self.table
            .get_item(keys::bank_link_pk(item_id), keys::BANK_LINK_SK)
            .await?
            .and_then(|item| item.get("link").and_then(|v| v.as_s().ok()).cloned())
            .map(|json| serde_json::from_str(&json).map_err(|e| RepoError::Store(Box::new(e))))
            .transpose()
    }

    pub async fn save(&self, link: &BankLink) -> Result<(), RepoError> {
        let json = serde_json::to_string(link).map_err(|e| RepoError::Store(Box::new(e)))?;
        self.table
            .client
            .put_item()
            .table_name(&self.table.name)
            .item(
                keys::PK,
                AttributeValue::S(keys::bank_link_pk(&link.item_id)),
            )
            .item(keys::SK, AttributeValue::S(keys::BANK_LINK_SK.to_owned()))
            .item("entity", AttributeValue::S("bank_link".into()))
            .item(
                "contractor_id",
                AttributeValue::S(link.contractor_id.to_string()),
            )
            .item(
                "gsi1pk",
                AttributeValue::S(keys::subject_gsi1pk(link.contractor_id.as_str())),
            )
            .item(
                "gsi1sk",
                AttributeValue::S(format!("BANKLINK#{}", link.item_id)),
            )
            .item("link", AttributeValue::S(json))
            .send()
            .await
            .map_err(|e| RepoError::Store(crate::failure(&e)))?;
        Ok(())
    }
}
