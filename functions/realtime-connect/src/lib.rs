//! `$connect`: the authorizer has redeemed the ticket; this records the connection under its
//! audience (with a TTL past API Gateway's 2-hour limit), so pushes find it.

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use domain::engagement::ports::Connections;
use domain::engagement::realtime::{Audience, CONNECTION_LIFETIME, Connection};
use platform::invoke::{EventHandler, route_answer};
use platform::{BoxError, Env};
use store::{DynamoConnections, Table};

pub struct Connect {
    connections: DynamoConnections,
}

pub async fn build(env: &Env) -> Result<Connect, BoxError> {
    Ok(Connect {
        connections: DynamoConnections::new(Table::load(env).await?),
    })
}

impl EventHandler for Connect {
    const NAME: &'static str = "realtime-connect";
    type Request = ApiGatewayWebsocketProxyRequest;
    type Response = ApiGatewayProxyResponse;

    async fn handle(
        &self,
        request: Self::Request,
        _context: lambda_runtime::Context,
    ) -> Result<Self::Response, BoxError> {
        let ctx = &request.request_context;
        let fields = &ctx.authorizer.fields;
        let audience = fields
            .get("audience")
            .and_then(|v| v.as_str())
            .and_then(Audience::parse);
        let subject = fields.get("subject").and_then(|v| v.as_str());
        let (Some(id), Some(audience), Some(subject)) =
            (ctx.connection_id.as_deref(), audience, subject)
        else {
            // Only reachable without the authorizer in front: refuse rather than listen to
            // nothing in particular.
            tracing::warn!("connect without an authorizer context refused");
            return Ok(route_answer(403, None));
        };
        let now = chrono::Utc::now();
        self.connections
            .open(&Connection {
                id: id.to_owned(),
                audience,
                subject: subject.to_owned(),
                connected_at: now,
                expires_at: now + CONNECTION_LIFETIME,
            })
            .await?;
        tracing::info!(connection_id = id, "connected");
        Ok(route_answer(200, None))
    }
}
