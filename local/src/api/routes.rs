//! API Gateway's route matching: the most specific path wins, then an exact method.

use super::*;
use crate::model::DEFAULT_ROUTE;

/// A route that matched, with its path parameters.
pub(crate) struct Matched<'a> {
    pub(crate) route: &'a HttpRoute,
    pub(crate) params: Map<String, Value>,
}

/// API Gateway's choice: the most specific path wins (literal segments over `{param}`
/// over `{proxy+}`), then an exact method over `ANY`.
pub(crate) fn match_route<'a>(
    routes: &'a [HttpRoute],
    method: &str,
    path: &str,
) -> Option<Matched<'a>> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let mut best: Option<(i64, Matched<'a>)> = None;
    for route in routes {
        if route.path == DEFAULT_ROUTE {
            continue;
        }
        let Some((score, params)) = match_path(&route.path, &segments) else {
            continue;
        };
        if route.method != method && route.method != "ANY" {
            continue;
        }
        let score = score * 2 + i64::from(route.method == method);
        if best.as_ref().is_none_or(|(s, _)| score > *s) {
            best = Some((score, Matched { route, params }));
        }
    }
    best.map(|(_, m)| m).or_else(|| {
        // `$default` answers only what no route matched, whatever the method.
        routes
            .iter()
            .find(|r| r.path == DEFAULT_ROUTE)
            .map(|route| Matched {
                route,
                params: Map::new(),
            })
    })
}

pub(crate) fn match_path(pattern: &str, segments: &[&str]) -> Option<(i64, Map<String, Value>)> {
    let parts: Vec<&str> = pattern.trim_start_matches('/').split('/').collect();
    let mut params = Map::new();
    let mut score = 0i64;
    for (i, part) in parts.iter().enumerate() {
        if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix("+}")) {
            if i >= segments.len() || segments[i].is_empty() {
                return None;
            }
            params.insert(name.to_owned(), Value::String(segments[i..].join("/")));
            return Some((score, params));
        }
        let seg = segments.get(i)?;
        if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            if seg.is_empty() {
                return None;
            }
            let decoded = urlencoding::decode(seg)
                .map(|c| c.into_owned())
                .unwrap_or_else(|_| seg.to_string());
            params.insert(name.to_owned(), Value::String(decoded));
            score += 1;
        } else if part == seg {
            score += 1000;
        } else {
            return None;
        }
    }
    (parts.len() == segments.len()).then_some((score, params))
}

pub(crate) fn segments(path: &str) -> Vec<&str> {
    path.trim_start_matches('/').split('/').collect()
}
