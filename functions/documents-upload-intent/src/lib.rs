//! `POST /v1/contractors/{id}/documents`: records an upload intent (kind, file name, type,
//! size, SHA-256) and answers a presigned S3 PUT bound to that exact length, type and
//! checksum. Idempotent with `Idempotency-Key`.

use domain::documents::UploadIntent;
use lambda_http::Request;
use platform::http::{self, HttpApp, RequestMeta};
use platform::idempotency::Idempotent;
use platform::{BoxError, Env};
use store::DynamoIdempotency;
use wiring::DocumentsApi;
use wiring::views::View;

pub struct CreateUploadIntent {
    api: DocumentsApi,
}

pub async fn build(
    env: &Env,
) -> Result<Idempotent<CreateUploadIntent, DynamoIdempotency>, BoxError> {
    let (api, aws) = DocumentsApi::from_env(env).await?;
    wiring::idempotent(CreateUploadIntent { api }, env, &aws)
}

impl HttpApp for CreateUploadIntent {
    const NAME: &'static str = "documents-upload-intent";
    type Error = wiring::Error;

    async fn handle(&self, req: Request, _meta: RequestMeta) -> wiring::Answer {
        let viewer = wiring::viewer(&self.api.settings, &req)?;
        let contractor_id = http::path_param(&req, "id")?.to_owned();
        let intent: UploadIntent = http::parse_json(&req, http::DEFAULT_BODY_LIMIT)?;
        let (doc, upload) = self
            .api
            .service
            .create_intent(&viewer, &contractor_id, intent, chrono::Utc::now())
            .await?;
        tracing::info!(document_id = %doc.id, kind = doc.kind.as_str(), size = doc.size, "upload intent recorded");
        let mut body = doc.view();
        body["upload"] = serde_json::json!({
            "method": upload.method,
            "url": upload.url,
            "headers": upload.headers,
            "expires_at": upload.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        });
        let mut response = http::json(201, &body);
        if let Ok(location) = format!("/v1/documents/{}", doc.id).parse() {
            response
                .headers_mut()
                .insert(::http::header::LOCATION, location);
        }
        Ok(response)
    }
}
