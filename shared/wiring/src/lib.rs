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

/// The version in `If-Match` (`"3"` or `W/"3"`). Required on changes: 428 without it (or
/// with `*`, which names no version), so a client can never overwrite a version it has not
/// seen. A value that is not an entity tag at all is a malformed request (400); an entity tag
/// that cannot be one of ours stands for [`NO_VERSION`], so it fails where the precondition is
/// evaluated, after the contractor is found (a missing one is 404 first, RFC 9110 §13.2.1).
pub fn if_match(req: &Request) -> Result<u64, ApiError> {
    let raw = http::header(req, "if-match").ok_or_else(|| {
        ApiError::PreconditionRequired(
            "Send If-Match with the contractor's ETag (its version) to change it.".into(),
        )
    })?;
    parse_if_match(raw)
}

fn parse_if_match(raw: &str) -> Result<u64, ApiError> {
    // Say what was sent, but not all of it: a header can be kilobytes long.
    let shown = || {
        let mut shown: String = raw.chars().take(32).collect();
        if raw.chars().count() > 32 {
            shown.push('…');
        }
        shown
    };
    let value = raw.trim();
    if value == "*" {
        return Err(ApiError::PreconditionRequired(
            "If-Match must name the version you read (the contractor's ETag, such as \"3\"), not *."
                .into(),
        ));
    }
    let opaque = value.strip_prefix("W/").unwrap_or(value);
    let tag = opaque
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .filter(|t| t.bytes().all(|b| b == 0x21 || (0x23..=0x7e).contains(&b)))
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "If-Match {:?} is not an entity tag; send the ETag as it came, such as \"3\".",
                shown()
            ))
        })?;
    Ok(tag.parse().unwrap_or(NO_VERSION))
}

/// The version an entity tag that cannot be ours stands for: no contractor ever has it.
pub const NO_VERSION: u64 = u64::MAX;

#[cfg(test)]
mod tests {
    use super::*;

    fn status(raw: &str) -> u16 {
        match parse_if_match(raw) {
            Ok(_) => 200,
            Err(e) => e.status(),
        }
    }

    #[test]
    fn if_match_takes_strong_and_weak_tags_of_a_version() {
        assert_eq!(parse_if_match("\"3\"").unwrap(), 3);
        assert_eq!(parse_if_match(" W/\"12\" ").unwrap(), 12);
    }

    #[test]
    fn if_match_refuses_what_names_no_version_or_is_not_a_tag() {
        // `*` matches any version, so it protects nothing: the precondition is still required.
        assert_eq!(status("*"), 428);
        // Not entity tags at all: malformed.
        for raw in ["", "3", "\"3", "\"3\", \"4\"", "W/3", "\"a b\""] {
            assert_eq!(status(raw), 400, "{raw:?}");
        }
        // Entity tags that can never be ours: a version no contractor has, so the
        // precondition fails once the contractor is found.
        for raw in [
            "\"\"",
            "\"abc\"",
            "W/\"-1\"",
            &format!("\"{}\"", "9".repeat(40)),
        ] {
            assert_eq!(parse_if_match(raw).unwrap(), NO_VERSION, "{raw:?}");
        }
    }
}
