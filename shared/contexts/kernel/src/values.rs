//! Value types parsed from user input. Once built, a value is known to be valid and
//! normalised (trimmed, canonical case, E.164 phone…), so nothing downstream re-checks it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a raw value was refused: a stable code and a sentence for the user.
pub type Refusal = (&'static str, String);

fn refuse(code: &'static str, message: impl Into<String>) -> Refusal {
    (code, message.into())
}

macro_rules! string_value {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(value: String) -> Result<Self, String> {
                $name::parse(&value).map_err(|(_, message)| message)
            }
        }
        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
    };
}

/// Trims and folds inner runs of white space to one space.
fn tidy(raw: &str) -> String {
    raw.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn bounded_text(raw: &str, what: &str, max: usize) -> Result<String, Refusal> {
    let text = tidy(raw);
    if text.is_empty() {
        return Err(refuse("required", format!("Enter the {what}.")));
    }
    if text.chars().count() > max {
        return Err(refuse(
            "too_long",
            format!("The {what} must be at most {max} characters."),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(refuse(
            "invalid_characters",
            format!("The {what} contains characters that are not allowed."),
        ));
    }
    Ok(text)
}

/// A business's legal name or DBA.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BusinessName(String);
string_value!(BusinessName);

impl BusinessName {
    pub fn parse(raw: &str) -> Result<Self, Refusal> {
        let text = bounded_text(raw, "business name", 200)?;
        if !text.chars().any(char::is_alphanumeric) {
            return Err(refuse(
                "invalid_business_name",
                "The business name must contain letters or digits.",
            ));
        }
        Ok(BusinessName(text))
    }
}

/// A person's full name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonName(String);
string_value!(PersonName);

impl PersonName {
    pub fn parse(raw: &str) -> Result<Self, Refusal> {
        let text = bounded_text(raw, "name", 120)?;
        if !text.chars().any(char::is_alphabetic) {
            return Err(refuse("invalid_name", "The name must contain letters."));
        }
        Ok(PersonName(text))
    }
}

/// An email address: one `@`, a dotted domain, no spaces; the domain is lower-cased.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);
string_value!(Email);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, Refusal> {
        let bad = || {
            refuse(
                "invalid_email",
                "Enter a valid email address, like name@example.com.",
            )
        };
        let text = raw.trim();
        if text.is_empty() {
            return Err(refuse("required", "Enter an email address."));
        }
        if text.len() > 254 {
            return Err(refuse(
                "too_long",
                "The email address must be at most 254 characters.",
            ));
        }
        let (local, domain) = text.rsplit_once('@').ok_or_else(bad)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
            && labels
                .last()
                .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
        if !(local_ok && domain_ok) {
            return Err(bad());
        }
        Ok(Email(format!("{local}@{}", domain.to_ascii_lowercase())))
    }
}

/// A phone number in E.164. US numbers may be typed in any common way
/// (`(555) 010-2030`, `555.010.2030`, `+1 555 010 2030`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);
string_value!(Phone);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, Refusal> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(refuse("required", "Enter a phone number."));
        }
        let bad = || {
            refuse(
                "invalid_phone",
                "Enter a valid phone number, like (555) 010-2030 or +1 555 010 2030.",
            )
        };
        if !text
            .chars()
            .all(|c| c.is_ascii_digit() || " ()-.+".contains(c))
            || text[1..].contains('+')
        {
            return Err(bad());
        }
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        let e164 = if text.starts_with('+') {
            if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
                return Err(bad());
            }
            format!("+{digits}")
        } else if digits.len() == 10 {
            format!("+1{digits}")
        } else if digits.len() == 11 && digits.starts_with('1') {
            format!("+{digits}")
        } else {
            return Err(bad());
        };
        // North American numbering: area code and exchange never start with 0 or 1.
        if let Some(national) = e164.strip_prefix("+1") {
            let b = national.as_bytes();
            if national.len() != 10 || b[0] < b'2' || b[3] < b'2' {
                return Err(bad());
            }
        }
        Ok(Phone(e164))
    }
}

