//! The local OIDC issuer and the JWT authorizer that trusts it.
//!
//! In the cloud, API Gateway's JWT authorizer checks Auth0's RS256 tokens. Locally the runner
//! plays both parts: it generates an RSA key at start, signs tokens at `POST /_local/token`,
//! publishes the key as JWKS under `/_local/.well-known/`, and verifies every request to an
//! authorized route as API Gateway does: signature, `iss`, `aud` (or `client_id`), `exp`,
//! `nbf`. Claims reach the function flattened to strings, arrays as `[a b]`, as on AWS.

use std::collections::HashMap;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{self, KeyPair as _};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::RunnerError;
use crate::model::JwtAuthorizer;

pub struct Issuer {
    pub issuer_url: String,
    pub audience: String,
    pub roles_claim: String,
    kid: String,
    key: KeyPair,
    n: Vec<u8>,
    e: Vec<u8>,
}

fn default_roles() -> Vec<String> {
    vec!["contractor".into()]
}

/// Body of `POST /_local/token`. Only `sub` is required; the rest let tests build the
/// tokens a real identity provider might send (expired, other audience, other issuer).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    pub sub: String,
    /// The roles claim; `["contractor"]` when left out (the role every signup gets, as an
    /// identity provider's default role would give it). `[]` for a token with none.
    #[serde(default = "default_roles")]
    pub roles: Vec<String>,
    pub email: Option<String>,
    /// Overrides the audience (string or list).
    pub audience: Option<Value>,
    /// Overrides the issuer (a token the authorizer must refuse).
    pub issuer: Option<String>,
    /// Lifetime in seconds; negative for an already expired token. Default 3600.
    pub expires_in: Option<i64>,
    /// Seconds from now before which the token is not valid (`nbf`).
    pub not_before_in: Option<i64>,
    /// How long ago the person signed in, in seconds (`auth_time`); 0 when left out, as
    /// for a token minted at sign-in. Sensitive actions (erasure) want a recent one.
    pub signed_in_ago: Option<i64>,
}

/// Why the authorizer refused a request (the text of `www-authenticate`'s description).
#[derive(Debug, PartialEq, Eq)]
pub struct AuthFailure(pub String);

