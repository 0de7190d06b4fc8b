//! The `$connect` REQUEST authorizer of the WebSocket API: redeems the `ticket` query
//! parameter (a conditional delete, so it works once) and answers an IAM policy allowing the
//! connection, with who listens to what in its context (`subject`, `role`, `audience`),
//! which API Gateway hands to the route handlers. No ticket, a used, expired or forged one:
//! `Unauthorized` (401), as API Gateway expects from an authorizer.

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerRequestTypeRequest,
    ApiGatewayCustomAuthorizerResponse,
};
use aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};
use domain::engagement::ports::Tickets;
use domain::engagement::realtime::TicketSecret;
use platform::invoke::EventHandler;
use platform::{BoxError, Env};
use store::{DynamoTickets, Table};

pub struct Authorize {
    tickets: DynamoTickets,
}

pub async fn build(env: &Env) -> Result<Authorize, BoxError> {
    Ok(Authorize {
        tickets: DynamoTickets::new(Table::load(env).await?),
    })
}

/// What API Gateway needs to hear to refuse with 401.
#[derive(Debug, thiserror::Error)]
#[error("Unauthorized")]
pub struct Unauthorized;

impl EventHandler for Authorize {
    const NAME: &'static str = "realtime-authorize";
    type Request = ApiGatewayCustomAuthorizerRequestTypeRequest;
    type Response = ApiGatewayCustomAuthorizerResponse;

    async fn handle(
        &self,
        request: Self::Request,
        _context: lambda_runtime::Context,
    ) -> Result<Self::Response, BoxError> {
        let Some(secret) = request
            .query_string_parameters
            .first("ticket")
            .and_then(TicketSecret::parse)
        else {
            tracing::info!("connect refused: no ticket or not a ticket's shape");
            return Err(Unauthorized.into());
        };
        let Some(grant) = self.tickets.redeem(&secret, chrono::Utc::now()).await? else {
            tracing::info!("connect refused: ticket unknown, used or expired");
            return Err(Unauthorized.into());
        };
        let mut statement = IamPolicyStatement::default();
        statement.action = vec!["execute-api:Invoke".to_owned()];
        statement.effect = IamPolicyEffect::Allow;
        statement.resource = vec![request.method_arn.unwrap_or_else(|| "*".to_owned())];
        let mut policy = ApiGatewayCustomAuthorizerPolicy::default();
        policy.version = Some("2012-10-17".to_owned());
        policy.statement = vec![statement];
        let mut response = ApiGatewayCustomAuthorizerResponse::default();
        response.principal_id = Some(grant.subject.clone());
        response.policy_document = policy;
        // Context values must be strings, numbers or booleans.
        response.context = serde_json::json!({
            "subject": grant.subject,
            "role": grant.role,
            "audience": grant.audience,
        });
        tracing::info!(role = ?grant.role, "connect allowed");
        Ok(response)
    }
}
