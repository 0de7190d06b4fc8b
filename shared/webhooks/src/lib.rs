//! Verifying provider webhooks on the exact bytes received, before anything is parsed:
//! - HMAC-SHA256 of the raw body with a shared secret (TrustLayer's `X-Hmac-Hash`, hex or
//!   base64), compared in constant time;
//! - Plaid's `Plaid-Verification` header: a JWT that must be ES256, signed by the key its
//!   `kid` names (fetched from Plaid and cached), issued within the last 5 minutes and not
//!   in the future, whose `request_body_sha256` equals the SHA-256 of the raw body
//!   (constant time).
//!
//! Bodies over [`MAX_BODY`] are refused first. Every refusal is a [`Rejected`] the handler
//! answers 401 (or 413) without touching state.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aws_lc_rs::{constant_time, digest, hmac, signature};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Deserialize;

/// Webhook bodies are small JSON documents; anything larger is not one.
pub const MAX_BODY: usize = 64 * 1024;
/// How old a Plaid verification token may be (Plaid's rule: 5 minutes).
pub mod links;
pub mod sendgrid;

pub const MAX_AGE_SECONDS: i64 = 5 * 60;
/// Clock skew tolerated between Plaid's clock and ours, both ways: an `iat` up to a
/// minute ahead of ours, or up to 5 minutes and a minute behind.
pub const CLOCK_SKEW_SECONDS: i64 = 60;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Rejected {
    #[error("body larger than {MAX_BODY} bytes")]
    TooLarge,
    #[error("no signature header")]
    MissingSignature,
    #[error("signature header malformed: {0}")]
    Malformed(&'static str),
    #[error("algorithm {0} not accepted")]
    WrongAlgorithm(String),
    #[error("unknown signing key")]
    UnknownKey,
    #[error("signature does not verify")]
    BadSignature,
    #[error("token too old")]
    Stale,
    #[error("token issued in the future")]
    FromTheFuture,
    #[error("body does not match the signed digest")]
    BodyMismatch,
    #[error("could not fetch the verification key: {0}")]
    KeyUnavailable(String),
}

/// Checks `X-Hmac-Hash`-style signatures: HMAC-SHA256 of the raw body, hex or base64.
pub fn verify_hmac_sha256(
    secret: &[u8],
    body: &[u8],
    header: Option<&str>,
) -> Result<(), Rejected> {
    if body.len() > MAX_BODY {
        return Err(Rejected::TooLarge);
    }
    let given = header
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or(Rejected::MissingSignature)?;
    let given = decode_mac(given).ok_or(Rejected::Malformed("not hex or base64 of 32 bytes"))?;
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    hmac::verify(&key, body, &given).map_err(|_| Rejected::BadSignature)
}

/// Signs like the provider does (sandboxes and tests): lowercase hex.
pub fn sign_hmac_sha256(secret: &[u8], body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    hex::encode(hmac::sign(&key, body).as_ref())
}

fn decode_mac(s: &str) -> Option<Vec<u8>> {
    let bytes = if s.len() == 64 {
        hex::decode(s).ok()?
    } else {
        STANDARD.decode(s).ok()?
    };
    (bytes.len() == 32).then_some(bytes)
}

/// An EC P-256 public key as a JWK (what Plaid's `/webhook_verification_key/get` returns).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Jwk {
    pub kid: String,
    pub kty: String,
    pub crv: String,
    pub x: String,
    pub y: String,
    #[serde(default)]
    pub alg: Option<String>,
    /// Set once Plaid has rotated the key out (seconds since the epoch).
    #[serde(default)]
    pub expired_at: Option<i64>,
}

impl Jwk {
    /// The uncompressed point (0x04 ‖ x ‖ y).
    fn point(&self) -> Option<Vec<u8>> {
        if self.kty != "EC" || self.crv != "P-256" {
            return None;
        }
        let (x, y) = (
            URL_SAFE_NO_PAD.decode(&self.x).ok()?,
            URL_SAFE_NO_PAD.decode(&self.y).ok()?,
        );
        (x.len() == 32 && y.len() == 32).then(|| [&[4u8][..], &x, &y].concat())
    }
}

/// Where verification keys come from (Plaid's API in the product, the sandbox locally).
pub trait KeySource: Send + Sync {
    fn fetch(&self, kid: &str) -> impl Future<Output = Result<Option<Jwk>, String>> + Send;
}