impl Issuer {
    pub fn new(
        issuer_url: String,
        audience: String,
        roles_claim: String,
    ) -> Result<Issuer, RunnerError> {
        let key = KeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| RunnerError::Issuer("RSA key generation failed".into()))?;
        let public = key.public_key();
        let n = public.modulus().big_endian_without_leading_zero().to_vec();
        let e = public.exponent().big_endian_without_leading_zero().to_vec();
        Ok(Issuer {
            issuer_url,
            audience,
            roles_claim,
            kid: format!(
                "local-{}",
                &ulid::Ulid::new().to_string().to_lowercase()[..10]
            ),
            key,
            n,
            e,
        })
    }

    pub fn jwks(&self) -> Value {
        json!({"keys": [{
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid,
            "n": B64.encode(&self.n), "e": B64.encode(&self.e),
        }]})
    }

    pub fn openid_configuration(&self) -> Value {
        json!({
            "issuer": self.issuer_url,
            "jwks_uri": format!("{}.well-known/jwks.json", self.issuer_url),
            "id_token_signing_alg_values_supported": ["RS256"],
        })
    }

    /// Signs an access token for `req`; returns it with its lifetime.
    pub fn issue(&self, req: &TokenRequest) -> Result<(String, i64), RunnerError> {
        if req.sub.trim().is_empty() {
            return Err(RunnerError::Issuer("sub must not be empty".into()));
        }
        let now = chrono::Utc::now().timestamp();
        let lifetime = req.expires_in.unwrap_or(3600);
        let mut claims = Map::new();
        claims.insert(
            "iss".into(),
            json!(
                req.issuer
                    .clone()
                    .unwrap_or_else(|| self.issuer_url.clone())
            ),
        );
        claims.insert("sub".into(), json!(req.sub));
        claims.insert(
            "aud".into(),
            req.audience.clone().unwrap_or_else(|| json!(self.audience)),
        );
        claims.insert("iat".into(), json!(now));
        claims.insert(
            "auth_time".into(),
            json!(now - req.signed_in_ago.unwrap_or(0).max(0)),
        );
        claims.insert("exp".into(), json!(now + lifetime));
        if let Some(nbf) = req.not_before_in {
            claims.insert("nbf".into(), json!(now + nbf));
        }
        claims.insert(self.roles_claim.clone(), json!(req.roles));
        if let Some(email) = &req.email {
            claims.insert("email".into(), json!(email));
        }
        claims.insert("scope".into(), json!("openid profile email"));
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": self.kid});
        let signing_input = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(Value::Object(claims).to_string())
        );
        let mut sig = vec![0u8; self.key.public_modulus_len()];
        self.key
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signing_input.as_bytes(),
                &mut sig,
            )
            .map_err(|_| RunnerError::Issuer("signing failed".into()))?;
        Ok((format!("{signing_input}.{}", B64.encode(sig)), lifetime))
    }

    /// Verifies the `Authorization` header value as API Gateway's JWT authorizer would and
    /// returns the claims flattened for the event.
    pub fn authorize(
        &self,
        authorization: Option<&str>,
        config: &JwtAuthorizer,
    ) -> Result<HashMap<String, String>, AuthFailure> {
        let fail = |m: &str| AuthFailure(m.to_owned());
        let raw = authorization
            .ok_or_else(|| fail("missing Authorization header"))?
            .trim();
        let token = raw
            .strip_prefix("Bearer ")
            .or_else(|| raw.strip_prefix("bearer "))
            .unwrap_or(raw)
            .trim();
        let parts: Vec<&str> = token.split('.').collect();
        let [h, p, s] = parts[..] else {
            return Err(fail("the token is not a JWT"));
        };
        let header: Value = B64
            .decode(h)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| fail("unreadable token header"))?;
        if header.get("alg").and_then(Value::as_str) != Some("RS256") {
            return Err(fail("unsupported signing algorithm"));
        }
        if header.get("kid").and_then(Value::as_str) != Some(self.kid.as_str()) {
            return Err(fail("unknown signing key"));
        }
        if config.issuer != self.issuer_url {
            return Err(fail("the authorizer's issuer is not the local issuer"));
        }
        let sig = B64.decode(s).map_err(|_| fail("unreadable signature"))?;
        let public = signature::RsaPublicKeyComponents {
            n: &self.n,
            e: &self.e,
        };
        public
            .verify(
                &signature::RSA_PKCS1_2048_8192_SHA256,
                format!("{h}.{p}").as_bytes(),
                &sig,
            )
            .map_err(|_| fail("signature verification failed"))?;
        let claims: Map<String, Value> = B64
            .decode(p)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| fail("unreadable token claims"))?;

        let now = chrono::Utc::now().timestamp();
        if claims.get("iss").and_then(Value::as_str) != Some(config.issuer.as_str()) {
            return Err(fail("the token has an invalid issuer"));
        }
        let audiences: Vec<&str> = match claims.get("aud").or_else(|| claims.get("client_id")) {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        if !audiences
            .iter()
            .any(|a| config.audience.iter().any(|c| c == a))
        {
            return Err(fail("the token does not have a valid audience"));
        }
        match claims.get("exp").and_then(Value::as_i64) {
            Some(exp) if exp > now => {}
            Some(_) => return Err(fail("the token has expired")),
            None => return Err(fail("the token has no expiry")),
        }
        if claims
            .get("nbf")
            .and_then(Value::as_i64)
            .is_some_and(|nbf| nbf > now)
        {
            return Err(fail("the token is not valid yet"));
        }
        Ok(claims
            .iter()
            .map(|(k, v)| (k.clone(), flatten(v)))
            .collect())
    }
}

