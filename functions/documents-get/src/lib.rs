//! `GET /v1/documents/{id}`: one document with its status history (owner or staff; 404 to
//! anyone else).

use lambda_http::Request;
use platform::http::{self, HttpApp, RequestMeta};
use platform::{BoxError, Env};
use wiring::DocumentsApi;
use wiring::views::View;

pub struct GetDocument {
    api: DocumentsApi,
}

pub async fn build(env: &Env) -> Result<GetDocument, BoxError> {
    Ok(GetDocument {
        api: DocumentsApi::from_env(env).await?.0,
    })
}

impl HttpApp for GetDocument {
    const NAME: &'static str = "documents-get";
    type Error = wiring::Error;

    async fn handle(&self, req: Request, _meta: RequestMeta) -> wiring::Answer {
        let viewer = wiring::viewer(&self.api.settings, &req)?;
        let id = http::path_param(&req, "id")?.to_owned();
        let doc = self.api.service.get(&viewer, &id).await?;
        Ok(http::json(200, &doc.view()))
    }
}
