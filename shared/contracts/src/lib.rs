//! A provider's published API definition, and checks of JSON bodies against it.
//!
//! The definitions are OpenAPI 3.0 (Plaid, TrustLayer) or Swagger 2.0 (SendGrid), whose
//! schema dialects are not JSON Schema (`nullable`, `x-nullable`, `discriminator`,
//! `readOnly`), so this is a small checker of the subset those definitions use, not a JSON
//! Schema engine (ADR 0010 says why). Two strictnesses:
//! - [`Strictness::Lenient`] is what a provider enforces: required fields, types, enums,
//!   ranges; unknown fields pass where the definition allows them.
//! - [`Strictness::Strict`] is what a contract test wants: a field the definition does not
//!   name is a violation even where `additionalProperties: true`, so a field renamed or
//!   dropped on either side is caught, not ignored.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde_json::{Map, Value};

#[derive(Debug, thiserror::Error)]
pub enum DefinitionError {
    #[error("reading {path}: {cause}")]
    Read { path: String, cause: String },
    #[error("parsing {path}: {cause}")]
    Parse { path: String, cause: String },
}

/// A parsed API definition.
pub struct Definition {
    pub name: String,
    doc: Value,
}

/// How much a check demands; see the crate documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strictness {
    Lenient,
    Strict,
}

/// What is wrong, at a JSON path (`$.user.client_user_id`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub at: String,
    pub problem: Problem,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// A required field is absent (or null where null is not allowed).
    Missing,
    /// A field the definition does not name.
    Unknown,
    WrongType {
        expected: String,
        found: String,
    },
    NotInEnum {
        value: String,
    },
    OutOfRange(String),
    BadFormat(String),
    /// A `$ref` that names nothing (a definition problem, reported rather than ignored).
    UnresolvedRef(String),
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.problem {
            Problem::Missing => write!(f, "{}: required but missing", self.at),
            Problem::Unknown => write!(f, "{}: not in the definition", self.at),
            Problem::WrongType { expected, found } => {
                write!(f, "{}: expected {expected}, found {found}", self.at)
            }
            Problem::NotInEnum { value } => {
                write!(f, "{}: {value} is not an allowed value", self.at)
            }
            Problem::OutOfRange(why) => write!(f, "{}: {why}", self.at),
            Problem::BadFormat(format) => write!(f, "{}: not a valid {format}", self.at),
            Problem::UnresolvedRef(r) => write!(f, "{}: unresolved $ref {r}", self.at),
        }
    }
}

/// One operation of a definition: `POST /link/token/create`.
pub struct Operation<'a> {
    pub method: String,
    /// The path as the definition writes it (`/policies/{number}`).
    pub template: String,
    node: &'a Value,
    path_item: &'a Value,
    definition: &'a Definition,
}

