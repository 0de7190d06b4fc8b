//! `GET /v1/contractors/{id}/documents`: the contractor's documents, newest first (owner or
//! staff).

use lambda_http::{Body, Request, Response};
use platform::http::{self, HttpApp, RequestMeta};
use platform::{ApiError, BoxError, Env};
use wiring::DocumentsApi;
use wiring::views::View;

pub struct ListDocuments {
    api: DocumentsApi,
}

pub async fn build(env: &Env) -> Result<ListDocuments, BoxError> {
    Ok(ListDocuments {
        api: DocumentsApi::from_env(env).await?.0,
    })
}

impl HttpApp for ListDocuments {
    const NAME: &'static str = "documents-list";

    async fn handle(&self, req: Request, _meta: RequestMeta) -> Result<Response<Body>, ApiError> {
        let viewer = self.api.settings.viewer(&req)?;
        let contractor_id = http::path_param(&req, "id")?.to_owned();
        let docs = self.api.service.list(&viewer, &contractor_id).await?;
        let data: Vec<serde_json::Value> = docs.iter().map(|d| d.view()).collect();
        Ok(http::json(
            200,
            &serde_json::json!({"object": "list", "data": data}),
        ))
    }
}
