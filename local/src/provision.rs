//! Creates in moto every resource the template declares that the functions touch: tables
//! (keys, GSIs, TTL), queues (redrive), topics and SQS subscriptions, buckets (versioning,
//! CORS, ObjectCreated → SQS notifications), secrets (local values) and KMS keys.
//! Naming is deterministic (`prefix + LogicalId` unless the template names the resource),
//! so `Ref`/`Fn::GetAtt` resolve the same way before and after provisioning.

use std::collections::HashMap;

use aws_sdk_dynamodb::types as ddb;
use aws_sdk_s3::types as s3t;
use serde_json::{Map, Value};

use crate::RunnerError;
use crate::model::enabled;
use crate::resolve::{ACCOUNT_ID, REGION, Resolver};
use crate::template::Template;

/// What provisioning found out: every queue's URL by ARN (the pollers need them).
#[derive(Clone, Debug, Default)]
pub struct Provisioned {
    pub queue_urls: HashMap<String, String>,
}

fn perr<E: std::error::Error + 'static>(what: String) -> impl FnOnce(E) -> RunnerError {
    move |e| {
        RunnerError::Provision(format!(
            "{what}: {}",
            aws_sdk_dynamodb::error::DisplayErrorContext(&e)
        ))
    }
}

fn str_prop(resolver: &Resolver, props: &Value, key: &str) -> Result<Option<String>, RunnerError> {
    props.get(key).map(|v| resolver.string(v)).transpose()
}

/// Fills `resolver.refs`/`attrs` with the local names of every resource.
pub fn name_resources(
    template: &Template,
    resolver: &mut Resolver,
    prefix: &str,
    moto: &str,
) -> Result<(), RunnerError> {
    let arn = |service: &str, rest: &str| format!("arn:aws:{service}:{REGION}:{ACCOUNT_ID}:{rest}");
    for res in template.resources.values() {
        if !enabled(res, resolver)? {
            continue;
        }
        let id = &res.logical_id;
        let p = &res.properties;
        let default_name = format!("{prefix}{id}");
        let (reference, extra): (String, Vec<(&str, String)>) = match res.kind.as_str() {
            "AWS::DynamoDB::Table" => {
                let name = str_prop(resolver, p, "TableName")?.unwrap_or(default_name);
                let a = arn("dynamodb", &format!("table/{name}"));
                (
                    name.clone(),
                    vec![
                        ("Arn", a.clone()),
                        ("StreamArn", format!("{a}/stream/local")),
                    ],
                )
            }
            "AWS::SQS::Queue" => {
                let fifo = p
                    .get("FifoQueue")
                    .is_some_and(|v| v == &Value::Bool(true) || v == "true");
                let mut name = str_prop(resolver, p, "QueueName")?.unwrap_or(default_name);
                if fifo && !name.ends_with(".fifo") {
                    name.push_str(".fifo");
                }
                let url = format!("{moto}/{ACCOUNT_ID}/{name}");
                (
                    url.clone(),
                    vec![
                        ("Arn", arn("sqs", &name)),
                        ("QueueName", name.clone()),
                        ("QueueUrl", url),
                    ],
                )
            }
            "AWS::SNS::Topic" => {
                let name = str_prop(resolver, p, "TopicName")?.unwrap_or(default_name);
                let a = arn("sns", &name);
                (a.clone(), vec![("TopicArn", a), ("TopicName", name)])
            }
            "AWS::S3::Bucket" => {
                let name = str_prop(resolver, p, "BucketName")?
                    .unwrap_or_else(|| default_name.to_lowercase());
                (
                    name.clone(),
                    vec![
                        ("Arn", format!("arn:aws:s3:::{name}")),
                        ("DomainName", format!("{name}.s3.amazonaws.com")),
                        (
                            "RegionalDomainName",
                            format!("{name}.s3.{REGION}.amazonaws.com"),
                        ),
                    ],
                )
            }
            "AWS::SecretsManager::Secret" => {
                let name = str_prop(resolver, p, "Name")?.unwrap_or(default_name);
                // The real ARN (with moto's random suffix) replaces this once created.
                (
                    arn("secretsmanager", &format!("secret:{name}")),
                    vec![("Name", name)],
                )
            }
            "AWS::Serverless::Function" => (
                default_name.clone(),
                vec![("Arn", arn("lambda", &format!("function:{default_name}")))],
            ),
            "AWS::Serverless::HttpApi" => (
                "local".to_owned(),
                vec![("ApiEndpoint", "http://127.0.0.1".to_owned())],
            ),
            _ => (id.clone(), vec![("Arn", arn("local", id))]),
        };
        for (attr, value) in extra {
            resolver.attrs.insert(format!("{id}.{attr}"), value);
        }
        resolver.refs.insert(id.clone(), reference);
    }
    Ok(())
}

