//! Starts and stops the whole local stack: moto, provisioning, functions, API, SQS event
//! sources and schedules.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use platform::Env;
use serde_json::{Map, Value};
use tokio::task::JoinHandle;

use crate::RunnerError;
use crate::api::{ApiState, router};
use crate::beside::{self, Companion};
use crate::functions::{LoadedFunction, Registry};
use crate::issuer::Issuer;
use crate::model;
use crate::moto::Moto;
use crate::provision;
use crate::resolve::{REGION, Resolver};
use crate::schedules::Schedules;
use crate::sqs_source::Poller;
use crate::template::Template;

/// The audience local tokens carry and the local authorizer expects.
pub const LOCAL_AUDIENCE: &str = "holiday-onboarding-local";

pub struct StackOptions {
    pub template: PathBuf,
    /// 0 picks a free port.
    pub port: u16,
    /// Where the WebSocket API listens (and its management API); 0 picks a free port.
    pub ws_port: u16,
    pub registry: Registry,
    /// Prepended to every generated resource name (lets two stacks share one moto).
    pub name_prefix: String,
    /// Local secret values by logical id; default `local/dev-secrets.json` beside the template.
    pub secrets_file: Option<PathBuf>,
    /// Run schedule timers (off in tests, which fire schedules on demand).
    pub run_schedules: bool,
    /// Template parameter values beyond the defaults.
    pub parameters: HashMap<String, String>,
    /// Extra variables for every function (e.g. provider sandbox URLs).
    pub extra_env: HashMap<String, String>,
    /// Where moto writes its log; none by default.
    pub log_dir: Option<PathBuf>,
}

impl StackOptions {
    pub fn new(template: PathBuf, registry: Registry) -> Self {
        StackOptions {
            template,
            port: 0,
            ws_port: 0,
            registry,
            name_prefix: String::new(),
            secrets_file: None,
            run_schedules: true,
            parameters: HashMap::new(),
            extra_env: HashMap::new(),
            log_dir: None,
        }
    }
}

pub struct LocalStack {
    pub base_url: String,
    /// `ws://127.0.0.1:PORT/{stage}` of the template's WebSocket API, if it has one.
    pub realtime_url: Option<String>,
    /// The WebSocket API's state (open connections), if the template has one.
    pub realtime: Option<Arc<crate::websocket::WsState>>,
    pub moto_endpoint: String,
    pub resolver: Resolver,
    /// SDK settings pointing at moto, for tests and tools.
    pub aws: platform::aws::Aws,
    pub functions: HashMap<String, Arc<LoadedFunction>>,
    pub schedules: Arc<Schedules>,
    moto: Moto,
    /// clamd and the provider sandboxes the template asked for.
    companions: Vec<Box<dyn Companion>>,
    /// What runs beside the API, by name: where it listens and how to drive it (shown by
    /// `/_local/health` and the ready banner).
    pub sandboxes: serde_json::Map<String, Value>,
    tasks: Vec<JoinHandle<()>>,
    server: Option<(tokio::sync::oneshot::Sender<()>, JoinHandle<()>)>,
}

/// The variables that point an SDK at moto.
pub fn moto_env(endpoint: &str) -> HashMap<String, String> {
    HashMap::from([
        ("AWS_ENDPOINT_URL".to_owned(), endpoint.to_owned()),
        ("AWS_REGION".to_owned(), REGION.to_owned()),
        ("AWS_ACCESS_KEY_ID".to_owned(), "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY".to_owned(), "testing".to_owned()),
    ])
}

