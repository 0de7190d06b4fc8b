//! TrustLayer, as its published Platform API definitions describe it (ADR 0010):
//! - v2 (`{base}/v2`, bearer token): the contractor as a **primary record** (found by our id
//!   in `externalCodes`, created when absent), one **request record** per compliance profile
//!   the marketplace requires of it, read back with its compliance status per module,
//!   subject and requirement; **policies by number** with their cancellations and
//!   reinstatements.
//! - v1 (`{base}/v1`, `Authorization: <token>`): v2 has no document upload, so the
//!   certificate goes to `POST /parties/{id}/documents` as `multipart/form-data`
//!   (`document`, `documentType`). Assumed, and written down in `docs/providers.md`: a v2
//!   primary record is addressable as a v1 party by the same id.
//!
//! Verdicts arrive as request-record compliance webhooks; the webhook is only a hint, and
//! the request records are read back here, so a payload detail we could not confirm never
//! decides a verdict.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{Answer, ProviderError, read};

#[derive(Clone, Debug)]
pub struct TrustLayer {
    pub http: reqwest::Client,
    /// `https://api.trustlayer.io` (v1 and v2 live under it), or the local sandbox.
    pub base_url: String,
    /// `{"api_token": …}`, read on first use (`platform::secrets`).
    pub api_token: std::sync::Arc<platform::secrets::Secret>,
    /// The workspace's primary object (entity type) for contractors.
    pub primary_object_id: String,
    /// The document type id of certificates of insurance (v1 `documentType`).
    pub document_type: String,
}

/// A request record's compliance, as `GET /v2/request-records/{id}` reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestCompliance {
    pub id: String,
    pub primary_record_id: String,
    /// `None` until TrustLayer has evaluated a document against the profile.
    pub compliant: Option<bool>,
    pub updated_at: Option<chrono::DateTime<chrono::Utc>>,
    /// What is not compliant, with TrustLayer's own codes and labels.
    pub reasons: Vec<Reason>,
}

/// A policy as TrustLayer knows it by number.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyStanding {
    pub number: String,
    /// Coverage lines cancelled (not reinstated) or expired.
    pub reasons: Vec<Reason>,
    /// The newest cancellation or reinstatement date.
    pub changed_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason {
    pub code: String,
    pub message: String,
}

/// What this integration reads, by operation and field path (checked against the
/// definitions by the contract tests).
pub const READS: &[(&str, &[&str])] = &[
    ("GET /primary-records", &["data", "_id"]),
    ("POST /primary-records", &["_id"]),
    ("GET /primary-records/{id}", &["externalCodes"]),
    (
        "GET /primary-records/{id}/request-records",
        &["data", "_id"],
    ),
    (
        "GET /primary-records/{id}/request-records",
        &["data", "complianceProfile", "id"],
    ),
    ("POST /primary-records/{id}/request-records", &["_id"]),
    ("GET /request-records/{id}", &["primaryRecordId"]),
    ("GET /request-records/{id}", &["complianceStatus"]),
    ("GET /request-records/{id}", &["updatedAt"]),
    (
        "GET /request-records/{id}",
        &["complianceModules", "subjects", "code"],
    ),
    (
        "GET /request-records/{id}",
        &["complianceModules", "subjects", "label"],
    ),
    (
        "GET /request-records/{id}",
        &["complianceModules", "subjects", "validityStatus"],
    ),
    (
        "GET /request-records/{id}",
        &[
            "complianceModules",
            "subjects",
            "cancellation",
            "effectiveDate",
        ],
    ),
    (
        "GET /request-records/{id}",
        &["complianceModules", "subjects", "requirements", "status"],
    ),
    (
        "GET /request-records/{id}",
        &[
            "complianceModules",
            "subjects",
            "requirements",
            "attributeCode",
        ],
    ),
    (
        "GET /request-records/{id}",
        &[
            "complianceModules",
            "subjects",
            "requirements",
            "attributeLabel",
        ],
    ),
    (
        "GET /request-records/{id}",
        &["complianceModules", "subjects", "requirements", "operator"],
    ),
    (
        "GET /request-records/{id}",
        &[
            "complianceModules",
            "subjects",
            "requirements",
            "targetValue",
        ],
    ),
    (
        "GET /request-records/{id}",
        &["complianceModules", "subjects", "requirements", "value"],
    ),
    (
        "GET /request-records/{id}",
        &[
            "complianceModules",
            "subjects",
            "requirements",
            "publicNotes",
            "content",
        ],
    ),
    ("GET /policies/{number}", &["subjects", "validityStatus"]),
    ("GET /policies/{number}", &["subjects", "label"]),
    (
        "GET /policies/{number}",
        &["subjects", "cancellation", "effectiveDate"],
    ),
    (
        "GET /policies/{number}",
        &["subjects", "reinstatement", "effectiveDate"],
    ),
    (
        "GET /policies/{number}",
        &["subjects", "cancellation", "issueDate"],
    ),
    (
        "GET /policies/{number}",
        &["subjects", "reinstatement", "issueDate"],
    ),
    ("POST /parties/{partyId}/documents", &["data", "id"]),
];

