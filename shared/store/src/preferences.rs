//! A contractor's email preferences (language, updates, reminders): one item under the
//! contractor, absent until first changed (the defaults: English, everything on).

use domain::engagement::notifications::Preferences;
use domain::ids::ContractorId;
use domain::ports::RepoError;
use serde::{Deserialize, Serialize};

use crate::{Table, keys};

#[derive(Clone, Debug)]
pub struct DynamoPreferences {
    table: Table,
}

#[derive(Serialize, Deserialize)]
struct PreferencesItem {
    pk: String,
    sk: String,
    entity: String,
    contractor_id: ContractorId,
    #[serde(flatten)]
    preferences: Preferences,
    updated_at: chrono::DateTime<chrono::Utc>,
}

impl DynamoPreferences {
    pub fn new(table: Table) -> Self {
        DynamoPreferences { table }
    }

    pub async fn get(&self, contractor: &ContractorId) -> Result<Preferences, RepoError> {
        let item = self
            .table
            .get_item(keys::contractor_pk(contractor), keys::PREFERENCES_SK)
            .await?;
        match item {
            None => Ok(Preferences::default()),
            Some(item) => serde_dynamo::from_item::<_, PreferencesItem>(item)
                .map(|i| i.preferences)
                .map_err(|e| RepoError::Store(Box::new(e))),
        }
    }

    /// Replaces the contractor's preferences (the last write wins: they are a user's
    /// switches, not a balance).
    pub async fn put(
        &self,
        contractor: &ContractorId,
        preferences: Preferences,
    ) -> Result<(), RepoError> {
        let item = serde_dynamo::to_item(PreferencesItem {
            pk: keys::contractor_pk(contractor),
            sk: keys::PREFERENCES_SK.to_owned(),
            entity: "preferences".into(),
            contractor_id: contractor.clone(),
            preferences,
            updated_at: chrono::Utc::now(),
        })
        .map_err(|e| RepoError::Store(Box::new(e)))?;
        self.table
            .client
            .put_item()
            .table_name(&self.table.name)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| RepoError::Store(crate::failure(&e)))?;
        Ok(())
    }
}