impl Definition {
    /// Reads a YAML or JSON definition.
    pub fn load(path: impl AsRef<Path>) -> Result<Definition, DefinitionError> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| DefinitionError::Read {
            path: shown.clone(),
            cause: e.to_string(),
        })?;
        let doc: Value = if shown.ends_with(".json") {
            serde_json::from_str(&text).map_err(|e| DefinitionError::Parse {
                path: shown.clone(),
                cause: e.to_string(),
            })?
        } else {
            serde_yaml_ng::from_str(&text).map_err(|e| DefinitionError::Parse {
                path: shown.clone(),
                cause: e.to_string(),
            })?
        };
        Ok(Definition::from_value(
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or(shown),
            doc,
        ))
    }

    pub fn from_value(name: impl Into<String>, doc: Value) -> Definition {
        Definition {
            name: name.into(),
            doc,
        }
    }

    fn is_swagger2(&self) -> bool {
        self.doc.get("swagger").is_some()
    }

    /// The path prefix of the first server (`/v2` for `https://api.trustlayer.io/v2`),
    /// or Swagger's `basePath`: requests carry it, the definition's paths don't.
    pub fn base_path(&self) -> String {
        let raw = if self.is_swagger2() {
            self.doc["basePath"].as_str().unwrap_or("").to_owned()
        } else {
            let url = self.doc["servers"][0]["url"].as_str().unwrap_or("");
            match url.split_once("://") {
                Some((_, rest)) => rest
                    .find('/')
                    .map(|i| rest[i..].to_owned())
                    .unwrap_or_default(),
                None => url.to_owned(),
            }
        };
        raw.trim_end_matches('/').to_owned()
    }

    /// A named schema (`components/schemas` or Swagger's `definitions`).
    pub fn schema(&self, name: &str) -> Option<&Value> {
        self.doc["components"]["schemas"]
            .get(name)
            .or_else(|| self.doc["definitions"].get(name))
    }

    /// Every operation's `METHOD /template`, in the definition's order of paths.
    pub fn endpoints(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(paths) = self.doc["paths"].as_object() {
            for (template, item) in paths {
                for method in METHODS {
                    if item.get(method).is_some() {
                        out.push(format!("{} {template}", method.to_uppercase()));
                    }
                }
            }
        }
        out
    }

    /// The operation a request reaches: the method and a concrete path (with or without the
    /// base path; a query string is ignored) matched against the path templates, literal
    /// segments winning over parameters.
    pub fn operation(&self, method: &str, path: &str) -> Option<Operation<'_>> {
        let method = method.to_ascii_lowercase();
        let path = path.split('?').next().unwrap_or(path);
        let base = self.base_path();
        let path = path
            .strip_prefix(base.as_str())
            .filter(|rest| !base.is_empty() && (rest.is_empty() || rest.starts_with('/')))
            .unwrap_or(path);
        let wanted: Vec<&str> = path.trim_matches('/').split('/').collect();
        let paths = self.doc["paths"].as_object()?;
        let mut best: Option<(usize, &String, &Value)> = None;
        for (template, item) in paths {
            let Some(node) = item.get(&method) else {
                continue;
            };
            let segments: Vec<&str> = template.trim_matches('/').split('/').collect();
            if segments.len() != wanted.len() {
                continue;
            }
            let mut literal = 0;
            let fits = segments.iter().zip(&wanted).all(|(t, w)| {
                if t.starts_with('{') && t.ends_with('}') {
                    !w.is_empty()
                } else {
                    literal += 1;
                    t == w
                }
            });
            if fits && best.is_none_or(|(l, _, _)| literal > l) {
                best = Some((literal, template, item));
                let _ = node;
            }
        }
        best.map(|(_, template, item)| Operation {
            method: method.to_uppercase(),
            template: template.clone(),
            node: &item[&method],
            path_item: item,
            definition: self,
        })
    }

    /// Follows `$ref`s (local ones, `#/…`) to the node they name.
    fn deref<'a>(&'a self, mut node: &'a Value) -> Result<&'a Value, String> {
        for _ in 0..32 {
            let Some(r) = node.get("$ref").and_then(Value::as_str) else {
                return Ok(node);
            };
            node = self.pointer(r).ok_or_else(|| r.to_owned())?;
        }
        Err("a $ref loop".into())
    }

    fn pointer(&self, reference: &str) -> Option<&Value> {
        let pointer = reference.strip_prefix('#')?;
        self.doc.pointer(pointer)
    }

    /// Checks `value` against `schema` (a schema node of this definition).
    pub fn check(&self, schema: &Value, value: &Value, strictness: Strictness) -> Vec<Violation> {
        let mut out = Vec::new();
        Checker {
            definition: self,
            strictness,
            swagger2: self.is_swagger2(),
        }
        .check(schema, value, "$", &mut out, 0);
        out
    }

    /// Whether a field path (`["numbers", "ach", "account_id"]`; arrays are stepped
    /// through) is one the schema names: what a client reads must exist on the other side.
    pub fn names(&self, schema: &Value, path: &[&str]) -> bool {
        let checker = Checker {
            definition: self,
            strictness: Strictness::Strict,
            swagger2: self.is_swagger2(),
        };
        let mut node = match checker.flatten(schema) {
            Ok(n) => n,
            Err(_) => return false,
        };
        for step in path {
            while node["type"] == "array"
                || (node.get("items").is_some() && node.get("properties").is_none())
            {
                node = match checker.flatten(&node["items"]) {
                    Ok(n) => n,
                    Err(_) => return false,
                };
            }
            let Some(next) = node["properties"].get(*step) else {
                return false;
            };
            node = match checker.flatten(next) {
                Ok(n) => n,
                Err(_) => return false,
            };
        }
        true
    }

    /// Checks `value` against a named schema.
    pub fn check_named(&self, name: &str, value: &Value, strictness: Strictness) -> Vec<Violation> {
        match self.schema(name) {
            Some(schema) => self.check(schema, value, strictness),
            None => vec![Violation {
                at: "$".into(),
                problem: Problem::UnresolvedRef(name.to_owned()),
            }],
        }
    }
}

