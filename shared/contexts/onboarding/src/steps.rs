//! The onboarding wizard's steps: what each one asks for, how a (partial) save is validated
//! and merged, and when a step is complete. Saves are PATCH-like: the fields sent replace
//! the saved ones, `null` clears one, fields not sent are kept — the phone autosaves as the
//! contractor types, often half a step at a time.

/// The W-9's federal tax classes, as the tax identity step takes them.
pub const TAX_CLASSIFICATIONS: [&str; 9] = [
    "individual",
    "c_corporation",
    "s_corporation",
    "partnership",
    "trust_estate",
    "llc_c",
    "llc_s",
    "llc_p",
    "other",
];

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use domain_kernel::terms::{ALL_STEPS, StepName, StepStatus};

use crate::validation::Collector;
use crate::values::{BusinessName, Email, PersonName, Phone, UsState, ZipCode};

/// What each step asks for: onboarding's, so it stays here while the step names are the
/// kernel's.
pub trait StepFields {
    /// The fields of the step, with their kinds and whether completion needs them.
    fn fields(self) -> &'static [FieldSpec];
}

impl StepFields for StepName {
    fn fields(self) -> &'static [FieldSpec] {
        use FieldKind::*;
        const fn f(name: &'static str, kind: FieldKind, required: bool) -> FieldSpec {
            FieldSpec {
                name,
                kind,
                required,
            }
        }
        match self {
            StepName::BusinessProfile => {
                const F: &[FieldSpec] = &[
                    f("legal_name", BusinessName, true),
                    f("dba", OptionalBusinessName, false),
                    f(
                        "entity_type",
                        Choice(&["sole_proprietorship", "llc", "corporation", "partnership"]),
                        true,
                    ),
                    f("address.line1", Text(120), true),
                    f("address.line2", Text(120), false),
                    f("address.city", Text(80), true),
                    f("address.state", State, true),
                    f("address.zip", Zip, true),
                    f("phone", Phone, true),
                    f("website", Text(200), false),
                ];
                F
            }
            StepName::TaxIdentity => {
                const F: &[FieldSpec] = &[
                    f("tin_type", Choice(&["ein", "ssn"]), true),
                    f("tin", Tin, true),
                    f("name_on_return", PersonOrBusinessName, true),
                    f("tax_classification", Choice(&TAX_CLASSIFICATIONS), true),
                ];
                F
            }
            StepName::License => {
                const F: &[FieldSpec] = &[
                    f("state", State, true),
                    f("number", Identifier(30), true),
                    f("classification", Text(80), false),
                    f("expires_on", FutureDate, true),
                ];
                F
            }
            StepName::Insurance => {
                const F: &[FieldSpec] = &[
                    f("carrier", Text(120), true),
                    f("policy_number", Identifier(40), true),
                    f("each_occurrence_limit", Money, true),
                    f("general_aggregate_limit", Money, true),
                    f("effective_on", Date, true),
                    f("expires_on", FutureDate, true),
                    f("agent_email", Email, false),
                ];
                F
            }
            StepName::BankAccount => {
                const F: &[FieldSpec] = &[
                    f("account_holder_name", PersonOrBusinessName, true),
                    f("link_method", Choice(&["plaid", "micro_deposits"]), true),
                ];
                F
            }
            StepName::Agreements => {
                const F: &[FieldSpec] = &[
                    f("terms_version", TermsVersion, true),
                    f("privacy_version", PrivacyVersion, true),
                ];
                F
            }
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub enum FieldKind {
    Text(usize),
    BusinessName,
    OptionalBusinessName,
    PersonOrBusinessName,
    Choice(&'static [&'static str]),
    State,
    Zip,
    Phone,
    Email,
    /// Letters, digits, `-`, `.`, `/` and spaces, up to the length given.
    Identifier(usize),
    Date,
    /// A date after today.
    FutureDate,
    /// Whole US dollars, positive.
    Money,
    /// A taxpayer identification number: handled as a secret, never stored in clear.
    Tin,
    /// The version of the terms of service the contractor accepts; must be the current one.
    TermsVersion,
    /// The version of the privacy notice the contractor accepts; must be the current one.
    PrivacyVersion,
}

#[derive(Clone, Copy, Debug)]
pub struct FieldSpec {
    pub name: &'static str,
    pub kind: FieldKind,
    pub required: bool,
}

/// A taxpayer identification number, parsed. Never serialised: only its mask is.
#[derive(Clone, PartialEq, Eq)]
pub struct Tin {
    kind: TinKind,
    digits: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TinKind {
    Ein,
    Ssn,
}

impl fmt::Debug for Tin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tin({:?}, {})", self.kind, self.masked())
    }
}

