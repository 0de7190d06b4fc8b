//! The API representations of the domain's records: the JSON the HTTP API answers, built
//! at the edge so the domain stays free of wire formats. Secrets never appear; the TIN only
//! as its mask.

use chrono::{DateTime, Utc};
use domain::contractor::Contractor;
use domain::documents::Document;
use domain::requirements::Requirements;
use domain::steps::{ALL_STEPS, StepFields};
use domain::verification::Requirement;
use serde_json::{Map, Value};

/// A record as the API shows it.
pub trait View {
    fn view(&self) -> Value;
}

/// The contractor as the API shows it, with its `requirements` (what is due, pending,
/// failed and why).
pub fn contractor(c: &Contractor, requirements: &Requirements) -> Value {
    let ts = |t: &DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut steps = Map::new();
    let mut progress_steps = Map::new();
    for step in ALL_STEPS {
        let saved = c.steps.get(&step);
        let data = saved.map(|s| s.data.clone()).unwrap_or_default();
        let missing: Vec<&str> = step
            .fields()
            .iter()
            .filter(|f| f.required && domain::steps::lookup(&data, f.name).is_none())
            .map(|f| f.name)
            .collect();
        progress_steps.insert(
            step.as_str().to_owned(),
            serde_json::json!({
                "status": c.step_status(step),
                "missing_fields": missing,
                "updated_at": saved.map(|s| ts(&s.updated_at)),
            }),
        );
        steps.insert(step.as_str().to_owned(), Value::Object(data));
    }
    serde_json::json!({
        "id": c.id,
        "object": "contractor",
        "status": c.status,
        "business_name": c.business_name,
        "contact": c.contact,
        "service_area": c.service_area,
        "trade": c.trade,
        "steps": steps,
        "progress": {"percent": c.percent_complete(), "steps": progress_steps},
        "requirements": requirements,
        "consents": c.consents.iter().map(|c| serde_json::json!({
            "document": c.document, "version": c.version, "accepted_at": ts(&c.accepted_at),
            "withdrawn_at": c.withdrawn_at.as_ref().map(ts),
        })).collect::<Vec<_>>(),
        "version": c.version,
        "created_at": ts(&c.created_at),
        "updated_at": ts(&c.updated_at),
    })
}

impl View for Document {
    /// The API representation of a document and its history.
    fn view(&self) -> Value {
        let ts = |t: &DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        serde_json::json!({
            "id": self.id,
            "object": "document",
            "contractor_id": self.contractor_id,
            "kind": self.kind,
            "file_name": self.file_name,
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
            "status": self.status,
            "created_at": ts(&self.created_at),
            "upload_expires_at": ts(&self.upload_expires_at),
            "version": self.version,
            "rejection": self.rejection,
            "extraction": self.extraction,
            "disarmed": self.derivative.as_ref().map(|d| serde_json::json!({"removed": d.removed, "method": d.method})),
            "history": self.history.iter().map(|h| serde_json::json!({"status": h.status, "at": ts(&h.at), "reason": h.reason})).collect::<Vec<_>>(),
        })
    }
}

impl View for Requirement {
    /// The requirement as the API shows it (evidence summaries, not the raw provider bodies).
    fn view(&self) -> Value {
        serde_json::json!({
            "object": "requirement",
            "name": self.name,
            "state": self.state(),
            "evidence_version": self.evidence_version,
            "findings": self.findings(),
            "valid_until": self.valid_until(),
            "claim": self.claim,
            "results": self.results.values().map(|r| serde_json::json!({
                "source": r.source, "outcome": r.outcome, "at": r.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            })).collect::<Vec<_>>(),
        })
    }
}

/// An erasure request as the API shows it (no personal data: the requester only as
/// `owner` or `staff`).
pub fn erasure(r: &store::privacy_jobs::ErasureRequest) -> Value {
    let ts = |t: &DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    serde_json::json!({
        "object": "erasure",
        "id": r.erasure_id,
        "contractor_id": r.contractor_id,
        "status": r.status,
        "requested_by": r.requested_by,
        "requested_at": ts(&r.requested_at),
        "completed_at": r.completed_at.as_ref().map(ts),
        "confirmation_email": r.confirmation,
        "result": {
            "items_deleted": r.items_deleted,
            "file_versions_deleted": r.versions_deleted,
            "kept": r.kept,
        },
        "links": {"self": format!("/v1/erasures/{}", r.erasure_id)},
    })
}

