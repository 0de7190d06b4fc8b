//! The baseline of `make bench-coldstart`: the least a Rust Lambda function can be, a
//! `lambda_runtime` loop around an echo handler, built with the same profile as the
//! product's functions. Whatever a function adds to its init is measured against this.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<Value, Error>(event.payload)
    }))
    .await
}
