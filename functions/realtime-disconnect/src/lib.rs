//! `$disconnect`: forgets the connection. API Gateway sends it on a best-effort basis; a
//! connection it never reports is removed on the first push that gets 410 Gone, or by the
//! table's TTL.

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use domain::engagement::ports::Connections;
use platform::invoke::{EventHandler, route_answer};
use platform::{BoxError, Env};
use store::{DynamoConnections, Table};

pub struct Disconnect {
    connections: DynamoConnections,
}

pub async fn build(env: &Env) -> Result<Disconnect, BoxError> {
    Ok(Disconnect {
        connections: DynamoConnections::new(Table::load(env).await?),
    })
}

impl EventHandler for Disconnect {
    const NAME: &'static str = "realtime-disconnect";
    type Request = ApiGatewayWebsocketProxyRequest;
    type Response = ApiGatewayProxyResponse;

    async fn handle(
        &self,
        request: Self::Request,
        _context: lambda_runtime::Context,
    ) -> Result<Self::Response, BoxError> {
        if let Some(id) = request.request_context.connection_id.as_deref() {
            let known = self.connections.close(id).await?;
            tracing::info!(connection_id = id, known = known.is_some(), "disconnected");
        }
        Ok(route_answer(200, None))
    }
}