/// Creates every enabled resource of the template in moto, in dependency order (tables,
/// queues then their redrive policies, topics and subscriptions, buckets, secrets, keys then
/// aliases), recording what `Ref` and `Fn::GetAtt` give for each.
pub async fn provision(
    template: &Template,
    resolver: &mut Resolver,
    aws: &platform::aws::Aws,
    local_secrets: &Map<String, Value>,
) -> Result<Provisioned, RunnerError> {
    let mut out = Provisioned::default();
    let live: Vec<_> = template
        .resources
        .values()
        .filter(|r| enabled(r, resolver).unwrap_or(false))
        .cloned()
        .collect();
    let of_kind = |kind: &'static str| live.iter().filter(move |r| r.kind == kind);

    let ddb = aws.dynamodb();
    for res in of_kind("AWS::DynamoDB::Table") {
        let props = resolver.resolve(&res.properties)?;
        create_table(&ddb, resolver, &res.logical_id, &props).await?;
    }
    // Queues first without redrive, then redrive once every target exists.
    let sqs = aws.sqs();
    for res in of_kind("AWS::SQS::Queue") {
        let props = resolver.resolve(&res.properties)?;
        let (arn, url) = create_queue(&sqs, resolver, &res.logical_id, &props).await?;
        out.queue_urls.insert(arn, url);
    }
    for res in of_kind("AWS::SQS::Queue") {
        let props = resolver.resolve(&res.properties)?;
        set_redrive(&sqs, resolver, &res.logical_id, &props).await?;
    }
    let sns = aws.sns();
    for res in of_kind("AWS::SNS::Topic") {
        let props = resolver.resolve(&res.properties)?;
        create_topic(&sns, resolver, &res.logical_id, &props).await?;
    }
    for res in of_kind("AWS::SNS::Subscription") {
        let props = resolver.resolve(&res.properties)?;
        let topic_arn = props
            .get("TopicArn")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        subscribe(&sns, &topic_arn, &props).await?;
    }
    let s3 = aws.s3();
    for res in of_kind("AWS::S3::Bucket") {
        let props = resolver.resolve(&res.properties)?;
        create_bucket(&s3, resolver, &res.logical_id, &props).await?;
    }
    let secrets = aws.secrets();
    for res in of_kind("AWS::SecretsManager::Secret") {
        let props = resolver.resolve(&res.properties)?;
        let value = match local_secrets.get(&res.logical_id) {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => generated_secret(&props),
        };
        create_secret(&secrets, resolver, &res.logical_id, &value).await?;
    }
    let kms = aws.kms();
    for res in of_kind("AWS::KMS::Key") {
        let props = resolver.resolve(&res.properties)?;
        create_key(&kms, resolver, &res.logical_id, &props).await?;
    }
    for res in of_kind("AWS::KMS::Alias") {
        let props = resolver.resolve(&res.properties)?;
        create_alias(&kms, resolver, &res.logical_id, &props).await?;
    }
    // SES sending identities: moto sends only from a verified identity, which its SES v1
    // API verifies at once (FIELD-NOTES); in AWS the identity's DNS or click verifies it.
    let ses = aws_sdk_ses::Client::new(&aws.sdk);
    for res in of_kind("AWS::SES::EmailIdentity") {
        let props = resolver.resolve(&res.properties)?;
        let identity = props
            .get("EmailIdentity")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        ses.verify_email_identity()
            .email_address(&identity)
            .send()
            .await
            .map_err(perr(format!("verify SES identity {identity}")))?;
        resolver.refs.insert(res.logical_id.clone(), identity);
    }
    Ok(out)
}