impl LocalStack {
    pub async fn start(opts: StackOptions) -> Result<LocalStack, RunnerError> {
        let template = Template::load(&opts.template)?;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", opts.port))
            .await
            .map_err(|e| {
                RunnerError::Io(format!("cannot listen on 127.0.0.1:{}: {e}", opts.port))
            })?;
        let port = listener
            .local_addr()
            .map_err(|e| RunnerError::Io(e.to_string()))?
            .port();
        let base_url = format!("http://127.0.0.1:{port}");
        let issuer_url = format!("{base_url}/_local/");
        let ws_listener = tokio::net::TcpListener::bind(("127.0.0.1", opts.ws_port))
            .await
            .map_err(|e| {
                RunnerError::Io(format!("cannot listen on 127.0.0.1:{}: {e}", opts.ws_port))
            })?;

        let mut moto = Moto::start_or_attach(opts.log_dir.clone()).await?;
        let result = Self::assemble(
            &template,
            &opts,
            (listener, ws_listener),
            &base_url,
            &issuer_url,
            &moto,
        )
        .await;
        match result {
            Ok(mut stack) => {
                stack.moto = moto;
                Ok(stack)
            }
            Err(e) => {
                moto.stop().await;
                Err(e)
            }
        }
    }

    async fn assemble(
        template: &Template,
        opts: &StackOptions,
        (listener, ws_listener): (tokio::net::TcpListener, tokio::net::TcpListener),
        base_url: &str,
        issuer_url: &str,
        moto: &Moto,
    ) -> Result<LocalStack, RunnerError> {
        let mut resolver = Resolver::default();
        let mut params = opts.parameters.clone();
        params
            .entry("JwtIssuer".into())
            .or_insert_with(|| issuer_url.to_owned());
        params
            .entry("JwtAudience".into())
            .or_insert_with(|| LOCAL_AUDIENCE.to_owned());
        resolver.params = parameter_values(template, &params)?;
        resolver.conditions = evaluate_conditions(template, &resolver)?;
        provision::name_resources(template, &mut resolver, &opts.name_prefix, &moto.endpoint)?;

        let aws_env = moto_env(&moto.endpoint);
        let aws = platform::aws::Aws::load(&Env::from_map(aws_env.clone())).await;
        let secrets = load_secrets(opts)?;
        let provisioned = provision::provision(template, &mut resolver, &aws, &secrets).await?;

        let roles_claim = resolver
            .params
            .get("RolesClaim")
            .and_then(Value::as_str)
            .unwrap_or("roles")
            .to_owned();
        let issuer = Arc::new(Issuer::new(
            issuer_url.to_owned(),
            LOCAL_AUDIENCE.to_owned(),
            roles_claim,
        )?);

        // The WebSocket API (one per template is emulated) and where it listens.
        let ws_apis = crate::websocket::websocket_apis(template, &resolver)?;
        if ws_apis.len() > 1 {
            tracing::warn!(
                apis = ws_apis.len(),
                "only the first WebSocket API is served locally"
            );
        }
        let ws_api = ws_apis.into_iter().next();
        let ws_local = ws_listener
            .local_addr()
            .map_err(|e| RunnerError::Io(e.to_string()))?
            .to_string();

        // Cold start every function with its own environment.
        let mut functions = HashMap::new();
        let defs = model::functions(template, &resolver)?;
        let repo_dir = std::fs::canonicalize(&opts.template)
            .ok()
            .and_then(|t| t.parent().map(std::path::Path::to_path_buf))
            .unwrap_or_default();
        let companions = beside::start_wanted(
            defs.iter().map(|d| &d.env),
            &beside::Context {
                repo_dir: &repo_dir,
                base_url,
                secrets: &secrets,
            },
        )
        .await?;
        for def in &defs {
            let factory = opts.registry.get(&def.binary).ok_or_else(|| {
                RunnerError::Function(format!(
                    "{} (binary {}) has no factory in the runner's registry",
                    def.logical_id, def.binary
                ))
            })?;
            let mut env = def.env.clone();
            env.extend(aws_env.clone());
            env.insert(
                "AWS_LAMBDA_FUNCTION_NAME".into(),
                resolver.refs[&def.logical_id].clone(),
            );
            env.insert(
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(),
                def.memory_mb.to_string(),
            );
            env.insert("AWS_LAMBDA_FUNCTION_VERSION".into(), "$LATEST".into());
            for companion in &companions {
                companion.rewrite_env(&mut env);
            }
            if let Some(api) = &ws_api {
                crate::websocket::rewrite_env(api, &ws_local, &mut env);
            }
            // Links in emails point at this stack's HTTP API, not at API Gateway's host.
            if let Some(url) = env.get_mut("PUBLIC_API_URL") {
                *url = base_url.trim_end_matches('/').to_owned();
            }
            env.extend(opts.extra_env.clone());
            let handler = factory(Env::from_map(env.clone())).await.map_err(|e| {
                RunnerError::Function(format!("{} failed its cold start: {e}", def.logical_id))
            })?;
            functions.insert(
                def.logical_id.clone(),
                Arc::new(LoadedFunction::new(def.clone(), env, handler)),
            );
        }

        let mut tasks = Vec::new();
        let sqs = aws.sqs();
        for def in &defs {
            for source in def.sqs_sources.iter().filter(|s| s.enabled) {
                let queue_url = provisioned
                    .queue_urls
                    .get(&source.queue_arn)
                    .cloned()
                    .ok_or_else(|| {
                        RunnerError::Template(format!(
                            "{}: queue {} is not in the template",
                            def.logical_id, source.queue_arn
                        ))
                    })?;
                let pollers = if source.queue_arn.ends_with(".fifo") {
                    1
                } else {
                    source.max_concurrency
                };
                for _ in 0..pollers {
                    let poller = Poller {
                        source: source.clone(),
                        queue_url: queue_url.clone(),
                        function: functions[&def.logical_id].clone(),
                        sqs: sqs.clone(),
                    };
                    tasks.push(tokio::spawn(poller.run()));
                }
            }
        }
        let schedules = Arc::new(Schedules::new(
            defs.iter()
                .flat_map(|d| {
                    d.schedules
                        .iter()
                        .map(|s| (s.clone(), functions[&d.logical_id].clone()))
                })
                .collect(),
        )?);
        if opts.run_schedules {
            tasks.extend(schedules.spawn_timers());
        }

        let mut realtime = None;
        let mut realtime_url = None;
        if let Some(api) = ws_api {
            let url = format!("ws://{ws_local}/{}", api.stage);
            let state = Arc::new(crate::websocket::WsState::new(
                api,
                functions.clone(),
                crate::websocket::Limits::default(),
                ws_local.clone(),
            ));
            let app = crate::websocket::router(state.clone())
                .into_make_service_with_connect_info::<std::net::SocketAddr>();
            tasks.push(tokio::spawn(async move {
                if let Err(e) = axum::serve(ws_listener, app).await {
                    tracing::error!(error = %e, "WebSocket API stopped");
                }
            }));
            realtime = Some(state);
            realtime_url = Some(url);
        }

        let sandboxes: Map<String, Value> = companions
            .iter()
            .map(|c| (c.name().to_owned(), c.describe()))
            .collect();
        let state = Arc::new(ApiState {
            sandboxes: sandboxes.clone(),
            routes: defs.iter().flat_map(|d| d.http_routes.clone()).collect(),
            apis: model::http_apis(template, &resolver)?,
            functions: functions.clone(),
            issuer,
            schedules: schedules.clone(),
            moto_endpoint: moto.endpoint.clone(),
            dead_letters: crate::api::dead_letters(template, &resolver.refs),
            sqs: aws.sqs(),
            realtime: realtime_url.as_ref().map(|url| {
                serde_json::json!({
                    "url": url,
                    "management_api": url.replacen("ws://", "http://", 1),
                    "connect": format!("{url}?ticket=TICKET (POST /v1/realtime/tickets with a bearer token gives one)"),
                    "ping": {"action": "ping"},
                })
            }),
        });
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
        let server = tokio::spawn(async move {
            let shutdown = async {
                let _ = stop_rx.await;
            };
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::error!(error = %e, "API server stopped");
            }
        });

