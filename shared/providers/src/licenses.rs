//! State contractor-license registries, one adapter per source shape, each normalised to
//! [`domain::licensing::LicenseRecord`]:
//! - `cslb`: California CSLB-style license detail by number (JSON; status as a sentence,
//!   classifications, bonding, workers' compensation);
//! - `tdlr`: Texas TDLR open data (Socrata-style JSON rows queried by `license_number`; the
//!   dataset lists licenses with an expiration date, no status column);
//! - `dbpr`: Florida DBPR licensee extract (CSV rows; primary / secondary status, rank).

use std::time::Duration;

use chrono::NaiveDate;
use domain::licensing::{LicenseRecord, LicenseStatus, Lookup};
use serde_json::Value;

use crate::{Answer, ProviderError, read};

/// The registries by the name the license rules use.
#[derive(Clone, Debug)]
pub struct Registries {
    pub http: reqwest::Client,
    pub cslb_url: String,
    pub tdlr_url: String,
    pub dbpr_url: String,
}

impl Registries {
    /// The registries' URLs from `LICENSE_REGISTRY_{CSLB,TDLR,DBPR}_URL`.
    pub fn from_env(env: &platform::Env) -> Result<Registries, platform::ConfigError> {
        Ok(Registries {
            http: reqwest::Client::new(),
            cslb_url: env.required("LICENSE_REGISTRY_CSLB_URL")?,
            tdlr_url: env.required("LICENSE_REGISTRY_TDLR_URL")?,
            dbpr_url: env.required("LICENSE_REGISTRY_DBPR_URL")?,
        })
    }

    /// Looks `number` up in `registry` (for `state`), as of `today` (TDLR rows carry only
    /// an expiry date, so their status depends on the day).
    pub async fn lookup(
        &self,
        registry: &str,
        state: &str,
        number: &str,
        today: NaiveDate,
    ) -> Result<Lookup, ProviderError> {
        let number = number.trim();
        if number.is_empty()
            || !number
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Ok(Lookup::NotFound);
        }
        match registry {
            "cslb" => self.cslb(state, number).await,
            "tdlr" => self.tdlr(state, number, today).await,
            "dbpr" => self.dbpr(state, number).await,
            other => Err(ProviderError::Refused(format!(
                "no adapter for registry {other}"
            ))),
        }
    }

    async fn get(&self, url: String, query: &[(&str, &str)]) -> Result<Answer, ProviderError> {
        let query: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencoding::encode(v)))
            .collect();
        let url = if query.is_empty() {
            url
        } else {
            format!("{url}?{}", query.join("&"))
        };
        read(
            self.http
                .get(url)
                .timeout(Duration::from_secs(10))
                .send()
                .await,
        )
        .await
    }

    async fn cslb(&self, state: &str, number: &str) -> Result<Lookup, ProviderError> {
        let url = format!(
            "{}/v1/licenses/{number}",
            self.cslb_url.trim_end_matches('/')
        );
        let answer = self.get(url, &[]).await?;
        match answer.status {
            404 => Ok(Lookup::NotFound),
            200 => {
                let body: Value = serde_json::from_str(&answer.body)
                    .map_err(|e| ProviderError::Unavailable(format!("CSLB answer: {e}")))?;
                Ok(Lookup::Found {
                    record: cslb_record(state, &body),
                })
            }
            s => Err(ProviderError::Refused(format!("CSLB HTTP {s}"))),
        }
    }

    async fn tdlr(
        &self,
        state: &str,
        number: &str,
        today: NaiveDate,
    ) -> Result<Lookup, ProviderError> {
        let url = format!(
            "{}/resource/7358-krk7.json",
            self.tdlr_url.trim_end_matches('/')
        );
        let answer = self.get(url, &[("license_number", number)]).await?;
        if answer.status != 200 {
            return Err(ProviderError::Refused(format!(
                "TDLR HTTP {}",
                answer.status
            )));
        }
        let rows: Vec<Value> = serde_json::from_str(&answer.body)
            .map_err(|e| ProviderError::Unavailable(format!("TDLR answer: {e}")))?;
        Ok(tdlr_record(state, &rows, today)
            .map(|record| Lookup::Found { record })
            .unwrap_or(Lookup::NotFound))
    }

    async fn dbpr(&self, state: &str, number: &str) -> Result<Lookup, ProviderError> {
        let url = format!(
            "{}/licensee-extract.csv",
            self.dbpr_url.trim_end_matches('/')
        );
        let answer = self
            .get(url, &[("board", "08"), ("license_number", number)])
            .await?;
        if answer.status != 200 {
            return Err(ProviderError::Refused(format!(
                "DBPR HTTP {}",
                answer.status
            )));
        }
        Ok(dbpr_record(state, number, &answer.body)
            .map(|record| Lookup::Found { record })
            .unwrap_or(Lookup::NotFound))
    }
}