const METHODS: [&str; 6] = ["get", "post", "put", "patch", "delete", "head"];

impl<'a> Operation<'a> {
    /// `POST /link/token/create`.
    pub fn endpoint(&self) -> String {
        format!("{} {}", self.method, self.template)
    }

    /// The request body's schema for a content type (`application/json`,
    /// `multipart/form-data`); the first one when `content_type` is `None`.
    pub fn request_schema(&self, content_type: Option<&str>) -> Option<&'a Value> {
        let d = self.definition;
        if d.is_swagger2() {
            let params = self.node["parameters"].as_array()?;
            return params
                .iter()
                .filter_map(|p| d.deref(p).ok())
                .find(|p| p["in"] == "body")
                .map(|p| &p["schema"]);
        }
        let body = d.deref(self.node.get("requestBody")?).ok()?;
        media(&body["content"], content_type)
    }

    /// Whether the definition says a body is required.
    pub fn body_required(&self) -> bool {
        let d = self.definition;
        if d.is_swagger2() {
            return self.node["parameters"].as_array().is_some_and(|ps| {
                ps.iter()
                    .filter_map(|p| d.deref(p).ok())
                    .any(|p| p["in"] == "body" && p["required"] == true)
            });
        }
        self.node
            .get("requestBody")
            .and_then(|b| d.deref(b).ok())
            .is_some_and(|b| b["required"] == true)
    }

    /// The response schema for a status: the exact code, then `2XX`-style ranges, then
    /// `default`. `None` when the definition documents no such answer.
    pub fn response_schema(&self, status: u16, content_type: Option<&str>) -> Option<&'a Value> {
        let d = self.definition;
        let responses = self.node["responses"].as_object()?;
        let range = format!("{}XX", status / 100);
        let response = responses
            .get(&status.to_string())
            .or_else(|| responses.get(&range))
            .or_else(|| responses.get(&range.to_lowercase()))
            .or_else(|| responses.get("default"))?;
        let response = d.deref(response).ok()?;
        if d.is_swagger2() {
            return response.get("schema");
        }
        media(&response["content"], content_type)
    }

    /// Whether the definition documents `status` for this operation (exactly or by range).
    pub fn documents_status(&self, status: u16) -> bool {
        let Some(responses) = self.node["responses"].as_object() else {
            return false;
        };
        let range = format!("{}XX", status / 100);
        responses.contains_key(&status.to_string())
            || responses.contains_key(&range)
            || responses.contains_key(&range.to_lowercase())
    }

    /// The names of the required query parameters and headers.
    pub fn required_parameters(&self, place: &str) -> Vec<String> {
        let d = self.definition;
        let own = self.node["parameters"].as_array().into_iter().flatten();
        let shared = self.path_item["parameters"]
            .as_array()
            .into_iter()
            .flatten();
        own.chain(shared)
            .filter_map(|p| d.deref(p).ok())
            .filter(|p| p["in"] == place && p["required"] == true)
            .filter_map(|p| p["name"].as_str().map(str::to_owned))
            .collect()
    }
}

