//! `GET /v1/openapi.json`: the OpenAPI 3.1 description of the API (`openapi/openapi.json`,
//! checked against the template and the code by `tests/e2e/openapi.rs`). Public.

use lambda_http::{Body, Request, Response};
use platform::http::{HttpApp, RequestMeta};
use platform::{ApiError, BoxError, Env};

pub const OPENAPI: &str = include_str!("../../../openapi/openapi.json");

pub struct ApiDocs;

pub async fn build(_env: &Env) -> Result<ApiDocs, BoxError> {
    Ok(ApiDocs)
}

impl HttpApp for ApiDocs {
    const NAME: &'static str = "api-docs";
    type Error = ApiError;

    async fn handle(&self, _req: Request, _meta: RequestMeta) -> Result<Response<Body>, ApiError> {
        Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .header("cache-control", "public, max-age=300")
            .body(Body::Text(OPENAPI.to_owned()))
            .map_err(ApiError::internal)
    }
}
