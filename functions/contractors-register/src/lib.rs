//! `POST /v1/contractors`: registers the caller's contractor account, in `draft`.

use chrono::Utc;
use domain::contractor::RegisterContractor;
use domain::ids::{ContractorId, OwnerId};
use domain::ports::ContractorRepository;
use lambda_http::{Body, Request, Response};
use platform::http::{self, ApiSettings, HttpApp, RequestMeta};
use platform::metrics::Metrics;
use platform::{ApiError, BoxError, Env};
use store::DynamoContractors;

pub struct Register<R> {
    contractors: R,
    settings: ApiSettings,
    metrics_namespace: String,
}

impl<R: ContractorRepository> Register<R> {
    pub fn new(contractors: R, settings: ApiSettings, metrics_namespace: String) -> Self {
        Register {
            contractors,
            settings,
            metrics_namespace,
        }
    }
}

/// Builds the function from its environment, once per cold start.
pub async fn build(env: &Env) -> Result<Register<DynamoContractors>, BoxError> {
    let aws = platform::aws::Aws::load(env).await;
    Ok(Register::new(
        DynamoContractors::from_env(env, &aws)?,
        ApiSettings::from_env(env),
        platform::metrics::namespace(env),
    ))
}

impl<R: ContractorRepository> HttpApp for Register<R> {
    const NAME: &'static str = "contractors-register";

    async fn handle(&self, req: Request, _meta: RequestMeta) -> Result<Response<Body>, ApiError> {
        let caller = http::caller(&req, &self.settings.roles_claim)?;
        let owner = OwnerId::parse(&caller.subject).ok_or(ApiError::Unauthorized)?;
        let input: RegisterContractor = http::parse_json(&req, http::DEFAULT_BODY_LIMIT)?;
        let contractor = input.into_contractor(ContractorId::generate(), owner, Utc::now())?;
        self.contractors.insert(&contractor).await?;

        tracing::info!(contractor_id = %contractor.id, "contractor registered");
        Metrics::new(&self.metrics_namespace, Self::NAME)
            .count("ContractorRegistered")
            .flush();
        let mut response = http::json(201, &contractor.view());
        let headers = response.headers_mut();
        if let Ok(location) = format!("/v1/contractors/{}", contractor.id).parse() {
            headers.insert(::http::header::LOCATION, location);
        }
        if let Ok(etag) = http::etag(contractor.version).parse() {
            headers.insert(::http::header::ETAG, etag);
        }
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use domain::ports::memory::MemoryContractors;
    use platform::invoke::testing::{call_http, sample_event};
    use platform::invoke::{JsonFunction, json_http};
    use serde_json::json;

    use super::*;

    fn function(repo: Arc<MemoryContractors>) -> JsonFunction {
        json_http(Register::new(
            repo,
            ApiSettings {
                roles_claim: "roles".into(),
            },
            "Test".into(),
        ))
    }

    #[tokio::test]
    async fn registers_from_the_sample_event_and_refuses_a_second_account() {
        let repo = Arc::new(MemoryContractors::default());
        let f = function(repo.clone());
        let answer = call_http(&f, sample_event("http-api-contractors-register.json")).await;
        assert_eq!(answer.status, 201, "{:?}", answer.body);
        let id = answer.body["id"].as_str().unwrap().to_owned();
        assert!(id.starts_with("ctr_"));
        assert_eq!(answer.body["status"], "draft");
        assert_eq!(answer.body["contact"]["phone"], "+12145550142");
        assert_eq!(
            answer.headers["location"],
            format!("/v1/contractors/{id}").as_str()
        );
        assert_eq!(answer.headers["etag"], "\"1\"");
        assert_eq!(answer.headers["x-correlation-id"], "corr-sample-0001");
        assert!(
            repo.get(&ContractorId::parse(&id).unwrap())
                .await
                .unwrap()
                .is_some()
        );

        let again = call_http(&f, sample_event("http-api-contractors-register.json")).await;
        assert_eq!(again.status, 409);
        assert_eq!(again.body["code"], "contractor_already_registered");
        assert_eq!(again.headers["content-type"], "application/problem+json");
    }

    #[tokio::test]
    async fn invalid_fields_get_422_with_every_field_error() {
        let mut event = sample_event("http-api-contractors-register.json");
        event["body"] = json!(
            json!({"business_name": "", "contact": {"name": "Dana", "email": "x", "phone": "1"}})
                .to_string()
        );
        let answer = call_http(&function(Default::default()), event).await;
        assert_eq!(answer.status, 422);
        let fields: Vec<&str> = answer.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(
            fields,
            vec![
                "business_name",
                "contact.email",
                "contact.phone",
                "service_area",
                "trade"
            ]
        );
    }

    #[tokio::test]
    async fn wrong_types_media_types_and_broken_json_are_4xx() {
        let f = function(Default::default());
        let mut wrong_type = sample_event("http-api-contractors-register.json");
        wrong_type["body"] = json!(r#"{"business_name": 42}"#);
        let answer = call_http(&f, wrong_type).await;
        assert_eq!(answer.status, 422);
        assert_eq!(answer.body["errors"][0]["field"], "business_name");

        let mut broken = sample_event("http-api-contractors-register.json");
        broken["body"] = json!("{\"business_name\": ");
        assert_eq!(call_http(&f, broken).await.status, 400);

        let mut text = sample_event("http-api-contractors-register.json");
        text["headers"]["content-type"] = json!("text/plain");
        assert_eq!(call_http(&f, text).await.status, 415);

        let mut huge = sample_event("http-api-contractors-register.json");
        huge["body"] = json!(format!("{{\"business_name\": \"{}\"}}", "a".repeat(70_000)));
        assert_eq!(call_http(&f, huge).await.status, 413);
    }

    #[tokio::test]
    async fn no_verified_subject_is_401() {
        let mut event = sample_event("http-api-contractors-register.json");
        event["requestContext"]["authorizer"] = json!(null);
        let answer = call_http(&function(Default::default()), event).await;
        assert_eq!(answer.status, 401);
        assert_eq!(answer.body["code"], "unauthorized");
    }
}
