//! S3 event notifications as they arrive through SQS: the `s3:TestEvent` S3 posts when a
//! notification is configured is recognised and skipped, and object keys, which S3 sends
//! form-encoded (`+` for space, `%XX` escapes), are decoded.

use serde::Deserialize;

/// One object that was created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectCreated {
    pub event_name: String,
    pub bucket: String,
    /// The decoded key, exactly as it was written.
    pub key: String,
    pub size: i64,
    pub etag: Option<String>,
    pub version_id: Option<String>,
    pub sequencer: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum S3EventError {
    #[error("the message is not an S3 event notification: {0}")]
    NotAnEvent(String),
    #[error("object key {0:?} is not valid form encoding")]
    BadKey(String),
}

/// An S3 event notification as an SQS record's body carries it.
#[derive(Clone, Debug, Deserialize)]
pub struct Notification {
    #[serde(rename = "Records", default)]
    records: Vec<Record>,
    #[serde(rename = "Event")]
    event: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    event_name: String,
    s3: Entity,
}

#[derive(Clone, Debug, Deserialize)]
struct Entity {
    bucket: Bucket,
    object: Object,
}

#[derive(Clone, Debug, Deserialize)]
struct Bucket {
    name: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Object {
    key: String,
    #[serde(default)]
    size: i64,
    e_tag: Option<String>,
    version_id: Option<String>,
    sequencer: Option<String>,
}

/// Decodes a key as S3 encodes it in notifications.
pub fn decode_key(raw: &str) -> Result<String, S3EventError> {
    urlencoding::decode(&raw.replace('+', " "))
        .map(|k| k.into_owned())
        .map_err(|_| S3EventError::BadKey(raw.to_owned()))
}

/// The objects a notification body announces. A test event gives none.
pub fn objects_created(body: &str) -> Result<Vec<ObjectCreated>, S3EventError> {
    let n: Notification =
        serde_json::from_str(body).map_err(|e| S3EventError::NotAnEvent(e.to_string()))?;
    n.objects_created()
}

impl Notification {
    /// The objects the notification announces. A test event gives none.
    pub fn objects_created(&self) -> Result<Vec<ObjectCreated>, S3EventError> {
        if self.event.as_deref() == Some("s3:TestEvent") {
            return Ok(Vec::new());
        }
        if self.records.is_empty() {
            return Err(S3EventError::NotAnEvent("no Records".into()));
        }
        self.records
            .iter()
            .filter(|r| r.event_name.starts_with("ObjectCreated:"))
            .map(|r| {
                Ok(ObjectCreated {
                    key: decode_key(&r.s3.object.key)?,
                    event_name: r.event_name.clone(),
                    bucket: r.s3.bucket.name.clone(),
                    size: r.s3.object.size,
                    etag: r.s3.object.e_tag.clone(),
                    version_id: r.s3.object.version_id.clone(),
                    sequencer: r.s3.object.sequencer.clone(),
                })
            })
            .collect()
    }
}

/// A notification as S3 sends it for one created object (keys form-encoded), for
/// re-requesting work on an object whose notification was lost.
pub fn notification(
    bucket: &str,
    key: &str,
    size: u64,
    version_id: Option<&str>,
) -> serde_json::Value {
    let encoded = urlencoding::encode(key).replace("%20", "+");
    serde_json::json!({"Records": [{
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "eventName": "ObjectCreated:Put",
        "s3": {
            "bucket": {"name": bucket},
            "object": {"key": encoded, "size": size, "versionId": version_id}
        }
    }]})
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_notification_round_trips() {
        let body = notification("docs", "contractors/c 1/x.pdf", 9, Some("v")).to_string();
        let objects = objects_created(&body).unwrap();
        assert_eq!(objects[0].key, "contractors/c 1/x.pdf");
        assert_eq!(objects[0].size, 9);
        assert_eq!(objects[0].version_id.as_deref(), Some("v"));
    }

    use super::*;

    #[test]
    fn test_events_are_skipped() {
        let body = r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-22T10:00:00.000Z","Bucket":"docs","RequestId":"x","HostId":"y"}"#;
        assert_eq!(objects_created(body).unwrap(), vec![]);
    }

    #[test]
    fn keys_are_form_decoded() {
        let body = serde_json::json!({"Records": [{
            "eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
            "s3": {"bucket": {"name": "docs"}, "object": {"key": "contractors%2Fctr_1%2FMy+License+%281%29.pdf", "size": 42, "eTag": "abc", "versionId": "v1", "sequencer": "0A"}}
        }]})
        .to_string();
        let objects = objects_created(&body).unwrap();
        assert_eq!(objects[0].key, "contractors/ctr_1/My License (1).pdf");
        assert_eq!(objects[0].size, 42);
        assert_eq!(objects[0].version_id.as_deref(), Some("v1"));
    }

    #[test]
    fn other_messages_are_errors() {
        assert!(objects_created("not json").is_err());
        assert!(objects_created("{}").is_err());
    }
}
