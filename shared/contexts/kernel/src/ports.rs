//! Ports every context shares: storage failures, listing pages and field encryption.
//! Each context's own repositories are in that context's `ports` module.

use std::future::Future;

use serde::{Deserialize, Serialize};

use crate::ids::ContractorId;

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

/// One page of a listing; `next` continues it.
#[derive(Clone, Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
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

/// A contractor's data key, as kept: wrapped by the key-management service under the
/// contractor's id as context. Erasing it makes everything sealed under it unreadable,
/// wherever copies are (backups, point-in-time recovery): crypto-shredding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrappedKey {
    /// The key-management key that wraps it.
    pub master_key_id: String,
    /// The wrapped data key.
    pub ciphertext: Vec<u8>,
}

/// Where each contractor's wrapped data key lives (one per contractor).
pub trait DataKeyStore: Send + Sync + 'static {
    fn get(
        &self,
        contractor: &str,
    ) -> impl Future<Output = Result<Option<WrappedKey>, RepoError>> + Send;
    /// Stores `key` unless the contractor has one; `false` when another writer won (read
    /// theirs).
    fn put_new(
        &self,
        contractor: &str,
        key: &WrappedKey,
    ) -> impl Future<Output = Result<bool, RepoError>> + Send;
}

/// In-memory adapters for tests (the `testing` feature lends them to other crates' tests).
#[cfg(any(test, feature = "testing"))]
pub mod memory {
    use super::*;

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
