//! Documents on DynamoDB (one item per document, listed per contractor through GSI1) and
//! presigned S3 uploads bound to the declared length, type and checksum.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_s3::presigning::PresigningConfig;
use domain::documents::{Document, DocumentRepository, PresignedUpload, UploadSigner};
use domain::ids::{ContractorId, DocumentId};
use domain::ports::{CryptoError, RepoError};
use serde::{Deserialize, Serialize};

use crate::{Table, keys};

#[derive(Clone, Debug)]
pub struct DynamoDocuments {
    table: Table,
}

impl DynamoDocuments {
    pub fn new(table: Table) -> Self {
        DynamoDocuments { table }
    }
}

#[derive(Serialize, Deserialize)]
struct DocumentItem {
    pk: String,
    sk: String,
    entity: String,
    gsi1pk: String,
    gsi1sk: String,
    #[serde(flatten)]
    document: Document,
}

fn store_err(e: impl std::error::Error + Send + Sync + 'static) -> RepoError {
    RepoError::Store(Box::new(e))
}

impl DocumentRepository for DynamoDocuments {
    async fn create(&self, doc: &Document) -> Result<(), RepoError> {
        let item = DocumentItem {
            pk: keys::document_pk(&doc.id),
            sk: keys::DOCUMENT_SK.to_owned(),
            entity: "document".to_owned(),
            gsi1pk: keys::contractor_documents_gsi1pk(&doc.contractor_id),
            gsi1sk: format!(
                "{}#{}",
                doc.created_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                doc.id
            ),
            document: doc.clone(),
        };
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
    async fn presign_put(&self, doc: &Document) -> Result<PresignedUpload, CryptoError> {
        let window = (doc.upload_expires_at - doc.created_at)
            .to_std()
            .map_err(|e| CryptoError(e.to_string()))?;
        let config =
            PresigningConfig::expires_in(window).map_err(|e| CryptoError(e.to_string()))?;
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
            .map_err(|e| CryptoError(aws_sdk_s3::error::DisplayErrorContext(e).to_string()))?;
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
