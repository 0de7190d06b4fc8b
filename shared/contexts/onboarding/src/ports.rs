//! Ports of onboarding: where contractors, their audit trail and their events are kept.
//! The ports every context shares (storage errors, pages, field encryption) are the
//! kernel's, re-exported here.

use std::future::Future;

pub use domain_kernel::ports::*;

use crate::audit::AuditEntry;
use crate::contractor::{Contractor, Status};
use crate::events::DomainEvent;
use crate::ids::{ContractorId, OwnerId};
use crate::verification::Requirement;

/// One atomic change: the new state, its audit entry and the events it publishes.
#[derive(Clone, Debug)]
pub struct Commit {
    pub contractor: Contractor,
    pub audit: AuditEntry,
    pub events: Vec<DomainEvent>,
    /// A verification requirement written in the same transaction (a reviewer's decision
    /// and its audit entry are one change, ADR 0005).
    pub requirement: Option<RequirementWrite>,
}

/// A requirement to store with a commit, if it is still at `read_version` (0: new).
#[derive(Clone, Debug)]
pub struct RequirementWrite {
    pub requirement: Requirement,
    pub read_version: u64,
}

pub trait ContractorRepository: Send + Sync + 'static {
    /// Stores a new account (version 1); fails if its id or its owner is taken.
    fn create(&self, commit: &Commit) -> impl Future<Output = Result<(), RepoError>> + Send;
    /// Stores `commit.contractor` if the stored version is still `version - 1`.
    fn update(&self, commit: &Commit) -> impl Future<Output = Result<(), RepoError>> + Send;
    fn get(
        &self,
        id: &ContractorId,
    ) -> impl Future<Output = Result<Option<Contractor>, RepoError>> + Send;
    fn find_by_owner(
        &self,
        owner: &OwnerId,
    ) -> impl Future<Output = Result<Option<Contractor>, RepoError>> + Send;
    /// The audit trail in `seq` order.
    fn audit_trail(
        &self,
        id: &ContractorId,
    ) -> impl Future<Output = Result<Vec<AuditEntry>, RepoError>> + Send;
    /// Contractors in `status`, most recently changed first.
    fn list_by_status(
        &self,
        status: Status,
        limit: u32,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<Page<Contractor>, RepoError>> + Send;
}

impl<T: ContractorRepository> ContractorRepository for std::sync::Arc<T> {
    fn create(&self, commit: &Commit) -> impl Future<Output = Result<(), RepoError>> + Send {
        (**self).create(commit)
    }
    fn update(&self, commit: &Commit) -> impl Future<Output = Result<(), RepoError>> + Send {
        (**self).update(commit)
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
    fn audit_trail(
        &self,
        id: &ContractorId,
    ) -> impl Future<Output = Result<Vec<AuditEntry>, RepoError>> + Send {
        (**self).audit_trail(id)
    }
    fn list_by_status(
        &self,
        status: Status,
        limit: u32,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<Page<Contractor>, RepoError>> + Send {
        (**self).list_by_status(status, limit, cursor)
    }
}

/// In-memory adapters for tests (the `testing` feature lends them to other crates' tests).
#[cfg(any(test, feature = "testing"))]
pub mod memory {
    use std::collections::HashMap;
    use std::sync::Mutex;

    pub use domain_kernel::ports::memory::TestCipher;

    use super::*;

    #[derive(Default)]
    pub struct MemoryContractors {
        items: Mutex<HashMap<ContractorId, Contractor>>,
        audit: Mutex<HashMap<ContractorId, Vec<AuditEntry>>>,
        pub events: Mutex<Vec<DomainEvent>>,
        /// Requirements written with commits, in order.
        pub requirement_writes: Mutex<Vec<RequirementWrite>>,
    }

    impl MemoryContractors {
        fn record(&self, commit: &Commit) {
            self.items
                .lock()
                .expect("lock")
                .insert(commit.contractor.id.clone(), commit.contractor.clone());
            self.audit
                .lock()
                .expect("lock")
                .entry(commit.contractor.id.clone())
                .or_default()
                .push(commit.audit.clone());
            self.events
                .lock()
                .expect("lock")
                .extend(commit.events.iter().cloned());
            self.requirement_writes
                .lock()
                .expect("lock")
                .extend(commit.requirement.iter().cloned());
        }
    }

    impl ContractorRepository for MemoryContractors {
        async fn create(&self, commit: &Commit) -> Result<(), RepoError> {
            if let Some(existing) = self
                .items
                .lock()
                .expect("lock")
                .values()
                .find(|c| c.owner == commit.contractor.owner)
            {
                return Err(RepoError::OwnerAlreadyRegistered {
                    existing: existing.id.clone(),
                });
            }
            self.record(commit);
            Ok(())
        }

        async fn update(&self, commit: &Commit) -> Result<(), RepoError> {
            let stored = self
                .items
                .lock()
                .expect("lock")
                .get(&commit.contractor.id)
                .map(|c| c.version);
            if stored != Some(commit.contractor.version - 1) {
                return Err(RepoError::VersionConflict);
            }
            self.record(commit);
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

        async fn audit_trail(&self, id: &ContractorId) -> Result<Vec<AuditEntry>, RepoError> {
            Ok(self
                .audit
                .lock()
                .expect("lock")
                .get(id)
                .cloned()
                .unwrap_or_default())
        }

        async fn list_by_status(
            &self,
            status: Status,
            limit: u32,
            _cursor: Option<&str>,
        ) -> Result<Page<Contractor>, RepoError> {
            let mut items: Vec<Contractor> = self
                .items
                .lock()
                .expect("lock")
                .values()
                .filter(|c| c.status == status)
                .cloned()
                .collect();
            items.sort_by_key(|c| std::cmp::Reverse(c.updated_at));
            items.truncate(limit as usize);
            Ok(Page { items, next: None })
        }
    }
}