/// IRS-assigned EIN prefixes (campus codes); anything else is not a real EIN.
const EIN_PREFIXES: [u8; 83] = [
    1, 2, 3, 4, 5, 6, 10, 11, 12, 13, 14, 15, 16, 20, 21, 22, 23, 24, 25, 26, 27, 30, 31, 32, 33,
    34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 50, 51, 52, 53, 54, 55, 56, 57, 58,
    59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 71, 72, 73, 74, 75, 76, 77, 80, 81, 82, 83, 84, 85, 86,
    87, 88, 90, 91, 92, 93, 94, 95, 98, 99,
];

impl Tin {
    /// Parses a TIN of the given kind, with or without the usual dashes.
    pub fn parse(kind: TinKind, raw: &str) -> Result<Tin, (&'static str, String)> {
        let digits: String = raw.chars().filter(|c| !matches!(c, '-' | ' ')).collect();
        if digits.len() != 9 || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err((
                "invalid_tin",
                "A TIN has nine digits, like 12-3456789 (EIN) or 123-45-6789 (SSN).".into(),
            ));
        }
        match kind {
            TinKind::Ein => {
                let prefix: u8 = digits[..2].parse().unwrap_or(0);
                if !EIN_PREFIXES.contains(&prefix) {
                    return Err((
                        "invalid_ein",
                        "That is not a valid EIN: its first two digits are not an IRS prefix."
                            .into(),
                    ));
                }
            }
            TinKind::Ssn => {
                let area = &digits[..3];
                if area == "000"
                    || area == "666"
                    || area.starts_with('9')
                    || &digits[3..5] == "00"
                    || &digits[5..] == "0000"
                {
                    return Err(("invalid_ssn", "That is not a valid SSN.".into()));
                }
            }
        }
        Ok(Tin { kind, digits })
    }

    pub fn kind(&self) -> TinKind {
        self.kind
    }

    /// The digits, for the encryption adapter only.
    pub fn expose_digits(&self) -> &str {
        &self.digits
    }

    pub fn last4(&self) -> &str {
        &self.digits[5..]
    }

    /// `**-***6789` (EIN) or `***-**-6789` (SSN): the only form that ever leaves the service.
    pub fn masked(&self) -> String {
        match self.kind {
            TinKind::Ein => format!("**-***{}", self.last4()),
            TinKind::Ssn => format!("***-**-{}", self.last4()),
        }
    }
}

/// A validated save: the merged data to store, whether the step is now complete, and a TIN
/// that the caller must encrypt before storing (its field holds only the mask).
#[derive(Debug)]
pub struct ValidatedSave {
    pub data: Map<String, Value>,
    pub status: StepStatus,
    /// Required fields still missing after this save.
    pub missing: Vec<&'static str>,
    pub tin: Option<Tin>,
    /// The top-level fields this save touched (for the audit summary; no values).
    pub touched: Vec<String>,
}

/// The value at a dotted path (`address.city`), if set.
pub fn lookup<'a>(data: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    get_path(data, path)
}

fn get_path<'a>(data: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let first = parts.next()?;
    let mut cur = data.get(first)?;
    for p in parts {
        cur = cur.get(p)?;
    }
    Some(cur)
}