/// An SQS queue with the template's attributes; gives its ARN and URL.
async fn create_queue(
    sqs: &aws_sdk_sqs::Client,
    resolver: &mut Resolver,
    id: &str,
    p: &Value,
) -> Result<(String, String), RunnerError> {
    let name = resolver.attrs[&format!("{id}.QueueName")].clone();
    let mut req = sqs.create_queue().queue_name(&name);
    for attr in [
        "VisibilityTimeout",
        "MessageRetentionPeriod",
        "DelaySeconds",
        "ReceiveMessageWaitTimeSeconds",
        "FifoQueue",
        "ContentBasedDeduplication",
    ] {
        if let Some(v) = p.get(attr) {
            let text = v
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| v.to_string());
            req = req.attributes(aws_sdk_sqs::types::QueueAttributeName::from(attr), text);
        }
    }
    let created = req
        .send()
        .await
        .map_err(perr(format!("create queue {name}")))?;
    let url = created.queue_url.unwrap_or_default();
    resolver.refs.insert(id.to_owned(), url.clone());
    resolver.attrs.insert(format!("{id}.QueueUrl"), url.clone());
    Ok((resolver.attrs[&format!("{id}.Arn")].clone(), url))
}

/// A queue's dead-letter redrive policy, once its target exists.
async fn set_redrive(
    sqs: &aws_sdk_sqs::Client,
    resolver: &Resolver,
    id: &str,
    p: &Value,
) -> Result<(), RunnerError> {
    let Some(redrive) = p.get("RedrivePolicy") else {
        return Ok(());
    };
    sqs.set_queue_attributes()
        .queue_url(&resolver.refs[id])
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy,
            redrive.to_string(),
        )
        .send()
        .await
        .map_err(perr(format!("redrive policy of {id}")))?;
    Ok(())
}

/// An SNS topic with its inline subscriptions.
async fn create_topic(
    sns: &aws_sdk_sns::Client,
    resolver: &Resolver,
    id: &str,
    p: &Value,
) -> Result<(), RunnerError> {
    let name = resolver.attrs[&format!("{id}.TopicName")].clone();
    let created = sns
        .create_topic()
        .name(&name)
        .send()
        .await
        .map_err(perr(format!("create topic {name}")))?;
    let topic_arn = created.topic_arn.unwrap_or_default();
    for sub in p
        .get("Subscription")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
    {
        subscribe(sns, &topic_arn, &sub).await?;
    }
    Ok(())
}

/// A secret with its local value (or updated to it, when a previous run left it).
async fn create_secret(
    secrets: &aws_sdk_secretsmanager::Client,
    resolver: &mut Resolver,
    id: &str,
    value: &str,
) -> Result<(), RunnerError> {
    let name = resolver.attrs[&format!("{id}.Name")].clone();
    let arn = match secrets
        .create_secret()
        .name(&name)
        .secret_string(value)
        .send()
        .await
    {
        Ok(created) => created.arn.unwrap_or_default(),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_exists_exception()) =>
        {
            let put = secrets
                .put_secret_value()
                .secret_id(&name)
                .secret_string(value)
                .send()
                .await
                .map_err(perr(format!("update secret {name}")))?;
            put.arn.unwrap_or_default()
        }
        Err(e) => return Err(perr(format!("create secret {name}"))(e)),
    };
    resolver.refs.insert(id.to_owned(), arn.clone());
    resolver.attrs.insert(format!("{id}.Id"), arn);
    Ok(())
}

/// A KMS key; `Ref` gives its id.
async fn create_key(
    kms: &aws_sdk_kms::Client,
    resolver: &mut Resolver,
    id: &str,
    p: &Value,
) -> Result<(), RunnerError> {
    let mut req = kms.create_key();
    if let Some(desc) = p.get("Description").and_then(Value::as_str) {
        req = req.description(desc);
    }
    let created = req.send().await.map_err(perr(format!("create key {id}")))?;
    let meta = created
        .key_metadata
        .ok_or_else(|| RunnerError::Provision("CreateKey returned no metadata".into()))?;
    resolver.refs.insert(id.to_owned(), meta.key_id.clone());
    resolver
        .attrs
        .insert(format!("{id}.KeyId"), meta.key_id.clone());
    resolver
        .attrs
        .insert(format!("{id}.Arn"), meta.arn.unwrap_or_default());
    Ok(())
}

