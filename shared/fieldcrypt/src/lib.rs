//! [`FieldCipher`] with KMS envelope encryption: each value gets a fresh AES-256 data key
//! from `GenerateDataKey`; the value is sealed with AES-256-GCM under that key and the
//! encryption context (as both KMS context and AEAD associated data); only the KMS-encrypted
//! data key is kept. Decrypting needs KMS `Decrypt` with the same context, so a ciphertext
//! copied to another contractor's record cannot be opened there.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_sdk_kms::Client;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use domain::ports::{CryptoError, EncryptedField, FieldCipher};

mod shredding;
pub use shredding::ContractorCipher;

pub const ALGORITHM: &str = "kms-envelope/AES-256-GCM";

#[derive(Clone, Debug)]
pub struct KmsCipher {
    client: Client,
    key_id: String,
}

impl KmsCipher {
    pub fn new(client: Client, key_id: impl Into<String>) -> Self {
        KmsCipher {
            client,
            key_id: key_id.into(),
        }
    }

    /// The cipher for the key named by `FIELD_ENCRYPTION_KEY_ID`.
    pub fn from_env(
        env: &platform::Env,
        aws: &platform::aws::Aws,
    ) -> Result<Self, platform::ConfigError> {
        Ok(KmsCipher::new(
            aws.kms(),
            env.required("FIELD_ENCRYPTION_KEY_ID")?,
        ))
    }
}

fn aad(context: &[(&str, &str)]) -> Vec<u8> {
    let mut pairs: Vec<String> = context.iter().map(|(k, v)| format!("{k}={v}")).collect();
    pairs.sort();
    pairs.join("&").into_bytes()
}

fn err(what: &str, e: impl std::fmt::Display) -> CryptoError {
    CryptoError(format!("{what}: {e}"))
}

impl FieldCipher for KmsCipher {
    async fn encrypt(
        &self,
        plaintext: &[u8],
        context: &[(&str, &str)],
    ) -> Result<EncryptedField, CryptoError> {
        let mut req = self
            .client
            .generate_data_key()
            .key_id(&self.key_id)
            .key_spec(DataKeySpec::Aes256);
        for (k, v) in context {
            req = req.encryption_context(*k, *v);
        }
        let out = req.send().await.map_err(|e| {
            err(
                "GenerateDataKey",
                aws_sdk_kms::error::DisplayErrorContext(&e),
            )
        })?;
        let key_bytes = out
            .plaintext
            .ok_or_else(|| CryptoError("GenerateDataKey returned no plaintext key".into()))?;
        let encrypted_key = out
            .ciphertext_blob
            .ok_or_else(|| CryptoError("GenerateDataKey returned no encrypted key".into()))?;
        let (nonce, sealed) = seal(key_bytes.as_ref(), plaintext, context)?;
        Ok(EncryptedField {
            key_id: out.key_id.unwrap_or_else(|| self.key_id.clone()),
            algorithm: ALGORITHM.to_owned(),
            encrypted_key: B64.encode(encrypted_key.as_ref()),
            nonce,
            ciphertext: sealed,
        })
    }

    async fn decrypt(
        &self,
        field: &EncryptedField,
        context: &[(&str, &str)],
    ) -> Result<Vec<u8>, CryptoError> {
        if field.algorithm != ALGORITHM {
            return Err(CryptoError(format!(
                "unknown algorithm {}",
                field.algorithm
            )));
        }
        let encrypted_key = B64
            .decode(&field.encrypted_key)
            .map_err(|e| err("encrypted key", e))?;
        let mut req = self
            .client
            .decrypt()
            .ciphertext_blob(Blob::new(encrypted_key))
            .key_id(&field.key_id);
        for (k, v) in context {
            req = req.encryption_context(*k, *v);
        }
        let out = req
            .send()
            .await
            .map_err(|e| err("Decrypt", aws_sdk_kms::error::DisplayErrorContext(&e)))?;
        let key_bytes = out
            .plaintext
            .ok_or_else(|| CryptoError("Decrypt returned no key".into()))?;
        open(key_bytes.as_ref(), field, context)
    }
}

/// Seals `plaintext` under `key` (AES-256-GCM, a random nonce, the context as associated
/// data); base64 of the nonce and of the ciphertext with its tag.
fn seal(
    key: &[u8],
    plaintext: &[u8],
    context: &[(&str, &str)],
) -> Result<(String, String), CryptoError> {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).map_err(|e| err("data key", e))?);
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|e| err("nonce", e))?;
    let mut sealed = plaintext.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(aad(context)),
        &mut sealed,
    )
    .map_err(|e| err("seal", e))?;
    Ok((B64.encode(nonce), B64.encode(sealed)))
}

fn open(
    key: &[u8],
    field: &EncryptedField,
    context: &[(&str, &str)],
) -> Result<Vec<u8>, CryptoError> {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).map_err(|e| err("data key", e))?);
    let nonce: [u8; NONCE_LEN] = B64
        .decode(&field.nonce)
        .ok()
        .and_then(|n| n.try_into().ok())
        .ok_or_else(|| CryptoError("bad nonce".into()))?;
    let mut buf = B64
        .decode(&field.ciphertext)
        .map_err(|e| err("ciphertext", e))?;
    let plain = key
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad(context)),
            &mut buf,
        )
        .map_err(|_| CryptoError("the ciphertext does not open with this context".into()))?;
    Ok(plain.to_vec())
}
