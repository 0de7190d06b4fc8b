//! `onboarding-local`: the whole stack on one machine. `make dev` runs it.
//! PORT (default 3000), WS_PORT (the WebSocket API, default 3001), MOTO_ENDPOINT (use a running moto), TEMPLATE (default template.yaml).

use std::path::PathBuf;

use local_runner::{LocalStack, StackOptions, product_registry};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    platform::telemetry::init();
    let mut opts = StackOptions::new(
        PathBuf::from(std::env::var("TEMPLATE").unwrap_or_else(|_| "template.yaml".into())),
        product_registry(),
    );
    opts.port = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    opts.ws_port = std::env::var("WS_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3001);
    opts.log_dir = Some(PathBuf::from(".local"));
    let stack = LocalStack::start(opts).await?;
    eprintln!(
        "local stack ready at {} (moto at {}); Ctrl-C stops it",
        stack.base_url, stack.moto_endpoint
    );
    eprintln!(
        "  token:  curl -s -XPOST {}/_local/token -d '{{\"sub\":\"auth0|me\"}}'",
        stack.base_url
    );
    if let Some(url) = &stack.realtime_url {
        eprintln!("  realtime:  {url}?ticket=…  (POST /v1/realtime/tickets gives a ticket)");
    }
    for (name, sandbox) in &stack.sandboxes {
        let at = sandbox["url"]
            .as_str()
            .or(sandbox["address"].as_str())
            .unwrap_or("?");
        eprintln!("  {name:<20} {at}");
    }
    eprintln!(
        "  (how to drive each: GET {}/_local/health)",
        stack.base_url
    );
    tokio::signal::ctrl_c().await?;
    eprintln!("stopping");
    stack.shutdown().await;
    Ok(())
}
