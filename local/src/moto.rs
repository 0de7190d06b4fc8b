//! moto in server mode: the AWS emulator the SDK talks to locally.
//!
//! The runner starts it from the project's venv (`MOTO_SERVER_BIN`, set by `scripts/env.sh`)
//! on a free port, or uses one already running (`MOTO_ENDPOINT`). A started moto dies with
//! the runner: killed on drop, and on Linux the kernel sends it SIGTERM if the runner itself
//! dies (`PR_SET_PDEATHSIG`), so no moto is ever orphaned.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use crate::RunnerError;

pub struct Moto {
    pub endpoint: String,
    child: Option<Child>,
}

impl Moto {
    /// Uses `MOTO_ENDPOINT` if set, else starts `MOTO_SERVER_BIN` (or `moto_server` on PATH).
    pub async fn start_or_attach(log_dir: Option<PathBuf>) -> Result<Moto, RunnerError> {
        if let Ok(endpoint) = std::env::var("MOTO_ENDPOINT")
            && !endpoint.trim().is_empty()
        {
            let moto = Moto {
                endpoint: endpoint.trim_end_matches('/').to_owned(),
                child: None,
            };
            moto.wait_ready(Duration::from_secs(10)).await?;
            return Ok(moto);
        }
        let bin = std::env::var("MOTO_SERVER_BIN").unwrap_or_else(|_| "moto_server".to_owned());
        let port = free_port()?;
        let mut cmd = Command::new(&bin);
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .kill_on_drop(true);
        match log_dir {
            Some(dir) => {
                std::fs::create_dir_all(&dir)
                    .map_err(|e| RunnerError::Moto(format!("log dir: {e}")))?;
                let log = std::fs::File::create(dir.join(format!("moto-{port}.log")))
                    .map_err(|e| RunnerError::Moto(format!("log file: {e}")))?;
                let log2 = log
                    .try_clone()
                    .map_err(|e| RunnerError::Moto(e.to_string()))?;
                cmd.stdout(Stdio::from(log)).stderr(Stdio::from(log2));
            }
            None => {
                cmd.stdout(Stdio::null()).stderr(Stdio::null());
            }
        }
        #[cfg(target_os = "linux")]
        // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        let child = cmd.spawn().map_err(|e| {
            RunnerError::Moto(format!(
                "could not start {bin}: {e}. Run scripts/bootstrap.sh (or `make dev`) to create the venv with moto, or set MOTO_ENDPOINT."
            ))
        })?;
        let moto = Moto {
            endpoint: format!("http://127.0.0.1:{port}"),
            child: Some(child),
        };
        moto.wait_ready(Duration::from_secs(30)).await?;
        Ok(moto)
    }

    async fn wait_ready(&self, limit: Duration) -> Result<(), RunnerError> {
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Ok(resp) = client
                .get(format!("{}/moto-api/", self.endpoint))
                .send()
                .await
                && resp.status().is_success()
            {
                tracing::info!(endpoint = %self.endpoint, ms = started.elapsed().as_millis() as u64, "moto ready");
                return Ok(());
            }
            if started.elapsed() > limit {
                return Err(RunnerError::Moto(format!(
                    "moto at {} not ready after {limit:?}",
                    self.endpoint
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Stops a moto this runner started (one it attached to is left alone).
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            if let Some(pid) = child.id() {
                // SAFETY: plain kill(2) on our own child.
                unsafe {
                    libc::kill(pid as i32, libc::SIGTERM);
                }
            }
            if tokio::time::timeout(Duration::from_secs(5), child.wait())
                .await
                .is_err()
            {
                let _ = child.kill().await;
            }
        }
    }

    /// The process id of a moto this runner started.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }
}

/// A free TCP port on loopback (bind to 0, read it, release it).
pub fn free_port() -> Result<u16, RunnerError> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| RunnerError::Moto(format!("no free port: {e}")))?;
    Ok(listener
        .local_addr()
        .map_err(|e| RunnerError::Moto(e.to_string()))?
        .port())
}

impl Moto {
    /// A placeholder that owns nothing (the stack takes ownership after assembly).
    pub(crate) fn detached() -> Moto {
        Moto {
            endpoint: String::new(),
            child: None,
        }
    }
}