        Ok(LocalStack {
            base_url: base_url.to_owned(),
            realtime_url,
            realtime,
            moto_endpoint: moto.endpoint.clone(),
            resolver,
            aws,
            functions,
            schedules,
            moto: Moto::detached(),
            companions,
            sandboxes,
            tasks,
            server: Some((stop_tx, server)),
        })
    }

    /// The physical name (what `Ref` gives) of a template resource.
    pub fn physical(&self, logical_id: &str) -> Option<&str> {
        self.resolver.refs.get(logical_id).map(String::as_str)
    }

    /// A `Fn::GetAtt` value, e.g. `attr("Queue", "Arn")`.
    pub fn attr(&self, logical_id: &str, attr: &str) -> Option<&str> {
        self.resolver
            .attrs
            .get(&format!("{logical_id}.{attr}"))
            .map(String::as_str)
    }

    pub fn moto_pid(&self) -> Option<u32> {
        self.moto.pid()
    }

    /// Stops the API, the event sources, the timers and a moto this stack started.
    pub async fn shutdown(mut self) {
        for task in &self.tasks {
            task.abort();
        }
        if let Some((stop, server)) = self.server.take() {
            let _ = stop.send(());
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), server).await;
        }
        self.moto.stop().await;
        for companion in &mut self.companions {
            companion.stop().await;
        }
    }
}

