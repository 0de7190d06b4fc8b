//! The documents bucket as the pipeline's object store (fetch, quarantine, tags) and the
//! uploads queue as the way to ask for a scan again.

use aws_sdk_s3::types::{Tag, Tagging, TaggingDirective};
use domain::pipeline::{EngineError, ObjectStore, ScanRequests, UploadedObject};

/// Prefix refused objects are moved under; nothing reads from it but people investigating.
pub const QUARANTINE_PREFIX: &str = "quarantine/";

/// The largest object we read into memory: above every kind's limit.
const MAX_FETCH: i64 = 16 * 1024 * 1024;

#[derive(Clone, Debug)]
pub struct S3Objects {
    client: aws_sdk_s3::Client,
    bucket: String,
}

fn engine(e: impl std::error::Error + 'static) -> EngineError {
    EngineError(aws_sdk_s3::error::DisplayErrorContext(e).to_string())
}

impl S3Objects {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        S3Objects {
            client,
            bucket: bucket.into(),
        }
    }

    pub fn from_env(
        env: &platform::Env,
        aws: &platform::aws::Aws,
    ) -> Result<Self, platform::ConfigError> {
        Ok(S3Objects::new(aws.s3(), env.required("DOCUMENTS_BUCKET")?))
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// A GET URL for `key` that works for `expires` (a provider fetches the document with it).
    pub async fn presigned_get(
        &self,
        key: &str,
        expires: std::time::Duration,
    ) -> Result<String, EngineError> {
        let config = aws_sdk_s3::presigning::PresigningConfig::expires_in(expires)
            .map_err(|e| EngineError(e.to_string()))?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(config)
            .await
            .map_err(engine)?;
        Ok(request.uri().to_owned())
    }

    fn tagging(tags: &[(&str, &str)]) -> Result<Tagging, EngineError> {
        let tags = tags
            .iter()
            .map(|(k, v)| Tag::builder().key(*k).value(*v).build().map_err(engine))
            .collect::<Result<Vec<_>, _>>()?;
        Tagging::builder()
            .set_tag_set(Some(tags))
            .build()
            .map_err(engine)
    }
}

impl ObjectStore for S3Objects {
    async fn fetch(
        &self,
        key: &str,
        version: Option<&str>,
    ) -> Result<Option<Vec<u8>>, EngineError> {
        let out = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .set_version_id(version.map(str::to_owned))
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(engine(e)),
        };
        if out.content_length.unwrap_or(0) > MAX_FETCH {
            return Err(EngineError(format!(
                "{key} is larger than {MAX_FETCH} bytes"
            )));
        }
        let bytes = out.body.collect().await.map_err(engine)?;
        Ok(Some(bytes.into_bytes().to_vec()))
    }

    async fn head(&self, key: &str) -> Result<Option<UploadedObject>, EngineError> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => Ok(Some(UploadedObject {
                key: key.to_owned(),
                version_id: out.version_id,
                size: out.content_length.unwrap_or(0).max(0) as u64,
            })),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
            Err(e) => Err(engine(e)),
        }
    }

    /// Copies the object (that version) under `quarantine/` with tags saying why, then
    /// deletes that version from its place, so no reader finds it there. Repeating is
    /// harmless: a version already moved is skipped.
    async fn quarantine(
        &self,
        key: &str,
        version: Option<&str>,
        code: &str,
    ) -> Result<(), EngineError> {
        let mut source = format!(
            "{}/{}",
            self.bucket,
            urlencoding::encode(key).replace("%2F", "/")
        );
        if let Some(v) = version {
            source.push_str(&format!("?versionId={}", urlencoding::encode(v)));
        }
        let target = format!("{QUARANTINE_PREFIX}{key}");
        let copied = self
            .client
            .copy_object()
            .bucket(&self.bucket)
            .key(&target)
            .copy_source(source)
            .tagging_directive(TaggingDirective::Replace)
            .tagging(format!(
                "scan=rejected&reason={}",
                urlencoding::encode(code)
            ))
            .send()
            .await;
        match copied {
            Ok(_) => {}
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => {
                tracing::info!(key, "already quarantined or gone");
                return Ok(());
            }
            Err(e) => return Err(engine(e)),
        }
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .set_version_id(version.map(str::to_owned))
            .send()
            .await
            .map_err(engine)?;
        Ok(())
    }

    async fn mark_clean(&self, key: &str, version: Option<&str>) -> Result<(), EngineError> {
        self.client
            .put_object_tagging()
            .bucket(&self.bucket)
            .key(key)
            .set_version_id(version.map(str::to_owned))
            .tagging(Self::tagging(&[("scan", "clean")])?)
            .send()
            .await
            .map_err(engine)?;
        Ok(())
    }

    async fn put(&self, key: &str, bytes: &[u8], content_type: &str) -> Result<(), EngineError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(bytes.to_vec().into())
            .tagging("derived=disarmed")
            .send()
            .await
            .map_err(engine)?;
        Ok(())
    }
}

/// Asks for a scan by sending the uploads queue the notification S3 would have sent.
#[derive(Clone, Debug)]
pub struct SqsScanRequests {
    client: aws_sdk_sqs::Client,
    queue_url: String,
    bucket: String,
}

impl SqsScanRequests {
    pub fn from_env(
        env: &platform::Env,
        aws: &platform::aws::Aws,
    ) -> Result<Self, platform::ConfigError> {
        Ok(SqsScanRequests {
            client: aws.sqs(),
            queue_url: env.required("DOCUMENT_UPLOADS_QUEUE_URL")?,
            bucket: env.required("DOCUMENTS_BUCKET")?,
        })
    }
}

impl ScanRequests for SqsScanRequests {
    async fn request_scan(&self, object: &UploadedObject) -> Result<(), EngineError> {
        let body = platform::s3::notification(
            &self.bucket,
            object.key.as_str(),
            object.size,
            object.version_id.as_deref(),
        );
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body.to_string())
            .send()
            .await
            .map_err(|e| EngineError(aws_sdk_sqs::error::DisplayErrorContext(e).to_string()))?;
        Ok(())
    }
}