/// Keys by `kid`, as Plaid's webhook verification procedure says: fetched when first seen
/// and kept for `ttl`; a key whose `expired_at` is set is refused (a retired key is not
/// trusted until its cache entry ages out); when an unknown `kid` arrives, the cached keys
/// not yet retired are fetched again, so a retirement is seen at once. Unknown `kid`s are
/// remembered for a while and fetches are rate-limited, so random `kid`s can't make us call
/// Plaid once per request.
pub struct KeyCache<S> {
    source: S,
    ttl: Duration,
    keys: Mutex<HashMap<String, (Jwk, Instant)>>,
    misses: Mutex<HashMap<String, Instant>>,
    fetches: Mutex<Vec<Instant>>,
}

/// How long an unknown `kid` is answered from memory.
const MISS_TTL: Duration = Duration::from_secs(300);
/// Fetches from the key endpoint allowed per minute.
const FETCHES_PER_MINUTE: usize = 10;

impl<S: KeySource> KeyCache<S> {
    pub fn new(source: S, ttl: Duration) -> Self {
        KeyCache {
            source,
            ttl,
            keys: Mutex::new(HashMap::new()),
            misses: Mutex::new(HashMap::new()),
            fetches: Mutex::new(Vec::new()),
        }
    }

    /// Takes one fetch from the budget, if any is left this minute.
    fn may_fetch(&self) -> bool {
        let mut fetches = self.fetches.lock().expect("fetch budget");
        fetches.retain(|at| at.elapsed() < Duration::from_secs(60));
        if fetches.len() >= FETCHES_PER_MINUTE {
            return false;
        }
        fetches.push(Instant::now());
        true
    }

    async fn fetch(&self, kid: &str) -> Result<Option<Jwk>, Rejected> {
        if !self.may_fetch() {
            return Err(Rejected::KeyUnavailable(
                "verification key fetches are rate-limited; retry later".into(),
            ));
        }
        self.source
            .fetch(kid)
            .await
            .map_err(Rejected::KeyUnavailable)
    }

    async fn key(&self, kid: &str) -> Result<Jwk, Rejected> {
        let cached = self.keys.lock().expect("key cache").get(kid).cloned();
        if let Some((jwk, at)) = cached
            && at.elapsed() < self.ttl
        {
            return Ok(jwk);
        }
        if self
            .misses
            .lock()
            .expect("miss cache")
            .get(kid)
            .is_some_and(|at| at.elapsed() < MISS_TTL)
        {
            return Err(Rejected::UnknownKey);
        }
        let Some(jwk) = self.fetch(kid).await? else {
            self.misses
                .lock()
                .expect("miss cache")
                .insert(kid.to_owned(), Instant::now());
            return Err(Rejected::UnknownKey);
        };
        // A new key is a sign of rotation: look again at the keys we still trust.
        let live: Vec<String> = self
            .keys
            .lock()
            .expect("key cache")
            .iter()
            .filter(|(k, (j, _))| k.as_str() != kid && j.expired_at.is_none())
            .map(|(k, _)| k.clone())
            .collect();
        for other in live {
            if let Ok(Some(fresh)) = self.fetch(&other).await {
                self.keys
                    .lock()
                    .expect("key cache")
                    .insert(other, (fresh, Instant::now()));
            }
        }
        self.keys
            .lock()
            .expect("key cache")
            .insert(kid.to_owned(), (jwk.clone(), Instant::now()));
        Ok(jwk)
    }