impl TrustLayer {
    fn v2(&self, path: &str) -> String {
        format!("{}/v2{path}", self.base_url.trim_end_matches('/'))
    }

    async fn answer(
        &self,
        sent: Result<reqwest::Response, reqwest::Error>,
    ) -> Result<(u16, Value), ProviderError> {
        let Answer { status, body } = read(sent).await?;
        Ok((status, serde_json::from_str(&body).unwrap_or(Value::Null)))
    }

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<(u16, Value), ProviderError> {
        let sent = self
            .http
            .get(with_query(self.v2(path), query))
            .bearer_auth(self.api_token.field("api_token").await?)
            .timeout(Duration::from_secs(10))
            .send()
            .await;
        self.answer(sent).await
    }

    async fn post(&self, path: &str, body: Value) -> Result<(u16, Value), ProviderError> {
        let sent = self
            .http
            .post(self.v2(path))
            .bearer_auth(self.api_token.field("api_token").await?)
            .timeout(Duration::from_secs(10))
            .json(&body)
            .send()
            .await;
        self.answer(sent).await
    }

    /// The contractor's primary record: found by our id among `externalCodes`, created
    /// with it otherwise, so a retried call finds what the first one made.
    pub async fn primary_record(
        &self,
        contractor_id: &str,
        name: &str,
    ) -> Result<String, ProviderError> {
        let (status, found) = self
            .get(
                "/primary-records",
                &[("externalCodes", contractor_id), ("limit", "1")],
            )
            .await?;
        expect(status, &found, 200)?;
        if let Some(id) = found["data"][0]["_id"].as_str() {
            return Ok(id.to_owned());
        }
        let (status, made) = self
            .post(
                "/primary-records",
                json!({"primaryObjectId": self.primary_object_id, "name": name,
                       "externalCodes": [contractor_id]}),
            )
            .await?;
        expect(status, &made, 201)?;
        id_of(&made)
    }

    /// The primary record's request record under `profile_id`, created when absent.
    pub async fn request_record(
        &self,
        primary: &str,
        profile_id: &str,
        name: &str,
    ) -> Result<String, ProviderError> {
        let path = format!("/primary-records/{primary}/request-records");
        let (status, found) = self.get(&path, &[]).await?;
        expect(status, &found, 200)?;
        if let Some(existing) = found["data"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["complianceProfile"]["id"] == profile_id)
        {
            return id_of(existing);
        }
        let (status, made) = self
            .post(
                &path,
                json!({"name": name, "complianceTracking": true, "complianceProfileId": profile_id}),
            )
            .await?;
        expect(status, &made, 201)?;
        id_of(&made)
    }

