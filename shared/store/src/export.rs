//! A contractor's personal-data export: everything the subject finder finds that the data
//! map says is about them, in one zip archive with a machine-readable `index.json`:
//! - `data/<holding>.json`: the items of each holding, as JSON, without key attributes;
//! - `documents/<doc>/original.<ext>`: the current version of each document they uploaded;
//! - `index.json`: the export's id, the contractor, when, every holding with its personal
//!   data, retention, legal basis and erasure rule, every file with its size and SHA-256,
//!   and what was withheld and why.
//!
//! Sealed values (the TIN, the bank access token) are withheld: the archive is a file that
//! leaves our keys' protection, the TIN is in it masked (the tax step), and the access
//! token is a credential, not information about the person. The data key item is key
//! material, never exported. The archive goes under `exports/contractors/<ctr>/`, SSE-KMS,
//! where a lifecycle rule removes it after 7 days and erasure finds it.

use std::collections::BTreeMap;
use std::io::Write;

use domain::ids::ContractorId;
use domain::ports::RepoError;
use domain::privacy::{Erasure, Holding, LegalBasis, Retention};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::privacy_jobs::{ExportJob, export_object_key};
use crate::subject::SubjectFinder;
use crate::{Table, failure, keys};

/// What an export wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportArchive {
    pub object_key: String,
    pub bytes: u64,
    pub sha256: String,
    /// Files in the archive besides the index.
    pub entries: usize,
}

#[derive(Clone, Debug)]
pub struct Exporter {
    finder: SubjectFinder,
    table: Table,
    s3: aws_sdk_s3::Client,
    bucket: String,
}

/// The archive's format name, in the index.
pub const FORMAT: &str = "holiday-lights.contractor-export/1";

/// Holdings an export never includes, with why.
const WITHHELD_HOLDINGS: &[(&str, &str)] = &[
    (
        "contractor data key",
        "key material that protects your sealed values, not information about you",
    ),
    (
        "personal data export job",
        "the bookkeeping of exports themselves",
    ),
];

impl Exporter {
    pub fn new(table: Table, s3: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        let bucket = bucket.into();
        Exporter {
            finder: SubjectFinder::new(table.clone(), s3.clone(), bucket.clone()),
            table,
            s3,
            bucket,
        }
    }