fn set_path(data: &mut Map<String, Value>, path: &str, value: Option<Value>) {
    match path.split_once('.') {
        None => match value {
            Some(v) => {
                data.insert(path.to_owned(), v);
            }
            None => {
                data.remove(path);
            }
        },
        Some((head, rest)) => {
            let entry = data
                .entry(head.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            if let Value::Object(inner) = entry {
                set_path(inner, rest, value);
                if inner.is_empty() {
                    data.remove(head);
                }
            }
        }
    }
}

/// Every leaf path in `input` (objects flattened with dots).
fn leaf_paths(prefix: &str, input: &Map<String, Value>, out: &mut Vec<(String, Value)>) {
    for (k, v) in input {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Value::Object(inner) if !inner.is_empty() => leaf_paths(&path, inner, out),
            other => out.push((path, other.clone())),
        }
    }
}

/// Validates `input` for `step` and merges it over `saved`. Every invalid or unknown field is
/// reported (under `data.<field>`); missing required fields only keep the step unfinished.
pub fn validate_save(
    step: StepName,
    saved: &Map<String, Value>,
    input: &Value,
    today: NaiveDate,
    current_versions: &AgreementVersions,
) -> Result<ValidatedSave, crate::Invalid> {
    let mut c = Collector::new();
    let Some(input) = input.as_object() else {
        c.push(
            "data",
            "invalid_type",
            "data must be an object of the step's fields.",
        );
        return Err(c.finish(|| ()).unwrap_err());
    };
    let specs = step.fields();
    let mut provided = Vec::new();
    leaf_paths("", input, &mut provided);
    let mut data = saved.clone();
    let mut tin = None;
    let mut touched: Vec<String> = Vec::new();
    // A TIN's kind may come in this save or an earlier one.
    let tin_kind = input
        .get("tin_type")
        .or_else(|| saved.get("tin_type"))
        .and_then(Value::as_str)
        .and_then(|k| match k {
            "ein" => Some(TinKind::Ein),
            "ssn" => Some(TinKind::Ssn),
            _ => None,
        });
    for (path, value) in provided {
        let field = format!("data.{path}");
        let Some(spec) = specs.iter().find(|s| s.name == path) else {
            c.push(
                field,
                "unknown_field",
                format!("{step} has no field {path:?}."),
            );
            continue;
        };
        let top = path.split('.').next().unwrap_or(&path).to_owned();
        if !touched.contains(&top) {
            touched.push(top);
        }
        // The wizard may send back the masked TIN it was given: that means "unchanged".
        if matches!(spec.kind, FieldKind::Tin) && saved.get("tin") == Some(&value) {
            continue;
        }
        if value.is_null() {
            set_path(&mut data, &path, None);
            if matches!(spec.kind, FieldKind::Tin) {
                data.remove("tin_last4");
            }
            continue;
        }
        match normalise(spec.kind, &value, today, current_versions, tin_kind) {
            Ok(Normalised::Value(v)) => set_path(&mut data, &path, Some(v)),
            Ok(Normalised::Tin(t)) => {
                set_path(&mut data, &path, Some(Value::String(t.masked())));
                tin = Some(t);
            }
            Err((code, message)) => c.push(field, code, message),
        }
    }
    // Cross-field rules.
    if step == StepName::Insurance
        && let (Some(from), Some(to)) = (
            get_path(&data, "effective_on").and_then(Value::as_str),
            get_path(&data, "expires_on").and_then(Value::as_str),
        )
        && to <= from
    {
        c.push(
            "data.expires_on",
            "before_effective",
            "The policy must expire after it takes effect.",
        );
    }
    if step == StepName::Insurance
        && let (Some(each), Some(aggregate)) = (
            get_path(&data, "each_occurrence_limit").and_then(Value::as_u64),
            get_path(&data, "general_aggregate_limit").and_then(Value::as_u64),
        )
        && aggregate < each
    {
        c.push(
            "data.general_aggregate_limit",
            "below_each_occurrence",
            "The general aggregate limit cannot be lower than the each-occurrence limit.",
        );
    }
    if step == StepName::TaxIdentity
        && input.contains_key("tin_type")
        && !input.contains_key("tin")
        && saved.contains_key("tin")
    {
        // Changing the kind makes the saved number meaningless: ask for it again.
        set_path(&mut data, "tin", None);
        data.remove("tin_last4");
    }
    if let Some(t) = &tin {
        data.insert("tin_last4".into(), Value::String(t.last4().to_owned()));
    }
    c.finish(|| ())?;
    let missing: Vec<&'static str> = specs
        .iter()
        .filter(|s| s.required && get_path(&data, s.name).is_none())
        .map(|s| s.name)
        .collect();
    let status = if missing.is_empty() {
        StepStatus::Complete
    } else if data.is_empty() {
        StepStatus::NotStarted
    } else {
        StepStatus::InProgress
    };
    Ok(ValidatedSave {
        data,
        status,
        missing,
        tin,
        touched,
    })
}