    /// Uploads the certificate to the contractor's record (v1 multipart); TrustLayer's
    /// document id.
    pub async fn upload_certificate(
        &self,
        primary: &str,
        file_name: &str,
        bytes: Vec<u8>,
    ) -> Result<String, ProviderError> {
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(file_name.to_owned())
            .mime_str("application/pdf")
            .map_err(|e| ProviderError::Refused(e.to_string()))?;
        let form = reqwest::multipart::Form::new()
            .part("document", part)
            .text("documentType", self.document_type.clone());
        let sent = self
            .http
            .post(format!(
                "{}/v1/parties/{primary}/documents",
                self.base_url.trim_end_matches('/')
            ))
            // v1's security scheme is an API key in `Authorization`.
            .header("authorization", self.api_token.field("api_token").await?)
            .timeout(Duration::from_secs(30))
            .multipart(form)
            .send()
            .await;
        let (status, body) = self.answer(sent).await?;
        expect(status, &body, 201)?;
        body["data"]["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| ProviderError::Unavailable("upload answer without a document id".into()))
    }

    /// Our contractor id of a primary record (from its `externalCodes`).
    pub async fn contractor_of(&self, primary: &str) -> Result<Vec<String>, ProviderError> {
        let (status, record) = self
            .get(&format!("/primary-records/{primary}"), &[])
            .await?;
        if status == 404 {
            return Ok(Vec::new());
        }
        expect(status, &record, 200)?;
        Ok(record["externalCodes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c.as_str().map(str::to_owned))
            .collect())
    }

    /// One request record's compliance; `None` when TrustLayer does not know it.
    pub async fn request_compliance(
        &self,
        id: &str,
    ) -> Result<Option<RequestCompliance>, ProviderError> {
        let (status, record) = self.get(&format!("/request-records/{id}"), &[]).await?;
        if status == 404 {
            return Ok(None);
        }
        expect(status, &record, 200)?;
        Ok(Some(compliance_of(&record)))
    }

    /// Every request record of a primary record, read one by one for their compliance.
    pub async fn compliance(&self, primary: &str) -> Result<Vec<RequestCompliance>, ProviderError> {
        let (status, found) = self
            .get(&format!("/primary-records/{primary}/request-records"), &[])
            .await?;
        expect(status, &found, 200)?;
        let mut out = Vec::new();
        for id in found["data"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["_id"].as_str())
        {
            if let Some(c) = self.request_compliance(id).await? {
                out.push(c);
            }
        }
        Ok(out)
    }

    /// A policy by number: the coverage lines TrustLayer reports cancelled (and not
    /// reinstated) or expired, and when its last cancellation or reinstatement happened;
    /// `None` when TrustLayer has no such policy.
    pub async fn policy(&self, number: &str) -> Result<Option<PolicyStanding>, ProviderError> {
        let (status, policy) = self
            .get(&format!("/policies/{}", urlencoding::encode(number)), &[])
            .await?;
        if status == 404 {
            return Ok(None);
        }
        expect(status, &policy, 200)?;
        let subjects = policy["subjects"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        let changed_at = subjects
            .iter()
            .flat_map(|s| {
                [
                    &s["cancellation"]["effectiveDate"],
                    &s["cancellation"]["issueDate"],
                    &s["reinstatement"]["effectiveDate"],
                    &s["reinstatement"]["issueDate"],
                ]
            })
            .filter_map(|t| t.as_str())
            .filter_map(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&chrono::Utc))
            .max();
        Ok(Some(PolicyStanding {
            number: number.to_owned(),
            reasons: subjects.iter().filter_map(validity_reason).collect(),
            changed_at,
        }))
    }
}

/// The TrustLayer client from the environment: `INSURANCE_VERIFIER_BASE_URL`, the API
/// token from `INSURANCE_VERIFIER_SECRET_ARN`, `TRUSTLAYER_PRIMARY_OBJECT_ID`,
/// `TRUSTLAYER_DOCUMENT_TYPE`.
pub async fn from_env(
    env: &platform::Env,
    aws: &platform::aws::Aws,
) -> Result<TrustLayer, platform::BoxError> {
    Ok(TrustLayer {
        http: reqwest::Client::new(),
        base_url: env.required("INSURANCE_VERIFIER_BASE_URL")?,
        api_token: std::sync::Arc::new(platform::secrets::Secret::from_env(
            env,
            aws,
            "INSURANCE_VERIFIER_SECRET_ARN",
        )?),
        primary_object_id: env.required("TRUSTLAYER_PRIMARY_OBJECT_ID")?,
        document_type: env.required("TRUSTLAYER_DOCUMENT_TYPE")?,
    })
}

/// `TRUSTLAYER_COMPLIANCE_PROFILES`: a JSON object of compliance profile ids by state
/// (`{"CA": "…", "default": "…"}`), as the marketplace's rules differ by state.
pub fn profiles_from_env(
    env: &platform::Env,
) -> Result<std::collections::HashMap<String, String>, platform::BoxError> {
    let raw = env.required("TRUSTLAYER_COMPLIANCE_PROFILES")?;
    let profiles: std::collections::HashMap<String, String> = serde_json::from_str(&raw)
        .map_err(|e| format!("TRUSTLAYER_COMPLIANCE_PROFILES is not a JSON object of ids: {e}"))?;
    if !profiles.contains_key("default") {
        return Err("TRUSTLAYER_COMPLIANCE_PROFILES needs a default profile".into());
    }
    Ok(profiles)
}

fn with_query(url: String, query: &[(&str, &str)]) -> String {
    if query.is_empty() {
        return url;
    }
    let pairs: Vec<String> = query
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencoding::encode(v)))
        .collect();
    format!("{url}?{}", pairs.join("&"))
}

