//! Documents on DynamoDB (one item per document, listed per contractor through GSI1) and
//! presigned S3 uploads bound to the declared length, type and checksum.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::types::Put;
use aws_sdk_s3::presigning::PresigningConfig;
use domain::documents::{
    Document, DocumentRepository, DocumentStatus, PresignedUpload, SigningError, UploadSigner,
};
use domain::events::DomainEvent;
use domain::ids::{ContractorId, DocumentId};
use domain::pipeline::DocumentWrites;
use domain::ports::RepoError;
use platform::events::SnsPublisher;
use serde::{Deserialize, Serialize};

use crate::{Table, keys};

#[derive(Clone, Debug)]
pub struct DynamoDocuments {
    table: Table,
    publisher: Option<SnsPublisher>,
}

impl DynamoDocuments {
    pub fn new(table: Table) -> Self {
        DynamoDocuments {
            table,
            publisher: None,
        }
    }

    /// Publishes a save's events right after the commit (else the relay does, later).
    pub fn with_publisher(mut self, publisher: SnsPublisher) -> Self {
        self.publisher = Some(publisher);
        self
    }

    /// The adapter for `TABLE_NAME`, publishing to `EVENTS_TOPIC_ARN`.
    pub fn from_env(
        env: &platform::Env,
        aws: &platform::aws::Aws,
    ) -> Result<Self, platform::ConfigError> {
        Ok(DynamoDocuments::new(Table::from_env(env, aws)?)
            .with_publisher(SnsPublisher::from_env(env, aws)?))
    }
}

#[derive(Serialize, Deserialize)]
struct DocumentItem {
    pk: String,
    sk: String,
    entity: String,
    gsi1pk: String,
    gsi1sk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi2pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi2sk: Option<String>,
    /// DynamoDB TTL (epoch seconds): an intent that expired unused is removed after a while.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<i64>,
    #[serde(flatten)]
    document: Document,
}

/// How long the record of an upload that never came stays readable.
const EXPIRED_INTENT_RETENTION_DAYS: i64 = 30;

impl DocumentItem {
    fn new(doc: &Document) -> Self {
        let ts = |t: &chrono::DateTime<chrono::Utc>| {
            t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        };
        let in_flight = doc.status.in_flight().then_some(doc.deadline).flatten();
        // A final document is either nowhere in GSI2 or, once replaced, in the retention
        // partition by the time it was replaced.
        let (gsi2pk, gsi2sk) = match (in_flight, doc.superseded_at) {
            (Some(deadline), _) => (
                Some(keys::document_in_flight_gsi2pk(doc.status.as_str())),
                Some(format!("{}#{}", ts(&deadline), doc.id)),
            ),
            (None, Some(at)) => (
                Some(keys::SUPERSEDED_DOCUMENTS_GSI2PK.to_owned()),
                Some(format!("{}#{}", ts(&at), doc.id)),
            ),
            (None, None) => (None, None),
        };
        DocumentItem {
            pk: keys::document_pk(&doc.id),
            sk: keys::DOCUMENT_SK.to_owned(),
            entity: "document".to_owned(),
            gsi1pk: keys::contractor_documents_gsi1pk(&doc.contractor_id),
            gsi1sk: format!("{}#{}", ts(&doc.created_at), doc.id),
            gsi2pk,
            gsi2sk,
            expires_at: (doc.status == DocumentStatus::Expired).then(|| {
                let expired_at = doc.history.last().map_or(doc.created_at, |h| h.at);
                (expired_at + chrono::Duration::days(EXPIRED_INTENT_RETENTION_DAYS)).timestamp()
            }),
            document: doc.clone(),
        }
    }
}

fn store_err(e: impl std::error::Error + Send + Sync + 'static) -> RepoError {
    RepoError::Store(Box::new(e))
}

