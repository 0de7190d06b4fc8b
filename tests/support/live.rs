//! A WebSocket client of the realtime API, as an app would use it: a ticket from
//! `POST /v1/realtime/tickets`, a connection to the URL it names, JSON messages.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::product;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub struct Live {
    socket: Socket,
}

/// A ticket for the caller of `token`: the whole answer (`ticket`, `url`, `connect`, …).
pub async fn ticket(token: &str) -> Value {
    let (status, headers, body) = product()
        .post_as(token, "/v1/realtime/tickets", &json!({}))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    body
}

impl Live {
    /// Connects with a fresh ticket for `token`.
    pub async fn connect(token: &str) -> Live {
        let t = ticket(token).await;
        Live::open(t["connect"].as_str().expect("connect URL"))
            .await
            .unwrap_or_else(|status| panic!("connect refused with {status}"))
    }

    /// Opens `url`; the HTTP status when the handshake is refused.
    pub async fn open(url: &str) -> Result<Live, u16> {
        let mut request = url.into_client_request().expect("a WebSocket URL");
        request
            .headers_mut()
            .insert("user-agent", "e2e-live/1".parse().expect("header"));
        match tokio_tungstenite::connect_async(request).await {
            Ok((socket, _)) => Ok(Live { socket }),
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
            Err(e) => panic!("WebSocket connect failed: {e}"),
        }
    }

    /// The next JSON message within `limit`, if one comes.
    pub async fn next(&mut self, limit: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .ok()??;
            match frame.ok()? {
                Message::Text(t) => return serde_json::from_str(&t).ok(),
                Message::Close(_) => return None,
                _ => continue,
            }
        }
    }

    /// Every message until one satisfies `done` (included), or panics after `limit` with
    /// what came.
    pub async fn until(&mut self, limit: Duration, done: impl Fn(&Value) -> bool) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + limit;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await {
                Some(m) => {
                    let stop = done(&m);
                    seen.push(m);
                    if stop {
                        return seen;
                    }
                }
                None => panic!("no matching message within {limit:?}; got {seen:#?}"),
            }
        }
    }

    /// Whether the server closes the socket within `limit` (messages before it are
    /// skipped).
    pub async fn closed_within(&mut self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            match tokio::time::timeout_at(deadline, self.socket.next()).await {
                Err(_) => return false,
                Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(Message::Close(_)))) => return true,
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    pub async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await
            .expect("send");
    }

    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
        // Let the close handshake finish so $disconnect runs.
        let _ = tokio::time::timeout(Duration::from_secs(2), self.socket.next()).await;
    }
}
