//! Prefixed, sortable identifiers (`ctr_01hf…`), Stripe style: the prefix says what the id
//! names, the ULID makes ids unique without coordination and sortable by creation time.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            pub fn generate() -> Self {
                $name(format!("{}_{}", $prefix, ulid::Ulid::new().to_string().to_lowercase()))
            }

            /// Accepts exactly `<prefix>_<26 ULID characters>` (case-insensitive body).
            pub fn parse(raw: &str) -> Option<Self> {
                let body = raw.strip_prefix(concat!($prefix, "_"))?;
                let ulid = ulid::Ulid::from_string(body).ok()?;
                Some($name(format!("{}_{}", $prefix, ulid.to_string().to_lowercase())))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                $name::parse(&value).ok_or_else(|| format!("not a valid {} id", $prefix))
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

prefixed_id!(
    /// A contractor account.
    ContractorId,
    "ctr"
);

prefixed_id!(
    /// An uploaded document (one file, one version of a requirement's evidence).
    DocumentId,
    "doc"
);

prefixed_id!(
    /// A domain event.
    EventId,
    "evt"
);

prefixed_id!(
    /// A contractor's erasure request: one per contractor ([`ErasureId::for_contractor`]),
    /// so asking twice names the same request.
    ErasureId,
    "era"
);

impl ErasureId {
    /// The erasure request of `contractor`: derived from its id, never random.
    pub fn for_contractor(contractor: &ContractorId) -> ErasureId {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(format!("erasure:{contractor}").as_bytes());
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        ErasureId(format!(
            "era_{}",
            ulid::Ulid::from_bytes(bytes).to_string().to_lowercase()
        ))
    }
}

prefixed_id!(
    /// A personal-data export (an archive of everything held about a contractor).
    ExportId,
    "exp"
);

/// The identity (JWT `sub`) that owns a contractor account.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OwnerId(String);

impl OwnerId {
    pub fn parse(raw: &str) -> Option<Self> {
        let trimmed = raw.trim();
        (!trimmed.is_empty() && trimmed.len() <= 255 && !trimmed.chars().any(char::is_control))
            .then(|| OwnerId(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for OwnerId {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        OwnerId::parse(&value).ok_or_else(|| "not a valid owner id".to_owned())
    }
}

impl From<OwnerId> for String {
    fn from(value: OwnerId) -> String {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_round_trip_and_sort_by_time() {
        let a = ContractorId::generate();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = ContractorId::generate();
        assert!(a.as_str().starts_with("ctr_"));
        assert_eq!(a.as_str().len(), 30);
        assert_eq!(ContractorId::parse(a.as_str()), Some(a.clone()));
        assert!(a < b);
    }

    #[test]
    fn parse_rejects_foreign_and_malformed_ids() {
        assert!(ContractorId::parse("doc_01hf0000000000000000000000").is_none());
        assert!(ContractorId::parse("ctr_notaulid").is_none());
        assert!(ContractorId::parse("ctr_").is_none());
        assert!(ContractorId::parse("../etc/passwd").is_none());
        let upper = ContractorId::parse("ctr_01HF0000000000000000000000").unwrap();
        assert_eq!(upper.as_str(), "ctr_01hf0000000000000000000000");
    }

    #[test]
    fn owner_ids_are_trimmed_and_bounded() {
        assert_eq!(OwnerId::parse(" auth0|abc ").unwrap().as_str(), "auth0|abc");
        assert!(OwnerId::parse("").is_none());
        assert!(OwnerId::parse(&"x".repeat(256)).is_none());
        assert!(OwnerId::parse("a\u{0}b").is_none());
    }
}