    /// Verifies a `Plaid-Verification` header for `body`, at `now` (seconds since the epoch).
    pub async fn verify_plaid(
        &self,
        body: &[u8],
        header: Option<&str>,
        now: i64,
    ) -> Result<(), Rejected> {
        if body.len() > MAX_BODY {
            return Err(Rejected::TooLarge);
        }
        let token = header
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .ok_or(Rejected::MissingSignature)?;
        let parts: Vec<&str> = token.split('.').collect();
        let [head, claims, sig] = parts.as_slice() else {
            return Err(Rejected::Malformed("not a JWS compact token"));
        };
        #[derive(Deserialize)]
        struct Header {
            alg: String,
            kid: Option<String>,
        }
        let header: Header = decode_json(head).ok_or(Rejected::Malformed("header"))?;
        // Only ES256: "none", HS256 (key confusion) and everything else are refused.
        if header.alg != "ES256" {
            return Err(Rejected::WrongAlgorithm(header.alg));
        }
        let kid = header.kid.ok_or(Rejected::Malformed("no kid"))?;
        let jwk = self.key(&kid).await?;
        // Plaid sets `expired_at` when it retires a key: from then on it is not trusted.
        if jwk.expired_at.is_some() {
            return Err(Rejected::UnknownKey);
        }
        let point = jwk.point().ok_or(Rejected::UnknownKey)?;
        let sig = URL_SAFE_NO_PAD
            .decode(sig)
            .map_err(|_| Rejected::Malformed("signature"))?;
        signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
            .verify(format!("{head}.{claims}").as_bytes(), &sig)
            .map_err(|_| Rejected::BadSignature)?;
        #[derive(Deserialize)]
        struct Claims {
            iat: i64,
            request_body_sha256: String,
        }
        let claims: Claims = decode_json(claims).ok_or(Rejected::Malformed("claims"))?;
        if claims.iat > now + CLOCK_SKEW_SECONDS {
            return Err(Rejected::FromTheFuture);
        }
        if now - claims.iat > MAX_AGE_SECONDS + CLOCK_SKEW_SECONDS {
            return Err(Rejected::Stale);
        }
        let actual = hex::encode(digest::digest(&digest::SHA256, body).as_ref());
        constant_time::verify_slices_are_equal(
            actual.as_bytes(),
            claims.request_body_sha256.to_ascii_lowercase().as_bytes(),
        )
        .map_err(|_| Rejected::BodyMismatch)
    }
}

fn decode_json<T: serde::de::DeserializeOwned>(part: &str) -> Option<T> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()
}

/// Signs Plaid-style verification tokens: what the Plaid sandbox uses to send webhooks.
pub struct PlaidSigner {
    kid: String,
    key: signature::EcdsaKeyPair,
}