/// A KMS alias; `Ref` gives its name.
async fn create_alias(
    kms: &aws_sdk_kms::Client,
    resolver: &mut Resolver,
    id: &str,
    p: &Value,
) -> Result<(), RunnerError> {
    let field = |k: &str| {
        p.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let alias = field("AliasName");
    kms.create_alias()
        .alias_name(&alias)
        .target_key_id(field("TargetKeyId"))
        .send()
        .await
        .map_err(perr(format!("create alias {alias}")))?;
    resolver.refs.insert(id.to_owned(), alias);
    Ok(())
}

async fn create_table(
    client: &aws_sdk_dynamodb::Client,
    resolver: &Resolver,
    id: &str,
    p: &Value,
) -> Result<(), RunnerError> {
    let name = resolver.refs[id].clone();
    let key_schema = |v: &Value| -> Result<Vec<ddb::KeySchemaElement>, RunnerError> {
        v.as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|k| {
                ddb::KeySchemaElement::builder()
                    .attribute_name(k["AttributeName"].as_str().unwrap_or_default())
                    .key_type(ddb::KeyType::from(
                        k["KeyType"].as_str().unwrap_or_default(),
                    ))
                    .build()
                    .map_err(perr(format!("key schema of {id}")))
            })
            .collect()
    };
    let mut req = client
        .create_table()
        .table_name(&name)
        .billing_mode(ddb::BillingMode::PayPerRequest)
        .set_key_schema(Some(key_schema(&p["KeySchema"])?));
    for def in p["AttributeDefinitions"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        req = req.attribute_definitions(
            ddb::AttributeDefinition::builder()
                .attribute_name(def["AttributeName"].as_str().unwrap_or_default())
                .attribute_type(ddb::ScalarAttributeType::from(
                    def["AttributeType"].as_str().unwrap_or_default(),
                ))
                .build()
                .map_err(perr(format!("attribute definitions of {id}")))?,
        );
    }
    for gsi in p["GlobalSecondaryIndexes"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        let projection = ddb::Projection::builder()
            .projection_type(ddb::ProjectionType::from(
                gsi.pointer("/Projection/ProjectionType")
                    .and_then(Value::as_str)
                    .unwrap_or("ALL"),
            ))
            .build();
        req = req.global_secondary_indexes(
            ddb::GlobalSecondaryIndex::builder()
                .index_name(gsi["IndexName"].as_str().unwrap_or_default())
                .set_key_schema(Some(key_schema(&gsi["KeySchema"])?))
                .projection(projection)
                .build()
                .map_err(perr(format!("GSI of {id}")))?,
        );
    }
    match req.send().await {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_in_use_exception()) =>
        {
            tracing::info!(table = %name, "table exists; kept");
            return Ok(());
        }
        Err(e) => return Err(perr(format!("create table {name}"))(e)),
    }
    if let Some(ttl) = p.get("TimeToLiveSpecification")
        && ttl
            .get("Enabled")
            .is_some_and(|v| v == &Value::Bool(true) || v == "true")
    {
        let spec = ddb::TimeToLiveSpecification::builder()
            .attribute_name(ttl["AttributeName"].as_str().unwrap_or_default())
            .enabled(true)
            .build()
            .map_err(perr(format!("TTL of {id}")))?;
        client
            .update_time_to_live()
            .table_name(&name)
            .time_to_live_specification(spec)
            .send()
            .await
            .map_err(perr(format!("TTL of {name}")))?;
    }
    Ok(())
}

async fn subscribe(
    sns: &aws_sdk_sns::Client,
    topic_arn: &str,
    p: &Value,
) -> Result<(), RunnerError> {
    let protocol = p
        .get("Protocol")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if protocol != "sqs" {
        tracing::info!(
            topic = topic_arn,
            protocol,
            "subscription not emulated locally"
        );
        return Ok(());
    }
    let mut req = sns
        .subscribe()
        .topic_arn(topic_arn)
        .protocol("sqs")
        .endpoint(
            p.get("Endpoint")
                .and_then(Value::as_str)
                .unwrap_or_default(),
        )
        .return_subscription_arn(true);
    if p.get("RawMessageDelivery")
        .is_some_and(|v| v == &Value::Bool(true) || v == "true")
    {
        req = req.attributes("RawMessageDelivery", "true");
    }
    if let Some(policy) = p.get("FilterPolicy") {
        req = req.attributes("FilterPolicy", policy.to_string());
    }
    if let Some(scope) = p.get("FilterPolicyScope").and_then(Value::as_str) {
        req = req.attributes("FilterPolicyScope", scope);
    }
    req.send()
        .await
        .map_err(perr(format!("subscribe to {topic_arn}")))?;
    Ok(())
}