fn text(v: &Value) -> Option<String> {
    v.as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn us_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%m/%d/%Y")
        .or_else(|_| NaiveDate::parse_from_str(s, "%Y-%m-%d"))
        .or_else(|_| NaiveDate::parse_from_str(s, "%m%d%Y"))
        .or_else(|_| NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d"))
        .ok()
}

/// CSLB prints the status as a sentence ("This license is current and active.").
fn cslb_status(sentence: &str) -> LicenseStatus {
    let s = sentence.to_ascii_lowercase();
    if s.contains("revoked") {
        LicenseStatus::Revoked
    } else if s.contains("suspend") {
        LicenseStatus::Suspended
    } else if s.contains("expired") {
        LicenseStatus::Expired
    } else if s.contains("current and active") || s == "active" {
        LicenseStatus::Active
    } else {
        LicenseStatus::Inactive
    }
}

pub fn cslb_record(state: &str, body: &Value) -> LicenseRecord {
    let wc = &body["WorkersCompensation"];
    LicenseRecord {
        state: state.to_owned(),
        number: text(&body["LicenseNumber"]).unwrap_or_default(),
        status: cslb_status(body["Status"].as_str().unwrap_or_default()),
        licensee_name: body["Personnel"]
            .as_array()
            .and_then(|p| p.first())
            .and_then(|p| text(&p["Name"])),
        business_name: text(&body["BusinessName"]),
        classifications: body["Classifications"]
            .as_array()
            .map(|a| a.iter().filter_map(text).collect())
            .unwrap_or_default(),
        expires_on: body["ExpirationDate"].as_str().and_then(us_date),
        bond_active: Some(
            body["Bonding"]["ContractorBond"].is_object()
                && body["Bonding"]["ContractorBond"]["CancellationDate"].is_null(),
        ),
        workers_comp: match text(&wc["Status"]).as_deref() {
            Some(s) if s.eq_ignore_ascii_case("exempt") => Some("exempt".into()),
            Some(_) => text(&wc["Carrier"]),
            None => None,
        },
    }
}

/// TDLR's open data holds one row per license (the newest if several); a row whose
/// expiration date has passed is an expired license.
pub fn tdlr_record(state: &str, rows: &[Value], today: NaiveDate) -> Option<LicenseRecord> {
    let row = rows.iter().max_by_key(|r| {
        r["license_expiration_date_mmddccyy"]
            .as_str()
            .and_then(us_date)
    })?;
    let expires_on = row["license_expiration_date_mmddccyy"]
        .as_str()
        .and_then(us_date);
    Some(LicenseRecord {
        state: state.to_owned(),
        number: text(&row["license_number"]).unwrap_or_default(),
        status: match expires_on {
            Some(d) if d < today => LicenseStatus::Expired,
            _ => LicenseStatus::Active,
        },
        licensee_name: text(&row["name"]),
        business_name: text(&row["business_name"]),
        classifications: text(&row["license_type"]).into_iter().collect(),
        expires_on,
        bond_active: None,
        workers_comp: None,
    })
}

/// DBPR's ranks name the classification: certified (EC) or registered (ER) electrical.
fn dbpr_classification(rank: &str) -> String {
    let r = rank.to_ascii_lowercase();
    match (
        r.contains("cert"),
        r.contains("reg"),
        r.contains("electric"),
    ) {
        (true, _, true) => "EC".into(),
        (_, true, true) => "ER".into(),
        _ => rank.trim().to_owned(),
    }
}

fn dbpr_status(primary: &str, secondary: &str) -> LicenseStatus {
    let (p, s) = (primary.to_ascii_lowercase(), secondary.to_ascii_lowercase());
    if p.contains("revoked") || p.contains("null and void") {
        LicenseStatus::Revoked
    } else if p.contains("suspend") {
        LicenseStatus::Suspended
    } else if p.contains("delinquent") || p.contains("expired") {
        LicenseStatus::Expired
    } else if p.contains("current") && s.contains("active") && !s.contains("inactive") {
        LicenseStatus::Active
    } else {
        LicenseStatus::Inactive
    }
}

pub fn dbpr_record(state: &str, number: &str, csv: &str) -> Option<LicenseRecord> {
    let mut rows = csv_rows(csv).into_iter();
    let header = rows.next()?;
    let col = |row: &[String], name: &str| -> String {
        header
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
            .and_then(|i| row.get(i))
            .cloned()
            .unwrap_or_default()
    };
    let row = rows.find(|r| domain::licensing::same_number(&col(r, "License Number"), number))?;
    let non_empty = |s: String| Some(s).filter(|s| !s.trim().is_empty());
    Some(LicenseRecord {
        state: state.to_owned(),
        number: col(&row, "License Number"),
        status: dbpr_status(&col(&row, "Primary Status"), &col(&row, "Secondary Status")),
        licensee_name: non_empty(col(&row, "Licensee Name")),
        business_name: non_empty(col(&row, "DBA Name"))
            .or_else(|| non_empty(col(&row, "Licensee Name"))),
        classifications: vec![dbpr_classification(&col(&row, "Rank"))],
        expires_on: us_date(&col(&row, "Expiration Date")),
        bond_active: None,
        workers_comp: None,
    })
}

/// RFC 4180 CSV: quoted fields, doubled quotes, CRLF or LF.
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if field.is_empty() => quoted = true,
            (',', false) => row.push(std::mem::take(&mut field)),
            ('\r', false) => {}
            ('\n', false) => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (c, _) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn cslb_detail_is_normalised() {
        let body = json!({
            "LicenseNumber": "567142", "BusinessName": "AURORA HOLIDAY LIGHTING LLC",
            "Status": "This license is current and active.", "ExpirationDate": "02/13/2027",
            "Classifications": ["C-10 - Electrical"],
            "Bonding": {"ContractorBond": {"BondNumber": "100234", "Amount": "$25,000", "CancellationDate": null}},
            "WorkersCompensation": {"Status": "Exempt"},
            "Personnel": [{"Name": "BRENNAN, NANCY", "Title": "RMO"}]
        });
        let r = cslb_record("CA", &body);
        assert_eq!(r.status, LicenseStatus::Active);
        assert_eq!(r.expires_on, Some(day("2027-02-13")));
        assert_eq!(r.classifications, ["C-10 - Electrical"]);
        assert_eq!(r.bond_active, Some(true));
        assert_eq!(r.workers_comp.as_deref(), Some("exempt"));
        assert_eq!(
            cslb_status("This license is revoked."),
            LicenseStatus::Revoked
        );
        assert_eq!(
            cslb_status("Suspended for failure to maintain bond"),
            LicenseStatus::Suspended
        );
    }

    #[test]
    fn tdlr_rows_take_their_status_from_the_expiry() {
        let rows = vec![
            json!({"license_type": "Electrical Contractor", "license_number": "TECL12345", "license_expiration_date_mmddccyy": "03/31/2026", "name": "RAMOS, ANA", "business_name": "LONE STAR LIGHTS LLC"}),
            json!({"license_type": "Electrical Contractor", "license_number": "TECL12345", "license_expiration_date_mmddccyy": "03/31/2027", "name": "RAMOS, ANA", "business_name": "LONE STAR LIGHTS LLC"}),
        ];
        let r = tdlr_record("TX", &rows, day("2026-11-22")).unwrap();
        assert_eq!(r.expires_on, Some(day("2027-03-31")), "the newest row");
        assert_eq!(r.status, LicenseStatus::Active);
        let r = tdlr_record("TX", &rows[..1], day("2026-11-22")).unwrap();
        assert_eq!(r.status, LicenseStatus::Expired);
        assert!(tdlr_record("TX", &[], day("2026-11-22")).is_none());
    }

    #[test]
    fn dbpr_csv_rows_are_found_and_normalised() {
        let csv = "Board,Licensee Name,DBA Name,Rank,License Number,Primary Status,Secondary Status,Expiration Date\r\n\
08,\"SMITH, JO\",\"SUNSHINE \"\"BRIGHT\"\" LIGHTS, INC\",Cert Electrical Contractor,EC13001234,Current,Active,08/31/2028\r\n\
08,\"DOE, JAN\",,Reg Electrical Contractor,ER13009999,Delinquent,Inactive,08/31/2024\r\n";
        let r = dbpr_record("FL", "ec 13001234", csv).unwrap();
        assert_eq!(
            r.business_name.as_deref(),
            Some("SUNSHINE \"BRIGHT\" LIGHTS, INC")
        );
        assert_eq!(r.classifications, ["EC"]);
        assert_eq!(r.status, LicenseStatus::Active);
        assert_eq!(r.expires_on, Some(day("2028-08-31")));
        let r = dbpr_record("FL", "ER13009999", csv).unwrap();
        assert_eq!(
            (r.status, r.classifications[0].as_str()),
            (LicenseStatus::Expired, "ER")
        );
        assert_eq!(r.business_name.as_deref(), Some("DOE, JAN"));
        assert!(dbpr_record("FL", "EC0000", csv).is_none());
    }
}
