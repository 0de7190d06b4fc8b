//! Payload format 2.0: the event a function gets from a request, and how its answer
//! becomes HTTP.

use super::*;

fn is_text(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else { return true };
    let ct = ct.to_ascii_lowercase();
    ct.starts_with("text/")
        || ct.contains("json")
        || ct.contains("xml")
        || ct.contains("javascript")
        || ct.starts_with("application/x-www-form-urlencoded")
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn build_event(
    route: &HttpRoute,
    params: &Map<String, Value>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
    claims: Option<HashMap<String, String>>,
    peer: SocketAddr,
) -> Value {
    let now = chrono::Utc::now();
    let mut hdrs = Map::new();
    let mut cookies = Vec::new();
    for name in headers.keys() {
        let values: Vec<&str> = headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        if name == "cookie" {
            cookies.extend(
                values
                    .iter()
                    .flat_map(|v| v.split(';'))
                    .map(|c| c.trim().to_owned())
                    .filter(|c| !c.is_empty()),
            );
            continue;
        }
        hdrs.insert(name.as_str().to_owned(), Value::String(values.join(",")));
    }
    let raw_query = uri.query().unwrap_or("").to_owned();
    let mut query: Map<String, Value> = Map::new();
    for pair in raw_query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |s: &str| {
            urlencoding::decode(&s.replace('+', " "))
                .map(|c| c.into_owned())
                .unwrap_or_else(|_| s.to_owned())
        };
        let (k, v) = (decode(k), decode(v));
        match query.get_mut(&k) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&v);
            }
            _ => {
                query.insert(k, Value::String(v));
            }
        }
    }
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok());
    let (body_value, b64) = if body.is_empty() {
        (Value::Null, false)
    } else if is_text(content_type) && std::str::from_utf8(body).is_ok() {
        (
            Value::String(String::from_utf8_lossy(body).into_owned()),
            false,
        )
    } else {
        (Value::String(B64.encode(body)), true)
    };
    let route_key = if route.path == crate::model::DEFAULT_ROUTE {
        route.path.clone()
    } else {
        format!("{} {}", route.method, route.path)
    };
    let host = headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_owned();
    let mut ctx = json!({
        "accountId": ACCOUNT_ID,
        "apiId": "local",
        "domainName": host,
        "domainPrefix": host.split('.').next().unwrap_or(""),
        "http": {
            "method": method.as_str(),
            "path": uri.path(),
            "protocol": "HTTP/1.1",
            "sourceIp": peer.ip().to_string(),
            "userAgent": headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or(""),
        },
        "requestId": ulid::Ulid::new().to_string(),
        "routeKey": route_key,
        "stage": "$default",
        "time": now.format("%d/%b/%Y:%H:%M:%S +0000").to_string(),
        "timeEpoch": now.timestamp_millis(),
    });
    if let Some(claims) = claims {
        ctx["authorizer"] = json!({"jwt": {"claims": claims, "scopes": null}});
    }
    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": uri.path(),
        "rawQueryString": raw_query,
        "headers": hdrs,
        "requestContext": ctx,
        "isBase64Encoded": b64,
    });
    if !cookies.is_empty() {
        event["cookies"] = json!(cookies);
    }
    if !query.is_empty() {
        event["queryStringParameters"] = Value::Object(query);
    }
    if !params.is_empty() {
        event["pathParameters"] = Value::Object(params.clone());
    }
    if !body_value.is_null() {
        event["body"] = body_value;
    }
    event
}

/// A payload format 2.0 answer as API Gateway turns it into HTTP: a structured response, or
/// any other JSON value as a 200 `application/json` body.
pub(crate) fn to_http(answer: Value) -> Response {
    let Some(obj) = answer.as_object().filter(|o| o.contains_key("statusCode")) else {
        return (
            StatusCode::OK,
            [("content-type", "application/json")],
            answer.to_string(),
        )
            .into_response();
    };
    let status = obj
        .get("statusCode")
        .and_then(Value::as_u64)
        .and_then(|s| StatusCode::from_u16(s as u16).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = match obj.get("body") {
        Some(Value::String(s)) if obj.get("isBase64Encoded") == Some(&Value::Bool(true)) => {
            B64.decode(s).unwrap_or_default()
        }
        Some(Value::String(s)) => s.clone().into_bytes(),
        Some(Value::Null) | None => Vec::new(),
        Some(other) => other.to_string().into_bytes(),
    };
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    let mut add = |k: &str, v: &str| {
        if let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            h.append(k, v);
        }
    };
    if let Some(headers) = obj.get("headers").and_then(Value::as_object) {
        for (k, v) in headers {
            add(k, v.as_str().unwrap_or(&v.to_string()));
        }
    }
    if let Some(multi) = obj.get("multiValueHeaders").and_then(Value::as_object) {
        for (k, vs) in multi {
            for v in vs.as_array().cloned().unwrap_or_default() {
                add(k, v.as_str().unwrap_or_default());
            }
        }
    }
    for cookie in obj
        .get("cookies")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
    {
        add("set-cookie", cookie.as_str().unwrap_or_default());
    }
    resp
}
