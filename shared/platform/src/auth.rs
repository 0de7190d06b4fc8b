//! Who is calling: the subject and roles from the JWT that API Gateway's authorizer already
//! verified. API Gateway HTTP APIs hand the claims over as strings, flattening arrays to
//! `"[a b]"`; [`parse_roles`] accepts that form, JSON arrays and comma lists.

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
    fn parse(raw: &str) -> Option<Role> {
        match raw.trim().to_ascii_lowercase().as_str() {
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
}

impl Caller {
    /// Builds the caller from authorizer claims. A missing or unusable `sub` is 401: the
    /// authorizer should have refused the request, so we refuse it too.
    pub fn from_claims(
        claims: &HashMap<String, String>,
        roles_claim: &str,
    ) -> Result<Caller, ApiError> {
        let subject = claims
            .get("sub")
            .map(|s| s.trim())
            .filter(|s| !s.is_empty() && s.len() <= 255)
            .ok_or(ApiError::Unauthorized)?
            .to_owned();
        let roles = claims
            .get(roles_claim)
            .map(|raw| parse_roles(raw))
            .unwrap_or_default();
        Ok(Caller { subject, roles })
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Reviewers and admins may read any contractor.
    pub fn is_staff(&self) -> bool {
        self.has_role(Role::Reviewer) || self.has_role(Role::Admin)
    }
}

/// Parses a roles claim in any of the shapes it arrives in.
pub fn parse_roles(raw: &str) -> BTreeSet<Role> {
    let trimmed = raw.trim();
    if let Ok(list) = serde_json::from_str::<Vec<String>>(trimmed) {
        return list.iter().filter_map(|r| Role::parse(r)).collect();
    }
    trimmed
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter_map(Role::parse)
        .collect()
}

impl From<&Caller> for domain::onboarding::Viewer {
    fn from(c: &Caller) -> Self {
        domain::onboarding::Viewer {
            subject: c.subject.clone(),
            staff: c.is_staff(),
            admin: c.has_role(Role::Admin),
        }
    }
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
    fn roles_in_every_shape() {
        let expect: BTreeSet<Role> = [Role::Reviewer, Role::Admin].into_iter().collect();
        assert_eq!(parse_roles("[reviewer admin]"), expect);
        assert_eq!(parse_roles(r#"["reviewer","admin"]"#), expect);
        assert_eq!(parse_roles("reviewer, admin"), expect);
        assert_eq!(
            parse_roles("[reviewer superuser]"),
            [Role::Reviewer].into_iter().collect()
        );
        assert!(parse_roles("").is_empty());
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
