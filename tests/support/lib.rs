//! Test support: a local stack per test binary, started once on its own runtime so that
//! every test (each on its own tokio runtime) can use it, plus HTTP helpers.

pub mod contract;
pub mod live;
pub mod truth;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use local_runner::{LocalStack, Registry, StackOptions};
use serde_json::{Value, json};

/// What tests need to know about a running stack.
#[derive(Clone, Debug)]
pub struct Stack {
    pub base_url: String,
    /// `ws://127.0.0.1:PORT/{stage}`: the WebSocket API.
    pub realtime_url: Option<String>,
    pub moto_endpoint: String,
    pub refs: HashMap<String, String>,
    pub attrs: HashMap<String, String>,
    /// Each function's environment, by cargo binary name.
    pub function_envs: HashMap<String, HashMap<String, String>>,
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the repo")
        .to_path_buf()
}

/// Starts a stack on a dedicated thread that lives as long as the test process (moto is
/// tied to that thread and dies with the process).
pub fn start_stack(template: PathBuf, registry: fn() -> Registry) -> Stack {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("local-stack".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let mut opts = StackOptions::new(template, registry());
                opts.run_schedules = false;
                // Provider retries after 3 s (±20%) rather than production's 1 minute: the
                // breaker and review paths are the same, without waiting out real minutes.
                opts.extra_env
                    .insert("PROVIDER_RETRY_DELAYS_SECONDS".into(), "3".into());
                // The email providers' breakers cool down in 2 s, not a minute.
                opts.extra_env
                    .insert("EMAIL_BREAKER_COOL_DOWN_SECONDS".into(), "2".into());
                match LocalStack::start(opts).await {
                    Ok(stack) => {
                        tx.send(Ok(Stack {
                            base_url: stack.base_url.clone(),
                            realtime_url: stack.realtime_url.clone(),
                            moto_endpoint: stack.moto_endpoint.clone(),
                            refs: stack.resolver.refs.clone(),
                            attrs: stack.resolver.attrs.clone(),
                            function_envs: stack
                                .functions
                                .values()
                                .map(|f| (f.def.binary.clone(), f.env.clone()))
                                .collect(),
                        }))
                        .ok();
                        // Keep the stack (and its moto) alive until the process ends.
                        std::future::pending::<()>().await;
                        drop(stack);
                    }
                    Err(e) => {
                        tx.send(Err(e.to_string())).ok();
                    }
                }
            });
        })
        .expect("spawn stack thread");
    match rx.recv().expect("stack thread answers") {
        Ok(stack) => stack,
        Err(e) => panic!(
            "local stack failed to start: {e}\n(hint: run the tests with `make test`, which installs moto)"
        ),
    }
}

/// The product's stack (template.yaml, every product function).
pub fn product() -> &'static Stack {
    static STACK: OnceLock<Stack> = OnceLock::new();
    STACK.get_or_init(|| {
        capture_logs();
        start_stack(
            repo_root().join("template.yaml"),
            local_runner::product_registry,
        )
    })
}

/// Every log line the functions wrote in this test process, in the production JSON format.
pub fn captured_logs() -> String {
    String::from_utf8_lossy(&log_buffer().lock().expect("log buffer")).into_owned()
}

fn log_buffer() -> &'static std::sync::Arc<std::sync::Mutex<Vec<u8>>> {
    static LOGS: OnceLock<std::sync::Arc<std::sync::Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(Default::default)
}

