//! A contractor's email preferences and the one-click unsubscribe every optional email
//! carries.
//!
//! - `GET /v1/contractors/{id}/preferences` and `PATCH` (owner or staff; JSON merge of
//!   `language` `en`|`es`, `updates`, `reminders`): what the emails say and which go out.
//!   Emails about the account itself (welcome, action needed, approved, suspended…) always go.
//! - `GET /v1/unsubscribe/{token}` (no login; the token is the signed link from an email):
//!   a page with one button. A GET never changes anything: mail scanners fetch links.
//! - `POST /v1/unsubscribe/{token}`: RFC 8058 one-click (`List-Unsubscribe=One-Click`, which
//!   mail clients send on their own) or that page's button: updates and reminders off.
//!   Idempotent. A token we did not sign is a 404, like any unknown resource.

use domain::engagement::badges::Lang;
use domain::engagement::notifications::{Preferences, PreferencesChange};
use domain::ids::ContractorId;
use domain::ports::ContractorRepository;
use lambda_http::{Body, Request, Response};
use platform::http::{self, HttpApp, RequestMeta};
use platform::{ApiError, BoxError, Env};
use serde_json::json;
use store::{DynamoPreferences, Table};
use wiring::Api;

pub struct PreferencesApp {
    api: Api,
    preferences: DynamoPreferences,
    links: wiring::mail::LinkSigner,
}

pub async fn build(env: &Env) -> Result<PreferencesApp, BoxError> {
    let (api, aws) = Api::from_env(env).await?;
    Ok(PreferencesApp {
        preferences: DynamoPreferences::new(Table::from_env(env, &aws)?),
        links: wiring::mail::LinkSigner::from_env(env, &aws)?,
        api,
    })
}

fn view(id: &ContractorId, p: &Preferences) -> serde_json::Value {
    json!({
        "object": "email_preferences",
        "contractor_id": id,
        "language": p.language,
        "updates": p.updates,
        "reminders": p.reminders,
        "always_sent": ["welcome", "action_needed", "approved", "suspended", "rejected"],
    })
}

/// The small page the unsubscribe link opens, in the contractor's language.
fn page(lang: Lang, done: bool, action: &str) -> Response<Body> {
    let (title, text, button) = match (lang, done) {
        (Lang::En, false) => (
            "Unsubscribe",
            "Stop progress updates and reminders from Holiday Lights? You will still get emails about your account itself (approval, anything you must fix).",
            "Unsubscribe",
        ),
        (Lang::Es, false) => (
            "Cancelar suscripción",
            "¿Dejar de recibir novedades y recordatorios de Holiday Lights? Seguirás recibiendo los correos sobre tu cuenta (aprobación, lo que debas corregir).",
            "Cancelar suscripción",
        ),
        (Lang::En, true) => (
            "You are unsubscribed",
            "We will not send you progress updates or reminders any more. You can turn them back on in the app's settings.",
            "",
        ),
        (Lang::Es, true) => (
            "Suscripción cancelada",
            "Ya no te enviaremos novedades ni recordatorios. Puedes volver a activarlos en los ajustes de la app.",
            "",
        ),
    };
    let lang = if lang == Lang::Es { "es" } else { "en" };
    let form = if done {
        String::new()
    } else {
        format!(
            "<form method=\"post\" action=\"{action}\"><button type=\"submit\">{button}</button></form>"
        )
    };
    let html = format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title></head><body style=\"font-family:Helvetica,Arial,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem\"><h1>{title}</h1><p>{text}</p>{form}</body></html>"
    );
    let mut response = Response::builder()
        .status(200)
        .header("content-type", "text/html; charset=utf-8")
        .header("cache-control", "no-store")
        .body(Body::from(html))
        .unwrap_or_default();
    http::protect(&mut response);
    response
}

impl PreferencesApp {
    async fn unsubscribe(&self, req: &Request, token: &str) -> wiring::Answer {
        let links = self.links.links().await.map_err(|e| {
            tracing::error!(error = %e, "the unsubscribe signing key cannot be read");
            ApiError::Unavailable("Unsubscribing is unavailable for a moment; try again.".into())
        })?;
        let id = links
            .verify(token)
            .ok()
            .and_then(ContractorId::parse)
            .ok_or(ApiError::NotFound("unsubscribe link"))?;
        if self.api.service.contractors.get(&id).await?.is_none() {
            return Err(ApiError::NotFound("unsubscribe link").into());
        }
        let current = self.preferences.get(&id).await?;
        // The form posts back to the link it was opened from (relative: whatever host served it).
        let action = format!("./{token}");
        match req.method().as_str() {
            "GET" | "HEAD" => Ok(page(current.language, false, &action)),
            "POST" => {
                if current.updates || current.reminders {
                    self.preferences.put(&id, current.unsubscribed()).await?;
                    tracing::info!(contractor_id = %id, "unsubscribed from updates and reminders");
                }
                Ok(page(current.language, true, &action))
            }
            _ => Err(ApiError::MethodNotAllowed {
                allow: "GET, POST".into(),
            }
            .into()),
        }
    }
}

impl HttpApp for PreferencesApp {
    const NAME: &'static str = "notifications-preferences";
    type Error = wiring::Error;

    async fn handle(&self, req: Request, _meta: RequestMeta) -> wiring::Answer {
        if let Ok(token) = http::path_param(&req, "token") {
            let token = token.to_owned();
            return self.unsubscribe(&req, &token).await;
        }
        let viewer = wiring::viewer(&self.api.settings, &req)?;
        let contractor = self
            .api
            .service
            .get(&viewer, http::path_param(&req, "id")?)
            .await?;
        let current = self.preferences.get(&contractor.id).await?;
        match req.method().as_str() {
            "GET" => Ok(http::json(200, &view(&contractor.id, &current))),
            "PATCH" => {
                let change: PreferencesChange = http::parse_json(&req, 4 * 1024)?;
                let next = current.apply(change);
                if next != current {
                    self.preferences.put(&contractor.id, next).await?;
                }
                Ok(http::json(200, &view(&contractor.id, &next)))
            }
            _ => Err(ApiError::MethodNotAllowed {
                allow: "GET, PATCH".into(),
            }
            .into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_speaks_the_contractors_language_and_only_posts() {
        let body = |r: Response<Body>| String::from_utf8(r.body().to_vec()).unwrap();
        let ask = body(page(Lang::Es, false, "./v1.ctr_x.sig"));
        assert!(ask.contains("lang=\"es\"") && ask.contains("method=\"post\""));
        assert!(ask.contains("action=\"./v1.ctr_x.sig\""));
        let done = body(page(Lang::En, true, "./t"));
        assert!(done.contains("You are unsubscribed") && !done.contains("<form"));
    }
}
