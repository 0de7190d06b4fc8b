//! [`ContractorCipher`]: every personal field of a contractor sealed under that
//! contractor's own data key, so that erasing one item (the wrapped key) makes every copy
//! unreadable at once, including those in backups and point-in-time recovery. The data key
//! is made by KMS `GenerateDataKey` with the contractor's id as encryption context, kept
//! wrapped (`DataKeyStore`), and unwrapped with KMS `Decrypt` when used; never stored in
//! clear, never cached (encryption is rare: a TIN step, a W-9, a bank link).
//!
//! Fields sealed before this cipher existed (`kms-envelope/AES-256-GCM`, one KMS data key
//! per value) still open through [`KmsCipher`].

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use domain::ports::{CryptoError, DataKeyStore, EncryptedField, FieldCipher, WrappedKey};

use crate::{ALGORITHM as PER_VALUE, KmsCipher, err, open, seal};

pub const ALGORITHM: &str = "contractor-key/AES-256-GCM";

/// The context entry that names whose key seals a value; every context must carry it.
pub const SUBJECT: &str = "contractor_id";

#[derive(Clone, Debug)]
pub struct ContractorCipher<S> {
    kms: aws_sdk_kms::Client,
    master_key_id: String,
    keys: S,
    per_value: KmsCipher,
}

impl<S: DataKeyStore> ContractorCipher<S> {
    pub fn new(kms: aws_sdk_kms::Client, master_key_id: impl Into<String>, keys: S) -> Self {
        let master_key_id = master_key_id.into();
        ContractorCipher {
            per_value: KmsCipher::new(kms.clone(), master_key_id.clone()),
            kms,
            master_key_id,
            keys,
        }
    }

    /// The contractor's data key in clear, made on first use.
    async fn data_key(&self, contractor: &str, create: bool) -> Result<Vec<u8>, CryptoError> {
        let wrapped = match self
            .keys
            .get(contractor)
            .await
            .map_err(|e| err("data key", e))?
        {
            Some(w) => w,
            None if !create => {
                return Err(CryptoError(
                    "the contractor's data key is gone (erased): the value can't be read".into(),
                ));
            }
            None => {
                let out = self
                    .kms
                    .generate_data_key()
                    .key_id(&self.master_key_id)
                    .key_spec(DataKeySpec::Aes256)
                    .encryption_context(SUBJECT, contractor)
                    .send()
                    .await
                    .map_err(|e| {
                        err(
                            "GenerateDataKey",
                            aws_sdk_kms::error::DisplayErrorContext(&e),
                        )
                    })?;
                let (Some(plain), Some(blob)) = (out.plaintext, out.ciphertext_blob) else {
                    return Err(CryptoError("GenerateDataKey returned no key".into()));
                };
                let mine = WrappedKey {
                    master_key_id: out.key_id.unwrap_or_else(|| self.master_key_id.clone()),
                    ciphertext: blob.into_inner(),
                };
                if self
                    .keys
                    .put_new(contractor, &mine)
                    .await
                    .map_err(|e| err("data key", e))?
                {
                    return Ok(plain.into_inner());
                }
                // Another writer made the contractor's key first: use theirs.
                self.keys
                    .get(contractor)
                    .await
                    .map_err(|e| err("data key", e))?
                    .ok_or_else(|| CryptoError("the data key vanished while made".into()))?
            }
        };
        let out = self
            .kms
            .decrypt()
            .key_id(&wrapped.master_key_id)
            .ciphertext_blob(Blob::new(wrapped.ciphertext))
            .encryption_context(SUBJECT, contractor)
            .send()
            .await
            .map_err(|e| err("Decrypt", aws_sdk_kms::error::DisplayErrorContext(&e)))?;
        out.plaintext
            .map(Blob::into_inner)
            .ok_or_else(|| CryptoError("Decrypt returned no key".into()))
    }
}

fn subject<'a>(context: &[(&str, &'a str)]) -> Result<&'a str, CryptoError> {
    context
        .iter()
        .find(|(k, _)| *k == SUBJECT)
        .map(|(_, v)| *v)
        .ok_or_else(|| CryptoError(format!("the context names no {SUBJECT}")))
}

impl<S: DataKeyStore> FieldCipher for ContractorCipher<S> {
    async fn encrypt(
        &self,
        plaintext: &[u8],
        context: &[(&str, &str)],
    ) -> Result<EncryptedField, CryptoError> {
        let contractor = subject(context)?;
        let key = self.data_key(contractor, true).await?;
        let (nonce, ciphertext) = seal(&key, plaintext, context)?;
        Ok(EncryptedField {
            key_id: self.master_key_id.clone(),
            algorithm: ALGORITHM.to_owned(),
            // The key is the contractor's, kept on its own; this names it.
            encrypted_key: format!("{SUBJECT}:{contractor}"),
            nonce,
            ciphertext,
        })
    }

    async fn decrypt(
        &self,
        field: &EncryptedField,
        context: &[(&str, &str)],
    ) -> Result<Vec<u8>, CryptoError> {
        match field.algorithm.as_str() {
            ALGORITHM => {
                let contractor = subject(context)?;
                let key = self.data_key(contractor, false).await?;
                open(&key, field, context)
            }
            PER_VALUE => self.per_value.decrypt(field, context).await,
            other => Err(CryptoError(format!("unknown algorithm {other}"))),
        }
    }
}