/// An export as the API shows it, with its download link when one was made.
pub fn export(
    job: &store::privacy_jobs::ExportJob,
    download: Option<(&str, DateTime<Utc>)>,
) -> Value {
    let ts = |t: &DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    serde_json::json!({
        "object": "export",
        "id": job.export_id,
        "contractor_id": job.contractor_id,
        "status": job.status,
        "created_at": ts(&job.created_at),
        "completed_at": job.completed_at.as_ref().map(ts),
        "available_until": ts(&job.available_until),
        "archive": job.bytes.map(|bytes| serde_json::json!({
            "bytes": bytes,
            "sha256": job.sha256,
            "files": job.entries,
            "content_type": "application/zip",
        })),
        "download": download.map(|(url, until)| serde_json::json!({"url": url, "expires_at": ts(&until)})),
        "links": {"self": format!("/v1/exports/{}", job.export_id)},
    })
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use domain::contractor::RegisterContractor;
    use domain::onboarding::{Onboarding, RequestFacts, Viewer};
    use domain::ports::memory::{MemoryContractors, TestCipher};
    use domain::steps::{AgreementVersions, StepName};
    use serde_json::json;

    use super::View;

    fn facts() -> RequestFacts {
        RequestFacts {
            request_id: "req".into(),
            correlation_id: "corr".into(),
            source_ip: None,
            user_agent: None,
            now: Utc::now(),
        }
    }

    #[tokio::test]
    async fn the_contractor_view_shows_the_tin_only_as_its_mask_and_the_requirements() {
        let s = Onboarding {
            contractors: MemoryContractors::default(),
            cipher: TestCipher,
            versions: AgreementVersions {
                terms: "2026-09".into(),
                privacy: "2026-09".into(),
            },
            licenses: domain::licensing::LicenseRules::shipped(),
        };
        let dana = Viewer {
            subject: "auth0|dana".into(),
            staff: false,
            admin: false,
            contractor: true,
        };
        let registration: RegisterContractor = serde_json::from_value(json!({
            "business_name": "Bright Nights LLC",
            "contact": {"name": "Dana Reyes", "email": "dana@brightnights.example", "phone": "2145550142"},
            "service_area": {"states": ["TX"]},
            "trade": {"crew_size": 3, "services": ["permanent_lighting"]}
        }))
        .unwrap();
        let c = s.register(&dana, registration, &facts()).await.unwrap();
        assert_eq!(
            super::contractor(&c, &s.requirements(&c))["object"],
            "contractor"
        );
        let tax = json!({"tin_type": "ein", "tin": "12-3456789", "name_on_return": "Bright Nights LLC", "tax_classification": "llc_s"});
        let saved = s
            .save_step(
                &dana,
                &c.id.to_string(),
                c.version,
                StepName::TaxIdentity,
                &tax,
                &facts(),
            )
            .await
            .unwrap();
        let view = super::contractor(&saved.contractor, &s.requirements(&saved.contractor));
        assert_eq!(view["steps"]["tax_identity"]["tin"], "**-***6789");
        assert!(
            !view.to_string().contains("123456789"),
            "the TIN never appears in a response"
        );
        assert_eq!(
            view["progress"]["steps"]["tax_identity"]["status"],
            "complete"
        );
        assert_eq!(
            view["requirements"]["pending_verification"],
            json!(["tax_identity"])
        );
        assert!(
            view["requirements"]["currently_due"]
                .as_array()
                .unwrap()
                .contains(&json!("business_profile"))
        );
    }

    #[test]
    fn the_document_view_shows_what_was_disarmed_and_never_the_tin() {
        let doc: domain::documents::Document = serde_json::from_value(json!({
            "id": "doc_01J0000000000000000000000A",
            "contractor_id": "ctr_01J0000000000000000000000A",
            "kind": "w9",
            "file_name": "w9.pdf",
            "content_type": "application/pdf",
            "size": 1000,
            "sha256": "x",
            "object_key": "k",
            "status": "extracted",
            "created_at": "2026-12-01T00:00:00Z",
            "upload_expires_at": "2026-12-01T00:15:00Z",
            "history": [],
            "tin": {"key_id": "k", "algorithm": "a", "encrypted_key": "e", "nonce": "n", "ciphertext": "SECRET-CIPHERTEXT"},
            "derivative": {"object_key": "k/derivative.pdf", "removed": ["JavaScript"], "method": "rewrite"}
        }))
        .unwrap();
        let view = doc.view();
        assert_eq!(view["object"], "document");
        assert_eq!(view["disarmed"]["removed"][0], "JavaScript");
        assert!(!view.to_string().contains("SECRET-CIPHERTEXT"));
        assert!(view.get("tin").is_none());
    }
}