#[derive(Clone)]
struct BufferWriter(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for BufferWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs the production JSON log subscriber, writing into the capture buffer.
fn capture_logs() {
    let buffer = log_buffer().clone();
    platform::telemetry::init_with_writer(move || BufferWriter(buffer.clone()));
}

impl Stack {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// An access token from the local issuer. `extra` may set roles, audience, issuer,
    /// expires_in, not_before_in.
    pub async fn token(&self, sub: &str, extra: Value) -> String {
        let mut body = json!({"sub": sub});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        let resp: Value = client()
            .post(self.url("/_local/token"))
            .json(&body)
            .send()
            .await
            .expect("token request")
            .json()
            .await
            .expect("token JSON");
        resp["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    /// `GET path` with a bearer token: status, headers, JSON body.
    pub async fn get_as(
        &self,
        token: &str,
        path: &str,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        read(
            client()
                .get(self.url(path))
                .bearer_auth(token)
                .send()
                .await
                .expect("GET"),
        )
        .await
    }

    /// `POST path` with a bearer token and a JSON body: status, headers, JSON body.
    pub async fn post_as(
        &self,
        token: &str,
        path: &str,
        body: &Value,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        read(
            client()
                .post(self.url(path))
                .bearer_auth(token)
                .json(body)
                .send()
                .await
                .expect("POST"),
        )
        .await
    }

    /// `PATCH path` with a bearer token, a JSON body and `If-Match` when given.
    pub async fn patch_as(
        &self,
        token: &str,
        path: &str,
        body: &Value,
        if_match: Option<u64>,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let mut req = client().patch(self.url(path)).bearer_auth(token).json(body);
        if let Some(v) = if_match {
            req = req.header("if-match", format!("\"{v}\""));
        }
        read(req.send().await.expect("PATCH")).await
    }

    /// Fires a template schedule now (`POST /_local/schedules/{function}/{event}`).
    pub async fn fire_schedule(
        &self,
        function: &str,
        event: &str,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        read(
            client()
                .post(self.url(&format!("/_local/schedules/{function}/{event}")))
                .send()
                .await
                .expect("fire schedule"),
        )
        .await
    }

    /// A token for a new login (`auth0|<tag>-<ulid>`) with `roles`.
    pub async fn login(&self, tag: &str, roles: &[&str]) -> String {
        self.token(&unique_subject(tag), json!({ "roles": roles }))
            .await
    }

    /// One item of the product's table, by key.
    pub async fn table_item(
        &self,
        pk: &str,
        sk: &str,
    ) -> Option<HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        use aws_sdk_dynamodb::types::AttributeValue;
        self.aws()
            .await
            .dynamodb()
            .get_item()
            .table_name(&self.refs["OnboardingTable"])
            .key("pk", AttributeValue::S(pk.to_owned()))
            .key("sk", AttributeValue::S(sk.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .expect("GetItem")
            .item
    }

    /// Every item of the product's table, all pages (for checks over what the tests left).
    pub async fn scan_table(
        &self,
    ) -> Vec<HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        let aws = self.aws().await;
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = aws
                .dynamodb()
                .scan()
                .table_name(&self.refs["OnboardingTable"])
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .expect("Scan");
            items.extend(page.items.unwrap_or_default());
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return items,
            }
        }
    }

    /// SDK settings pointing at this stack's moto, built for the calling test's runtime.
    pub async fn aws(&self) -> platform::aws::Aws {
        let env = local_runner::stack::moto_env(&self.moto_endpoint);
        platform::aws::Aws::load(&platform::Env::from_map(env)).await
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().build().expect("HTTP client")
}

/// `GET url` (a sandbox control, outside the product's API) and its JSON answer.
pub async fn get_json(url: &str) -> Value {
    client()
        .get(url)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("a JSON answer")
}

/// `POST url` with a JSON body (a sandbox control, outside the product's API) and its JSON
/// answer.
pub async fn post_json(url: &str, body: &Value) -> Value {
    client()
        .post(url)
        .json(body)
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("a JSON answer")
}

/// Status, headers and JSON body of a response.
pub async fn read(resp: reqwest::Response) -> (u16, reqwest::header::HeaderMap, Value) {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, headers, body)
}

/// A subject no other test uses: `auth0|<tag>-<ulid>`.
pub fn unique_subject(tag: &str) -> String {
    format!(
        "auth0|{tag}-{}",
        ulid::Ulid::new().to_string().to_lowercase()
    )
}

/// A fresh login with a registered contractor: (token, contractor id, version).
pub async fn registered_contractor(tag: &str) -> (String, String, u64) {
    register_as(tag, &registration(tag)).await
}

/// A fresh login that registers `body`: (token, contractor id, version).
pub async fn register_as(tag: &str, body: &Value) -> (String, String, u64) {
    let stack = product();
    let token = stack.login(tag, &["contractor"]).await;
    let (status, _, body) = stack.post_as(&token, "/v1/contractors", body).await;
    assert_eq!(status, 201, "{body}");
    (
        token,
        body["id"].as_str().expect("id").to_owned(),
        body["version"].as_u64().expect("version"),
    )
}

/// A contractor registered as `business_name` serving `states` (the corpus kits' names):
/// (token, contractor id).
pub async fn registered_business(
    tag: &str,
    business_name: &str,
    states: &[&str],
) -> (String, String) {
    let (token, id, _) = register_as(
        tag,
        &json!({
            "business_name": business_name,
            "contact": {"name": "Dana Reyes", "email": "dana@brightnights.example", "phone": "(214) 555-0142"},
            "service_area": {"states": states, "zip_codes": []},
            "trade": {"crew_size": 4, "years_in_business": 6, "services": ["residential_installation"]}
        }),
    )
    .await;
    (token, id)
}

/// Invokes a function of the product's stack as Lambda would (`/_local/functions/…/invoke`)
/// and returns its answer, which must be a success.
pub async fn invoke_function(logical_id: &str, payload: &Value) -> Value {
    let (status, _, body) = read(
        client()
            .post(product().url(&format!("/_local/functions/{logical_id}/invoke")))
            .json(payload)
            .send()
            .await
            .expect("invoke"),
    )
    .await;
    assert_eq!(status, 200, "{logical_id}: {body}");
    body
}

/// Runs a scheduled function as its schedule would tick at `time` (RFC 3339), limited to
/// one contractor (`detail.contractor_id`), and returns its summary.
pub async fn run_schedule_for(logical_id: &str, contractor: &str, time: &str) -> Value {
    let event = json!({
        "version": "0", "id": format!("{logical_id}-{}", ulid::Ulid::new()), "detail-type": "Scheduled Event",
        "source": "aws.events", "account": "123456789012", "time": time,
        "region": "us-east-1", "resources": [], "detail": {"contractor_id": contractor},
    });
    invoke_function(logical_id, &event).await
}

/// A registration body that passes validation, unique by `tag`.
pub fn registration(tag: &str) -> Value {
    json!({
        "business_name": format!("Bright Nights {tag} LLC"),
        "contact": {"name": "Dana Reyes", "email": format!("dana+{tag}@brightnights.example"), "phone": "(214) 555-0142"},
        "service_area": {"states": ["TX", "OK"], "zip_codes": ["75201"]},
        "trade": {"crew_size": 4, "years_in_business": 6, "services": ["residential_installation"]}
    })
}

/// Polls `check` until it returns `Some` or `limit` passes.
pub async fn eventually<T, F, Fut>(limit: std::time::Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + limit;
    loop {
        if let Some(v) = check().await {
            return Some(v);
        }
        if std::time::Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The generated document corpus (tests/corpus/generate.py), made once per test process:
/// one document per kind as a text PDF and as a noisy photo, the form-software, altered and
/// packet certificates, plus the malicious files.
pub fn corpus() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("onboarding-corpus-{}", std::process::id()));
        let python = std::env::var("MOTO_PYTHON").unwrap_or_else(|_| "python3".into());
        let out = std::process::Command::new(python)
            .arg(repo_root().join("tests/corpus/generate.py"))
            .arg(&dir)
            .args([
                "--per-kind",
                "1",
                "--tiers",
                "text_pdf,noisy_photo",
                "--seed",
                "7",
                "--compliant-cois",
                "--specials",
            ])
            .output()
            .expect("run the corpus generator (scripts/bootstrap.sh makes its venv)");
        assert!(
            out.status.success(),
            "corpus generator failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        dir
    })
}

