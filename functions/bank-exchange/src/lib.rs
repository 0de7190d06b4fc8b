//! `POST /v1/contractors/{id}/bank/exchange`: after Plaid Link succeeds, exchanges the public
//! token (`/item/public_token/exchange`), reads the account's verification status
//! (`/auth/get`; `/accounts/get` while micro-deposits are pending), keeps the mask, names,
//! institution and status with the access token encrypted (never the account or routing
//! number), and records Plaid's result on the `bank_account` requirement: verified for
//! instant Auth, pending for micro-deposits (webhooks finish it). Idempotent with
//! `Idempotency-Key`; the contractor only.

use domain::banking::BankLink;
use domain::ports::FieldCipher;
use domain::validation::Collector;
use domain::verification::{BANK_ACCOUNT, BANK_SOURCES};
use lambda_http::Request;
use platform::http::{self, HttpApp, RequestMeta};
use platform::idempotency::Idempotent;
use platform::{ApiError, BoxError, Env};
use providers::plaid::Plaid;
use serde::Deserialize;
use store::{BankLinks, DynamoIdempotency};
use wiring::views::View;

pub struct Exchange {
    api: wiring::Api,
    plaid: Plaid,
    banks: BankLinks,
    verification: store::Verification,
}

pub async fn build(env: &Env) -> Result<Idempotent<Exchange, DynamoIdempotency>, BoxError> {
    let (api, aws) = wiring::Api::from_env(env).await?;
    let app = Exchange {
        plaid: providers::plaid::from_env(env, &aws).await?,
        banks: BankLinks::new(store::Table::from_env(env, &aws)?),
        verification: store::verification(env, &aws)?,
        api,
    };
    wiring::idempotent(app, env, &aws)
}

/// What Plaid Link's `onSuccess` hands the client: the public token and its metadata.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExchangeInput {
    pub public_token: Option<String>,
    pub account_id: Option<String>,
    pub institution: Option<InstitutionInput>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstitutionInput {
    pub institution_id: Option<String>,
    pub name: Option<String>,
}

/// The validated request.
#[derive(Debug, PartialEq, Eq)]
pub struct ExchangeRequest {
    pub public_token: String,
    pub account_id: Option<String>,
    pub institution_id: Option<String>,
    pub institution_name: Option<String>,
}

fn token_like(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl ExchangeInput {
    pub fn parse(self) -> Result<ExchangeRequest, domain::Invalid> {
        let mut c = Collector::new();
        let public_token = match self.public_token.as_deref().map(str::trim) {
            None | Some("") => {
                c.push(
                    "public_token",
                    "required",
                    "Send the public token Plaid Link returned.",
                );
                None
            }
            Some(t) if !(t.starts_with("public-") && token_like(t, 200)) => {
                c.push(
                    "public_token",
                    "invalid_format",
                    "This is not a Plaid public token (public-…).",
                );
                None
            }
            Some(t) => Some(t.to_owned()),
        };
        if let Some(a) = self.account_id.as_deref()
            && !token_like(a, 100)
        {
            c.push(
                "account_id",
                "invalid_format",
                "Send the account id Plaid Link returned.",
            );
        }
        let institution = self.institution.unwrap_or_default();
        if let Some(i) = institution.institution_id.as_deref()
            && !token_like(i, 64)
        {
            c.push(
                "institution.institution_id",
                "invalid_format",
                "Send the institution id Plaid Link returned.",
            );
        }
        let name = institution
            .name
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty());
        if name
            .as_ref()
            .is_some_and(|n| n.chars().count() > 120 || n.chars().any(char::is_control))
        {
            c.push(
                "institution.name",
                "too_long",
                "At most 120 printable characters.",
            );
        }
        let account_id = self.account_id;
        let institution_id = institution.institution_id;
        c.finish(|| ExchangeRequest {
            public_token: public_token.unwrap_or_default(),
            account_id,
            institution_id,
            institution_name: name,
        })
    }
}

