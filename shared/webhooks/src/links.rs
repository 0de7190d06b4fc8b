//! Signed one-click unsubscribe links (RFC 8058): the link names the contractor and carries
//! an HMAC-SHA256 of it under a key only we hold, so nobody can unsubscribe someone else by
//! guessing ids, and no login is needed to use one (mail clients POST to it on their own).
//! Links do not expire: an email read months later must still unsubscribe. Rotating the key
//! invalidates every link sent before.
//!
//! Token: `v1.<contractor id>.<base64url HMAC of "unsubscribe:v1:<contractor id>">`.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::Rejected;

const PURPOSE: &str = "unsubscribe:v1:";

#[derive(Clone)]
pub struct UnsubscribeLinks {
    key: hmac::Key,
}

impl std::fmt::Debug for UnsubscribeLinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UnsubscribeLinks(<key>)")
    }
}

fn plausible_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl UnsubscribeLinks {
    /// `secret`: at least 32 bytes of key material.
    pub fn new(secret: &[u8]) -> Result<UnsubscribeLinks, &'static str> {
        if secret.len() < 32 {
            return Err("the unsubscribe signing key must be at least 32 bytes");
        }
        Ok(UnsubscribeLinks {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
        })
    }

    /// The token for `contractor`'s links.
    pub fn token(&self, contractor: &str) -> String {
        let mac = hmac::sign(&self.key, format!("{PURPOSE}{contractor}").as_bytes());
        format!("v1.{contractor}.{}", URL_SAFE_NO_PAD.encode(mac.as_ref()))
    }

    /// The contractor a token names, if we signed it (compared in constant time).
    pub fn verify<'t>(&self, token: &'t str) -> Result<&'t str, Rejected> {
        let mut parts = token.splitn(3, '.');
        let (Some("v1"), Some(id), Some(mac)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(Rejected::Malformed("not an unsubscribe token"));
        };
        if !plausible_id(id) {
            return Err(Rejected::Malformed("not an unsubscribe token"));
        }
        let mac = URL_SAFE_NO_PAD
            .decode(mac)
            .map_err(|_| Rejected::Malformed("signature is not base64url"))?;
        hmac::verify(&self.key, format!("{PURPOSE}{id}").as_bytes(), &mac)
            .map_err(|_| Rejected::BadSignature)?;
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links() -> UnsubscribeLinks {
        UnsubscribeLinks::new(&[7u8; 32]).unwrap()
    }

    #[test]
    fn a_token_names_its_contractor_and_only_we_can_make_one() {
        let token = links().token("ctr_01JDX");
        assert!(token.starts_with("v1.ctr_01JDX."));
        assert_eq!(links().verify(&token), Ok("ctr_01JDX"));
        // Someone else's id with this signature, another key, a truncated or empty token.
        let forged = token.replace("ctr_01JDX", "ctr_01JDY");
        assert_eq!(links().verify(&forged), Err(Rejected::BadSignature));
        let other = UnsubscribeLinks::new(&[8u8; 32]).unwrap();
        assert_eq!(other.verify(&token), Err(Rejected::BadSignature));
        assert!(links().verify(&token[..token.len() - 2]).is_err());
        for junk in [
            "",
            "v1",
            "v1..",
            "v2.ctr_1.abc",
            "v1.ctr 1.abc",
            "v1.ctr_1.!!",
        ] {
            assert!(links().verify(junk).is_err(), "{junk:?}");
        }
        assert!(UnsubscribeLinks::new(b"short").is_err());
    }
}
