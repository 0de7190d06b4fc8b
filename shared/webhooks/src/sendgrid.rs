//! SendGrid's signed Event Webhook: ECDSA P-256 / SHA-256 over the bytes of the
//! `X-Twilio-Email-Event-Webhook-Timestamp` value followed directly by the **raw** body; the
//! signature is base64 DER in `X-Twilio-Email-Event-Webhook-Signature`; the verification
//! key is base64 DER SubjectPublicKeyInfo (what SendGrid's settings page shows). A timestamp
//! outside the replay window is refused even with a good signature.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair,
    UnparsedPublicKey,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use crate::{MAX_BODY, Rejected};

pub const SIGNATURE_HEADER: &str = "x-twilio-email-event-webhook-signature";
pub const TIMESTAMP_HEADER: &str = "x-twilio-email-event-webhook-timestamp";

/// The DER prefix of a P-256 SubjectPublicKeyInfo before its 65-byte uncompressed point.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// The public point of a base64 DER P-256 SubjectPublicKeyInfo.
fn point(public_key_b64: &str) -> Option<Vec<u8>> {
    let der = B64.decode(public_key_b64.trim()).ok()?;
    let rest = der.strip_prefix(&P256_SPKI_PREFIX[..])?;
    (rest.len() == 65 && rest[0] == 0x04).then(|| rest.to_vec())
}

/// Verifies one Event Webhook request. `now` and `window_seconds` bound the timestamp.
pub fn verify(
    public_key_b64: &str,
    body: &[u8],
    signature: Option<&str>,
    timestamp: Option<&str>,
    now: i64,
    window_seconds: i64,
) -> Result<(), Rejected> {
    if body.len() > MAX_BODY {
        return Err(Rejected::TooLarge);
    }
    let (Some(signature), Some(timestamp)) = (signature, timestamp) else {
        return Err(Rejected::MissingSignature);
    };
    let point = point(public_key_b64).ok_or(Rejected::KeyUnavailable(
        "the SendGrid verification key is not a P-256 public key".into(),
    ))?;
    let signature = B64
        .decode(signature.trim())
        .map_err(|_| Rejected::Malformed("signature is not base64"))?;
    let mut signed = timestamp.as_bytes().to_vec();
    signed.extend_from_slice(body);
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &point)
        .verify(&signed, &signature)
        .map_err(|_| Rejected::BadSignature)?;
    let at: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| Rejected::Malformed("timestamp is not a number"))?;
    if at < now - window_seconds {
        return Err(Rejected::Stale);
    }
    if at > now + window_seconds {
        return Err(Rejected::FromTheFuture);
    }
    Ok(())
}

/// Signs Event Webhooks as SendGrid does (the local sandbox's key).
pub struct Signer {
    key: EcdsaKeyPair,
}

impl Signer {
    pub fn generate() -> Signer {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .expect("P-256 key generation");
        Signer {
            key: EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref())
                .expect("the key just made"),
        }
    }

    /// The verification key as SendGrid shows it (base64 DER SubjectPublicKeyInfo).
    pub fn public_key(&self) -> String {
        let mut der = P256_SPKI_PREFIX.to_vec();
        der.extend_from_slice(self.key.public_key().as_ref());
        B64.encode(der)
    }

    /// The signature header's value for `body` sent at `timestamp`.
    pub fn sign(&self, timestamp: &str, body: &[u8]) -> String {
        let mut signed = timestamp.as_bytes().to_vec();
        signed.extend_from_slice(body);
        let sig = self
            .key
            .sign(&SystemRandom::new(), &signed)
            .expect("ECDSA signing");
        B64.encode(sig.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // SendGrid's own test vector (sendgrid-python/-nodejs/-go/-java event webhook tests).
    const KEY: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEDr2LjtURuePQzplybdC+u4CwrqDqBaWjcMMsTbhdbcwHBcepxo7yAQGhHPTnlvFYPAZFceEu/1FwCM/QmGUhA==";
    const SIGNATURE: &str = "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH2j/0=";
    const TIMESTAMP: &str = "1588788367";
    const PAYLOAD: &str =
        r#"{"category":"example_payload","event":"test_event","message_id":"message_id"}"#;
    const AT: i64 = 1588788367;

    #[test]
    fn sendgrids_published_vector_verifies() {
        assert_eq!(
            verify(
                KEY,
                PAYLOAD.as_bytes(),
                Some(SIGNATURE),
                Some(TIMESTAMP),
                AT + 10,
                300
            ),
            Ok(())
        );
    }

    #[test]
    fn anything_changed_is_refused() {
        let v = |body: &str, sig: Option<&str>, ts: Option<&str>, now: i64| {
            verify(KEY, body.as_bytes(), sig, ts, now, 300)
        };
        // SendGrid's failing cases: another timestamp, another key.
        assert_eq!(
            v(PAYLOAD, Some(SIGNATURE), Some("1388788367"), AT),
            Err(Rejected::BadSignature)
        );
        let other = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqTxd43gyp8IOEto2LdIfjRQrIbsd4SXZkLW6jDutdhXSJCWHw8REntlo7aNDthvj+y7GjUuFDb/R1NGe1OPzpA==";
        assert_eq!(
            verify(
                other,
                PAYLOAD.as_bytes(),
                Some(SIGNATURE),
                Some(TIMESTAMP),
                AT,
                300
            ),
            Err(Rejected::BadSignature)
        );
        // The same JSON re-serialised is another body: verification is over the raw bytes.
        let pretty =
            r#"{"category": "example_payload","event":"test_event","message_id":"message_id"}"#;
        assert_eq!(
            v(pretty, Some(SIGNATURE), Some(TIMESTAMP), AT),
            Err(Rejected::BadSignature)
        );
        assert_eq!(
            v(PAYLOAD, None, Some(TIMESTAMP), AT),
            Err(Rejected::MissingSignature)
        );
        assert_eq!(
            v(PAYLOAD, Some("!!"), Some(TIMESTAMP), AT),
            Err(Rejected::Malformed("signature is not base64"))
        );
        // A good signature replayed after the window.
        assert_eq!(
            v(PAYLOAD, Some(SIGNATURE), Some(TIMESTAMP), AT + 301),
            Err(Rejected::Stale)
        );
        assert!(matches!(
            verify(
                "not a key",
                PAYLOAD.as_bytes(),
                Some(SIGNATURE),
                Some(TIMESTAMP),
                AT,
                300
            ),
            Err(Rejected::KeyUnavailable(_))
        ));
    }

    #[test]
    fn what_the_sandbox_signs_verifies_with_the_key_it_shows() {
        let signer = Signer::generate();
        let body = br#"[{"email":"a@example.com","event":"bounce"}]"#;
        let sig = signer.sign("1700000000", body);
        assert_eq!(
            verify(
                &signer.public_key(),
                body,
                Some(&sig),
                Some("1700000000"),
                1_700_000_005,
                300
            ),
            Ok(())
        );
    }
}