/// The versions of the terms and privacy notice a contractor must accept now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgreementVersions {
    pub terms: String,
    pub privacy: String,
}

enum Normalised {
    Value(Value),
    Tin(Tin),
}

fn text_of(value: &Value) -> Result<&str, (&'static str, String)> {
    value
        .as_str()
        .ok_or(("invalid_type", "Give this as text.".to_owned()))
}

fn normalise(
    kind: FieldKind,
    value: &Value,
    today: NaiveDate,
    versions: &AgreementVersions,
    tin_kind: Option<TinKind>,
) -> Result<Normalised, (&'static str, String)> {
    let v = |s: String| Ok(Normalised::Value(Value::String(s)));
    match kind {
        FieldKind::Text(max) => {
            let t = text_of(value)?
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            if t.is_empty() {
                return Err((
                    "required",
                    "This field cannot be blank; send null to clear it.".into(),
                ));
            }
            if t.chars().count() > max {
                return Err(("too_long", format!("At most {max} characters.")));
            }
            if t.chars().any(char::is_control) {
                return Err((
                    "invalid_characters",
                    "Contains characters that are not allowed.".into(),
                ));
            }
            v(t)
        }
        FieldKind::BusinessName | FieldKind::OptionalBusinessName => {
            v(BusinessName::parse(text_of(value)?)?.to_string())
        }
        FieldKind::PersonOrBusinessName => {
            let raw = text_of(value)?;
            PersonName::parse(raw)
                .map(|n| n.to_string())
                .or_else(|_| BusinessName::parse(raw).map(|n| n.to_string()))
                .and_then(v)
        }
        FieldKind::Choice(options) => {
            let t = text_of(value)?.trim();
            if options.contains(&t) {
                v(t.to_owned())
            } else {
                Err((
                    "invalid_choice",
                    format!("Pick one of: {}.", options.join(", ")),
                ))
            }
        }
        FieldKind::State => v(UsState::parse(text_of(value)?)?.to_string()),
        FieldKind::Zip => v(ZipCode::parse(text_of(value)?)?.to_string()),
        FieldKind::Phone => v(Phone::parse(text_of(value)?)?.to_string()),
        FieldKind::Email => v(Email::parse(text_of(value)?)?.to_string()),
        FieldKind::Identifier(max) => {
            let t = text_of(value)?.trim().to_uppercase();
            if t.is_empty()
                || t.len() > max
                || !t
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-./ ".contains(c))
                || !t.chars().any(|c| c.is_ascii_alphanumeric())
            {
                return Err((
                    "invalid_identifier",
                    format!("Use letters, digits, '-', '.', '/' (at most {max})."),
                ));
            }
            v(t)
        }
        FieldKind::Date | FieldKind::FutureDate => {
            let t = text_of(value)?.trim();
            let date = NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .map_err(|_| ("invalid_date", "Give the date as YYYY-MM-DD.".to_owned()))?;
            if matches!(kind, FieldKind::FutureDate) && date <= today {
                return Err((
                    "expired",
                    format!("This date ({date}) has passed; it must be after today."),
                ));
            }
            v(date.to_string())
        }
        FieldKind::Money => {
            let n = match value {
                Value::Number(n) => n.as_u64().filter(|n| *n > 0),
                Value::String(s) => s
                    .trim()
                    .trim_start_matches('$')
                    .replace(',', "")
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n > 0),
                _ => None,
            }
            .ok_or((
                "invalid_amount",
                "Give a whole number of US dollars, like 1000000.".to_owned(),
            ))?;
            if n > 1_000_000_000 {
                return Err(("out_of_range", "That amount is implausibly large.".into()));
            }
            Ok(Normalised::Value(Value::from(n)))
        }
        FieldKind::Tin => {
            let kind = tin_kind.ok_or((
                "tin_type_required",
                "Say whether the TIN is an EIN or an SSN (tin_type).".to_owned(),
            ))?;
            Ok(Normalised::Tin(Tin::parse(kind, text_of(value)?)?))
        }
        FieldKind::TermsVersion | FieldKind::PrivacyVersion => {
            let (what, current) = match kind {
                FieldKind::TermsVersion => ("terms of service", &versions.terms),
                _ => ("privacy notice", &versions.privacy),
            };
            let t = text_of(value)?.trim();
            if t != current {
                return Err((
                    "outdated_version",
                    format!("Accept the current {what} (version {current}); you sent {t:?}."),
                ));
            }
            v(t.to_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    fn versions() -> AgreementVersions {
        AgreementVersions {
            terms: "2026-09".into(),
            privacy: "2026-09".into(),
        }
    }

    fn save(
        step: StepName,
        saved: &Map<String, Value>,
        input: Value,
    ) -> Result<ValidatedSave, crate::Invalid> {
        validate_save(step, saved, &input, today(), &versions())
    }

    #[test]
    fn partial_saves_are_kept_and_merge() {
        let first = save(
            StepName::BusinessProfile,
            &Map::new(),
            json!({"legal_name": " Bright  Nights LLC ", "address": {"city": "Dallas"}}),
        )
        .unwrap();
        assert_eq!(first.status, StepStatus::InProgress);
        assert!(first.missing.contains(&"phone"));
        assert_eq!(first.data["legal_name"], "Bright Nights LLC");
        let second = save(
            StepName::BusinessProfile,
            &first.data,
            json!({"entity_type": "llc", "address": {"line1": "1 Elm St", "state": "tx", "zip": "75201"}, "phone": "214-555-0142"}),
        )
        .unwrap();
        assert_eq!(second.status, StepStatus::Complete, "{:?}", second.missing);
        assert_eq!(
            second.data["address"],
            json!({"city": "Dallas", "line1": "1 Elm St", "state": "TX", "zip": "75201"})
        );
        let cleared = save(
            StepName::BusinessProfile,
            &second.data,
            json!({"phone": null}),
        )
        .unwrap();
        assert_eq!(cleared.status, StepStatus::InProgress);
        assert!(cleared.data.get("phone").is_none());
    }

    #[test]
    fn every_field_class_is_validated() {
        let err = save(
            StepName::Insurance,
            &Map::new(),
            json!({"carrier": "", "policy_number": "<script>", "each_occurrence_limit": -5, "general_aggregate_limit": "lots",
                   "effective_on": "11/01/2026", "expires_on": "2026-01-01", "agent_email": "x@", "colour": "red"}),
        )
        .unwrap_err();
        let mut codes: Vec<(String, &str)> =
            err.0.iter().map(|v| (v.field.clone(), v.code)).collect();
        codes.sort();
        assert_eq!(
            codes,
            vec![
                ("data.agent_email".into(), "invalid_email"),
                ("data.carrier".into(), "required"),
                ("data.colour".into(), "unknown_field"),
                ("data.each_occurrence_limit".into(), "invalid_amount"),
                ("data.effective_on".into(), "invalid_date"),
                ("data.expires_on".into(), "expired"),
                ("data.general_aggregate_limit".into(), "invalid_amount"),
                ("data.policy_number".into(), "invalid_identifier"),
            ]
        );
    }

    #[test]
    fn insurance_cross_field_rules() {
        let err = save(
            StepName::Insurance,
            &Map::new(),
            json!({"effective_on": "2027-06-01", "expires_on": "2027-01-01", "each_occurrence_limit": 1000000, "general_aggregate_limit": "$500,000"}),
        )
        .unwrap_err();
        let codes: Vec<&str> = err.0.iter().map(|v| v.code).collect();
        assert_eq!(codes, vec!["before_effective", "below_each_occurrence"]);
    }

    #[test]
    fn tins_are_checked_and_only_the_mask_is_kept() {
        let ok = save(
            StepName::TaxIdentity,
            &Map::new(),
            json!({"tin_type": "ein", "tin": "12-3456789"}),
        )
        .unwrap();
        let tin = ok.tin.expect("tin to encrypt");
        assert_eq!(tin.expose_digits(), "123456789");
        assert_eq!(ok.data["tin"], "**-***6789");
        assert_eq!(ok.data["tin_last4"], "6789");
        assert!(
            !serde_json::to_string(&ok.data)
                .unwrap()
                .contains("123456789")
        );
        assert!(!format!("{tin:?}").contains("12345"));

        for (kind, raw, code) in [
            ("ein", "07-1234567", "invalid_ein"),
            ("ssn", "666-12-3456", "invalid_ssn"),
            ("ssn", "123-00-4567", "invalid_ssn"),
            ("ssn", "12345678", "invalid_tin"),
        ] {
            let err = save(
                StepName::TaxIdentity,
                &Map::new(),
                json!({"tin_type": kind, "tin": raw}),
            )
            .unwrap_err();
            assert_eq!(err.0[0].code, code, "{raw}");
        }
        let no_kind = save(
            StepName::TaxIdentity,
            &Map::new(),
            json!({"tin": "123456789"}),
        )
        .unwrap_err();
        assert_eq!(no_kind.0[0].code, "tin_type_required");
        let ssn = save(
            StepName::TaxIdentity,
            &Map::new(),
            json!({"tin_type": "ssn", "tin": "123-45-6789"}),
        )
        .unwrap();
        assert_eq!(ssn.data["tin"], "***-**-6789");
    }

    #[test]
    fn the_masked_tin_sent_back_means_unchanged() {
        let first = save(
            StepName::TaxIdentity,
            &Map::new(),
            json!({"tin_type": "ein", "tin": "12-3456789"}),
        )
        .unwrap();
        let again = save(
            StepName::TaxIdentity,
            &first.data,
            json!({"tin_type": "ein", "tin": "**-***6789", "name_on_return": "Bright Nights LLC"}),
        )
        .unwrap();
        assert!(again.tin.is_none(), "nothing new to encrypt");
        assert_eq!(again.data["tin"], "**-***6789");
        assert_eq!(again.data["tin_last4"], "6789");
    }

    #[test]
    fn agreements_must_be_the_current_versions() {
        let ok = save(
            StepName::Agreements,
            &Map::new(),
            json!({"terms_version": "2026-09", "privacy_version": "2026-09"}),
        )
        .unwrap();
        assert_eq!(ok.status, StepStatus::Complete);
        let err = save(
            StepName::Agreements,
            &Map::new(),
            json!({"terms_version": "2025-01"}),
        )
        .unwrap_err();
        assert_eq!(err.0[0].code, "outdated_version");
    }

    #[test]
    fn data_must_be_an_object() {
        let err = save(StepName::License, &Map::new(), json!(["x"])).unwrap_err();
        assert_eq!(err.0[0].field, "data");
    }
}
