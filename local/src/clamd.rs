//! clamd beside the stack, as the scan function's container runs it in the cloud: started
//! from Debian's `clamav-daemon` with the repository's `clamav/clamd.conf` and signature
//! folder (freshclam cannot download here), on a free port, and stopped with the runner
//! (killed on drop; `PR_SET_PDEATHSIG` if the runner dies). `CLAMD_ADDRESS` in the
//! runner's environment attaches to a daemon already running instead.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use crate::RunnerError;

pub struct Clamd {
    pub address: String,
    child: Option<Child>,
    _dir: Option<tempfile::TempDir>,
}

fn err(msg: impl Into<String>) -> RunnerError {
    RunnerError::Io(format!("clamd: {}", msg.into()))
}

impl Clamd {
    /// `repo_dir` holds `clamav/clamd.conf` and `clamav/signatures/`.
    pub async fn start_or_attach(repo_dir: &Path) -> Result<Clamd, RunnerError> {
        if let Ok(address) = std::env::var("CLAMD_ADDRESS")
            && !address.trim().is_empty()
        {
            let clamd = Clamd {
                address: address.trim().to_owned(),
                child: None,
                _dir: None,
            };
            clamd.wait_ready(Duration::from_secs(10)).await?;
            return Ok(clamd);
        }
        let conf = std::fs::read_to_string(repo_dir.join("clamav/clamd.conf"))
            .map_err(|e| err(format!("clamav/clamd.conf: {e}")))?;
        let signatures = repo_dir.join("clamav/signatures");
        let dir = tempfile::tempdir().map_err(|e| err(e.to_string()))?;
        let port = crate::moto::free_port()?;
        let tmp = dir.path().display().to_string();
        let conf: String = conf
            .lines()
            .map(|line| {
                let key = line.split_whitespace().next().unwrap_or("");
                match key {
                    "TCPSocket" => format!("TCPSocket {port}"),
                    "DatabaseDirectory" => format!("DatabaseDirectory {}", signatures.display()),
                    "PidFile" => format!("PidFile {tmp}/clamd.pid"),
                    "LogFile" => format!("LogFile {tmp}/clamd.log"),
                    "TemporaryDirectory" => format!("TemporaryDirectory {tmp}"),
                    _ => line.to_owned(),
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        let conf_path = dir.path().join("clamd.conf");
        std::fs::write(&conf_path, conf).map_err(|e| err(e.to_string()))?;
        let bin = std::env::var("CLAMD_BIN").unwrap_or_else(|_| {
            if Path::new("/usr/sbin/clamd").exists() {
                "/usr/sbin/clamd".into()
            } else {
                "clamd".into()
            }
        });
        let mut cmd = Command::new(&bin);
        cmd.arg("-c")
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        #[cfg(target_os = "linux")]
        // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        let child = cmd.spawn().map_err(|e| {
            err(format!(
                "could not start {bin}: {e}. Run scripts/bootstrap.sh (it installs clamav-daemon), or set CLAMD_ADDRESS."
            ))
        })?;
        let clamd = Clamd {
            address: format!("127.0.0.1:{port}"),
            child: Some(child),
            _dir: Some(dir),
        };
        clamd.wait_ready(Duration::from_secs(30)).await?;
        Ok(clamd)
    }

    async fn wait_ready(&self, limit: Duration) -> Result<(), RunnerError> {
        let client = engines::ClamdScanner::new(&self.address, Duration::from_secs(2));
        let started = Instant::now();
        loop {
            match client.ping().await {
                Ok(()) => {
                    tracing::info!(address = %self.address, ms = started.elapsed().as_millis() as u64, "clamd ready");
                    return Ok(());
                }
                Err(e) if started.elapsed() > limit => {
                    return Err(err(format!("not ready after {limit:?}: {e}")));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }
}