/// USPS codes of the states, DC and the territories where the marketplace operates.
pub const US_STATES: [&str; 51] = [
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA",
    "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM",
    "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA",
    "WV", "WI", "WY",
];

/// A US state (or DC) by its two-letter USPS code.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UsState(String);
string_value!(UsState);

impl UsState {
    pub fn parse(raw: &str) -> Result<Self, Refusal> {
        let code = raw.trim().to_ascii_uppercase();
        if US_STATES.contains(&code.as_str()) {
            Ok(UsState(code))
        } else {
            Err(refuse(
                "invalid_state",
                format!(
                    "{:?} is not a US state code; use two letters, like TX.",
                    raw.trim()
                ),
            ))
        }
    }
}

/// A US ZIP code, five digits or ZIP+4.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ZipCode(String);
string_value!(ZipCode);

impl ZipCode {
    pub fn parse(raw: &str) -> Result<Self, Refusal> {
        let text = raw.trim();
        let b = text.as_bytes();
        let ok = match b.len() {
            5 => b.iter().all(u8::is_ascii_digit),
            10 => {
                b[..5].iter().all(u8::is_ascii_digit)
                    && b[5] == b'-'
                    && b[6..].iter().all(u8::is_ascii_digit)
            }
            _ => false,
        };
        if ok && &text[..5] != "00000" {
            Ok(ZipCode(text.to_owned()))
        } else {
            Err(refuse(
                "invalid_zip",
                format!("{text:?} is not a ZIP code; use five digits, like 75201."),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse(" Jo.Smith+lights@Example.COM ")
                .unwrap()
                .as_str(),
            "Jo.Smith+lights@example.com"
        );
        for bad in [
            "",
            "jo",
            "jo@",
            "@example.com",
            "jo@example",
            "jo@@example.com",
            "jo smith@example.com",
            "jo@exa mple.com",
            "jo..x@example.com",
            "jo@-bad.com",
            "jo@example.c0m",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert_eq!(Email::parse("").unwrap_err().0, "required");
    }

    #[test]
    fn phones_normalise_to_e164() {
        for (raw, want) in [
            ("(214) 555-0142", "+12145550142"),
            ("214.555.0142", "+12145550142"),
            ("1 214 555 0142", "+12145550142"),
            ("+1 (214) 555-0142", "+12145550142"),
            ("+44 20 7946 0958", "+442079460958"),
        ] {
            assert_eq!(Phone::parse(raw).unwrap().as_str(), want, "{raw}");
        }
        for bad in [
            "",
            "555-0142",
            "(014) 555-0142",
            "214-155-0142",
            "phone",
            "+1 214 555 0142 ext 5",
            "21+4555014",
            "+0123456789",
        ] {
            assert!(Phone::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn names_are_tidied_and_bounded() {
        assert_eq!(
            BusinessName::parse("  Bright   Nights  LLC ")
                .unwrap()
                .as_str(),
            "Bright Nights LLC"
        );
        assert_eq!(BusinessName::parse("   ").unwrap_err().0, "required");
        assert_eq!(
            BusinessName::parse("---").unwrap_err().0,
            "invalid_business_name"
        );
        assert_eq!(
            BusinessName::parse(&"a".repeat(201)).unwrap_err().0,
            "too_long"
        );
        assert_eq!(PersonName::parse("12345").unwrap_err().0, "invalid_name");
    }

    #[test]
    fn states_and_zips() {
        assert_eq!(UsState::parse(" tx ").unwrap().as_str(), "TX");
        assert!(UsState::parse("XX").is_err());
        assert!(UsState::parse("Texas").is_err());
        assert!(ZipCode::parse("75201").is_ok());
        assert!(ZipCode::parse("75201-1234").is_ok());
        for bad in ["7520", "752011", "75201 1234", "abcde", "00000"] {
            assert!(ZipCode::parse(bad).is_err(), "{bad:?}");
        }
    }
}
