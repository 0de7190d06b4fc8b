//! What the runner emulates, read from the template: functions with their environment, HTTP
//! routes and authorizers, SQS event source mappings and schedules.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::RunnerError;
use crate::resolve::Resolver;
use crate::template::{Resource, Template};

#[derive(Clone, Debug)]
pub struct FunctionDef {
    pub logical_id: String,
    /// The cargo binary (`Metadata.BuildProperties.Binary`), which is also the crate name.
    pub binary: String,
    pub timeout: Duration,
    pub memory_mb: u64,
    /// Resolved `Environment.Variables`, globals first.
    pub env: HashMap<String, String>,
    pub http_routes: Vec<HttpRoute>,
    pub sqs_sources: Vec<SqsSource>,
    pub schedules: Vec<ScheduleDef>,
}

/// The route key of an HTTP API's catch-all route.
pub const DEFAULT_ROUTE: &str = "$default";

#[derive(Clone, Debug)]
pub struct HttpRoute {
    pub function: String,
    /// `GET`, `POST`, … or `ANY`.
    pub method: String,
    pub path: String,
    /// The API's logical id, or `ServerlessHttpApi` for SAM's implicit API.
    pub api: String,
    /// False when the route opts out (`Auth: {Authorizer: NONE}`).
    pub authorized: bool,
}

#[derive(Clone, Debug)]
pub struct SqsSource {
    pub function: String,
    pub name: String,
    pub queue_arn: String,
    pub batch_size: i32,
    pub batching_window: Duration,
    pub report_batch_item_failures: bool,
    pub enabled: bool,
    /// Concurrent batches (`ScalingConfig.MaximumConcurrency`; 2 when unset, at most 4: a laptop
    /// stand-in for Lambda's scaling; always 1 for FIFO queues, which keep order).
    pub max_concurrency: usize,
}

#[derive(Clone, Debug)]
pub struct ScheduleDef {
    pub function: String,
    pub name: String,
    pub expression: String,
    pub input: Option<Value>,
    pub enabled: bool,
}

#[derive(Clone, Debug)]
pub struct JwtAuthorizer {
    pub issuer: String,
    pub audience: Vec<String>,
}

#[derive(Clone, Debug, Default)]
pub struct HttpApiDef {
    pub logical_id: String,
    /// The default authorizer's JWT settings, if the API has one.
    pub jwt: Option<JwtAuthorizer>,
    pub cors: Option<Cors>,
}

#[derive(Clone, Debug, Default)]
pub struct Cors {
    pub allow_origins: Vec<String>,
    pub allow_methods: Vec<String>,
    pub allow_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub max_age: Option<i64>,
}

fn err(msg: impl Into<String>) -> RunnerError {
    RunnerError::Template(msg.into())
}