async fn create_bucket(
    s3: &aws_sdk_s3::Client,
    resolver: &Resolver,
    id: &str,
    p: &Value,
) -> Result<(), RunnerError> {
    let name = resolver.refs[id].clone();
    match s3.create_bucket().bucket(&name).send().await {
        Ok(_) => {}
        Err(e)
            if e.as_service_error().is_some_and(|s| {
                s.is_bucket_already_owned_by_you() || s.is_bucket_already_exists()
            }) => {}
        Err(e) => return Err(perr(format!("create bucket {name}"))(e)),
    }
    if p.pointer("/VersioningConfiguration/Status")
        .and_then(Value::as_str)
        == Some("Enabled")
    {
        s3.put_bucket_versioning()
            .bucket(&name)
            .versioning_configuration(
                s3t::VersioningConfiguration::builder()
                    .status(s3t::BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await
            .map_err(perr(format!("versioning of {name}")))?;
    }
    if let Some(rules) = p
        .pointer("/CorsConfiguration/CorsRules")
        .and_then(Value::as_array)
    {
        let list = |v: &Value, key: &str| -> Vec<String> {
            v.get(key)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut cors = s3t::CorsConfiguration::builder();
        for rule in rules {
            cors = cors.cors_rules(
                s3t::CorsRule::builder()
                    .set_allowed_methods(Some(list(rule, "AllowedMethods")))
                    .set_allowed_origins(Some(list(rule, "AllowedOrigins")))
                    .set_allowed_headers(Some(list(rule, "AllowedHeaders")))
                    .set_expose_headers(Some(list(rule, "ExposedHeaders")))
                    .set_max_age_seconds(
                        rule.get("MaxAge").and_then(Value::as_i64).map(|n| n as i32),
                    )
                    .build()
                    .map_err(perr(format!("CORS of {name}")))?,
            );
        }
        s3.put_bucket_cors()
            .bucket(&name)
            .cors_configuration(cors.build().map_err(perr(format!("CORS of {name}")))?)
            .send()
            .await
            .map_err(perr(format!("CORS of {name}")))?;
    }
    if let Some(queues) = p
        .pointer("/NotificationConfiguration/QueueConfigurations")
        .and_then(Value::as_array)
    {
        let mut notification = s3t::NotificationConfiguration::builder();
        for q in queues {
            let mut config = s3t::QueueConfiguration::builder()
                .queue_arn(q["Queue"].as_str().unwrap_or_default())
                .events(s3t::Event::from(q["Event"].as_str().unwrap_or_default()));
            if let Some(rules) = q.pointer("/Filter/S3Key/Rules").and_then(Value::as_array) {
                let mut key = s3t::S3KeyFilter::builder();
                for rule in rules {
                    key = key.filter_rules(
                        s3t::FilterRule::builder()
                            .name(s3t::FilterRuleName::from(
                                rule["Name"]
                                    .as_str()
                                    .unwrap_or_default()
                                    .to_lowercase()
                                    .as_str(),
                            ))
                            .value(rule["Value"].as_str().unwrap_or_default())
                            .build(),
                    );
                }
                config = config.filter(
                    s3t::NotificationConfigurationFilter::builder()
                        .key(key.build())
                        .build(),
                );
            }
            notification = notification.queue_configurations(
                config
                    .build()
                    .map_err(perr(format!("notification of {name}")))?,
            );
        }
        s3.put_bucket_notification_configuration()
            .bucket(&name)
            .notification_configuration(notification.build())
            .send()
            .await
            .map_err(perr(format!("notification of {name}")))?;
    }
    Ok(())
}

/// A value for a secret the dev file does not give: the template's
/// `GenerateSecretString` with a random string under its key.
fn generated_secret(p: &Value) -> String {
    let random = || {
        let a = ulid::Ulid::new().to_string();
        let b = ulid::Ulid::new().to_string();
        format!("local{a}{b}").to_lowercase()
    };
    match p.get("GenerateSecretString") {
        Some(g) => {
            let mut doc: Map<String, Value> = g
                .get("SecretStringTemplate")
                .and_then(Value::as_str)
                .and_then(|t| serde_json::from_str(t).ok())
                .unwrap_or_default();
            match g.get("GenerateStringKey").and_then(Value::as_str) {
                Some(key) => {
                    doc.insert(key.to_owned(), Value::String(random()));
                    Value::Object(doc).to_string()
                }
                None => random(),
            }
        }
        None => p
            .get("SecretString")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(random),
    }
}
