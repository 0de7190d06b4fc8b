//! CORS as API Gateway answers it for an HTTP API that configures it.

use super::*;

fn origin_allowed(allowed: &[String], origin: &str) -> bool {
    allowed.iter().any(|o| o == "*" || o == origin)
}

pub(crate) fn preflight(
    cors: &crate::model::Cors,
    origin: Option<&str>,
    headers: &HeaderMap,
) -> Response {
    let mut resp = StatusCode::NO_CONTENT.into_response();
    let Some(origin) = origin.filter(|o| origin_allowed(&cors.allow_origins, o)) else {
        return resp;
    };
    let h = resp.headers_mut();
    let mut set = |k: &'static str, v: String| {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    };
    set("access-control-allow-origin", origin.to_owned());
    set("access-control-allow-methods", cors.allow_methods.join(","));
    let requested = headers
        .get("access-control-request-headers")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let allowed: Vec<&str> = requested
        .split(',')
        .map(str::trim)
        .filter(|r| {
            !r.is_empty()
                && cors
                    .allow_headers
                    .iter()
                    .any(|a| a == "*" || a.eq_ignore_ascii_case(r))
        })
        .collect();
    if !allowed.is_empty() {
        set("access-control-allow-headers", allowed.join(","));
    }
    if let Some(age) = cors.max_age {
        set("access-control-max-age", age.to_string());
    }
    resp
}

pub(crate) fn add_cors(resp: &mut Response, api: &HttpApiDef, origin: Option<&str>) {
    let (Some(cors), Some(origin)) = (&api.cors, origin) else {
        return;
    };
    if !origin_allowed(&cors.allow_origins, origin) {
        return;
    }
    if let Ok(v) = HeaderValue::from_str(origin) {
        resp.headers_mut().insert("access-control-allow-origin", v);
    }
    // The answer depends on the origin that asked, as API Gateway's does.
    if !resp.headers().get_all("vary").iter().any(|v| {
        v.to_str()
            .is_ok_and(|v| v.to_ascii_lowercase().contains("origin"))
    }) {
        resp.headers_mut()
            .append("vary", HeaderValue::from_static("Origin"));
    }
    if !cors.expose_headers.is_empty()
        && let Ok(v) = HeaderValue::from_str(&cors.expose_headers.join(","))
    {
        resp.headers_mut()
            .insert("access-control-expose-headers", v);
    }
}