/// The schema of the media type that matches `content_type` (ignoring parameters such as
/// `charset`), or of the first one.
fn media<'a>(content: &'a Value, content_type: Option<&str>) -> Option<&'a Value> {
    let content = content.as_object()?;
    let wanted = content_type.map(|c| c.split(';').next().unwrap_or(c).trim().to_ascii_lowercase());
    let entry = match wanted {
        Some(w) => content
            .iter()
            .find(|(k, _)| k.to_ascii_lowercase() == w)
            .or_else(|| content.iter().find(|(k, _)| k.as_str() == "*/*")),
        None => content.iter().next(),
    };
    entry.and_then(|(_, m)| m.get("schema"))
}

struct Checker<'a> {
    definition: &'a Definition,
    strictness: Strictness,
    swagger2: bool,
}

impl Checker<'_> {
    fn check(
        &self,
        schema: &Value,
        value: &Value,
        at: &str,
        out: &mut Vec<Violation>,
        depth: usize,
    ) {
        if depth > 64 {
            return;
        }
        let schema = match self.flatten(schema) {
            Ok(s) => s,
            Err(r) => {
                out.push(Violation {
                    at: at.to_owned(),
                    problem: Problem::UnresolvedRef(r),
                });
                return;
            }
        };
        if value.is_null() {
            let nullable = schema["nullable"] == true
                || schema["x-nullable"] == true
                || schema["enum"]
                    .as_array()
                    .is_some_and(|e| e.contains(&Value::Null))
                || schema["type"] == "null";
            // A schema with no type at all accepts anything, null included.
            if !nullable && !schema_is_open(&schema) {
                out.push(Violation {
                    at: at.to_owned(),
                    problem: Problem::WrongType {
                        expected: describe_type(&schema),
                        found: "null".into(),
                    },
                });
            }
            return;
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(branches) = schema[key].as_array() {
                let mut best: Option<Vec<Violation>> = None;
                for branch in branches {
                    let mut found = Vec::new();
                    self.check(branch, value, at, &mut found, depth + 1);
                    if found.is_empty() {
                        best = Some(found);
                        break;
                    }
                    // The closest branch: one whose type fits, then the fewest problems.
                    let score = |v: &[Violation]| {
                        let wrong_type = v
                            .iter()
                            .any(|v| v.at == at && matches!(v.problem, Problem::WrongType { .. }));
                        (wrong_type, v.len())
                    };
                    if best.as_ref().is_none_or(|b| score(&found) < score(b)) {
                        best = Some(found);
                    }
                }
                out.extend(best.unwrap_or_default());
                return;
            }
        }
        if let Some(expected) = schema["type"].as_str()
            && !type_fits(expected, value)
        {
            out.push(Violation {
                at: at.to_owned(),
                problem: Problem::WrongType {
                    expected: expected.to_owned(),
                    found: json_type(value).to_owned(),
                },
            });
            return;
        }
        if let Some(allowed) = schema["enum"].as_array()
            && !allowed.contains(value)
        {
            out.push(Violation {
                at: at.to_owned(),
                problem: Problem::NotInEnum {
                    value: value.to_string(),
                },
            });
        }
        match value {
            Value::String(s) => self.check_string(&schema, s, at, out),
            Value::Number(n) => check_number(&schema, n.as_f64().unwrap_or_default(), at, out),
            Value::Array(items) => {
                let count = items.len() as u64;
                if let Some(min) = schema["minItems"].as_u64()
                    && count < min
                {
                    out.push(range(at, format!("at least {min} items, found {count}")));
                }
                if let Some(max) = schema["maxItems"].as_u64()
                    && count > max
                {
                    out.push(range(at, format!("at most {max} items, found {count}")));
                }
                if let Some(item_schema) = schema.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        self.check(item_schema, item, &format!("{at}[{i}]"), out, depth + 1);
                    }
                }
            }
            Value::Object(fields) => self.check_object(&schema, fields, at, out, depth),
            _ => {}
        }
    }

    fn check_string(&self, schema: &Value, s: &str, at: &str, out: &mut Vec<Violation>) {
        let len = s.chars().count() as u64;
        if let Some(min) = schema["minLength"].as_u64()
            && len < min
        {
            out.push(range(at, format!("at least {min} characters, found {len}")));
        }
        if let Some(max) = schema["maxLength"].as_u64()
            && len > max
        {
            out.push(range(at, format!("at most {max} characters, found {len}")));
        }
        let ok = match schema["format"].as_str() {
            Some("date") => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok(),
            Some("date-time") => chrono::DateTime::parse_from_rfc3339(s).is_ok(),
            Some("email") => s.contains('@') && !s.starts_with('@') && !s.ends_with('@'),
            Some("uri" | "url") => s.contains("://"),
            _ => true,
        };
        if !ok {
            out.push(Violation {
                at: at.to_owned(),
                problem: Problem::BadFormat(
                    schema["format"].as_str().unwrap_or_default().to_owned(),
                ),
            });
        }
    }

    fn check_object(
        &self,
        schema: &Value,
        fields: &Map<String, Value>,
        at: &str,
        out: &mut Vec<Violation>,
        depth: usize,
    ) {
        let empty = Map::new();
        let properties = schema["properties"].as_object().unwrap_or(&empty);
        if let Some(required) = schema["required"].as_array() {
            for name in required.iter().filter_map(Value::as_str) {
                // Swagger 2.0 has no nullable: a required field sent as null counts as there.
                let absent = match fields.get(name) {
                    None => true,
                    Some(Value::Null) => false,
                    Some(_) => false,
                };
                if absent {
                    out.push(Violation {
                        at: format!("{at}.{name}"),
                        problem: Problem::Missing,
                    });
                }
            }
        }
        for (name, field) in fields {
            let here = format!("{at}.{name}");
            if let Some(property) = properties.get(name) {
                self.check(property, field, &here, out, depth + 1);
                continue;
            }
            match schema.get("additionalProperties") {
                // A map: every value has this schema.
                Some(extra @ Value::Object(_)) if !extra.as_object().is_some_and(Map::is_empty) => {
                    self.check(extra, field, &here, out, depth + 1)
                }
                Some(Value::Bool(false)) => out.push(Violation {
                    at: here,
                    problem: Problem::Unknown,
                }),
                // A schema that names no properties at all is free-form (`type: object`).
                _ if properties.is_empty() => {}
                _ if self.strictness == Strictness::Strict => out.push(Violation {
                    at: here,
                    problem: Problem::Unknown,
                }),
                _ => {}
            }
        }
        let _ = self.swagger2;
    }

    /// The schema with `$ref` followed and `allOf` merged into one (properties and required
    /// lists united), so strictness sees every property the branches name.
    fn flatten(&self, schema: &Value) -> Result<Value, String> {
        let node = self.definition.deref(schema)?;
        let Some(parts) = node.get("allOf").and_then(Value::as_array) else {
            return Ok(node.clone());
        };
        let mut merged = node.as_object().cloned().unwrap_or_default();
        merged.remove("allOf");
        for part in parts {
            let part = self.flatten(part)?;
            let Some(part) = part.as_object() else {
                continue;
            };
            for (key, value) in part {
                match key.as_str() {
                    "properties" => {
                        let target = merged
                            .entry("properties")
                            .or_insert_with(|| Value::Object(Map::new()));
                        if let (Some(t), Some(v)) = (target.as_object_mut(), value.as_object()) {
                            for (k, s) in v {
                                t.entry(k.clone()).or_insert_with(|| s.clone());
                            }
                        }
                    }
                    "required" => {
                        let target = merged
                            .entry("required")
                            .or_insert_with(|| Value::Array(Vec::new()));
                        if let (Some(t), Some(v)) = (target.as_array_mut(), value.as_array()) {
                            t.extend(v.iter().cloned());
                        }
                    }
                    _ => {
                        merged.entry(key.clone()).or_insert_with(|| value.clone());
                    }
                }
            }
        }
        Ok(Value::Object(merged))
    }
}

