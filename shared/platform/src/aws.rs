//! AWS SDK configuration, built once per cold start.
//!
//! `AWS_ENDPOINT_URL` (read from the function's [`Env`]) points every client at a local
//! emulator; in the cloud it is unset and the SDK's defaults apply. S3 then also switches to
//! path-style addressing, which emulators need.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;

use crate::env::Env;

/// Shared SDK configuration plus what per-service builders need to know.
#[derive(Clone, Debug)]
pub struct Aws {
    pub sdk: SdkConfig,
    /// True when an explicit endpoint (an emulator) is in use.
    pub custom_endpoint: bool,
}

impl Aws {
    /// Loads the configuration. Explicit values in `env` win over the SDK's provider chain,
    /// so the local runner can give each in-process function its own settings.
    pub async fn load(env: &Env) -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        let endpoint = env.get("AWS_ENDPOINT_URL");
        if let Some(url) = &endpoint {
            loader = loader.endpoint_url(url);
        }
        if let Some(region) = env
            .get("AWS_REGION")
            .or_else(|| env.get("AWS_DEFAULT_REGION"))
        {
            loader = loader.region(Region::new(region));
        }
        if let (Some(id), Some(secret)) = (
            env.get("AWS_ACCESS_KEY_ID"),
            env.get("AWS_SECRET_ACCESS_KEY"),
        ) {
            let creds = Credentials::new(
                id,
                secret,
                env.get("AWS_SESSION_TOKEN"),
                None,
                "environment",
            );
            loader = loader.credentials_provider(creds);
        }
        Aws {
            sdk: loader.load().await,
            custom_endpoint: endpoint.is_some(),
        }
    }

    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.sdk)
    }

    pub fn s3(&self) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::config::Builder::from(&self.sdk)
            .force_path_style(self.custom_endpoint)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.sdk)
    }

    pub fn sns(&self) -> aws_sdk_sns::Client {
        aws_sdk_sns::Client::new(&self.sdk)
    }

    pub fn secrets(&self) -> aws_sdk_secretsmanager::Client {
        aws_sdk_secretsmanager::Client::new(&self.sdk)
    }

    pub fn kms(&self) -> aws_sdk_kms::Client {
        aws_sdk_kms::Client::new(&self.sdk)
    }
}