/// One business's documents (tests/corpus/generate.py `--business`): a compliant
/// certificate, a license card from `license_state` and a W-9, all naming `business`, as text
/// PDFs. Returns the folder and its manifest entries by kind.
pub fn kit(business: &str, license_state: &str, seed: u64) -> (PathBuf, Value) {
    let dir = std::env::temp_dir().join(format!(
        "onboarding-kit-{}-{seed}-{license_state}",
        std::process::id()
    ));
    let python = std::env::var("MOTO_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = std::process::Command::new(python)
        .arg(repo_root().join("tests/corpus/generate.py"))
        .arg(&dir)
        .args(["--per-kind", "1", "--tiers", "text_pdf", "--compliant-cois"])
        .args(["--seed", &seed.to_string(), "--business", business])
        .args(["--license-state", license_state])
        .output()
        .expect("run the corpus generator");
    assert!(
        out.status.success(),
        "kit generator failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("manifest"))
            .expect("manifest JSON");
    let mut by_kind = serde_json::Map::new();
    for d in manifest["documents"].as_array().expect("documents") {
        if d["tier"] == "text_pdf" {
            by_kind.insert(d["kind"].as_str().unwrap_or_default().to_owned(), d.clone());
        }
    }
    (dir, Value::Object(by_kind))
}

/// The document once it reaches a final state.
pub async fn settled(token: &str, id: &str, limit: std::time::Duration) -> Value {
    let stack = product();
    eventually(limit, || async {
        let (status, _, doc) = stack.get_as(token, &format!("/v1/documents/{id}")).await;
        (status == 200 && !matches!(doc["status"].as_str(), Some("awaiting_upload" | "scanned")))
            .then_some(doc)
    })
    .await
    .unwrap_or_else(|| panic!("document {id} did not settle within {limit:?}"))
}

/// Fields of the document that differ from the corpus ground truth.
pub fn wrong_fields(doc: &Value, truth: &Value, skip: &[&str]) -> Vec<String> {
    let fields = &doc["extraction"]["fields"];
    truth
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| !skip.contains(&k.as_str()))
        .filter_map(|(k, v)| {
            let want = domain::extraction::canonical(v.as_str().unwrap());
            let got = fields[k]["value"].as_str().unwrap_or("<missing>");
            (got != want).then(|| format!("{k}: want {want:?}, got {got:?}"))
        })
        .collect()
}

/// One corpus entry from its manifest, by file name.
pub fn corpus_entry(file: &str) -> Value {
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(corpus().join("manifest.json")).expect("manifest.json"),
    )
    .expect("manifest JSON");
    manifest["documents"]
        .as_array()
        .expect("documents")
        .iter()
        .find(|d| d["file"] == file)
        .cloned()
        .unwrap_or_else(|| panic!("{file} is not in the corpus"))
}

