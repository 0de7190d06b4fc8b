//! `POST /v1/contractors/{id}/exports`: the owner or staff asks for a copy of everything
//! held about a contractor. The job is recorded and queued for `privacy-export`, which
//! builds the archive; 202 with the job, whose status and download link are at `Location`
//! (`GET /v1/exports/{id}`). Idempotent with `Idempotency-Key`.

use domain::ids::ExportId;
use domain::privacy::EXPORT_DAYS;
use lambda_http::Request;
use platform::http::{self, HttpApp, RequestMeta};
use platform::idempotency::Idempotent;
use platform::sqs::WorkQueue;
use platform::{ApiError, BoxError, Env};
use store::privacy_jobs::{ExportJob, ExportStatus, PrivacyJobs, login_digest};
use store::{DynamoIdempotency, Table};
use wiring::Api;

pub struct RequestExport {
    api: Api,
    jobs: PrivacyJobs,
    queue: WorkQueue,
}

pub async fn build(env: &Env) -> Result<Idempotent<RequestExport, DynamoIdempotency>, BoxError> {
    let (api, aws) = Api::from_env(env).await?;
    let app = RequestExport {
        api,
        jobs: PrivacyJobs::new(Table::from_env(env, &aws)?),
        queue: WorkQueue::from_env(aws.sqs(), env, "EXPORTS_QUEUE_URL")?,
    };
    wiring::idempotent(app, env, &aws)
}

impl HttpApp for RequestExport {
    const NAME: &'static str = "privacy-export-request";
    type Error = wiring::Error;

    async fn handle(&self, req: Request, meta: RequestMeta) -> wiring::Answer {
        let viewer = wiring::viewer(&self.api.settings, &req)?;
        let id = http::path_param(&req, "id")?;
        let contractor = self.api.service.get(&viewer, id).await?;
        let now = chrono::Utc::now();
        let job = ExportJob {
            export_id: ExportId::generate(),
            contractor_id: contractor.id.clone(),
            requester_digest: login_digest(&viewer.subject),
            status: ExportStatus::Queued,
            created_at: now,
            available_until: now + chrono::Duration::days(EXPORT_DAYS),
            object_key: None,
            bytes: None,
            sha256: None,
            entries: None,
            completed_at: None,
            failure: None,
        };
        self.jobs.save_export(&job).await?;
        self.queue
            .send(
                &serde_json::json!({"export_id": job.export_id}),
                Some(&meta.correlation_id),
            )
            .await
            .map_err(ApiError::internal)?;
        tracing::info!(contractor_id = %contractor.id, export_id = %job.export_id, staff = viewer.staff, "export requested");
        let mut response = http::json(202, &wiring::views::export(&job, None));
        if let Ok(location) = format!("/v1/exports/{}", job.export_id).parse() {
            response
                .headers_mut()
                .insert(::http::header::LOCATION, location);
        }
        Ok(response)
    }
}
