//! API Gateway's WebSocket management API, the one client for it: posting to a connection
//! (`realtime-push`) and closing one (erasure closes a contractor's sockets).

use domain::engagement::ports::{PushError, Pusher};

/// Posts through API Gateway's management API (`PostToConnection`).
#[derive(Clone, Debug)]
pub struct ManagementApi {
    client: aws_sdk_apigatewaymanagement::Client,
}

impl ManagementApi {
    /// The client for `endpoint` (`https://{api}.execute-api.{region}.amazonaws.com/{stage}`;
    /// the local runner's own URL locally).
    pub fn new(aws: &platform::aws::Aws, endpoint: &str) -> Self {
        let config = aws_sdk_apigatewaymanagement::config::Builder::from(&aws.sdk)
            .endpoint_url(endpoint)
            .build();
        ManagementApi {
            client: aws_sdk_apigatewaymanagement::Client::from_conf(config),
        }
    }
}

impl Pusher for ManagementApi {
    async fn post(&self, connection_id: &str, payload: &[u8]) -> Result<(), PushError> {
        use aws_sdk_apigatewaymanagement::operation::post_to_connection::PostToConnectionError;
        match self
            .client
            .post_to_connection()
            .connection_id(connection_id)
            .data(aws_sdk_apigatewaymanagement::primitives::Blob::new(payload))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => match e.as_service_error() {
                Some(PostToConnectionError::GoneException(_)) => Err(PushError::Gone),
                _ => Err(PushError::Failed(
                    aws_sdk_apigatewaymanagement::error::DisplayErrorContext(&e).to_string(),
                )),
            },
        }
    }
}

impl ManagementApi {
    /// Closes `connection_id` (`DeleteConnection`); one already gone is fine.
    pub async fn disconnect(&self, connection_id: &str) -> Result<(), PushError> {
        use aws_sdk_apigatewaymanagement::operation::delete_connection::DeleteConnectionError;
        match self
            .client
            .delete_connection()
            .connection_id(connection_id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => match e.as_service_error() {
                Some(DeleteConnectionError::GoneException(_)) => Ok(()),
                _ => Err(PushError::Failed(
                    aws_sdk_apigatewaymanagement::error::DisplayErrorContext(&e).to_string(),
                )),
            },
        }
    }
}