fn expect(status: u16, body: &Value, wanted: u16) -> Result<(), ProviderError> {
    if status == wanted || (200..300).contains(&status) && wanted / 100 == 2 {
        return Ok(());
    }
    Err(ProviderError::Refused(format!(
        "HTTP {status} {}: {}",
        body["applicationCode"].as_str().unwrap_or_default(),
        body["message"].as_str().unwrap_or("no message")
    )))
}

fn id_of(body: &Value) -> Result<String, ProviderError> {
    body["_id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| ProviderError::Unavailable("answer without an _id".into()))
}

/// A coverage line TrustLayer reports cancelled or expired, as a reason.
fn validity_reason(subject: &Value) -> Option<Reason> {
    let label = subject["label"].as_str().unwrap_or("A coverage line");
    let code = subject["code"].as_str().unwrap_or("coverage");
    match subject["validityStatus"].as_str()? {
        "cancelled" | "cancelling" if subject["reinstatement"]["effectiveDate"].is_null() => {
            Some(Reason {
                code: "policy_cancelled".into(),
                message: format!(
                    "TrustLayer reports {label} cancelled{} ({code}).",
                    subject["cancellation"]["effectiveDate"]
                        .as_str()
                        .map(|d| format!(" effective {}", &d[..d.len().min(10)]))
                        .unwrap_or_default()
                ),
            })
        }
        "expired" => Some(Reason {
            code: "policy_expired".into(),
            message: format!("TrustLayer reports {label} expired ({code})."),
        }),
        _ => None,
    }
}

/// Reads a request record's compliance: TrustLayer's non-compliant requirements and
/// cancelled or expired subjects become reasons with its own codes and labels.
pub fn compliance_of(record: &Value) -> RequestCompliance {
    let mut reasons = Vec::new();
    for module in record["complianceModules"].as_array().into_iter().flatten() {
        for subject in module["subjects"].as_array().into_iter().flatten() {
            if let Some(reason) = validity_reason(subject) {
                reasons.push(reason);
            }
            for req in subject["requirements"].as_array().into_iter().flatten() {
                if req["status"] != "non_compliant" {
                    continue;
                }
                let target = match &req["targetValue"] {
                    Value::Array(values) => values
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(", "),
                    Value::String(s) => s.clone(),
                    _ => String::new(),
                };
                let found = match &req["value"] {
                    Value::Null => String::new(),
                    Value::String(s) => format!(" (found {s})"),
                    other => format!(" (found {other})"),
                };
                let notes = req["publicNotes"]["content"]
                    .as_str()
                    .map(|n| format!(" {n}"))
                    .unwrap_or_default();
                reasons.push(Reason {
                    code: format!(
                        "trustlayer_{}_{}",
                        req["subjectCode"]
                            .as_str()
                            .or(subject["code"].as_str())
                            .unwrap_or("subject"),
                        req["attributeCode"].as_str().unwrap_or("attribute")
                    )
                    .to_lowercase()
                    .replace(|c: char| !c.is_ascii_alphanumeric() && c != '_', "_"),
                    message: format!(
                        "{}: {} {} {target}{found}.{notes}",
                        subject["label"].as_str().unwrap_or("Coverage"),
                        req["attributeLabel"]
                            .as_str()
                            .or(req["attributeCode"].as_str())
                            .unwrap_or("a requirement"),
                        req["operator"].as_str().unwrap_or("must be met"),
                    )
                    .replace(" .", "."),
                });
            }
        }
    }
    RequestCompliance {
        id: record["_id"].as_str().unwrap_or_default().to_owned(),
        primary_record_id: record["primaryRecordId"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        compliant: match record["complianceStatus"].as_str() {
            Some("compliant") => Some(true),
            Some("non_compliant") => Some(false),
            _ => None,
        },
        updated_at: record["updatedAt"]
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&chrono::Utc)),
        reasons,
    }
}

