//! `GET /v1/exports/{id}`: an export's status for staff and for whoever asked for it
//! (matched by a digest of their login); 404 to anyone else. A ready export carries a
//! download link valid for [`LINK_SECONDS`]; once the export's seven days are over, 410.

use domain::ids::ExportId;
use lambda_http::Request;
use platform::http::{self, HttpApp, RequestMeta};
use platform::{ApiError, BoxError, Env};
use store::Table;
use store::objects::S3Objects;
use store::privacy_jobs::{ExportStatus, PrivacyJobs, login_digest};

/// How long a download link works: enough to start the download, too short to share.
pub const LINK_SECONDS: u64 = 300;

pub struct ExportStatusApp {
    settings: platform::http::ApiSettings,
    jobs: PrivacyJobs,
    objects: S3Objects,
}

pub async fn build(env: &Env) -> Result<ExportStatusApp, BoxError> {
    let aws = platform::aws::Aws::load(env).await;
    Ok(ExportStatusApp {
        settings: platform::http::ApiSettings::from_env(env),
        jobs: PrivacyJobs::new(Table::from_env(env, &aws)?),
        objects: S3Objects::from_env(env, &aws)?,
    })
}

impl HttpApp for ExportStatusApp {
    const NAME: &'static str = "privacy-export-status";
    type Error = wiring::Error;

    async fn handle(&self, req: Request, _meta: RequestMeta) -> wiring::Answer {
        let caller = self.settings.caller(&req)?;
        let not_found = || ApiError::NotFound("export");
        let id = ExportId::parse(http::path_param(&req, "id")?).ok_or_else(not_found)?;
        let job = self
            .jobs
            .export(&id)
            .await?
            .filter(|j| caller.is_staff() || j.requester_digest == login_digest(&caller.subject))
            .ok_or_else(not_found)?;
        let now = chrono::Utc::now();
        if now >= job.available_until {
            return Err(ApiError::Gone(format!(
                "Export {id} was available until {}; ask for a new one.",
                job.available_until
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ))
            .into());
        }
        let download = match (&job.status, &job.object_key) {
            (ExportStatus::Ready, Some(key)) => {
                // Never past the export's own end.
                let left = (job.available_until - now).num_seconds().max(1) as u64;
                let seconds = LINK_SECONDS.min(left);
                let url = self
                    .objects
                    .presigned_get(key, std::time::Duration::from_secs(seconds))
                    .await
                    .map_err(ApiError::internal)?;
                Some((url, now + chrono::Duration::seconds(seconds as i64)))
            }
            _ => None,
        };
        let body = wiring::views::export(&job, download.as_ref().map(|(u, t)| (u.as_str(), *t)));
        let mut response = http::json(200, &body);
        // A link is a secret for five minutes: no cache keeps it.
        response.headers_mut().insert(
            ::http::header::CACHE_CONTROL,
            ::http::HeaderValue::from_static("no-store"),
        );
        Ok(response)
    }
}