/// Merges `overlay` onto `base`: objects key by key, anything else replaced.
pub fn merge(base: &Value, overlay: &Value) -> Value {
    match (base, overlay) {
        (Value::Object(b), Value::Object(o)) => {
            let mut out = b.clone();
            for (k, v) in o {
                let merged = match out.get(k) {
                    Some(existing) => merge(existing, v),
                    None => v.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (_, o) => o.clone(),
    }
}

pub fn functions(
    template: &Template,
    resolver: &Resolver,
) -> Result<Vec<FunctionDef>, RunnerError> {
    let mut out = Vec::new();
    for res in template.of_kind("AWS::Serverless::Function") {
        if !enabled(res, resolver)? {
            continue;
        }
        let props = merge(&template.function_globals, &res.properties);
        let binary = function_binary(&res.metadata)
            .ok_or_else(|| {
                err(format!(
                    "{}: Metadata.BuildProperties.Binary (zip) or Metadata.DockerBuildArgs.BINARY (image) names the cargo binary; it is missing",
                    res.logical_id
                ))
            })?
            .to_owned();
        let timeout = resolver
            .string(props.get("Timeout").unwrap_or(&Value::from(3)))?
            .parse::<u64>()
            .map_err(|_| err("Timeout must be a number"))?;
        let memory_mb = resolver
            .string(props.get("MemorySize").unwrap_or(&Value::from(128)))?
            .parse::<u64>()
            .unwrap_or(128);
        let mut env = HashMap::new();
        if let Some(vars) = props
            .pointer("/Environment/Variables")
            .and_then(Value::as_object)
        {
            for (k, v) in vars {
                env.insert(k.clone(), resolver.string(v)?);
            }
        }
        let mut def = FunctionDef {
            logical_id: res.logical_id.clone(),
            binary,
            timeout: Duration::from_secs(timeout),
            memory_mb,
            env,
            http_routes: vec![],
            sqs_sources: vec![],
            schedules: vec![],
        };
        let events = props
            .get("Events")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for (name, event) in events {
            read_event(&mut def, &name, &event, resolver)?;
        }
        out.push(def);
    }
    Ok(out)
}

fn read_event(
    def: &mut FunctionDef,
    name: &str,
    event: &Value,
    resolver: &Resolver,
) -> Result<(), RunnerError> {
    let kind = event.get("Type").and_then(Value::as_str).unwrap_or("");
    let p = event
        .get("Properties")
        .cloned()
        .unwrap_or(Value::Object(Map::new()));
    let get = |key: &str| p.get(key);
    match kind {
        "HttpApi" => {
            let api = match get("ApiId") {
                Some(Value::Object(m)) if m.contains_key("Ref") => {
                    m["Ref"].as_str().unwrap_or("ServerlessHttpApi").to_owned()
                }
                Some(other) => resolver.string(other)?,
                None => "ServerlessHttpApi".to_owned(),
            };
            let authorized = get("Auth")
                .and_then(|a| a.get("Authorizer"))
                .and_then(Value::as_str)
                .is_none_or(|a| a != "NONE");
            // Neither path nor method: SAM makes the API's `$default` route, which takes
            // whatever no other route matches.
            let default_route = get("Path").is_none() && get("Method").is_none();
            def.http_routes.push(HttpRoute {
                function: def.logical_id.clone(),
                method: get("Method")
                    .map(|m| resolver.string(m))
                    .transpose()?
                    .unwrap_or_else(|| "ANY".into())
                    .to_uppercase(),
                path: match get("Path") {
                    Some(path) => resolver.string(path)?,
                    None if default_route => DEFAULT_ROUTE.into(),
                    None => "/{proxy+}".into(),
                },
                api,
                authorized,
            });
        }
        "SQS" => {
            let queue_arn = resolver.string(get("Queue").ok_or_else(|| {
                err(format!("{}.{name}: SQS event needs Queue", def.logical_id))
            })?)?;
            let response_types = get("FunctionResponseTypes")
                .map(|v| resolver.resolve(v))
                .transpose()?
                .unwrap_or(Value::Null);
            let report = match response_types {
                Value::Null => false,
                Value::Array(items) => {
                    for item in &items {
                        if item != "ReportBatchItemFailures" {
                            return Err(err(format!(
                                "{}.{name}: unknown FunctionResponseTypes entry {item}",
                                def.logical_id
                            )));
                        }
                    }
                    !items.is_empty()
                }
                other => {
                    return Err(err(format!(
                        "{}.{name}: FunctionResponseTypes must be a list, got {other}",
                        def.logical_id
                    )));
                }
            };
            def.sqs_sources.push(SqsSource {
                function: def.logical_id.clone(),
                name: name.to_owned(),
                queue_arn,
                batch_size: get("BatchSize")
                    .map(|v| resolver.string(v))
                    .transpose()?
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(10),
                batching_window: Duration::from_secs(
                    get("MaximumBatchingWindowInSeconds")
                        .map(|v| resolver.string(v))
                        .transpose()?
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(0),
                ),
                report_batch_item_failures: report,
                max_concurrency: get("ScalingConfig")
                    .and_then(|v| v.get("MaximumConcurrency"))
                    .map(|v| resolver.string(v))
                    .transpose()?
                    .and_then(|v| v.parse::<usize>().ok())
                    .unwrap_or(2)
                    .clamp(1, 4),
                enabled: get("Enabled")
                    .map(|v| resolver.resolve(v))
                    .transpose()?
                    .is_none_or(|v| v != Value::Bool(false)),
            });
        }
        "Schedule" | "ScheduleV2" => {
            let key = if kind == "Schedule" {
                "Schedule"
            } else {
                "ScheduleExpression"
            };
            let expression = resolver
                .string(get(key).ok_or_else(|| {
                    err(format!("{}.{name}: {kind} needs {key}", def.logical_id))
                })?)?;
            let enabled = match (get("Enabled"), get("State")) {
                (Some(v), _) => resolver.resolve(v)? != Value::Bool(false),
                (None, Some(s)) => resolver.string(s)? != "DISABLED",
                _ => true,
            };
            let input = match get("Input") {
                Some(v) => {
                    let text = resolver.string(v)?;
                    Some(serde_json::from_str(&text).map_err(|e| {
                        err(format!("{}.{name}: Input is not JSON: {e}", def.logical_id))
                    })?)
                }
                None => None,
            };
            def.schedules.push(ScheduleDef {
                function: def.logical_id.clone(),
                name: name.to_owned(),
                expression,
                input,
                enabled,
            });
        }
        other => {
            tracing::warn!(function = %def.logical_id, event = name, kind = other, "event type not emulated locally");
        }
    }
    Ok(())
}

pub fn enabled(res: &Resource, resolver: &Resolver) -> Result<bool, RunnerError> {
    match &res.condition {
        Some(c) => resolver.condition(c),
        None => Ok(true),
    }
}

pub fn http_apis(
    template: &Template,
    resolver: &Resolver,
) -> Result<HashMap<String, HttpApiDef>, RunnerError> {
    let mut out = HashMap::new();
    out.insert(
        "ServerlessHttpApi".to_owned(),
        HttpApiDef {
            logical_id: "ServerlessHttpApi".to_owned(),
            ..Default::default()
        },
    );
    for res in template.of_kind("AWS::Serverless::HttpApi") {
        let p = &res.properties;
        let mut def = HttpApiDef {
            logical_id: res.logical_id.clone(),
            ..Default::default()
        };
        if let Some(default) = p.pointer("/Auth/DefaultAuthorizer").and_then(Value::as_str) {
            let auth = p
                .pointer(&format!("/Auth/Authorizers/{default}/JwtConfiguration"))
                .ok_or_else(|| {
                    err(format!(
                        "{}: only JWT authorizers are emulated; {default} has no JwtConfiguration",
                        res.logical_id
                    ))
                })?;
            let issuer = resolver.string(
                auth.get("issuer")
                    .ok_or_else(|| err("JwtConfiguration needs issuer"))?,
            )?;
            let audience = match resolver.resolve(auth.get("audience").unwrap_or(&Value::Null))? {
                Value::Array(items) => items
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect(),
                Value::String(s) => vec![s],
                _ => vec![],
            };
            def.jwt = Some(JwtAuthorizer { issuer, audience });
        }
        if let Some(cors) = p.get("CorsConfiguration") {
            let cors = resolver.resolve(cors)?;
            let list = |key: &str| -> Vec<String> {
                cors.get(key)
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            def.cors = Some(Cors {
                allow_origins: list("AllowOrigins"),
                allow_methods: list("AllowMethods"),
                allow_headers: list("AllowHeaders"),
                expose_headers: list("ExposeHeaders"),
                max_age: cors.get("MaxAge").and_then(Value::as_i64),
            });
        }
        out.insert(res.logical_id.clone(), def);
    }
    Ok(out)
}

/// The cargo binary a function runs: `Metadata.BuildProperties.Binary` for zip functions
/// (the Makefile builder), `Metadata.DockerBuildArgs.BINARY` for container images.
pub fn function_binary(metadata: &Value) -> Option<&str> {
    metadata
        .pointer("/BuildProperties/Binary")
        .or_else(|| metadata.pointer("/DockerBuildArgs/BINARY"))
        .and_then(Value::as_str)
}
