//! Ports: what the domain needs from the outside world, as small traits. Adapters (DynamoDB,
//! KMS, in-memory for tests) implement them.

use std::future::Future;

use serde::{Deserialize, Serialize};

use crate::audit::AuditEntry;
use crate::contractor::{Contractor, Status};
use crate::events::DomainEvent;
use crate::ids::{ContractorId, OwnerId};

#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// The owner already has an account (one account per identity).
    #[error("owner already registered contractor {existing}")]
    OwnerAlreadyRegistered { existing: ContractorId },
    /// Someone else changed the contractor since it was read.
    #[error("contractor changed concurrently")]
    VersionConflict,
    /// The store failed or answered something we cannot read.
    #[error("contractor store failed: {0}")]
    Store(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// One atomic change: the new state, its audit entry and the events it publishes.
#[derive(Clone, Debug)]
pub struct Commit {
    pub contractor: Contractor,
    pub audit: AuditEntry,
    pub events: Vec<DomainEvent>,
}

/// One page of a listing; `next` continues it.
#[derive(Clone, Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
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

/// A value encrypted at field level (envelope encryption): the data key encrypted by the
/// key-management service, and the value encrypted with that data key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptedField {
    pub key_id: String,
    pub algorithm: String,
    /// Base64 of the encrypted data key.
    pub encrypted_key: String,
    /// Base64 of the nonce.
    pub nonce: String,
    /// Base64 of the ciphertext and tag.
    pub ciphertext: String,
}

#[derive(Debug, thiserror::Error)]
#[error("field encryption failed: {0}")]
pub struct CryptoError(pub String);

pub trait FieldCipher: Send + Sync + 'static {
    /// Encrypts `plaintext`, bound to `context` (it must be given again to decrypt).
    fn encrypt(
        &self,
        plaintext: &[u8],
        context: &[(&str, &str)],
    ) -> impl Future<Output = Result<EncryptedField, CryptoError>> + Send;
    fn decrypt(
        &self,
        field: &EncryptedField,
        context: &[(&str, &str)],
    ) -> impl Future<Output = Result<Vec<u8>, CryptoError>> + Send;
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

/// In-memory adapters for handler tests.
pub mod memory {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use super::*;

    #[derive(Default)]
    pub struct MemoryContractors {
        items: Mutex<HashMap<ContractorId, Contractor>>,
        audit: Mutex<HashMap<ContractorId, Vec<AuditEntry>>>,
        pub events: Mutex<Vec<DomainEvent>>,
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

    /// A reversible stand-in cipher for tests (not encryption: never use outside tests).
    #[derive(Default)]
    pub struct TestCipher;

    impl FieldCipher for TestCipher {
        async fn encrypt(
            &self,
            plaintext: &[u8],
            context: &[(&str, &str)],
        ) -> Result<EncryptedField, CryptoError> {
            let ctx: String = context.iter().map(|(k, v)| format!("{k}={v};")).collect();
            Ok(EncryptedField {
                key_id: "test".into(),
                algorithm: "test-reverse".into(),
                encrypted_key: ctx,
                nonce: String::new(),
                ciphertext: plaintext.iter().rev().map(|b| format!("{b:02x}")).collect(),
            })
        }

        async fn decrypt(
            &self,
            field: &EncryptedField,
            context: &[(&str, &str)],
        ) -> Result<Vec<u8>, CryptoError> {
            let ctx: String = context.iter().map(|(k, v)| format!("{k}={v};")).collect();
            if ctx != field.encrypted_key {
                return Err(CryptoError("context mismatch".into()));
            }
            let bytes: Vec<u8> = (0..field.ciphertext.len())
                .step_by(2)
                .filter_map(|i| u8::from_str_radix(&field.ciphertext[i..i + 2], 16).ok())
                .collect();
            Ok(bytes.into_iter().rev().collect())
        }
    }
}
