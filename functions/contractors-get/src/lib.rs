//! `GET /v1/contractors/{id}` and `GET /v1/contractors/me`: the owner or staff read an
//! account. To anyone else an account does not exist (404), so ids cannot be probed.

use domain::ids::{ContractorId, OwnerId};
use domain::ports::ContractorRepository;
use lambda_http::{Body, Request, Response};
use platform::http::{self, ApiSettings, HttpApp, RequestMeta};
use platform::{ApiError, BoxError, Env};
use store::DynamoContractors;

pub struct GetContractor<R> {
    contractors: R,
    settings: ApiSettings,
}

impl<R: ContractorRepository> GetContractor<R> {
    pub fn new(contractors: R, settings: ApiSettings) -> Self {
        GetContractor {
            contractors,
            settings,
        }
    }
}

pub async fn build(env: &Env) -> Result<GetContractor<DynamoContractors>, BoxError> {
    let aws = platform::aws::Aws::load(env).await;
    Ok(GetContractor::new(
        DynamoContractors::from_env(env, &aws)?,
        ApiSettings::from_env(env),
    ))
}

impl<R: ContractorRepository> HttpApp for GetContractor<R> {
    const NAME: &'static str = "contractors-get";

    async fn handle(&self, req: Request, _meta: RequestMeta) -> Result<Response<Body>, ApiError> {
        let caller = http::caller(&req, &self.settings.roles_claim)?;
        let requested = http::path_param(&req, "id").unwrap_or("me");
        let found = if requested == "me" {
            let owner = OwnerId::parse(&caller.subject).ok_or(ApiError::Unauthorized)?;
            self.contractors.find_by_owner(&owner).await?
        } else {
            match ContractorId::parse(requested) {
                Some(id) => self.contractors.get(&id).await?,
                None => None,
            }
        };
        let contractor = found
            .filter(|c| c.visible_to(&caller.subject, caller.is_staff()))
            .ok_or(ApiError::NotFound("contractor"))?;
        let mut response = http::json(200, &contractor.view());
        if let Ok(etag) = http::etag(contractor.version).parse() {
            response.headers_mut().insert(::http::header::ETAG, etag);
        }
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::Utc;
    use domain::contractor::RegisterContractor;
    use domain::ports::memory::MemoryContractors;
    use platform::invoke::testing::{call_http, sample_event};
    use platform::invoke::{JsonFunction, json_http};
    use serde_json::json;

    use super::*;

    async fn seeded() -> (JsonFunction, ContractorId) {
        let repo = Arc::new(MemoryContractors::default());
        let input: RegisterContractor = serde_json::from_value(json!({
            "business_name": "Bright Nights LLC",
            "contact": {"name": "Dana Reyes", "email": "dana@brightnights.example", "phone": "2145550142"},
            "service_area": {"states": ["TX"]},
            "trade": {"crew_size": 3, "services": ["permanent_lighting"]}
        }))
        .unwrap();
        let c = input
            .into_contractor(
                ContractorId::generate(),
                OwnerId::parse("auth0|dana").unwrap(),
                Utc::now(),
            )
            .unwrap();
        repo.insert(&c).await.unwrap();
        (
            json_http(GetContractor::new(
                repo,
                ApiSettings {
                    roles_claim: "roles".into(),
                },
            )),
            c.id,
        )
    }

    fn event_for(id: &str, sub: &str, roles: Option<&str>) -> serde_json::Value {
        let mut event = sample_event("http-api-contractors-get.json");
        event["pathParameters"]["id"] = json!(id);
        event["rawPath"] = json!(format!("/v1/contractors/{id}"));
        event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = json!(sub);
        if let Some(r) = roles {
            event["requestContext"]["authorizer"]["jwt"]["claims"]["roles"] = json!(r);
        }
        event
    }

    #[tokio::test]
    async fn the_owner_reads_by_id_and_by_me() {
        let (f, id) = seeded().await;
        let answer = call_http(&f, event_for(id.as_str(), "auth0|dana", None)).await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.body["id"], id.as_str());
        assert_eq!(answer.headers["etag"], "\"1\"");
        let me = call_http(&f, event_for("me", "auth0|dana", None)).await;
        assert_eq!(me.status, 200);
        assert_eq!(me.body["id"], id.as_str());
    }

    #[tokio::test]
    async fn another_user_gets_404_and_staff_can_read() {
        let (f, id) = seeded().await;
        let other = call_http(
            &f,
            event_for(id.as_str(), "auth0|eve", Some("[contractor]")),
        )
        .await;
        assert_eq!(other.status, 404);
        let reviewer =
            call_http(&f, event_for(id.as_str(), "auth0|rita", Some("[reviewer]"))).await;
        assert_eq!(reviewer.status, 200);
        assert_eq!(
            call_http(&f, event_for("me", "auth0|eve", None))
                .await
                .status,
            404
        );
        assert_eq!(
            call_http(&f, event_for("not-an-id", "auth0|dana", None))
                .await
                .status,
            404
        );
    }
}
