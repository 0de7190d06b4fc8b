//! clamd's INSTREAM protocol: `zINSTREAM\0`, then chunks each prefixed by its length as a
//! 4-byte big-endian integer, then a zero length; the answer is `stream: OK` or
//! `stream: <signature> FOUND`. Anything else (a size limit, a broken pipe, a timeout) is an
//! error, never "clean".

use std::time::Duration;

use domain::pipeline::{EngineError, Verdict, VirusScanner};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

const CHUNK: usize = 64 * 1024;

#[derive(Clone, Debug)]
pub struct ClamdScanner {
    /// `host:port`, `tcp://host:port` or `unix:/path/to/clamd.sock`.
    address: String,
    timeout: Duration,
}

impl ClamdScanner {
    pub fn new(address: impl Into<String>, timeout: Duration) -> Self {
        ClamdScanner {
            address: address.into(),
            timeout,
        }
    }

    /// From `CLAMD_ADDRESS` (default `127.0.0.1:3310`, where the container image runs it).
    pub fn from_env(env: &platform::Env) -> Self {
        ClamdScanner::new(
            env.get("CLAMD_ADDRESS")
                .unwrap_or_else(|| "127.0.0.1:3310".to_owned()),
            Duration::from_secs(60),
        )
    }

    /// `PONG` when clamd is up.
    pub async fn ping(&self) -> Result<(), EngineError> {
        let reply = self
            .exchange(|mut s| async move {
                s.write_all(b"zPING\0").await?;
                read_reply(&mut s).await
            })
            .await?;
        if reply == "PONG" {
            Ok(())
        } else {
            Err(EngineError(format!("clamd answered {reply:?} to PING")))
        }
    }

    async fn exchange<F, Fut>(&self, talk: F) -> Result<String, EngineError>
    where
        F: FnOnce(Box<dyn Stream>) -> Fut,
        Fut: std::future::Future<Output = std::io::Result<String>>,
    {
        let work = async {
            let stream: Box<dyn Stream> = if let Some(path) = self.address.strip_prefix("unix:") {
                Box::new(tokio::net::UnixStream::connect(path).await?)
            } else {
                let addr = self.address.trim_start_matches("tcp://");
                Box::new(tokio::net::TcpStream::connect(addr).await?)
            };
            talk(stream).await
        };
        match tokio::time::timeout(self.timeout, work).await {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(e)) => Err(EngineError(format!("clamd at {}: {e}", self.address))),
            Err(_) => Err(EngineError(format!(
                "clamd at {} did not answer within {:?}",
                self.address, self.timeout
            ))),
        }
    }
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

async fn read_reply(s: &mut Box<dyn Stream>) -> std::io::Result<String> {
    let mut reply = Vec::new();
    s.read_to_end(&mut reply).await?;
    while reply
        .last()
        .is_some_and(|b| *b == 0 || b.is_ascii_whitespace())
    {
        reply.pop();
    }
    Ok(String::from_utf8_lossy(&reply).into_owned())
}

/// What clamd's answer to INSTREAM means.
pub fn verdict(reply: &str) -> Result<Verdict, EngineError> {
    let body = reply
        .strip_prefix("stream:")
        .map(str::trim)
        .unwrap_or(reply);
    if body == "OK" {
        Ok(Verdict::Clean)
    } else if let Some(name) = body.strip_suffix(" FOUND") {
        Ok(Verdict::Infected(name.trim().to_owned()))
    } else {
        Err(EngineError(format!("clamd could not scan: {reply}")))
    }
}

impl VirusScanner for ClamdScanner {
    async fn scan(&self, bytes: &[u8]) -> Result<Verdict, EngineError> {
        let data = bytes.to_vec();
        let reply = self
            .exchange(|mut s| async move {
                s.write_all(b"zINSTREAM\0").await?;
                for chunk in data.chunks(CHUNK) {
                    s.write_all(&(chunk.len() as u32).to_be_bytes()).await?;
                    s.write_all(chunk).await?;
                }
                s.write_all(&0u32.to_be_bytes()).await?;
                s.flush().await?;
                read_reply(&mut s).await
            })
            .await?;
        verdict(&reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies() {
        assert_eq!(verdict("stream: OK").unwrap(), Verdict::Clean);
        assert_eq!(
            verdict("stream: Eicar-Test-Signature FOUND").unwrap(),
            Verdict::Infected("Eicar-Test-Signature".into())
        );
        assert!(verdict("INSTREAM size limit exceeded. ERROR").is_err());
        assert!(verdict("").is_err());
    }

    #[tokio::test]
    async fn an_unreachable_daemon_is_an_error_not_clean() {
        let s = ClamdScanner::new("127.0.0.1:1", Duration::from_secs(2));
        assert!(s.scan(b"hello").await.is_err());
    }
}
