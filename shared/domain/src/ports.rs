//! Ports: what the domain needs from the outside world, as small traits. Adapters (DynamoDB,
//! in-memory for tests) implement them.

use std::future::Future;

use crate::contractor::Contractor;
use crate::ids::{ContractorId, OwnerId};

#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// The owner already has an account (one account per identity).
    #[error("owner already registered contractor {existing}")]
    OwnerAlreadyRegistered { existing: ContractorId },
    /// The store failed or answered something we cannot read.
    #[error("contractor store failed: {0}")]
    Store(#[source] Box<dyn std::error::Error + Send + Sync>),
}

pub trait ContractorRepository: Send + Sync + 'static {
    /// Stores a new account; fails if its id or its owner is taken.
    fn insert(&self, contractor: &Contractor)
    -> impl Future<Output = Result<(), RepoError>> + Send;
    fn get(
        &self,
        id: &ContractorId,
    ) -> impl Future<Output = Result<Option<Contractor>, RepoError>> + Send;
    fn find_by_owner(
        &self,
        owner: &OwnerId,
    ) -> impl Future<Output = Result<Option<Contractor>, RepoError>> + Send;
}

/// An in-memory repository for handler tests.
pub mod memory {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use super::*;

    #[derive(Default)]
    pub struct MemoryContractors {
        items: Mutex<HashMap<ContractorId, Contractor>>,
    }

    impl ContractorRepository for MemoryContractors {
        async fn insert(&self, contractor: &Contractor) -> Result<(), RepoError> {
            let mut items = self.items.lock().expect("lock");
            if let Some(existing) = items.values().find(|c| c.owner == contractor.owner) {
                return Err(RepoError::OwnerAlreadyRegistered {
                    existing: existing.id.clone(),
                });
            }
            items.insert(contractor.id.clone(), contractor.clone());
            Ok(())
        }

        async fn get(&self, id: &ContractorId) -> Result<Option<Contractor>, RepoError> {
            Ok(self.items.lock().expect("lock").get(id).cloned())
        }

        async fn find_by_owner(&self, owner: &OwnerId) -> Result<Option<Contractor>, RepoError> {
            Ok(self
                .items
                .lock()
                .expect("lock")
                .values()
                .find(|c| &c.owner == owner)
                .cloned())
        }
    }
}

impl<T: ContractorRepository> ContractorRepository for std::sync::Arc<T> {
    fn insert(
        &self,
        contractor: &Contractor,
    ) -> impl Future<Output = Result<(), RepoError>> + Send {
        (**self).insert(contractor)
    }
    fn get(
        &self,
        id: &ContractorId,
    ) -> impl Future<Output = Result<Option<Contractor>, RepoError>> + Send {
        (**self).get(id)
    }
    fn find_by_owner(
        &self,
        owner: &OwnerId,
    ) -> impl Future<Output = Result<Option<Contractor>, RepoError>> + Send {
        (**self).find_by_owner(owner)
    }
}