    /// Gathers, packs and stores `job`'s archive. Running it again writes the same archive
    /// key again (a new version, the same contents but for the time): safe to retry.
    pub async fn run(
        &self,
        job: &ExportJob,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<ExportArchive, RepoError> {
        let contractor = &job.contractor_id;
        let found = self.finder.find(contractor, now.date_naive()).await?;
        let mut by_holding: BTreeMap<&'static str, (&'static Holding, Vec<Value>)> =
            BTreeMap::new();
        let mut sealed_withheld = 0usize;
        let wanted: Vec<(String, String)> = found
            .items
            .iter()
            .filter(|i| {
                i.holding.is_some_and(|h| {
                    h.exported() && !WITHHELD_HOLDINGS.iter().any(|(n, _)| *n == h.name)
                })
            })
            .map(|i| (i.pk.clone(), i.sk.clone()))
            .collect();
        // Read in batches; items gone since they were found (a TTL, a consumer) are simply
        // not returned. Each file lists its items in key order (audit entries by sequence).
        let mut rows: Vec<(String, String, Value)> = Vec::new();
        for raw in self.table.batch_get(&wanted).await? {
            let text = |k: &str| {
                raw.get(k)
                    .and_then(|v| v.as_s().ok())
                    .cloned()
                    .unwrap_or_default()
            };
            let (pk, sk) = (text(keys::PK), text(keys::SK));
            let value: Value =
                serde_dynamo::from_item(raw).map_err(|e| RepoError::Store(Box::new(e)))?;
            rows.push((pk, sk, value));
        }
        rows.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        for (pk, sk, mut value) in rows {
            let Some(kind) = crate::data_map::item_kind(&pk, &sk) else {
                continue;
            };
            strip_keys(&mut value);
            sealed_withheld += withhold_sealed(&mut value);
            by_holding
                .entry(kind.holding.name)
                .or_insert((&kind.holding, Vec::new()))
                .1
                .push(value);
        }
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        let mut files = Vec::new();
        let mut holdings = Vec::new();
        let mut add = |zip: &mut zip::ZipWriter<std::io::Cursor<Vec<u8>>>,
                       path: String,
                       holding: &str,
                       bytes: &[u8]|
         -> Result<(), RepoError> {
            zip.start_file(path.as_str(), options)
                .map_err(zip_failure)?;
            zip.write_all(bytes)
                .map_err(|e| RepoError::Store(Box::new(e)))?;
            files.push(json!({
                "path": path,
                "holding": holding,
                "bytes": bytes.len(),
                "sha256": hex::encode(Sha256::digest(bytes)),
            }));
            Ok(())
        };
        for (name, (holding, rows)) in &by_holding {
            let path = format!("data/{}.json", slug(name));
            let body =
                serde_json::to_vec_pretty(rows).map_err(|e| RepoError::Store(Box::new(e)))?;
            add(&mut zip, path.clone(), name, &body)?;
            holdings.push(describe(holding, Some((&path, rows.len()))));
        }
        // The current version of each document original (never delete markers, never
        // derivatives: the original is what the contractor gave us).
        let mut seen = std::collections::BTreeSet::new();
        for object in &found.objects {
            let Some(holding) = object.holding else {
                continue;
            };
            if object.delete_marker
                || holding.name != "document original"
                || !seen.insert(object.key.clone())
            {
                continue;
            }
            let got = match self
                .s3
                .get_object()
                .bucket(&self.bucket)
                .key(&object.key)
                .send()
                .await
            {
                Ok(got) => got,
                // Deleted since (only delete markers left): nothing current to give.
                Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => continue,
                Err(e) => return Err(RepoError::Store(failure(&e))),
            };
            let bytes = got
                .body
                .collect()
                .await
                .map_err(|e| RepoError::Store(Box::new(e)))?
                .into_bytes();
            let path = object
                .key
                .strip_prefix(&format!("contractors/{contractor}/"))
                .unwrap_or(&object.key)
                .to_owned();
            add(&mut zip, path, holding.name, &bytes)?;
            if !holdings.iter().any(|h| h["name"] == holding.name) {
                holdings.push(describe(holding, None));
            }
        }
        let entries = files.len();
        let index = json!({
            "format": FORMAT,
            "export_id": job.export_id,
            "contractor_id": contractor,
            "generated_at": now.to_rfc3339(),
            "holdings": holdings,
            "files": files,
            "withheld": withheld(sealed_withheld),
        });
        let body = serde_json::to_vec_pretty(&index).map_err(|e| RepoError::Store(Box::new(e)))?;
        zip.start_file("index.json", options).map_err(zip_failure)?;
        zip.write_all(&body)
            .map_err(|e| RepoError::Store(Box::new(e)))?;
        let archive = zip.finish().map_err(zip_failure)?.into_inner();
        let object_key = export_object_key(contractor, &job.export_id);
        let sha256 = hex::encode(Sha256::digest(&archive));
        let bytes = archive.len() as u64;
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(&object_key)
            .content_type("application/zip")
            .content_disposition(format!("attachment; filename=\"{}.zip\"", job.export_id))
            .server_side_encryption(aws_sdk_s3::types::ServerSideEncryption::AwsKms)
            .body(archive.into())
            .send()
            .await
            .map_err(|e| RepoError::Store(failure(&e)))?;
        Ok(ExportArchive {
            object_key,
            bytes,
            sha256,
            entries,
        })
    }
}

fn zip_failure(e: zip::result::ZipError) -> RepoError {
    RepoError::Store(Box::new(e))
}