/// Hex SHA-256, as a client computes it for an upload intent.
pub fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Creates the upload intent announcing `declared` and PUTs `body` with the presigned
/// request, exactly as a client would. Returns the document from the intent.
pub async fn upload_document(
    token: &str,
    contractor: &str,
    kind: &str,
    file_name: &str,
    content_type: &str,
    declared: &[u8],
    body: &[u8],
) -> Value {
    let stack = product();
    let (status, _, doc) = read(
        client()
            .post(stack.url(&format!("/v1/contractors/{contractor}/documents")))
            .bearer_auth(token)
            .json(&json!({"kind": kind, "file_name": file_name, "content_type": content_type, "size": declared.len(), "sha256": hex_sha256(declared)}))
            .send()
            .await
            .expect("upload intent"),
    )
    .await;
    assert_eq!(status, 201, "{doc}");
    let upload = &doc["upload"];
    let mut put = client()
        .put(upload["url"].as_str().expect("url"))
        .body(body.to_vec());
    for (k, v) in upload["headers"].as_object().expect("headers") {
        if k != "content-length" {
            put = put.header(k, v.as_str().expect("header"));
        }
    }
    let resp = put.send().await.expect("PUT");
    assert!(
        resp.status().is_success(),
        "PUT: {}",
        resp.text().await.unwrap_or_default()
    );
    doc
}

/// Uploads the corpus file `file` as the contractor's insurance certificate (a PDF), as a
/// client would; the document from the intent.
pub async fn upload_certificate(token: &str, contractor: &str, file: &str) -> Value {
    let bytes = std::fs::read(corpus().join(file)).expect("a corpus file");
    upload_document(
        token,
        contractor,
        "insurance_certificate",
        "coi.pdf",
        "application/pdf",
        &bytes,
        &bytes,
    )
    .await
}

/// Every email in the local mailbox to `address`.
pub async fn mail_to(address: &str) -> Vec<Value> {
    let (status, _, body) = read(
        client()
            .get(product().url("/_local/mail"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["to"][0]["email"] == address)
        .cloned()
        .collect()
}