impl PlaidSigner {
    pub fn generate(kid: impl Into<String>) -> PlaidSigner {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let pkcs8 = signature::EcdsaKeyPair::generate_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &rng,
        )
        .expect("P-256 key generation");
        PlaidSigner {
            kid: kid.into(),
            key: signature::EcdsaKeyPair::from_pkcs8(
                &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                pkcs8.as_ref(),
            )
            .expect("the key just generated"),
        }
    }

    /// The public key as Plaid's `/webhook_verification_key/get` returns it.
    pub fn jwk(&self) -> serde_json::Value {
        use signature::KeyPair;
        let point = self.key.public_key().as_ref();
        serde_json::json!({
            "alg": "ES256", "kid": self.kid, "kty": "EC", "crv": "P-256", "use": "sig",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
            "created_at": 1_700_000_000, "expired_at": null
        })
    }

    /// The `Plaid-Verification` header for `body`, issued at `iat`.
    pub fn token(&self, body: &[u8], iat: i64) -> String {
        self.token_with(
            &serde_json::json!({"alg": "ES256", "kid": self.kid, "typ": "JWT"}),
            body,
            iat,
        )
    }

    /// A token with any header (tests forge `alg` with it).
    pub fn token_with(&self, header: &serde_json::Value, body: &[u8], iat: i64) -> String {
        let claims = serde_json::json!({
            "iat": iat,
            "request_body_sha256": hex::encode(digest::digest(&digest::SHA256, body).as_ref()),
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let sig = self.key.sign(&rng, signing_input.as_bytes()).expect("sign");
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
    }
}

/// Plaid's `/webhook_verification_key/get`, the key source in the product (and against the
/// local Plaid sandbox).
pub struct PlaidKeys {
    pub http: reqwest::Client,
    /// `https://production.plaid.com`, `https://sandbox.plaid.com`, or the local sandbox.
    pub base_url: String,
    pub client_id: String,
    pub secret: String,
}

impl KeySource for PlaidKeys {
    async fn fetch(&self, kid: &str) -> Result<Option<Jwk>, String> {
        let resp = self
            .http
            .post(format!("{}/webhook_verification_key/get", self.base_url.trim_end_matches('/')))
            .header("Plaid-Version", "2020-09-14")
            .json(&serde_json::json!({"client_id": self.client_id, "secret": self.secret, "key_id": kid}))
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = resp.status();
        let body: serde_json::Value = resp.json().await.map_err(|e| e.to_string())?;
        if status.as_u16() == 400 && body["error_code"] == "INVALID_WEBHOOK_VERIFICATION_KEY_ID" {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(format!("Plaid answered {status}: {}", body["error_code"]));
        }
        serde_json::from_value(body["key"].clone())
            .map(Some)
            .map_err(|e| format!("unexpected key: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn hmac_signatures_in_hex_or_base64_verify_and_forgeries_do_not() {
        let body = br#"{"event":"document.verified","id":"tl_123"}"#;
        let hex_sig = sign_hmac_sha256(b"s3cret", body);
        assert_eq!(verify_hmac_sha256(b"s3cret", body, Some(&hex_sig)), Ok(()));
        let b64 = STANDARD.encode(hex::decode(&hex_sig).unwrap());
        assert_eq!(verify_hmac_sha256(b"s3cret", body, Some(&b64)), Ok(()));
        assert_eq!(
            verify_hmac_sha256(b"other", body, Some(&hex_sig)),
            Err(Rejected::BadSignature)
        );
        let tampered = br#"{"event":"document.verified","id":"tl_124"}"#;
        assert_eq!(
            verify_hmac_sha256(b"s3cret", tampered, Some(&hex_sig)),
            Err(Rejected::BadSignature)
        );
        assert_eq!(
            verify_hmac_sha256(b"s3cret", body, None),
            Err(Rejected::MissingSignature)
        );
        assert!(matches!(
            verify_hmac_sha256(b"s3cret", body, Some("zz")),
            Err(Rejected::Malformed(_))
        ));
        assert_eq!(
            verify_hmac_sha256(b"s3cret", &vec![b' '; MAX_BODY + 1], Some(&hex_sig)),
            Err(Rejected::TooLarge)
        );
    }

    struct Keys {
        jwks: Mutex<Vec<serde_json::Value>>,
        fetches: AtomicUsize,
    }

    impl KeySource for &'static Keys {
        async fn fetch(&self, kid: &str) -> Result<Option<Jwk>, String> {
            self.fetches.fetch_add(1, Ordering::SeqCst);
            let jwks = self.jwks.lock().unwrap();
            Ok(jwks
                .iter()
                .find(|j| j["kid"] == kid)
                .map(|j| serde_json::from_value(j.clone()).unwrap()))
        }
    }

    fn setup() -> (PlaidSigner, KeyCache<&'static Keys>, &'static Keys) {
        let signer = PlaidSigner::generate("kid-1");
        let keys: &'static Keys = Box::leak(Box::new(Keys {
            jwks: Mutex::new(vec![signer.jwk()]),
            fetches: AtomicUsize::new(0),
        }));
        (signer, KeyCache::new(keys, Duration::from_secs(3600)), keys)
    }

    /// Plaid retires a key (sets `expired_at`) and signs with a new one: the first webhook
    /// signed by the new key makes us look at the old one again, and it is refused from then
    /// on, not a day later.
    #[tokio::test]
    async fn a_retired_key_is_refused_as_soon_as_a_new_one_appears() {
        let (old, cache, keys) = setup();
        assert_eq!(
            cache
                .verify_plaid(BODY, Some(&old.token(BODY, NOW)), NOW)
                .await,
            Ok(())
        );
        let new = PlaidSigner::generate("kid-2");
        {
            let mut jwks = keys.jwks.lock().unwrap();
            jwks[0]["expired_at"] = serde_json::json!(NOW + 86_400);
            jwks.push(new.jwk());
        }
        assert_eq!(
            cache
                .verify_plaid(BODY, Some(&new.token(BODY, NOW)), NOW)
                .await,
            Ok(())
        );
        assert_eq!(
            cache
                .verify_plaid(BODY, Some(&old.token(BODY, NOW)), NOW)
                .await,
            Err(Rejected::UnknownKey),
            "expired_at set (even in the future): not trusted"
        );
    }

    /// Random `kid`s never reach Plaid more than the budget allows, and a miss is answered
    /// from memory.
    #[tokio::test]
    async fn unknown_kids_are_remembered_and_fetches_are_rate_limited() {
        let (_, cache, keys) = setup();
        let stranger = PlaidSigner::generate("kid-x");
        for _ in 0..3 {
            assert_eq!(
                cache
                    .verify_plaid(BODY, Some(&stranger.token(BODY, NOW)), NOW)
                    .await,
                Err(Rejected::UnknownKey)
            );
        }
        assert_eq!(
            keys.fetches.load(Ordering::SeqCst),
            1,
            "a miss is remembered"
        );
        for i in 0..50 {
            let random = PlaidSigner::generate(format!("rnd-{i}"));
            let _ = cache
                .verify_plaid(BODY, Some(&random.token(BODY, NOW)), NOW)
                .await;
        }
        assert_eq!(keys.fetches.load(Ordering::SeqCst), FETCHES_PER_MINUTE);
    }

    const NOW: i64 = 1_795_342_531;
    const BODY: &[u8] =
        br#"{"webhook_type":"AUTH","webhook_code":"AUTOMATICALLY_VERIFIED","item_id":"it_1"}"#;

    #[tokio::test]
    async fn a_fresh_plaid_token_for_this_body_verifies_and_the_key_is_cached() {
        let (signer, cache, keys) = setup();
        for _ in 0..3 {
            let token = signer.token(BODY, NOW - 10);
            assert_eq!(cache.verify_plaid(BODY, Some(&token), NOW).await, Ok(()));
        }
        assert_eq!(
            keys.fetches.load(Ordering::SeqCst),
            1,
            "fetched once by kid"
        );
    }

    #[tokio::test]
    async fn stale_future_tampered_and_forged_tokens_are_refused() {
        let (signer, cache, _) = setup();
        let stale = signer.token(BODY, NOW - MAX_AGE_SECONDS - CLOCK_SKEW_SECONDS - 1);
        assert_eq!(
            cache.verify_plaid(BODY, Some(&stale), NOW).await,
            Err(Rejected::Stale)
        );
        let future = signer.token(BODY, NOW + CLOCK_SKEW_SECONDS + 1);
        assert_eq!(
            cache.verify_plaid(BODY, Some(&future), NOW).await,
            Err(Rejected::FromTheFuture)
        );
        // Clocks differ: half a minute either way past the limits is still Plaid's token.
        for iat in [NOW + 30, NOW - MAX_AGE_SECONDS - 30] {
            let skewed = signer.token(BODY, iat);
            assert_eq!(
                cache.verify_plaid(BODY, Some(&skewed), NOW).await,
                Ok(()),
                "{iat}"
            );
        }
        let token = signer.token(BODY, NOW);
        let other_body =
            br#"{"webhook_type":"AUTH","webhook_code":"VERIFICATION_EXPIRED","item_id":"it_1"}"#;
        assert_eq!(
            cache.verify_plaid(other_body, Some(&token), NOW).await,
            Err(Rejected::BodyMismatch)
        );
        let hs = signer.token_with(
            &serde_json::json!({"alg": "HS256", "kid": "kid-1"}),
            BODY,
            NOW,
        );
        assert_eq!(
            cache.verify_plaid(BODY, Some(&hs), NOW).await,
            Err(Rejected::WrongAlgorithm("HS256".into()))
        );
        let none = signer.token_with(
            &serde_json::json!({"alg": "none", "kid": "kid-1"}),
            BODY,
            NOW,
        );
        assert!(matches!(
            cache.verify_plaid(BODY, Some(&none), NOW).await,
            Err(Rejected::WrongAlgorithm(_))
        ));
        let unknown = signer.token_with(
            &serde_json::json!({"alg": "ES256", "kid": "kid-9"}),
            BODY,
            NOW,
        );
        assert_eq!(
            cache.verify_plaid(BODY, Some(&unknown), NOW).await,
            Err(Rejected::UnknownKey)
        );
        // Signed by another key under the same kid: the signature fails.
        let impostor = PlaidSigner::generate("kid-1").token(BODY, NOW);
        assert_eq!(
            cache.verify_plaid(BODY, Some(&impostor), NOW).await,
            Err(Rejected::BadSignature)
        );
        assert_eq!(
            cache.verify_plaid(BODY, None, NOW).await,
            Err(Rejected::MissingSignature)
        );
        assert!(matches!(
            cache.verify_plaid(BODY, Some("a.b"), NOW).await,
            Err(Rejected::Malformed(_))
        ));
    }
}