fn parameter_values(
    template: &Template,
    given: &HashMap<String, String>,
) -> Result<HashMap<String, Value>, RunnerError> {
    let mut out = HashMap::new();
    let mut missing = Vec::new();
    for (name, spec) in &template.parameters {
        let raw = given.get(name).cloned().or_else(|| {
            spec.get("Default").map(|d| {
                d.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| d.to_string())
            })
        });
        let Some(raw) = raw else {
            missing.push(name.clone());
            continue;
        };
        if let Some(allowed) = spec.get("AllowedValues").and_then(Value::as_array)
            && !allowed.iter().any(|a| a.as_str() == Some(raw.as_str()))
        {
            return Err(RunnerError::Template(format!(
                "parameter {name}={raw} is not one of {allowed:?}"
            )));
        }
        let kind = spec.get("Type").and_then(Value::as_str).unwrap_or("String");
        let value = if kind == "CommaDelimitedList" || kind.starts_with("List<") {
            Value::Array(
                raw.split(',')
                    .map(|s| Value::String(s.trim().to_owned()))
                    .collect(),
            )
        } else {
            Value::String(raw)
        };
        out.insert(name.clone(), value);
    }
    if !missing.is_empty() {
        return Err(RunnerError::Template(format!(
            "parameters without a value: {}",
            missing.join(", ")
        )));
    }
    Ok(out)
}

fn evaluate_conditions(
    template: &Template,
    resolver: &Resolver,
) -> Result<HashMap<String, bool>, RunnerError> {
    let mut scratch = resolver.clone();
    let mut pending: Vec<(&String, &Value)> = template.conditions.iter().collect();
    // Conditions may use other conditions: evaluate until nothing changes.
    while !pending.is_empty() {
        let before = pending.len();
        let mut last_error = None;
        pending.retain(|(name, expr)| match scratch.condition_value(expr) {
            Ok(v) => {
                scratch.conditions.insert((*name).clone(), v);
                false
            }
            Err(e) => {
                last_error = Some(e);
                true
            }
        });
        if pending.len() == before {
            return Err(last_error
                .unwrap_or_else(|| RunnerError::Template("conditions do not resolve".into())));
        }
    }
    Ok(scratch.conditions)
}

fn load_secrets(opts: &StackOptions) -> Result<Map<String, Value>, RunnerError> {
    let path = opts.secrets_file.clone().unwrap_or_else(|| {
        opts.template
            .parent()
            .unwrap_or_else(|| std::path::Path::new("."))
            .join("local/dev-secrets.json")
    });
    if !path.exists() {
        return Ok(Map::new());
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|e| RunnerError::Io(format!("read {}: {e}", path.display())))?;
    serde_json::from_str(&text)
        .map_err(|e| RunnerError::Template(format!("{}: {e}", path.display())))
}
