//! Emails rendered in the app (`templates/email`, minijinja; ADR 0013): a subject, a plain
//! text part and an HTML part per template and language, so every provider sends exactly
//! the same message. Values are HTML-escaped in the HTML part; a template or data error is
//! an error, never a half-rendered email.

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;
use serde_json::Value;

use crate::badges::Lang;
use crate::notifications::{Notice, action, label};

/// One rendered email.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Debug, thiserror::Error)]
#[error("email template {template}.{lang}: {source}")]
pub struct RenderError {
    template: String,
    lang: &'static str,
    #[source]
    source: minijinja::Error,
}

macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        &[$(
            concat!($name, ".en.subject"), include_str!(concat!("../../../../templates/email/", $name, ".en.subject")),
            concat!($name, ".en.txt"), include_str!(concat!("../../../../templates/email/", $name, ".en.txt")),
            concat!($name, ".en.html"), include_str!(concat!("../../../../templates/email/", $name, ".en.html")),
            concat!($name, ".es.subject"), include_str!(concat!("../../../../templates/email/", $name, ".es.subject")),
            concat!($name, ".es.txt"), include_str!(concat!("../../../../templates/email/", $name, ".es.txt")),
            concat!($name, ".es.html"), include_str!(concat!("../../../../templates/email/", $name, ".es.html")),
        )*]
    };
}

/// Name, source, name, source, … (the files under `templates/email`).
const SOURCES: &[&str] = templates!(
    "welcome",
    "document_received",
    "action_needed",
    "verified",
    "approved",
    "suspended",
    "rejected",
    "expiring",
    "idle_draft",
    "errors_unresolved",
    "badges",
    "erasure_confirmed",
);

/// The templates, parsed once per cold start.
pub struct Renderer {
    env: Environment<'static>,
}

/// Who the email is for and where the app is, beside the notice's own data.
#[derive(Clone, Debug, Serialize)]
pub struct Recipient<'a> {
    pub name: &'a str,
    pub business_name: &'a str,
    pub lang: Lang,
    /// The app's base URL; the notice's `path` is appended.
    pub app_url: &'a str,
    pub unsubscribe_url: Option<&'a str>,
}

impl Renderer {
    pub fn shipped() -> Renderer {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        env.set_keep_trailing_newline(true);
        for pair in SOURCES.chunks(2) {
            env.add_template(pair[0], pair[1])
                .expect("templates/email parse (checked by the tests)");
        }
        // One layout; its words come from the context, in the email's language.
        env.add_template(
            "layout.html",
            include_str!("../../../../templates/email/layout.html"),
        )
        .expect("layout");
        Renderer { env }
    }