/// API Gateway's string form of a claim value.
fn flatten(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(flatten).collect::<Vec<_>>().join(" ")
        ),
        Value::Object(map) => format!(
            "map[{}]",
            map.iter()
                .map(|(k, v)| format!("{k}:{}", flatten(v)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issuer() -> (Issuer, JwtAuthorizer) {
        let i = Issuer::new(
            "http://127.0.0.1:3000/_local/".into(),
            "local-api".into(),
            "roles".into(),
        )
        .unwrap();
        let cfg = JwtAuthorizer {
            issuer: i.issuer_url.clone(),
            audience: vec!["local-api".into()],
        };
        (i, cfg)
    }

    fn req(sub: &str) -> TokenRequest {
        TokenRequest {
            sub: sub.into(),
            roles: vec!["reviewer".into(), "admin".into()],
            email: None,
            audience: None,
            issuer: None,
            expires_in: None,
            not_before_in: None,
            signed_in_ago: None,
        }
    }

    #[test]
    fn issued_tokens_verify_and_claims_are_flattened() {
        let (i, cfg) = issuer();
        let (token, _) = i.issue(&req("auth0|dana")).unwrap();
        let claims = i.authorize(Some(&format!("Bearer {token}")), &cfg).unwrap();
        assert_eq!(claims["sub"], "auth0|dana");
        assert_eq!(claims["roles"], "[reviewer admin]");
        assert!(claims["exp"].parse::<i64>().is_ok());
        let (earlier, _) = i
            .issue(&TokenRequest {
                signed_in_ago: Some(600),
                ..req("auth0|dana")
            })
            .unwrap();
        let c = i
            .authorize(Some(&format!("Bearer {earlier}")), &cfg)
            .unwrap();
        let at: i64 = c["auth_time"].parse().unwrap();
        assert!((at - (chrono::Utc::now().timestamp() - 600)).abs() < 5);
    }

    #[test]
    fn refuses_what_api_gateway_refuses() {
        let (i, cfg) = issuer();
        assert!(i.authorize(None, &cfg).is_err());
        assert!(i.authorize(Some("Bearer not.a.jwt"), &cfg).is_err());
        let expired = i
            .issue(&TokenRequest {
                expires_in: Some(-10),
                ..req("a")
            })
            .unwrap()
            .0;
        assert_eq!(
            i.authorize(Some(&expired), &cfg).unwrap_err().0,
            "the token has expired"
        );
        let other_aud = i
            .issue(&TokenRequest {
                audience: Some(json!("someone-else")),
                ..req("a")
            })
            .unwrap()
            .0;
        assert!(
            i.authorize(Some(&other_aud), &cfg)
                .unwrap_err()
                .0
                .contains("audience")
        );
        let other_iss = i
            .issue(&TokenRequest {
                issuer: Some("https://evil.example/".into()),
                ..req("a")
            })
            .unwrap()
            .0;
        assert!(
            i.authorize(Some(&other_iss), &cfg)
                .unwrap_err()
                .0
                .contains("issuer")
        );
        let early = i
            .issue(&TokenRequest {
                not_before_in: Some(600),
                ..req("a")
            })
            .unwrap()
            .0;
        assert!(i.authorize(Some(&early), &cfg).is_err());

        // A token with its payload swapped fails the signature check.
        let (good, _) = i.issue(&req("a")).unwrap();
        let (other, _) = i.issue(&req("b")).unwrap();
        let g: Vec<&str> = good.split('.').collect();
        let o: Vec<&str> = other.split('.').collect();
        let forged = format!("{}.{}.{}", g[0], o[1], g[2]);
        assert_eq!(
            i.authorize(Some(&forged), &cfg).unwrap_err().0,
            "signature verification failed"
        );

        // A token from another key (another runner) is refused.
        let (stranger, _) = issuer();
        let (foreign, _) = stranger.issue(&req("a")).unwrap();
        assert!(i.authorize(Some(&foreign), &cfg).is_err());
    }
}
