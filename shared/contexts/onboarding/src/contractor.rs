//! The contractor account: registration and who may see it. The lifecycle and requirements
//! grow here as the onboarding API does.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use domain_kernel::terms::{Service, Status};

use crate::ids::{ContractorId, OwnerId};
use crate::steps::{ALL_STEPS, StepName, StepStatus};
use crate::validation::{Collector, Invalid};
use crate::values::{BusinessName, Email, PersonName, Phone, UsState, ZipCode};
use domain_kernel::ports::EncryptedField;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub name: PersonName,
    pub email: Email,
    pub phone: Phone,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceArea {
    pub states: Vec<UsState>,
    pub zip_codes: Vec<ZipCode>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradeDetails {
    pub crew_size: u16,
    pub years_in_business: u16,
    pub services: Vec<Service>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contractor {
    pub id: ContractorId,
    pub owner: OwnerId,
    pub business_name: BusinessName,
    pub contact: Contact,
    pub service_area: ServiceArea,
    pub trade: TradeDetails,
    pub status: Status,
    /// Optimistic-concurrency version: 1 at registration, +1 on every change.
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Saved wizard steps (masked where sensitive).
    #[serde(default)]
    pub steps: BTreeMap<StepName, StepState>,
    /// Consents given, newest last.
    #[serde(default)]
    pub consents: Vec<Consent>,
    /// Field-level encrypted values; never part of any response.
    #[serde(default)]
    pub secrets: Secrets,
    /// Hash of the newest audit entry (the chain's head).
    #[serde(default)]
    pub audit_head: Option<String>,
    /// Verification requirements (documents, providers, reviewers), read beside the
    /// contractor and stored as their own items; never part of the stored profile.
    #[serde(skip)]
    pub verifications: Vec<crate::verification::Requirement>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepState {
    pub status: StepStatus,
    pub data: Map<String, Value>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Secrets {
    pub tin: Option<EncryptedField>,
}

/// A recorded consent: which document, which version, when and from where.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    pub document: String,
    pub version: String,
    pub accepted_at: DateTime<Utc>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: String,
    /// When the contractor withdrew it (the record stays: the history is the proof).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn_at: Option<DateTime<Utc>>,
}

/// `POST /v1/contractors` as the client sends it. Every field is optional here so that a
/// missing one is reported as a field error next to the others, not as a parse failure.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterContractor {
    pub business_name: Option<String>,
    pub contact: Option<ContactInput>,
    pub service_area: Option<ServiceAreaInput>,
    pub trade: Option<TradeInput>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceAreaInput {
    pub states: Option<Vec<String>>,
    #[serde(default)]
    pub zip_codes: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TradeInput {
    #[serde(default, deserialize_with = "crate::validation::whole_number")]
    pub crew_size: Option<i64>,
    #[serde(default, deserialize_with = "crate::validation::whole_number")]
    pub years_in_business: Option<i64>,
    #[serde(default)]
    pub services: Vec<String>,
}

pub const MAX_ZIP_CODES: usize = 500;
pub const MAX_CREW_SIZE: i64 = 500;

fn required<'a>(c: &mut Collector, field: &str, value: &'a Option<String>) -> Option<&'a str> {
    match value.as_deref() {
        Some(v) => Some(v),
        None => {
            c.push(field, "required", "This field is required.");
            None
        }
    }
}

impl RegisterContractor {
    /// Validates every field and builds the new account, in `draft`.
    pub fn into_contractor(
        self,
        id: ContractorId,
        owner: OwnerId,
        now: DateTime<Utc>,
    ) -> Result<Contractor, Invalid> {
        let mut c = Collector::new();
        let business_name = required(&mut c, "business_name", &self.business_name)
            .and_then(|v| c.check("business_name", BusinessName::parse(v)));

        let contact = match &self.contact {
            None => {
                c.push(
                    "contact",
                    "required",
                    "Give a contact name, email and phone.",
                );
                None
            }
            Some(input) => {
                let name = required(&mut c, "contact.name", &input.name)
                    .and_then(|v| c.check("contact.name", PersonName::parse(v)));
                let email = required(&mut c, "contact.email", &input.email)
                    .and_then(|v| c.check("contact.email", Email::parse(v)));
                let phone = required(&mut c, "contact.phone", &input.phone)
                    .and_then(|v| c.check("contact.phone", Phone::parse(v)));
                match (name, email, phone) {
                    (Some(name), Some(email), Some(phone)) => Some(Contact { name, email, phone }),
                    _ => None,
                }
            }
        };

        let service_area = match &self.service_area {
            None => {
                c.push(
                    "service_area",
                    "required",
                    "Give the states (and optionally ZIP codes) you serve.",
                );
                None
            }
            Some(input) => parse_service_area(&mut c, input),
        };

        let trade = match &self.trade {
            None => {
                c.push(
                    "trade",
                    "required",
                    "Give your crew size, years in business and services.",
                );
                None
            }
            Some(input) => parse_trade(&mut c, input),
        };

        c.finish(|| Contractor {
            id,
            owner,
            business_name: business_name.expect("checked"),
            contact: contact.expect("checked"),
            service_area: service_area.expect("checked"),
            trade: trade.expect("checked"),
            status: Status::Draft,
            version: 1,
            created_at: now,
            updated_at: now,
            steps: BTreeMap::new(),
            consents: Vec::new(),
            secrets: Secrets::default(),
            audit_head: None,
            verifications: Vec::new(),
        })
    }
}

fn parse_service_area(c: &mut Collector, input: &ServiceAreaInput) -> Option<ServiceArea> {
    let before = c.is_empty();
    let mut states: Vec<UsState> = Vec::new();
    match &input.states {
        None => c.push(
            "service_area.states",
            "required",
            "List at least one state you serve.",
        ),
        Some(list) if list.is_empty() => c.push(
            "service_area.states",
            "required",
            "List at least one state you serve.",
        ),
        Some(list) => {
            for (i, raw) in list.iter().enumerate() {
                if let Some(state) =
                    c.check(&format!("service_area.states[{i}]"), UsState::parse(raw))
                    && !states.contains(&state)
                {
                    states.push(state);
                }
            }
        }
    }
    let mut zip_codes: Vec<ZipCode> = Vec::new();
    if input.zip_codes.len() > MAX_ZIP_CODES {
        c.push(
            "service_area.zip_codes",
            "too_many",
            format!("List at most {MAX_ZIP_CODES} ZIP codes."),
        );
    } else {
        for (i, raw) in input.zip_codes.iter().enumerate() {
            if let Some(zip) = c.check(&format!("service_area.zip_codes[{i}]"), ZipCode::parse(raw))
                && !zip_codes.contains(&zip)
            {
                zip_codes.push(zip);
            }
        }
    }
    (before && c.is_empty()).then_some(ServiceArea { states, zip_codes })
}

fn parse_trade(c: &mut Collector, input: &TradeInput) -> Option<TradeDetails> {
    let before = c.is_empty();
    let crew_size = match input.crew_size {
        None => {
            c.push("trade.crew_size", "required", "Give your crew size.");
            0
        }
        Some(n) if !(1..=MAX_CREW_SIZE).contains(&n) => {
            c.push(
                "trade.crew_size",
                "out_of_range",
                format!("Crew size must be between 1 and {MAX_CREW_SIZE}."),
            );
            0
        }
        Some(n) => n as u16,
    };
    let years_in_business = match input.years_in_business {
        None => 0,
        Some(n) if !(0..=100).contains(&n) => {
            c.push(
                "trade.years_in_business",
                "out_of_range",
                "Years in business must be between 0 and 100.",
            );
            0
        }
        Some(n) => n as u16,
    };
    let mut services = Vec::new();
    if input.services.is_empty() {
        c.push(
            "trade.services",
            "required",
            "Pick at least one service you offer.",
        );
    }
    for (i, raw) in input.services.iter().enumerate() {
        match Service::parse(raw) {
            Some(s) if !services.contains(&s) => services.push(s),
            Some(_) => {}
            None => {
                let known: Vec<&str> = Service::ALL.iter().map(|(n, _)| *n).collect();
                c.push(
                    format!("trade.services[{i}]"),
                    "invalid_choice",
                    format!("Unknown service {raw:?}; pick from {}.", known.join(", ")),
                );
            }
        }
    }
    services.sort();
    (before && c.is_empty()).then_some(TradeDetails {
        crew_size,
        years_in_business,
        services,
    })
}

impl Contractor {
    /// The owner and staff may see an account; to anyone else it does not exist.
    pub fn visible_to(&self, subject: &str, is_staff: bool) -> bool {
        is_staff || self.owner.as_str() == subject
    }

    /// The names documents must match: the legal name from the business profile (the
    /// registered business name until the profile says otherwise) and the DBA, if any.
    pub fn names(&self) -> (String, Option<String>) {
        let profile = self.steps.get(&StepName::BusinessProfile).map(|s| &s.data);
        let text = |k: &str| {
            profile
                .and_then(|d| d.get(k))
                .and_then(|v| v.as_str())
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        (
            text("legal_name").unwrap_or_else(|| self.business_name.as_str().to_owned()),
            text("dba"),
        )
    }

    pub fn step_status(&self, step: StepName) -> StepStatus {
        self.steps
            .get(&step)
            .map(|s| s.status)
            .unwrap_or(StepStatus::NotStarted)
    }

    /// Overall completion for the progress ring: complete steps out of all steps.
    pub fn percent_complete(&self) -> u8 {
        let done = ALL_STEPS
            .iter()
            .filter(|s| self.step_status(**s) == StepStatus::Complete)
            .count();
        ((done * 100 + ALL_STEPS.len() / 2) / ALL_STEPS.len()) as u8
    }
}

/// A registered contractor for other modules' tests.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    pub fn contractor_serving(states: &[&str]) -> Contractor {
        let input: RegisterContractor = serde_json::from_value(serde_json::json!({
            "business_name": "Bright Nights LLC",
            "contact": {"name": "Dana Reyes", "email": "dana@brightnights.example", "phone": "(214) 555-0142"},
            "service_area": {"states": states, "zip_codes": []},
            "trade": {"crew_size": 4, "years_in_business": 6, "services": ["residential_installation"]}
        }))
        .unwrap();
        input
            .into_contractor(
                ContractorId::generate(),
                OwnerId::parse("auth0|dana").unwrap(),
                Utc::now(),
            )
            .unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> RegisterContractor {
        serde_json::from_value(serde_json::json!({
            "business_name": "Bright Nights LLC",
            "contact": {"name": "Dana Reyes", "email": "dana@brightnights.example", "phone": "(214) 555-0142"},
            "service_area": {"states": ["tx", "OK", "TX"], "zip_codes": ["75201", "75201"]},
            "trade": {"crew_size": 4, "years_in_business": 6, "services": ["residential_installation", "takedown_and_storage"]}
        }))
        .unwrap()
    }

    fn register(input: RegisterContractor) -> Result<Contractor, Invalid> {
        input.into_contractor(
            ContractorId::generate(),
            OwnerId::parse("auth0|dana").unwrap(),
            Utc::now(),
        )
    }

    #[test]
    fn a_valid_registration_starts_in_draft_at_version_1_normalised() {
        let c = register(valid()).unwrap();
        assert_eq!(c.status, Status::Draft);
        assert_eq!(c.version, 1);
        assert_eq!(c.contact.phone.as_str(), "+12145550142");
        let states: Vec<&str> = c.service_area.states.iter().map(|s| s.as_str()).collect();
        assert_eq!(states, vec!["TX", "OK"]);
        assert_eq!(c.service_area.zip_codes.len(), 1);
    }

    #[test]
    fn every_invalid_field_is_reported_at_once() {
        let input: RegisterContractor = serde_json::from_value(serde_json::json!({
            "business_name": " ",
            "contact": {"name": "Dana", "email": "not-an-email"},
            "service_area": {"states": ["TX", "ZZ"], "zip_codes": ["123"]},
            "trade": {"crew_size": 0, "services": ["juggling"]}
        }))
        .unwrap();
        let Invalid(violations) = register(input).unwrap_err();
        let fields: Vec<(&str, &str)> = violations
            .iter()
            .map(|v| (v.field.as_str(), v.code))
            .collect();
        assert_eq!(
            fields,
            vec![
                ("business_name", "required"),
                ("contact.email", "invalid_email"),
                ("contact.phone", "required"),
                ("service_area.states[1]", "invalid_state"),
                ("service_area.zip_codes[0]", "invalid_zip"),
                ("trade.crew_size", "out_of_range"),
                ("trade.services[0]", "invalid_choice"),
            ]
        );
    }

    #[test]
    fn missing_sections_are_required() {
        let Invalid(violations) = register(RegisterContractor::default()).unwrap_err();
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            vec!["business_name", "contact", "service_area", "trade"]
        );
    }

    #[test]
    fn unknown_fields_are_refused_by_the_parser() {
        let parsed = serde_json::from_value::<RegisterContractor>(
            serde_json::json!({"business_name": "x", "admin": true}),
        );
        assert!(parsed.is_err());
    }

    #[test]
    fn only_the_owner_and_staff_see_an_account() {
        let c = register(valid()).unwrap();
        assert!(c.visible_to("auth0|dana", false));
        assert!(!c.visible_to("auth0|eve", false));
        assert!(c.visible_to("auth0|eve", true));
    }
}