/// Where a request-record compliance webhook names its records. TrustLayer's webhook page
/// names the event groups and `primaryRecord.id`; the exact nesting could not be confirmed
/// here, so these places are tried in order (ADR 0010), and the records are read back.
pub fn webhook_records(body: &Value) -> (Option<String>, Option<String>) {
    let first = |paths: &[&str]| {
        paths
            .iter()
            .find_map(|p| body.pointer(p).and_then(Value::as_str).map(str::to_owned))
    };
    (
        first(&[
            "/requestRecord/id",
            "/data/requestRecord/id",
            "/data/requestRecordId",
            "/record/id",
        ]),
        first(&[
            "/primaryRecord/id",
            "/data/primaryRecord/id",
            "/data/primaryRecordId",
            "/party/id",
        ]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_compliant_requirements_and_cancelled_lines_become_reasons_in_trustlayers_words() {
        let record = json!({"_id": "r1", "primaryRecordId": "p1", "complianceStatus": "non_compliant",
            "updatedAt": "2026-11-22T10:05:00Z",
            "complianceModules": [{"code": "gl", "label": "General Liability", "status": "non_compliant", "documents": [], "documentsCount": 1,
              "subjects": [{"code": "general_liability", "label": "General Liability", "status": "non_compliant",
                "validityStatus": "cancelled", "cancellation": {"effectiveDate": "2026-11-20T00:00:00Z"},
                "documentsCount": 1, "documents": [],
                "requirements": [
                  {"moduleCode": "gl", "subjectCode": "general_liability", "attributeCode": "eachOccurrence",
                   "attributeLabel": "Each Occurrence", "operator": "must be greater or equal to", "targetValue": "1000000",
                   "value": 500000, "status": "non_compliant", "publicNotes": {"content": "Ask your agent for a higher limit.", "removeWhenCompliant": true}},
                  {"attributeCode": "aggregate", "status": "compliant"}]}]}]});
        let c = compliance_of(&record);
        assert_eq!(c.compliant, Some(false));
        assert_eq!(
            c.updated_at.unwrap().to_rfc3339(),
            "2026-11-22T10:05:00+00:00"
        );
        assert_eq!(c.reasons.len(), 2);
        assert_eq!(c.reasons[0].code, "policy_cancelled");
        assert!(
            c.reasons[0].message.contains("effective 2026-11-20"),
            "{}",
            c.reasons[0].message
        );
        assert_eq!(
            c.reasons[1].code,
            "trustlayer_general_liability_eachoccurrence"
        );
        assert_eq!(
            c.reasons[1].message,
            "General Liability: Each Occurrence must be greater or equal to 1000000 (found 500000). Ask your agent for a higher limit."
        );
        assert_eq!(compliance_of(&json!({"_id": "r2"})).compliant, None);
    }

    #[test]
    fn webhook_records_are_found_where_trustlayer_may_put_them() {
        assert_eq!(
            webhook_records(&json!({"requestRecord": {"id": "r"}, "primaryRecord": {"id": "p"}})),
            (Some("r".into()), Some("p".into()))
        );
        assert_eq!(
            webhook_records(&json!({"data": {"requestRecordId": "r"}})),
            (Some("r".into()), None)
        );
        assert_eq!(webhook_records(&json!({"type": "x"})), (None, None));
    }
}
