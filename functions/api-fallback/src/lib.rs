//! `ANY /{proxy+}`, the HTTP API's least specific route: whatever no other route matched. A path the API has, asked
//! with a method it does not take, gets 405 with `Allow` (RFC 9110 §15.5.6); anything else
//! gets a 404 problem. Without it API Gateway answers both with `{"message":"Not Found"}`,
//! which tells a client nothing. The paths and methods come from the OpenAPI document, which
//! `tests/e2e/openapi.rs` holds equal to the template's routes. Public: it reveals no more
//! than the public document does.

use lambda_http::{Body, Request, Response};
use platform::http::{HttpApp, RequestMeta};
use platform::{ApiError, BoxError, Env};

/// One documented path: its segments (`None` for a `{parameter}`) and its methods.
struct Documented {
    segments: Vec<Option<String>>,
    methods: Vec<String>,
}

pub struct ApiFallback {
    paths: Vec<Documented>,
}

pub async fn build(_env: &Env) -> Result<ApiFallback, BoxError> {
    ApiFallback::from_document(api_docs::OPENAPI)
}

impl ApiFallback {
    pub fn from_document(openapi: &str) -> Result<ApiFallback, BoxError> {
        let doc: serde_json::Value = serde_json::from_str(openapi)?;
        let paths = doc["paths"]
            .as_object()
            .ok_or("the OpenAPI document has no paths")?
            .iter()
            .map(|(path, ops)| {
                let segments = path
                    .trim_start_matches('/')
                    .split('/')
                    .map(|s| (!s.starts_with('{')).then(|| s.to_owned()))
                    .collect();
                let mut methods: Vec<String> = ops
                    .as_object()
                    .map(|o| o.keys().map(|m| m.to_ascii_uppercase()).collect())
                    .unwrap_or_default();
                methods.sort();
                Documented { segments, methods }
            })
            .collect();
        Ok(ApiFallback { paths })
    }

    /// What the API answers for `method path` when no route took it.
    pub fn answer(&self, method: &str, path: &str) -> ApiError {
        let asked: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let mut allow: Vec<&str> = self
            .paths
            .iter()
            .filter(|d| {
                d.segments.len() == asked.len()
                    && d.segments.iter().zip(&asked).all(|(want, got)| match want {
                        Some(literal) => literal == got,
                        None => !got.is_empty(),
                    })
            })
            .flat_map(|d| d.methods.iter().map(String::as_str))
            .filter(|m| *m != method)
            .collect();
        allow.sort_unstable();
        allow.dedup();
        if allow.is_empty() {
            ApiError::NotFound("route")
        } else {
            ApiError::MethodNotAllowed {
                allow: allow.join(", "),
            }
        }
    }
}

impl HttpApp for ApiFallback {
    const NAME: &'static str = "api-fallback";
    type Error = ApiError;

    async fn handle(&self, req: Request, _meta: RequestMeta) -> Result<Response<Body>, ApiError> {
        Err(self.answer(req.method().as_str(), req.uri().path()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fallback() -> ApiFallback {
        ApiFallback::from_document(api_docs::OPENAPI).unwrap()
    }

    #[test]
    fn a_known_path_with_another_method_is_405_with_what_it_takes() {
        match fallback().answer("TRACE", "/v1/contractors/ctr_01jd8m5n1h2z3x4c5v6b7n8m9q") {
            ApiError::MethodNotAllowed { allow } => assert_eq!(allow, "GET"),
            other => panic!("{other:?}"),
        }
        // A literal segment is a path of its own, beside the parameter one.
        match fallback().answer("DELETE", "/v1/contractors/me") {
            ApiError::MethodNotAllowed { allow } => assert_eq!(allow, "GET"),
            other => panic!("{other:?}"),
        }
        match fallback().answer("PUT", "/v1/contractors") {
            ApiError::MethodNotAllowed { allow } => assert_eq!(allow, "GET, POST"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_unknown_path_is_404() {
        for path in [
            "/",
            "/v1",
            "/v2/contractors",
            "/v1/contractors/x/y/z",
            "/v1//progress",
        ] {
            assert!(
                matches!(fallback().answer("GET", path), ApiError::NotFound(_)),
                "{path}"
            );
        }
    }
}
