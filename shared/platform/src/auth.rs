//! Who is calling: the subject and roles from the JWT that API Gateway's authorizer already
//! verified. API Gateway HTTP APIs hand the claims over as strings, flattening arrays to
//! `"[a b]"`, which loses where one role ends (`["contractor reviewer"]` and
//! `["contractor", "reviewer"]` both arrive as `[contractor reviewer]`). So roles are read
//! from the verified token itself (its payload, from the `Authorization` header the
//! authorizer checked), each element exactly a role name; the flattened claim is read only
//! when there is no token, and then only in exactly API Gateway's shape.

use std::collections::{BTreeSet, HashMap};

use crate::problem::ApiError;

/// Roles our API knows. Unknown role names in a token are ignored, never an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Contractor,
    Reviewer,
    Admin,
}

impl Role {
    /// Exactly a role's name: case-sensitive, nothing around it.
    fn parse(raw: &str) -> Option<Role> {
        match raw {
            "contractor" => Some(Role::Contractor),
            "reviewer" => Some(Role::Reviewer),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The token's `sub`: the identity that owns what it creates.
    pub subject: String,
    pub roles: BTreeSet<Role>,
    /// When the person last signed in (`auth_time`, seconds since the epoch), if the token
    /// says: what a sensitive action (erasure) checks for a recent login.
    pub authenticated_at: Option<i64>,
}

impl Caller {
    /// Builds the caller from authorizer claims. A missing or unusable `sub` is 401: the
    /// authorizer should have refused the request, so we refuse it too.
    pub fn from_claims(
        claims: &HashMap<String, String>,
        roles_claim: &str,
    ) -> Result<Caller, ApiError> {
        Caller::from_token(claims, None, roles_claim)
    }

    /// As [`Caller::from_claims`], with roles from the verified token's payload when the
    /// request carries it (`authorization`: the `Authorization` header's value). A subject
    /// with surrounding spaces is refused, not trimmed: `" auth0|x"` is not `auth0|x`.
    pub fn from_token(
        claims: &HashMap<String, String>,
        authorization: Option<&str>,
        roles_claim: &str,
    ) -> Result<Caller, ApiError> {
        let subject = claims
            .get("sub")
            .filter(|s| !s.is_empty() && s.len() <= 255 && s.trim() == s.as_str())
            .ok_or(ApiError::Unauthorized)?
            .to_owned();
        let payload = authorization.and_then(token_payload);
        let roles = match &payload {
            Some(payload) => roles_in(&payload[roles_claim]),
            None => claims
                .get(roles_claim)
                .map(|raw| parse_roles(raw))
                .unwrap_or_default(),
        };
        // A number in the token; API Gateway hands claims over as strings.
        let authenticated_at = match &payload {
            Some(payload) => payload["auth_time"].as_i64(),
            None => claims.get("auth_time").and_then(|t| t.parse().ok()),
        }
        .filter(|t| *t > 0);
        Ok(Caller {
            subject,
            roles,
            authenticated_at,
        })
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Reviewers and admins may read any contractor.
    pub fn is_staff(&self) -> bool {
        self.has_role(Role::Reviewer) || self.has_role(Role::Admin)
    }
}

/// Parses a roles claim as API Gateway flattens it: `[a b]` (elements split on single
/// spaces, each exactly a role name; an element holding a bracket is not one), or one role
/// name alone. Nothing looser: no commas, no trimming, no case folding.
pub fn parse_roles(raw: &str) -> BTreeSet<Role> {
    match raw.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        Some(inner) => inner.split(' ').filter_map(Role::parse).collect(),
        None => Role::parse(raw).into_iter().collect(),
    }
}

/// Roles from a token's claim: an array of role names, or one name.
fn roles_in(claim: &serde_json::Value) -> BTreeSet<Role> {
    match claim {
        serde_json::Value::Array(items) => items
            .iter()
            .filter_map(|v| v.as_str().and_then(Role::parse))
            .collect(),
        serde_json::Value::String(one) => Role::parse(one).into_iter().collect(),
        _ => BTreeSet::new(),
    }
}

/// The payload of a bearer JWT (already verified by the authorizer that let the request
/// in; only read here, never trusted on its own).
fn token_payload(authorization: &str) -> Option<serde_json::Value> {
    use base64::Engine;
    let token = authorization
        .strip_prefix("Bearer ")
        .or_else(|| authorization.strip_prefix("bearer "))?;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn roles_only_in_api_gateways_shape() {
        let expect: BTreeSet<Role> = [Role::Reviewer, Role::Admin].into_iter().collect();
        assert_eq!(parse_roles("[reviewer admin]"), expect);
        assert_eq!(
            parse_roles("[reviewer superuser]"),
            [Role::Reviewer].into_iter().collect()
        );
        assert_eq!(
            parse_roles("reviewer"),
            [Role::Reviewer].into_iter().collect()
        );
        assert!(parse_roles("").is_empty());
        // One value never becomes several, and nothing is folded or trimmed.
        for one in [
            "contractor reviewer",
            "contractor,reviewer",
            "[[reviewer]]",
            "Reviewer",
            " reviewer",
            "[reviewer, admin]",
        ] {
            assert!(
                !parse_roles(one).contains(&Role::Reviewer),
                "{one:?} must not grant reviewer"
            );
        }
    }

    fn bearer(payload: serde_json::Value) -> String {
        use base64::Engine;
        let enc = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        format!(
            "Bearer {}.{}.sig",
            enc(br#"{"alg":"RS256"}"#),
            enc(payload.to_string().as_bytes())
        )
    }

    #[test]
    fn roles_come_from_the_verified_token_element_by_element() {
        // API Gateway would flatten both of these to "[contractor reviewer]".
        let c = claims(&[("sub", "auth0|x"), ("roles", "[contractor reviewer]")]);
        let one = bearer(serde_json::json!({"sub": "auth0|x", "roles": ["contractor reviewer"]}));
        let caller = Caller::from_token(&c, Some(&one), "roles").unwrap();
        assert!(
            caller.roles.is_empty(),
            "one element with a space is not two roles"
        );
        let two =
            bearer(serde_json::json!({"sub": "auth0|x", "roles": ["contractor", "reviewer"]}));
        let caller = Caller::from_token(&c, Some(&two), "roles").unwrap();
        assert!(caller.has_role(Role::Reviewer) && caller.has_role(Role::Contractor));
        for bad in [
            serde_json::json!(["[reviewer]"]),
            serde_json::json!("contractor,reviewer"),
            serde_json::json!(["Reviewer"]),
        ] {
            let t = bearer(serde_json::json!({"sub": "auth0|x", "roles": bad}));
            assert!(
                !Caller::from_token(&c, Some(&t), "roles")
                    .unwrap()
                    .is_staff(),
                "{t}"
            );
        }
    }

    #[test]
    fn the_login_time_comes_from_the_token_or_the_claims() {
        let c = claims(&[("sub", "auth0|x"), ("auth_time", "1700000000")]);
        assert_eq!(
            Caller::from_claims(&c, "roles").unwrap().authenticated_at,
            Some(1_700_000_000)
        );
        let t = bearer(serde_json::json!({"sub": "auth0|x", "auth_time": 1_700_000_500}));
        assert_eq!(
            Caller::from_token(&c, Some(&t), "roles")
                .unwrap()
                .authenticated_at,
            Some(1_700_000_500)
        );
        for bad in ["", "soon", "-5", "0"] {
            let c = claims(&[("sub", "auth0|x"), ("auth_time", bad)]);
            assert_eq!(
                Caller::from_claims(&c, "roles").unwrap().authenticated_at,
                None
            );
        }
    }

    #[test]
    fn caller_needs_a_subject() {
        assert!(matches!(
            Caller::from_claims(&claims(&[]), "roles"),
            Err(ApiError::Unauthorized)
        ));
        assert!(matches!(
            Caller::from_claims(&claims(&[("sub", " ")]), "roles"),
            Err(ApiError::Unauthorized)
        ));
        // Subjects that differ only by spaces are different subjects: refused, not trimmed.
        assert!(matches!(
            Caller::from_claims(&claims(&[("sub", " auth0|abc")]), "roles"),
            Err(ApiError::Unauthorized)
        ));
        let c = Caller::from_claims(
            &claims(&[("sub", "auth0|abc"), ("roles", "[reviewer]")]),
            "roles",
        )
        .unwrap();
        assert_eq!(c.subject, "auth0|abc");
        assert!(c.is_staff());
        let plain = Caller::from_claims(&claims(&[("sub", "auth0|abc")]), "roles").unwrap();
        assert!(!plain.is_staff());
    }
}