/// A holding's name as a file name: `contractor profile` → `contractor-profile`.
fn slug(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// The table's own bookkeeping attributes say nothing to the person.
fn strip_keys(value: &mut Value) {
    if let Value::Object(map) = value {
        for k in [keys::PK, keys::SK, "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"] {
            map.remove(k);
        }
    }
}

/// Replaces every sealed envelope (an object with `ciphertext`, `nonce` and `algorithm`)
/// with a note; returns how many.
fn withhold_sealed(value: &mut Value) -> usize {
    match value {
        Value::Object(map)
            if map.contains_key("ciphertext")
                && map.contains_key("nonce")
                && map.contains_key("algorithm") =>
        {
            *value = json!({"withheld": "sealed"});
            1
        }
        Value::Object(map) => map.values_mut().map(withhold_sealed).sum(),
        Value::Array(items) => items.iter_mut().map(withhold_sealed).sum(),
        _ => 0,
    }
}

fn withheld(sealed: usize) -> Value {
    let mut out: Vec<Value> = WITHHELD_HOLDINGS
        .iter()
        .map(|(what, why)| json!({"what": what, "why": why}))
        .collect();
    if sealed > 0 {
        out.push(json!({
            "what": format!("{sealed} sealed value(s): your full TIN and any bank access token, shown as {{\"withheld\": \"sealed\"}}"),
            "why": "they stay under our encryption keys; the TIN is in your tax step masked, and an access token is a credential, not information about you",
        }));
    }
    Value::Array(out)
}

/// A holding as the index describes it.
fn describe(h: &Holding, file: Option<(&str, usize)>) -> Value {
    let retention = match h.retention {
        Retention::Account => "while the account exists".to_owned(),
        Retention::Ttl { hours } if hours >= 48 => format!("about {} days", hours / 24),
        Retention::Ttl { hours } => format!("about {hours} hours"),
        Retention::Job { days, .. } => format!("{days} days"),
        Retention::Years { years } => format!("{years} years after the account closes"),
        Retention::Transient => "until handled, normally seconds".to_owned(),
        Retention::System => "while the system runs".to_owned(),
    };
    let basis = match h.basis {
        LegalBasis::Contract => "contract (GDPR art. 6(1)(b))",
        LegalBasis::LegalObligation => "legal obligation (GDPR art. 6(1)(c))",
        LegalBasis::LegitimateInterest => "legitimate interest (GDPR art. 6(1)(f))",
        LegalBasis::Consent => "consent (GDPR art. 6(1)(a))",
    };
    let erasure = match h.erasure {
        Erasure::Delete => "deleted".to_owned(),
        Erasure::CryptoShred => "made unreadable (its key is destroyed)".to_owned(),
        Erasure::LegalHold { reason } => format!("kept: {reason}"),
        Erasure::NothingPersonal => "kept: holds nothing personal".to_owned(),
        Erasure::Expires => "expires by itself".to_owned(),
    };
    let mut v = json!({
        "name": h.name,
        "personal_data": h.personal,
        "retention": retention,
        "legal_basis": basis,
        "on_erasure": erasure,
    });
    if let Some((path, count)) = file {
        v["file"] = json!(path);
        v["count"] = json!(count);
    }
    v
}

/// The contractor an archive belongs to (for tests and tools reading archives back).
pub fn archive_contractor(index: &Value) -> Option<ContractorId> {
    index["contractor_id"]
        .as_str()
        .and_then(ContractorId::parse)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_are_withheld_wherever_they_are() {
        let envelope = json!({"key_id": "k", "algorithm": "contractor-key/AES-256-GCM",
            "encrypted_key": "", "nonce": "n", "ciphertext": "c"});
        let mut v = json!({"pk": "X", "secrets": {"tin": envelope.clone()},
            "links": [{"token": envelope}], "name": "Dana"});
        strip_keys(&mut v);
        assert_eq!(withhold_sealed(&mut v), 2);
        assert_eq!(v["secrets"]["tin"], json!({"withheld": "sealed"}));
        assert_eq!(v["links"][0]["token"], json!({"withheld": "sealed"}));
        assert_eq!(v["name"], "Dana");
        assert!(v.get("pk").is_none());
    }

    #[test]
    fn holdings_become_file_names() {
        assert_eq!(slug("contractor profile"), "contractor-profile");
        assert_eq!(
            slug("realtime connection (by id)"),
            "realtime-connection-by-id"
        );
    }
}