    pub fn render(&self, notice: &Notice, to: &Recipient<'_>) -> Result<Rendered, RenderError> {
        let lang = match to.lang {
            Lang::En => "en",
            Lang::Es => "es",
        };
        let subject_key = notice.data["subject"].as_str().unwrap_or("");
        let path = notice.data["path"].as_str().unwrap_or("");
        let mut ctx = match &notice.data {
            Value::Object(m) => m.clone(),
            _ => Default::default(),
        };
        let mut set = |k: &str, v: Value| {
            ctx.insert(k.to_owned(), v);
        };
        set("name", to.name.into());
        set("business_name", to.business_name.into());
        set(
            "app_url",
            format!("{}/{}", to.app_url.trim_end_matches('/'), path)
                .trim_end_matches('/')
                .into(),
        );
        set(
            "unsubscribe_url",
            to.unsubscribe_url.map_or(Value::Null, Value::from),
        );
        set("subject_label", label(subject_key, to.lang).into());
        set("document", label(subject_key, to.lang).into());
        set("action", action(subject_key, to.lang).into());
        set("lang", lang.into());
        set(
            "ui",
            match to.lang {
                Lang::En => serde_json::json!({"cta": "Open the app", "unsubscribe": "Unsubscribe",
                    "footer": "You receive this email because you registered a business on Holiday Lights."}),
                Lang::Es => {
                    serde_json::json!({"cta": "Abrir la app", "unsubscribe": "Cancelar suscripción",
                    "footer": "Recibes este correo porque registraste un negocio en Holiday Lights."})
                }
            },
        );
        for key in ["reasons", "failed"] {
            ctx.entry(key.to_owned()).or_insert(Value::Array(vec![]));
        }
        ctx.entry("reason".to_owned()).or_insert(Value::from(""));
        let fail = |source| RenderError {
            template: notice.template.to_owned(),
            lang,
            source,
        };
        let part = |ext: &str, ctx: &serde_json::Map<String, Value>| {
            self.env
                .get_template(&format!("{}.{lang}.{ext}", notice.template))
                .and_then(|t| t.render(ctx))
                .map_err(fail)
        };
        let subject = part("subject", &ctx)?.trim().to_owned();
        ctx.insert("subject".into(), subject.clone().into());
        Ok(Rendered {
            text: part("txt", &ctx)?,
            html: part("html", &ctx)?,
            subject,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notifications::{Category, TEMPLATES};
    use serde_json::json;

    fn notice(template: &'static str, data: Value) -> Notice {
        Notice {
            id: format!("ntf_x_{template}"),
            template,
            category: Category::Transactional,
            data,
        }
    }

    fn to(lang: Lang) -> Recipient<'static> {
        Recipient {
            name: "Dana <Reyes>",
            business_name: "Bright & Nights LLC",
            lang,
            app_url: "https://app.holidaylights.example/",
            unsubscribe_url: Some("https://api.example/v1/unsubscribe?t=abc"),
        }
    }

    /// Data as each template's event gives it, the fullest shape.
    fn sample(template: &str) -> Value {
        match template {
            "document_received" => {
                json!({"subject": "insurance_certificate", "path": "documents/doc_1"})
            }
            "action_needed" => json!({"subject": "insurance", "path": "requirements/insurance",
                "reasons": [{"code": "limit_too_low", "message": "Raise the general liability limit to $1,000,000."}]}),
            "verified" => json!({"subject": "license", "path": "requirements/license"}),
            "suspended" => json!({"subject": "insurance", "failed": ["insurance", "license"]}),
            "rejected" => json!({"reason": "The business could not be identified."}),
            "expiring" => {
                json!({"subject": "insurance", "valid_until": "2027-01-31", "days": 7, "path": "requirements/insurance"})
            }
            "idle_draft" => json!({"days": 3, "path": ""}),
            "errors_unresolved" => {
                json!({"subject": "license", "days": 5, "path": "requirements/license",
                "reasons": [{"code": "license_not_found", "message": "The registry has no license with this number."}]})
            }
            "badges" => json!({"day": "2026-12-02", "path": "achievements",
                "badges": [{"id": "insured", "en": "Insured", "es": "Asegurado"}, {"id": "licensed", "en": "Licensed", "es": "Licenciado"}]}),
            "erasure_confirmed" => json!({"erasure_id": "era_01jd6m3v8k2qz9x4w5y6t7r8s9"}),
            _ => json!({}),
        }
    }

    #[test]
    fn every_template_renders_in_both_languages_with_its_events_data() {
        let r = Renderer::shipped();
        for template in TEMPLATES {
            for lang in [Lang::En, Lang::Es] {
                let out = r
                    .render(&notice(template, sample(template)), &to(lang))
                    .unwrap_or_else(|e| panic!("{e}"));
                assert!(
                    !out.subject.is_empty() && !out.subject.contains('\n'),
                    "{template}"
                );
                assert!(
                    out.subject.len() <= 78,
                    "{template}: a subject fits a phone: {}",
                    out.subject
                );
                assert!(!out.subject.contains("{{"), "{template}");
                assert!(
                    out.text.contains("Dana <Reyes>"),
                    "{template} text: {}",
                    out.text
                );
                assert!(
                    out.html.contains("Dana &lt;Reyes&gt;"),
                    "{template}: HTML escapes values"
                );
                assert!(!out.html.contains("Dana <Reyes>"));
                assert!(out.html.contains(&format!(
                    "<html lang=\"{}\"",
                    if lang == Lang::En { "en" } else { "es" }
                )));
                // Attribute values are entity-escaped (`/` as `&#x2f;`), which browsers decode.
                assert!(
                    out.html
                        .replace("&#x2f;", "/")
                        .contains("https://api.example/v1/unsubscribe?t=abc")
                );
            }
        }
    }

    #[test]
    fn subjects_read_right_in_each_language() {
        let r = Renderer::shipped();
        let en = r
            .render(
                &notice("action_needed", sample("action_needed")),
                &to(Lang::En),
            )
            .unwrap();
        assert_eq!(en.subject, "Action needed: your insurance certificate");
        assert!(
            en.text
                .contains("Raise the general liability limit to $1,000,000.")
        );
        assert!(
            en.text
                .contains("https://app.holidaylights.example/requirements/insurance")
        );
        let es = r
            .render(
                &notice("action_needed", sample("action_needed")),
                &to(Lang::Es),
            )
            .unwrap();
        assert_eq!(es.subject, "Acción necesaria: tu certificado de seguro");
        let welcome = r
            .render(&notice("welcome", json!({})), &to(Lang::Es))
            .unwrap();
        assert_eq!(welcome.subject, "Bienvenido a Holiday Lights, Dana <Reyes>");
        assert!(welcome.html.contains("Cancelar suscripción"));
        let subject = |template: &'static str, lang| {
            r.render(&notice(template, sample(template)), &to(lang))
                .unwrap()
                .subject
        };
        assert_eq!(
            subject("expiring", Lang::En),
            "Reminder: your insurance certificate expires in 7 days"
        );
        assert_eq!(
            subject("expiring", Lang::Es),
            "Recordatorio: tu certificado de seguro vence en 7 días"
        );
        assert_eq!(subject("badges", Lang::Es), "Ganaste 2 insignias nuevas");
        assert_eq!(
            subject("errors_unresolved", Lang::En),
            "Still needed: your contractor license"
        );
        let digest = r
            .render(&notice("badges", sample("badges")), &to(Lang::Es))
            .unwrap();
        assert!(digest.text.contains("- Asegurado") && !digest.text.contains("Insured"));
    }

    #[test]
    fn a_missing_value_is_an_error_not_a_blank() {
        let r = Renderer::shipped();
        let mut n = notice("welcome", json!({}));
        n.template = "no_such_template";
        assert!(r.render(&n, &to(Lang::En)).is_err());
    }
}