impl DocumentRepository for DynamoDocuments {
    async fn create(&self, doc: &Document) -> Result<(), RepoError> {
        let item = DocumentItem::new(doc);
        self.table
            .client
            .put_item()
            .table_name(&self.table.name)
            .set_item(Some(serde_dynamo::to_item(item).map_err(store_err)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(|e| RepoError::Store(crate::failure(&e)))?;
        Ok(())
    }

    async fn get(&self, id: &DocumentId) -> Result<Option<Document>, RepoError> {
        self.table
            .get_item(keys::document_pk(id), keys::DOCUMENT_SK)
            .await?
            .map(|item| {
                serde_dynamo::from_item::<_, DocumentItem>(item)
                    .map(|d| d.document)
                    .map_err(store_err)
            })
            .transpose()
    }

    async fn list_for(&self, contractor: &ContractorId) -> Result<Vec<Document>, RepoError> {
        let out = self
            .table
            .client
            .query()
            .table_name(&self.table.name)
            .index_name(keys::GSI1)
            .key_condition_expression("gsi1pk = :pk")
            .expression_attribute_values(
                ":pk",
                AttributeValue::S(keys::contractor_documents_gsi1pk(contractor)),
            )
            .scan_index_forward(false)
            .limit(100)
            .send()
            .await
            .map_err(|e| RepoError::Store(crate::failure(&e)))?;
        out.items
            .unwrap_or_default()
            .into_iter()
            .map(|item| {
                serde_dynamo::from_item::<_, DocumentItem>(item)
                    .map(|d| d.document)
                    .map_err(store_err)
            })
            .collect()
    }
}

fn from_item(
    item: std::collections::HashMap<String, AttributeValue>,
) -> Result<Document, RepoError> {
    serde_dynamo::from_item::<_, DocumentItem>(item)
        .map(|d| d.document)
        .map_err(store_err)
}

impl DocumentWrites for DynamoDocuments {
    /// The document (conditional on the revision it was read at) and its outbox events in
    /// one transaction; the events are published after the commit.
    async fn save(
        &self,
        doc: &Document,
        read_at_revision: u64,
        events: &[DomainEvent],
    ) -> Result<(), RepoError> {
        let item = serde_dynamo::to_item(DocumentItem::new(doc)).map_err(store_err)?;
        let document = Put::builder()
            .table_name(&self.table.name)
            .set_item(Some(item))
            .condition_expression("#revision = :revision")
            .expression_attribute_names("#revision", "revision")
            .expression_attribute_values(
                ":revision",
                AttributeValue::N(read_at_revision.to_string()),
            )
            .build()
            .map_err(store_err)?;
        crate::outbox::commit_with_events(&self.table, self.publisher.as_ref(), document, events)
            .await
    }

    async fn overdue(
        &self,
        status: DocumentStatus,
        now: chrono::DateTime<chrono::Utc>,
        limit: usize,
    ) -> Result<Vec<Document>, RepoError> {
        let out = self
            .table
            .client
            .query()
            .table_name(&self.table.name)
            .index_name(keys::GSI2)
            .key_condition_expression("gsi2pk = :pk AND gsi2sk < :now")
            .expression_attribute_values(
                ":pk",
                AttributeValue::S(keys::document_in_flight_gsi2pk(status.as_str())),
            )
            .expression_attribute_values(
                ":now",
                AttributeValue::S(now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
            )
            .limit(limit.min(1000) as i32)
            .send()
            .await
            .map_err(|e| RepoError::Store(crate::failure(&e)))?;
        // The index is eventually consistent: read each document again before acting on it.
        let mut docs = Vec::new();
        for item in out.items.unwrap_or_default() {
            let listed = from_item(item)?;
            if let Some(doc) = self.get(&listed.id).await?
                && doc.status == status
            {
                docs.push(doc);
            }
        }
        Ok(docs)
    }
}

impl DynamoDocuments {
    /// Documents replaced before `cutoff`, oldest first, up to `limit`; `true` when more
    /// wait (the retention job's bounded read).
    pub async fn superseded_before(
        &self,
        cutoff: chrono::DateTime<chrono::Utc>,
        limit: usize,
    ) -> Result<(Vec<Document>, bool), RepoError> {
        let (listed, more) = self
            .table
            .query_index_capped::<DocumentItem>(
                keys::GSI2,
                "gsi2pk = :pk AND gsi2sk < :cutoff",
                &[
                    (":pk", keys::SUPERSEDED_DOCUMENTS_GSI2PK.to_owned()),
                    (
                        ":cutoff",
                        cutoff.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                    ),
                ],
                limit,
            )
            .await?;
        Ok((listed.into_iter().map(|i| i.document).collect(), more))
    }
}

/// Presigns S3 PUTs with the content length, type and SHA-256 checksum as signed headers:
/// S3 refuses an upload whose body does not match them.
#[derive(Clone, Debug)]
pub struct S3UploadSigner {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3UploadSigner {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        S3UploadSigner {
            client,
            bucket: bucket.into(),
        }
    }

    pub fn from_env(
        env: &platform::Env,
        aws: &platform::aws::Aws,
    ) -> Result<Self, platform::ConfigError> {
        Ok(S3UploadSigner::new(
            aws.s3(),
            env.required("DOCUMENTS_BUCKET")?,
        ))
    }
}

impl UploadSigner for S3UploadSigner {
    async fn presign_put(&self, doc: &Document) -> Result<PresignedUpload, SigningError> {
        let window = (doc.upload_expires_at - doc.created_at)
            .to_std()
            .map_err(|e| SigningError(e.to_string()))?;
        let config =
            PresigningConfig::expires_in(window).map_err(|e| SigningError(e.to_string()))?;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(&doc.object_key)
            .content_type(&doc.content_type)
            .content_length(doc.size as i64)
            .checksum_sha256(&doc.sha256)
            .presigned(config)
            .await
            .map_err(|e| SigningError(aws_sdk_s3::error::DisplayErrorContext(e).to_string()))?;
        let headers: BTreeMap<String, String> = request
            .headers()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
            .collect();
        Ok(PresignedUpload {
            method: request.method().to_owned(),
            url: request.uri().to_owned(),
            headers,
            expires_at: doc.upload_expires_at,
        })
    }
}