impl HttpApp for Exchange {
    const NAME: &'static str = "bank-exchange";
    type Error = wiring::Error;

    async fn handle(&self, req: Request, meta: RequestMeta) -> wiring::Answer {
        let viewer = wiring::viewer(&self.api.settings, &req)?;
        let input: ExchangeInput = http::parse_json(&req, 4 * 1024)?;
        let request = input.parse()?;
        // Only the owner links their bank account.
        let contractor = self
            .api
            .service
            .owned(&viewer, http::path_param(&req, "id")?)
            .await?;
        let (access_token, item_id) = self.plaid.exchange(&request.public_token).await?;
        let accounts = self.plaid.accounts(&access_token).await?;
        let account = match &request.account_id {
            Some(id) => accounts.iter().find(|a| &a.account_id == id),
            // Without a choice, the first checking account (payouts go to checking).
            None => accounts
                .iter()
                .find(|a| a.subtype.as_deref() == Some("checking"))
                .or(accounts.first()),
        }
        .ok_or_else(|| ApiError::Unprocessable {
            code: "account_not_found",
            detail: "The linked bank has no such deposit account; choose a checking or savings account in Plaid Link.".into(),
        })?;
        let evidence_version = self
            .verification
            .requirements
            .get(&contractor.id, BANK_ACCOUNT)
            .await?
            .map(|(r, _)| r.evidence_version)
            .unwrap_or(0)
            + 1;
        let encrypted = self
            .api
            .service
            .cipher
            .encrypt(
                access_token.as_bytes(),
                &[
                    ("contractor_id", contractor.id.as_str()),
                    ("purpose", "plaid_access_token"),
                    ("item_id", &item_id),
                ],
            )
            .await
            .map_err(ApiError::internal)?;
        let now = self.verification.now();
        let link = BankLink {
            item_id,
            contractor_id: contractor.id.clone(),
            account_id: account.account_id.clone(),
            mask: account.mask.clone(),
            account_name: account.name.clone(),
            subtype: account.subtype.clone(),
            institution_id: request.institution_id,
            institution_name: request.institution_name,
            verification: account.verification,
            evidence_version,
            access_token: encrypted,
            linked_at: now,
        };
        self.banks.save(&link).await?;
        self.verification
            .record(
                &contractor.id,
                BANK_ACCOUNT,
                &BANK_SOURCES,
                &link.result("linked", now),
                meta.correlation_id.as_str(),
            )
            .await?;
        let (requirement, _) = self
            .verification
            .requirements
            .get(&contractor.id, BANK_ACCOUNT)
            .await?
            .ok_or(ApiError::NotFound("requirement"))?;
        tracing::info!(contractor_id = %contractor.id, verification = ?link.verification, numbers = account.numbers_available, "bank account linked");
        Ok(http::json(
            200,
            &serde_json::json!({"object": "bank_account", "account": link.summary(), "requirement": requirement.view()}),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exchange_requests_are_validated_field_by_field() {
        let ok = ExchangeInput {
            public_token: Some("public-sandbox-5c224a01-8314-4491-a06f-39e193d5cddc".into()),
            account_id: Some("vzeNDwK7KQIm4yEog683uElbp9GRLEFXGK98D".into()),
            institution: Some(InstitutionInput {
                institution_id: Some("ins_109508".into()),
                name: Some(" First Platypus Bank ".into()),
            }),
        }
        .parse()
        .unwrap();
        assert_eq!(ok.institution_name.as_deref(), Some("First Platypus Bank"));
        let bad = ExchangeInput {
            public_token: Some("access-sandbox-123".into()),
            account_id: Some("a b".into()),
            institution: Some(InstitutionInput {
                institution_id: Some("ins/1".into()),
                name: None,
            }),
        }
        .parse()
        .unwrap_err();
        let fields: Vec<&str> = bad.0.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            ["public_token", "account_id", "institution.institution_id"]
        );
        let missing = ExchangeInput::default().parse().unwrap_err();
        assert_eq!(missing.0[0].code, "required");
    }
}