fn schema_is_open(schema: &Value) -> bool {
    schema.get("type").is_none()
        && schema.get("properties").is_none()
        && schema.get("enum").is_none()
        && schema.get("items").is_none()
        && schema.get("oneOf").is_none()
        && schema.get("anyOf").is_none()
}

fn describe_type(schema: &Value) -> String {
    schema["type"].as_str().unwrap_or("a value").to_owned()
}

fn type_fits(expected: &str, value: &Value) -> bool {
    match expected {
        "string" => value.is_string(),
        "integer" => {
            value.as_i64().is_some()
                || value.as_u64().is_some()
                || value.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "null" => value.is_null(),
        // `file` (Swagger 2.0 form data) and anything unknown: not checked here.
        _ => true,
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn range(at: &str, why: String) -> Violation {
    Violation {
        at: at.to_owned(),
        problem: Problem::OutOfRange(why),
    }
}

fn check_number(schema: &Value, n: f64, at: &str, out: &mut Vec<Violation>) {
    if let Some(min) = schema["minimum"].as_f64() {
        let exclusive = schema["exclusiveMinimum"] == true;
        if n < min || (exclusive && n == min) {
            out.push(range(at, format!("{n} is below the minimum {min}")));
        }
    }
    if let Some(max) = schema["maximum"].as_f64() {
        let exclusive = schema["exclusiveMaximum"] == true;
        if n > max || (exclusive && n == max) {
            out.push(range(at, format!("{n} is above the maximum {max}")));
        }
    }
}

/// Counts of what a contract run validated, per endpoint, with every violation found.
#[derive(Default)]
pub struct Ledger {
    rows: BTreeMap<String, Tally>,
}

#[derive(Default, Clone, Debug)]
pub struct Tally {
    pub requests: usize,
    pub responses: usize,
    pub webhooks: usize,
    pub violations: Vec<String>,
}

/// What a checked body was.
#[derive(Clone, Copy, Debug)]
pub enum Direction {
    Request,
    Response,
    Webhook,
}

impl Ledger {
    pub fn record(&mut self, endpoint: &str, direction: Direction, violations: &[Violation]) {
        let tally = self.rows.entry(endpoint.to_owned()).or_default();
        match direction {
            Direction::Request => tally.requests += 1,
            Direction::Response => tally.responses += 1,
            Direction::Webhook => tally.webhooks += 1,
        }
        tally.violations.extend(
            violations
                .iter()
                .map(|v| format!("{endpoint} {direction:?}: {v}")),
        );
    }

    /// A finding that is not a schema violation (an undocumented status, an unknown path).
    pub fn fail(&mut self, endpoint: &str, why: impl Into<String>) {
        self.rows
            .entry(endpoint.to_owned())
            .or_default()
            .violations
            .push(format!("{endpoint}: {}", why.into()));
    }

    pub fn tally(&self, endpoint: &str) -> Tally {
        self.rows.get(endpoint).cloned().unwrap_or_default()
    }

    pub fn violations(&self) -> Vec<String> {
        self.rows
            .values()
            .flat_map(|t| t.violations.clone())
            .collect()
    }

    /// A table: endpoint, requests, responses, webhooks validated.
    pub fn report(&self, title: &str) -> String {
        let mut out = format!(
            "{title}\n{:<52} {:>8} {:>9} {:>8}\n",
            "endpoint", "requests", "responses", "webhooks"
        );
        for (endpoint, t) in &self.rows {
            out.push_str(&format!(
                "{endpoint:<52} {:>8} {:>9} {:>8}\n",
                t.requests, t.responses, t.webhooks
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn definition() -> Definition {
        Definition::from_value(
            "test.yaml",
            json!({
                "openapi": "3.0.3",
                "servers": [{"url": "https://api.example.com/v2"}],
                "paths": {
                    "/things": {"post": {
                        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewThing"}}}},
                        "responses": {"201": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}},
                                      "default": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}
                    }},
                    "/things/{id}": {"get": {"responses": {"200": {"$ref": "#/components/responses/OneThing"}}}},
                    "/things/mine": {"get": {"responses": {"200": {"description": "x"}}}}
                },
                "components": {
                    "responses": {"OneThing": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}},
                    "schemas": {
                        "NewThing": {"type": "object", "additionalProperties": true, "required": ["name", "kind"],
                            "properties": {"name": {"type": "string", "minLength": 1}, "kind": {"type": "string", "enum": ["a", "b"]},
                                           "note": {"type": "string", "nullable": true}, "when": {"type": "string", "format": "date"},
                                           "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
                                           "labels": {"type": "object", "additionalProperties": {"type": "integer"}}}},
                        "Thing": {"allOf": [{"$ref": "#/components/schemas/NewThing"}, {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}, "count": {"type": "integer", "minimum": 0}}}]},
                        "Error": {"type": "object", "required": ["code"], "properties": {"code": {"type": "string"}}},
                        "Either": {"oneOf": [{"type": "string"}, {"type": "object", "required": ["x"], "properties": {"x": {"type": "integer"}}}]}
                    }
                }
            }),
        )
    }

    fn problems(v: &[Violation]) -> Vec<String> {
        v.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn operations_are_found_by_concrete_path_with_literals_winning() {
        let d = definition();
        assert_eq!(d.base_path(), "/v2");
        assert_eq!(
            d.operation("POST", "/v2/things").unwrap().endpoint(),
            "POST /things"
        );
        assert_eq!(
            d.operation("get", "/things/t_1?x=1").unwrap().template,
            "/things/{id}"
        );
        assert_eq!(
            d.operation("GET", "/v2/things/mine").unwrap().template,
            "/things/mine"
        );
        assert!(d.operation("DELETE", "/things/1").is_none());
        assert!(d.operation("GET", "/things/1/more").is_none());
        assert_eq!(
            d.endpoints(),
            ["POST /things", "GET /things/mine", "GET /things/{id}"]
        );
    }

    #[test]
    fn request_and_response_schemas_resolve_through_refs_and_default() {
        let d = definition();
        let op = d.operation("POST", "/things").unwrap();
        assert!(op.body_required());
        let request = op
            .request_schema(Some("application/json; charset=utf-8"))
            .unwrap();
        assert!(
            d.check(
                request,
                &json!({"name": "n", "kind": "a"}),
                Strictness::Strict
            )
            .is_empty()
        );
        let error = op.response_schema(400, None).unwrap();
        assert_eq!(
            problems(&d.check(error, &json!({}), Strictness::Lenient)),
            ["$.code: required but missing"]
        );
        assert!(op.documents_status(201) && !op.documents_status(400));
        let one = d
            .operation("GET", "/things/x")
            .unwrap()
            .response_schema(200, None)
            .unwrap();
        assert_eq!(
            problems(&d.check(one, &json!({"name": "n", "kind": "a"}), Strictness::Lenient)),
            ["$.id: required but missing"]
        );
    }

    #[test]
    fn lenient_checks_what_a_provider_enforces_and_strict_also_catches_renames() {
        let d = definition();
        let renamed = json!({"name": "n", "kind": "a", "nmae_extra": 1});
        assert!(
            d.check_named("NewThing", &renamed, Strictness::Lenient)
                .is_empty()
        );
        assert_eq!(
            problems(&d.check_named("NewThing", &renamed, Strictness::Strict)),
            ["$.nmae_extra: not in the definition"]
        );
        let bad = json!({"name": "", "kind": "c", "note": null, "when": "12/01/2026", "tags": ["a", "b", 3], "labels": {"x": 1, "y": "two"}});
        assert_eq!(
            problems(&d.check_named("NewThing", &bad, Strictness::Lenient)),
            [
                "$.kind: \"c\" is not an allowed value",
                "$.labels.y: expected integer, found string",
                "$.name: at least 1 characters, found 0",
                "$.tags: at most 2 items, found 3",
                "$.tags[2]: expected string, found number",
                "$.when: not a valid date",
            ]
        );
        assert_eq!(
            problems(&d.check_named(
                "NewThing",
                &json!({"name": null, "kind": "a"}),
                Strictness::Lenient
            )),
            ["$.name: expected string, found null"]
        );
    }

    #[test]
    fn all_of_branches_merge_so_strictness_knows_every_property() {
        let d = definition();
        let thing = json!({"id": "t1", "name": "n", "kind": "b", "count": 2});
        assert!(
            d.check_named("Thing", &thing, Strictness::Strict)
                .is_empty()
        );
        assert_eq!(
            problems(&d.check_named(
                "Thing",
                &json!({"name": "n", "kind": "b", "count": -1}),
                Strictness::Strict
            )),
            [
                "$.id: required but missing",
                "$.count: -1 is below the minimum 0"
            ]
        );
    }

    #[test]
    fn read_paths_are_named_or_not() {
        let d = definition();
        let thing = d.schema("Thing").unwrap();
        assert!(d.names(thing, &["id"]) && d.names(thing, &["name"]) && d.names(thing, &["tags"]));
        assert!(!d.names(thing, &["nmae"]) && !d.names(thing, &["labels", "x", "y"]));
    }

    #[test]
    fn one_of_passes_on_any_branch_and_reports_the_closest() {
        let d = definition();
        assert!(
            d.check_named("Either", &json!("s"), Strictness::Strict)
                .is_empty()
        );
        assert!(
            d.check_named("Either", &json!({"x": 1}), Strictness::Strict)
                .is_empty()
        );
        assert_eq!(
            problems(&d.check_named("Either", &json!({"x": "1"}), Strictness::Strict)),
            ["$.x: expected integer, found string"]
        );
    }

    #[test]
    fn swagger_two_bodies_and_definitions_are_read_too() {
        let d = Definition::from_value(
            "s.json",
            json!({
                "swagger": "2.0", "basePath": "/v3",
                "paths": {"/mail/send": {"post": {"parameters": [{"in": "body", "name": "body", "required": true, "schema": {"$ref": "#/definitions/Mail"}}],
                    "responses": {"202": {"description": "ok"}, "400": {"schema": {"type": "object", "properties": {"errors": {"type": "array"}}}}}}}},
                "definitions": {"Mail": {"type": "object", "required": ["from"], "properties": {"from": {"type": "object", "required": ["email"], "properties": {"email": {"type": "string", "format": "email"}, "name": {"type": "string"}}}}}}
            }),
        );
        let op = d.operation("POST", "/v3/mail/send").unwrap();
        assert!(op.body_required());
        let schema = op.request_schema(None).unwrap();
        assert!(
            d.check(
                schema,
                &json!({"from": {"email": "a@b.co"}}),
                Strictness::Strict
            )
            .is_empty()
        );
        assert_eq!(
            problems(&d.check(
                schema,
                &json!({"from": {"email": "nobody"}}),
                Strictness::Strict
            )),
            ["$.from.email: not a valid email"]
        );
        assert!(op.response_schema(202, None).is_none());
        assert!(op.response_schema(400, None).is_some());
    }

    #[test]
    fn a_ledger_counts_per_endpoint_and_keeps_every_violation() {
        let mut ledger = Ledger::default();
        ledger.record("POST /things", Direction::Request, &[]);
        ledger.record(
            "POST /things",
            Direction::Response,
            &[Violation {
                at: "$.id".into(),
                problem: Problem::Missing,
            }],
        );
        ledger.fail("GET /nowhere", "not in the definition");
        assert_eq!(ledger.tally("POST /things").requests, 1);
        assert_eq!(
            ledger.violations(),
            [
                "GET /nowhere: not in the definition",
                "POST /things Response: $.id: required but missing"
            ]
        );
        assert!(ledger.report("t").contains("POST /things"));
    }
}
