//! The wiring every onboarding API function shares: the service built from the environment
//! once per cold start, idempotency around mutations, request facts for the audit trail,
//! `If-Match` parsing, and the contractor response with its `ETag`.

pub mod engagement;
pub mod error;
pub mod mail;
pub mod views;

pub use error::Error;

/// What an API handler answers: a response, or an [`Error`] the edge turns into a problem.
pub type Answer = Result<Response<Body>, Error>;

use domain::contractor::Contractor;
use domain::onboarding::{Onboarding, RequestFacts, Viewer};
use domain::steps::AgreementVersions;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use platform::auth::Role;
use platform::aws::Aws;
use platform::http::{self, ApiSettings, HttpApp, RequestMeta};
use platform::idempotency::Idempotent;
use platform::{ApiError, BoxError, Env};
use store::{DynamoContractors, DynamoIdempotency};

pub type Service = Onboarding<DynamoContractors, store::data_keys::FieldCipher>;

/// What an API function needs, built once per cold start.
pub struct Api {
    pub service: Service,
    pub settings: ApiSettings,
}

impl Api {
    pub async fn from_env(env: &Env) -> Result<(Api, Aws), BoxError> {
        let aws = Aws::load(env).await;
        let api = Api {
            service: Onboarding {
                contractors: DynamoContractors::from_env(env, &aws)?,
                cipher: store::field_cipher(env, &aws)?,
                versions: AgreementVersions {
                    terms: env.required("TERMS_VERSION")?,
                    privacy: env.required("PRIVACY_VERSION")?,
                },
                licenses: domain::licensing::LicenseRules::shipped(),
            },
            settings: ApiSettings::from_env(env),
        };
        Ok((api, aws))
    }

    /// The contractor as the API shows it, with its requirements under this marketplace's
    /// rules.
    pub fn contractor_view(&self, c: &Contractor) -> serde_json::Value {
        views::contractor(c, &self.service.requirements(c))
    }

    /// The contractor's representation with its `ETag`.
    pub fn contractor_response(&self, status: u16, c: &Contractor) -> Response<Body> {
        let mut response = http::json(status, &self.contractor_view(c));
        if let Ok(etag) = http::etag(c.version).parse() {
            response.headers_mut().insert(::http::header::ETAG, etag);
        }
        response
    }
}

pub type DocumentsService =
    domain::documents::Documents<store::DynamoDocuments, DynamoContractors, store::S3UploadSigner>;

/// What a document API function needs, built once per cold start.
pub struct DocumentsApi {
    pub service: DocumentsService,
    pub settings: ApiSettings,
}

impl DocumentsApi {
    pub async fn from_env(env: &Env) -> Result<(DocumentsApi, Aws), BoxError> {
        let aws = Aws::load(env).await;
        let minutes: i64 = env.parse_or("UPLOAD_URL_MINUTES", 10)?;
        let api = DocumentsApi {
            service: domain::documents::Documents {
                documents: store::DynamoDocuments::new(store::Table::from_env(env, &aws)?),
                contractors: DynamoContractors::from_env(env, &aws)?,
                signer: store::S3UploadSigner::from_env(env, &aws)?,
                upload_window: chrono::Duration::minutes(minutes),
            },
            settings: ApiSettings::from_env(env),
        };
        Ok((api, aws))
    }
}

/// `app` with `Idempotency-Key` support backed by the table.
pub fn idempotent<A: HttpApp>(
    app: A,
    env: &Env,
    aws: &Aws,
) -> Result<Idempotent<A, DynamoIdempotency>, BoxError> {
    Ok(Idempotent {
        inner: app,
        store: DynamoIdempotency::from_env(env, aws)?,
    })
}

/// Request facts for the audit trail and consent records.
pub fn facts(req: &Request, meta: &RequestMeta) -> RequestFacts {
    let (source_ip, user_agent) = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => {
            (ctx.http.source_ip.clone(), ctx.http.user_agent.clone())
        }
        _ => (None, None),
    };
    RequestFacts {
        request_id: meta.request_id.clone(),
        correlation_id: meta.correlation_id.to_string(),
        source_ip,
        user_agent: user_agent
            .filter(|u| !u.is_empty())
            .map(|u| u.chars().take(256).collect()),
        now: chrono::Utc::now(),
    }
}

/// The caller as the domain sees it.
pub fn viewer(settings: &ApiSettings, req: &Request) -> Result<Viewer, ApiError> {
    let caller = settings.caller(req)?;
    Ok(Viewer {
        staff: caller.is_staff(),
        admin: caller.has_role(Role::Admin),
        contractor: caller.has_role(Role::Contractor),
        subject: caller.subject,
    })
}

/// The version in `If-Match` (`"3"` or `W/"3"`). Required on changes: 428 without it, so a
/// client can never overwrite a version it has not seen.
pub fn if_match(req: &Request) -> Result<u64, ApiError> {
    let raw = http::header(req, "if-match").ok_or_else(|| {
        ApiError::PreconditionRequired(
            "Send If-Match with the contractor's ETag (its version) to change it.".into(),
        )
    })?;
    raw.trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .parse()
        .map_err(|_| {
            // Say what was sent, but not all of it: a header can be kilobytes long.
            let mut shown: String = raw.chars().take(32).collect();
            if raw.chars().count() > 32 {
                shown.push('…');
            }
            ApiError::PreconditionFailed(format!(
                "If-Match {shown:?} is not a contractor ETag such as \"3\"."
            ))
        })
}
