//! `GET /v1/contractors/{id}/documents`: the contractor's documents, newest first (owner or
//! staff).

use lambda_http::Request;
use platform::http::{self, HttpApp, RequestMeta};
use platform::{BoxError, Env};
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
    type Error = wiring::Error;

    async fn handle(&self, req: Request, _meta: RequestMeta) -> wiring::Answer {
        let viewer = wiring::viewer(&self.api.settings, &req)?;
        let contractor_id = http::path_param(&req, "id")?.to_owned();
        let docs = self.api.service.list(&viewer, &contractor_id).await?;
        let data: Vec<serde_json::Value> = docs.iter().map(|d| d.view()).collect();
        Ok(http::json(
            200,
            &serde_json::json!({"object": "list", "data": data}),
        ))
    }
}
