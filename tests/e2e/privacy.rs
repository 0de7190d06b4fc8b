//! The privacy context finds everything stored about a contractor by key and index
//! (`store::subject`), checked against a scan of the whole table and bucket.

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use domain::ports::FieldCipher;
use domain::privacy::{Erasure, Retention};
use e2e_tests::{eventually, product};
use store::subject::SubjectFinder;

#[tokio::test]
async fn everything_about_an_approved_contractor_is_found_by_key_and_index() {
    let stack = product();
    let (_token, id, _docs, _name) = crate::approval::approved_contractor("privacy", 141).await;
    let contractor = domain::ids::ContractorId::parse(&id).unwrap();
    let aws = stack.aws().await;
    let table = store::Table::new(aws.dynamodb(), stack.refs["OnboardingTable"].clone());
    let finder = SubjectFinder::new(table, aws.s3(), stack.refs["DocumentsBucket"].clone());
    // The approval email is the last thing the journey writes about them.
    let today = chrono::Utc::now().date_naive();
    let found = eventually(Duration::from_secs(30), || async {
        let found = finder.find(&contractor, today).await.unwrap();
        found
            .items
            .iter()
            .any(|i| {
                i.holding.is_some_and(|h| h.name == "notification log") && i.pk.contains("approved")
            })
            .then_some(found)
    })
    .await
    .expect("the approval email was logged");

    let names: BTreeSet<&str> = found
        .items
        .iter()
        .map(|i| i.holding.map_or("(unmapped)", |h| h.name))
        .collect();
    for expected in [
        "contractor profile",
        "audit entry",
        "verification requirement",
        "contractor data key",
        "badge",
        "owner lock",
        "document",
        "bank link",
        "activity feed head",
        "activity feed entry",
        "notification log",
    ] {
        assert!(names.contains(expected), "{expected} not found: {names:?}");
    }
    assert!(!names.contains("(unmapped)"), "{names:?}");

    // The truth: every item anywhere that names them, but those that go by themselves
    // (TTL, or handled in seconds) and so are neither exported nor erased. Events still
    // settling (badges, feed entries) may add items after a find: find again until the
    // find covers the scan that follows it.
    let mut last_missed = Vec::new();
    let mut found = found;
    for _ in 0..20 {
        let truth = items_naming(&id).await;
        let by_finder: BTreeSet<(String, String)> = found
            .items
            .iter()
            .map(|i| (i.pk.clone(), i.sk.clone()))
            .collect();
        last_missed = truth.difference(&by_finder).cloned().collect();
        if last_missed.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        found = finder.find(&contractor, today).await.unwrap();
    }
    assert!(
        last_missed.is_empty(),
        "not found by key or index: {last_missed:?}"
    );

    let in_bucket: BTreeSet<(String, Option<String>)> =
        store::subject::object_versions(&aws.s3(), &stack.refs["DocumentsBucket"], "")
            .await
            .unwrap()
            .into_iter()
            .filter(|o| o.key.contains(&id))
            .map(|o| (o.key, o.version_id))
            .collect();
    let objects: BTreeSet<(String, Option<String>)> = found
        .objects
        .iter()
        .map(|o| (o.key.clone(), o.version_id.clone()))
        .collect();
    assert!(in_bucket.len() >= 3, "three uploads: {}", in_bucket.len());
    assert_eq!(objects, in_bucket);
    assert!(found.objects.iter().all(|o| o.holding.is_some()));
}

/// Every item in the table that names `id`, but those that go by themselves.
async fn items_naming(id: &str) -> BTreeSet<(String, String)> {
    let mut truth = BTreeSet::new();
    for item in product().scan_table().await {
        let key = |n: &str| match item.get(n) {
            Some(AttributeValue::S(s)) => s.clone(),
            _ => String::new(),
        };
        let (pk, sk) = (key("pk"), key("sk"));
        if !format!("{item:?}").contains(id) {
            continue;
        }
        let holding = store::data_map::item_kind(&pk, &sk)
            .map(|k| k.holding)
            .expect("mapped");
        let goes_by_itself = matches!(holding.erasure, Erasure::Expires)
            || matches!(holding.retention, Retention::Transient);
        if !goes_by_itself {
            truth.insert((pk, sk));
        }
    }
    truth
}

/// Finds until two finds a second apart agree: the journey's last events have settled.
async fn settled_find(
    finder: &SubjectFinder,
    contractor: &domain::ids::ContractorId,
) -> store::subject::Found {
    let today = chrono::Utc::now().date_naive();
    let mut last = finder.find(contractor, today).await.unwrap();
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let next = finder.find(contractor, today).await.unwrap();
        let same = next.items.len() == last.items.len() && next.objects.len() == last.objects.len();
        last = next;
        if same {
            break;
        }
    }
    last
}

#[tokio::test]
async fn erasure_removes_everything_but_the_tombstone_and_audit_resumes_and_survives_a_restore() {
    let stack = product();
    let (_token, id, _docs, _name) = crate::approval::approved_contractor("erasure", 143).await;
    let contractor = domain::ids::ContractorId::parse(&id).unwrap();
    let aws = stack.aws().await;
    let table_name = stack.refs["OnboardingTable"].clone();
    let bucket = stack.refs["DocumentsBucket"].clone();
    let table = store::Table::new(aws.dynamodb(), table_name.clone());
    let eraser = store::erasure::Eraser::new(table.clone(), aws.s3(), bucket.clone());
    let before = settled_find(&eraser.finder, &contractor).await;
    assert!(before.items.len() > 20 && before.objects.len() >= 3);

    // A backup taken now: every item as stored, and one file's bytes.
    let mut backup = Vec::new();
    for i in &before.items {
        let item = aws
            .dynamodb()
            .get_item()
            .table_name(&table_name)
            .key("pk", AttributeValue::S(i.pk.clone()))
            .key("sk", AttributeValue::S(i.sk.clone()))
            .consistent_read(true)
            .send()
            .await
            .unwrap()
            .item
            .unwrap();
        backup.push(item);
    }
    let kept_file = before.objects.iter().find(|o| !o.delete_marker).unwrap();
    let file_bytes = aws
        .s3()
        .get_object()
        .bucket(&bucket)
        .key(&kept_file.key)
        .set_version_id(kept_file.version_id.clone())
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes();
    let profile = backup
        .iter()
        .find(|i| i["sk"] == AttributeValue::S("PROFILE".into()))
        .unwrap()
        .clone();
    let tin: domain::ports::EncryptedField = serde_json::from_value(
        serde_dynamo::from_attribute_value::<_, serde_json::Value>(profile["secrets"].clone())
            .unwrap()["tin"]
            .clone(),
    )
    .unwrap();

    // A run cut short (a crash, a timeout) leaves work; the next runs finish it.
    let now = chrono::Utc::now();
    let first = eraser.erase(&contractor, now, 5).await.unwrap();
    assert!(!first.done && first.key_shredded, "{first:?}");
    let mut runs = 1;
    loop {
        runs += 1;
        let run = eraser.erase(&contractor, now, 10).await.unwrap();
        if run.done {
            assert!(
                run.kept.iter().any(|(name, _)| name == "audit entry"),
                "{run:?}"
            );
            break;
        }
        assert!(runs < 50, "erasure makes progress");
    }
    let expect_erased = |found: &store::subject::Found| {
        let names: BTreeSet<&str> = found
            .items
            .iter()
            .map(|i| i.holding.map_or("(unmapped)", |h| h.name))
            .collect();
        assert_eq!(
            names,
            BTreeSet::from(["audit entry", "erasure tombstone"]),
            "only the tombstone and the audit trail are left"
        );
        assert!(
            found.objects.is_empty(),
            "no version or delete marker left: {:?}",
            found.objects
        );
    };
    let after = eraser
        .finder
        .find(&contractor, now.date_naive())
        .await
        .unwrap();
    expect_erased(&after);
    assert!(eraser.in_ledger(&contractor).await.unwrap());

    // The TIN's envelope, from the backup, no longer opens: its key is gone.
    let cipher = fieldcrypt::ContractorCipher::new(
        aws.kms(),
        stack.refs["FieldEncryptionKey"].clone(),
        store::DynamoDataKeys::new(table.clone()),
    );
    assert!(
        cipher
            .decrypt(&tin, &[("contractor_id", id.as_str()), ("field", "tin")])
            .await
            .is_err()
    );

    // The audit chain still verifies against the head kept on the tombstone.
    let audit_chain = |found: &store::subject::Found| {
        let keys: Vec<(String, String)> = found
            .items
            .iter()
            .filter(|i| i.sk.starts_with("AUDIT#"))
            .map(|i| (i.pk.clone(), i.sk.clone()))
            .collect();
        keys
    };
    let mut entries = Vec::new();
    for (pk, sk) in audit_chain(&after) {
        let item = stack.table_item(&pk, &sk).await.unwrap();
        entries.push(serde_dynamo::from_item::<_, domain::audit::AuditEntry>(item).unwrap());
    }
    entries.sort_by_key(|e| e.seq);
    let tombstone = stack
        .table_item(&format!("CONTRACTOR#{id}"), "TOMBSTONE")
        .await
        .unwrap();
    let head = match tombstone.get("audit_head") {
        Some(AttributeValue::S(h)) => h.clone(),
        other => panic!("no audit head on the tombstone: {other:?}"),
    };
    let verdict = domain::audit::verify_chain(&entries, Some(&head));
    assert!(verdict.valid, "{verdict:?}");
    assert!(
        !format!("{tombstone:?}").contains("Bright Nights"),
        "the tombstone holds nothing personal"
    );

    // Erasing again changes nothing.
    let again = eraser
        .erase(&contractor, chrono::Utc::now(), 100)
        .await
        .unwrap();
    assert!(
        again.done
            && again.items_deleted == 0
            && again.versions_deleted == 0
            && !again.key_shredded,
        "{again:?}"
    );

    // A restore from the backup brings items and a file back; replaying the ledger
    // erases them again, to the same state.
    for item in backup {
        aws.dynamodb()
            .put_item()
            .table_name(&table_name)
            .set_item(Some(item))
            .send()
            .await
            .unwrap();
    }
    aws.s3()
        .put_object()
        .bucket(&bucket)
        .key(&kept_file.key)
        .body(file_bytes.to_vec().into())
        .send()
        .await
        .unwrap();
    let replayed = eraser.replay(chrono::Utc::now()).await.unwrap();
    assert!(replayed.contains(&contractor), "{replayed:?}");
    expect_erased(
        &eraser
            .finder
            .find(&contractor, now.date_naive())
            .await
            .unwrap(),
    );
}

/// Runs the retention job as its schedule would at `time`, for one contractor.
async fn retention(contractor: &str, time: &str) -> serde_json::Value {
    e2e_tests::run_schedule_for("PrivacyRetentionFunction", contractor, time).await
}

#[tokio::test]
async fn abandoned_drafts_are_erased_after_180_days_and_nothing_else() {
    let stack = product();
    let (draft_token, draft, _) = e2e_tests::registered_contractor("abandoned").await;
    let now = chrono::Utc::now();
    let at = |days: i64| (now + chrono::Duration::days(days)).to_rfc3339();

    // Day 179: kept.
    let out = retention(&draft, &at(179)).await;
    assert_eq!(out["drafts_erased"], 0, "{out}");
    let (status, _, _) = stack
        .get_as(&draft_token, &format!("/v1/contractors/{draft}"))
        .await;
    assert_eq!(status, 200);

    // Day 181: erased, once; a second run finds nothing more.
    let out = retention(&draft, &at(181)).await;
    assert_eq!(out["drafts_erased"], 1, "{out}");
    assert_eq!(retention(&draft, &at(181)).await["drafts_erased"], 0);
    let (status, _, _) = stack
        .get_as(&draft_token, &format!("/v1/contractors/{draft}"))
        .await;
    assert_eq!(status, 404);
    let aws = stack.aws().await;
    let table = store::Table::new(aws.dynamodb(), stack.refs["OnboardingTable"].clone());
    let eraser =
        store::erasure::Eraser::new(table, aws.s3(), stack.refs["DocumentsBucket"].clone());
    let id = domain::ids::ContractorId::parse(&draft).unwrap();
    assert!(eraser.in_ledger(&id).await.unwrap());
    let left: BTreeSet<&str> = eraser
        .finder
        .find(&id, now.date_naive())
        .await
        .unwrap()
        .items
        .iter()
        .filter_map(|i| i.holding.map(|h| h.name))
        .collect::<Vec<_>>()
        .into_iter()
        .collect();
    assert_eq!(left, BTreeSet::from(["audit entry", "erasure tombstone"]));
    // The login may start again.
    let (status, _, me) = stack.get_as(&draft_token, "/v1/contractors/me").await;
    assert_eq!(status, 404, "{me}");

    // A contractor past the draft stage is not the draft job's business, however old.
    let (kept_token, kept, _, _) = crate::approval::approved_contractor("retained", 147).await;
    let out = retention(&kept, &at(400)).await;
    assert_eq!(out["drafts_erased"], 0, "{out}");
    let (status, _, _) = stack
        .get_as(&kept_token, &format!("/v1/contractors/{kept}"))
        .await;
    assert_eq!(status, 200);
}

/// The login (`sub`) of a bearer token from the local issuer.
fn subject_of(token: &str) -> String {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()["sub"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Waits for the approval email to be logged: the last thing the journey writes.
async fn settled_journey(finder: &SubjectFinder, contractor: &domain::ids::ContractorId) {
    let today = chrono::Utc::now().date_naive();
    eventually(Duration::from_secs(30), || async {
        let found = finder.find(contractor, today).await.unwrap();
        found
            .items
            .iter()
            .any(|i| {
                i.holding.is_some_and(|h| h.name == "notification log") && i.pk.contains("approved")
            })
            .then_some(())
    })
    .await
    .expect("the approval email was logged");
}

#[tokio::test]
async fn an_export_holds_everything_the_map_names_for_its_contractor_and_nothing_else() {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let stack = product();
    let (token, id, _docs, name) = crate::approval::approved_contractor("export", 151).await;
    let contractor = domain::ids::ContractorId::parse(&id).unwrap();
    let aws = stack.aws().await;
    let table = store::Table::new(aws.dynamodb(), stack.refs["OnboardingTable"].clone());
    let bucket = stack.refs["DocumentsBucket"].clone();
    let finder = SubjectFinder::new(table, aws.s3(), bucket.clone());
    settled_journey(&finder, &contractor).await;
    let found = settled_find(&finder, &contractor).await;

    let (status, headers, asked) = stack
        .post_as(
            &token,
            &format!("/v1/contractors/{id}/exports"),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(status, 202, "{asked}");
    let location = headers["location"].to_str().unwrap().to_owned();
    assert_eq!(
        location,
        format!("/v1/exports/{}", asked["id"].as_str().unwrap())
    );
    assert_eq!(asked["status"], "queued");
    let ready = eventually(Duration::from_secs(60), || async {
        let (status, _, body) = stack.get_as(&token, &location).await;
        assert_eq!(status, 200, "{body}");
        (body["status"] == "ready").then_some(body)
    })
    .await
    .expect("the export is built");

    // The link: short-lived, and the archive it fetches is the one the job describes.
    let url = ready["download"]["url"].as_str().unwrap();
    assert!(url.contains("X-Amz-Expires=300"), "{url}");
    let until =
        chrono::DateTime::parse_from_rfc3339(ready["download"]["expires_at"].as_str().unwrap())
            .unwrap();
    assert!(until.to_utc() <= chrono::Utc::now() + chrono::Duration::seconds(301));
    let archive = e2e_tests::client().get(url).send().await.unwrap();
    assert_eq!(archive.status(), 200);
    let archive = archive.bytes().await.unwrap();
    assert_eq!(ready["archive"]["bytes"], archive.len());
    assert_eq!(
        ready["archive"]["sha256"],
        hex::encode(Sha256::digest(&archive))
    );

    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(archive.to_vec())).unwrap();
    let mut files = std::collections::BTreeMap::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).unwrap();
        files.insert(f.name().unwrap().to_string(), bytes);
    }
    let index: serde_json::Value = serde_json::from_slice(&files["index.json"]).unwrap();
    assert_eq!(index["format"], store::export::FORMAT);
    assert_eq!(index["contractor_id"], id.as_str());
    // Every file is listed with its true size and digest, and nothing else is in the zip.
    let listed: BTreeSet<String> = index["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let path = f["path"].as_str().unwrap();
            let bytes = &files[path];
            assert_eq!(f["bytes"], bytes.len(), "{path}");
            assert_eq!(f["sha256"], hex::encode(Sha256::digest(bytes)), "{path}");
            path.to_owned()
        })
        .collect();
    let zipped: BTreeSet<String> = files
        .keys()
        .filter(|k| *k != "index.json")
        .cloned()
        .collect();
    assert_eq!(listed, zipped);

    // Everything the map names for them is in it, but what the export withholds on purpose.
    let exported: BTreeSet<&str> = index["holdings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    let withheld = ["contractor data key", "personal data export job"];
    for h in found.items.iter().filter_map(|i| i.holding) {
        if h.exported() && !withheld.contains(&h.name) {
            assert!(
                exported.contains(h.name),
                "{} is not in the export: {exported:?}",
                h.name
            );
        }
    }
    for h in withheld {
        assert!(!exported.contains(h), "{h} is withheld");
    }
    let originals: BTreeSet<&str> = found
        .objects
        .iter()
        .filter(|o| !o.delete_marker && o.holding.is_some_and(|h| h.name == "document original"))
        .map(|o| o.key.as_str())
        .collect();
    assert!(originals.len() >= 3, "{originals:?}");
    for key in &originals {
        let path = key.strip_prefix(&format!("contractors/{id}/")).unwrap();
        assert!(files.contains_key(path), "{path} missing");
    }
    let profile: serde_json::Value =
        serde_json::from_slice(&files["data/contractor-profile.json"]).unwrap();
    assert_eq!(profile[0]["business_name"], name.as_str());
    assert_eq!(
        profile[0]["secrets"]["tin"],
        serde_json::json!({"withheld": "sealed"})
    );
    assert!(profile[0].get("pk").is_none());
    assert!(index["withheld"].as_array().unwrap().len() >= 3);
    // Nothing of another contractor: every contractor id in every file is theirs.
    let pattern = regex::Regex::new(r"ctr_[0-9a-z]{26}").unwrap();
    for (path, bytes) in &files {
        for m in pattern.find_iter(&String::from_utf8_lossy(bytes)) {
            assert_eq!(m.as_str(), id, "{path} names another contractor");
        }
    }
    // The archive is where the data map says, and erasure would find it.
    let key = format!(
        "exports/contractors/{id}/{}.zip",
        asked["id"].as_str().unwrap()
    );
    assert_eq!(
        store::data_map::object_kind(&key).unwrap().holding.name,
        "personal data export"
    );
    let again = finder
        .find(&contractor, chrono::Utc::now().date_naive())
        .await
        .unwrap();
    assert!(again.objects.iter().any(|o| o.key == key));
    assert!(again.items.iter().any(|i| {
        i.holding
            .is_some_and(|h| h.name == "personal data export job")
    }));

    // Only staff and whoever asked may read it.
    let stranger = stack.login("export-stranger", &["contractor"]).await;
    assert_eq!(stack.get_as(&stranger, &location).await.0, 404);
    let reviewer = stack.login("export-reviewer", &["reviewer"]).await;
    assert_eq!(stack.get_as(&reviewer, &location).await.0, 200);
    // After its seven days: gone, for everyone.
    aws.dynamodb()
        .update_item()
        .table_name(&stack.refs["OnboardingTable"])
        .key(
            "pk",
            AttributeValue::S(format!("EXPORT#{}", asked["id"].as_str().unwrap())),
        )
        .key("sk", AttributeValue::S("JOB".into()))
        .update_expression("SET available_until = :t")
        .expression_attribute_values(
            ":t",
            AttributeValue::S((chrono::Utc::now() - chrono::Duration::seconds(1)).to_rfc3339()),
        )
        .send()
        .await
        .unwrap();
    let (status, _, gone) = stack.get_as(&token, &location).await;
    assert_eq!(status, 410, "{gone}");
    assert_eq!(gone["code"], "gone");
}

#[tokio::test]
async fn erasure_through_the_api_needs_a_fresh_sign_in_or_staff_and_reaches_everything() {
    let stack = product();
    let (token, id, _docs, _name) = crate::approval::approved_contractor("erase-api", 153).await;
    let contractor = domain::ids::ContractorId::parse(&id).unwrap();
    let aws = stack.aws().await;
    let table = store::Table::new(aws.dynamodb(), stack.refs["OnboardingTable"].clone());
    let eraser =
        store::erasure::Eraser::new(table, aws.s3(), stack.refs["DocumentsBucket"].clone());
    settled_journey(&eraser.finder, &contractor).await;
    let (_, _, me) = stack.get_as(&token, &format!("/v1/contractors/{id}")).await;
    let address = me["contact"]["email"].as_str().unwrap().to_owned();
    let path = format!("/v1/contractors/{id}/erasure");
    let none = serde_json::json!({});

    // The owner of an approved account: refused, with what to do instead.
    let (status, _, refused) = stack.post_as(&token, &path, &none).await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["code"], "account_active");
    // A sign-in ten minutes old: a step-up challenge (RFC 9470), not an erasure.
    let stale = stack
        .token(
            &subject_of(&token),
            serde_json::json!({"signed_in_ago": 600}),
        )
        .await;
    let (status, headers, challenge) = stack.post_as(&stale, &path, &none).await;
    assert_eq!(status, 401, "{challenge}");
    assert_eq!(challenge["code"], "insufficient_user_authentication");
    let www = headers["www-authenticate"].to_str().unwrap();
    assert!(
        www.contains("insufficient_user_authentication") && www.contains("max_age=300"),
        "{www}"
    );
    // Staff must say why.
    let reviewer = stack.login("erasure-reviewer", &["reviewer"]).await;
    let (status, _, unexplained) = stack.post_as(&reviewer, &path, &none).await;
    assert_eq!(status, 422, "{unexplained}");
    assert_eq!(unexplained["errors"][0]["field"], "reason");

    // Their app is open when support erases the account.
    let mut live = e2e_tests::live::Live::connect(&token).await;
    let reason = serde_json::json!({"reason": "Support ticket 4411: no jobs in flight; the owner asked by phone."});
    let (status, headers, accepted) = stack.post_as(&reviewer, &path, &reason).await;
    assert_eq!(status, 202, "{accepted}");
    assert_eq!(accepted["requested_by"], "staff");
    let location = headers["location"].to_str().unwrap().to_owned();
    let (status, _, again) = stack.post_as(&reviewer, &path, &reason).await;
    assert_eq!(status, 202, "{again}");
    assert_eq!(again["id"], accepted["id"], "one request per contractor");

    let done = eventually(Duration::from_secs(60), || async {
        let (status, _, body) = stack.get_as(&reviewer, &location).await;
        assert_eq!(status, 200, "{body}");
        (body["status"] == "done").then_some(body)
    })
    .await
    .expect("the erasure finishes");
    assert_eq!(done["confirmation_email"], "sent");
    assert!(
        done["result"]["items_deleted"].as_u64().unwrap() > 20,
        "{done}"
    );
    assert!(
        done["result"]["file_versions_deleted"].as_u64().unwrap() >= 3,
        "{done}"
    );
    let kept: Vec<&str> = done["result"]["kept"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["holding"].as_str().unwrap())
        .collect();
    assert!(kept.contains(&"audit entry"), "{kept:?}");

    // The last email went out first, and the socket was closed.
    let last = e2e_tests::mail_to(&address).await;
    assert!(
        last.iter()
            .any(|m| m["subject"] == "We are deleting your Holiday Lights data"),
        "{last:#?}"
    );
    assert!(
        live.closed_within(Duration::from_secs(10)).await,
        "the socket was closed"
    );

    // Only the tombstone and the audit trail are left; the ledger names them.
    let left = eraser
        .finder
        .find(&contractor, chrono::Utc::now().date_naive())
        .await
        .unwrap();
    let names: BTreeSet<&str> = left
        .items
        .iter()
        .filter_map(|i| i.holding.map(|h| h.name))
        .collect();
    assert_eq!(
        names,
        ["audit entry", "erasure tombstone"]
            .into_iter()
            .collect::<BTreeSet<_>>(),
        "{:?}",
        left.items
    );
    assert!(left.objects.is_empty());
    assert!(eraser.in_ledger(&contractor).await.unwrap());
    // The person who owned it reads the request's status; their account is gone.
    assert_eq!(stack.get_as(&token, &location).await.0, 200);
    assert_eq!(
        stack
            .get_as(&token, &format!("/v1/contractors/{id}"))
            .await
            .0,
        404
    );
    let stranger = stack.login("erasure-stranger", &["contractor"]).await;
    assert_eq!(stack.get_as(&stranger, &location).await.0, 404);
}

#[tokio::test]
async fn withdrawing_privacy_consent_stops_optional_email_reopens_the_agreements_and_is_exported() {
    use std::io::Read;
    let stack = product();
    let tag = format!(
        "consent{}",
        &ulid::Ulid::new().to_string().to_lowercase()[18..]
    );
    let token = stack.login(&tag, &["contractor"]).await;
    let (status, _, created) = stack
        .post_as(&token, "/v1/contractors", &e2e_tests::registration(&tag))
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let (status, headers, saved) = stack
        .patch_as(
            &token,
            &format!("/v1/contractors/{id}/progress"),
            &serde_json::json!({"step": "agreements", "data": {"terms_version": "2026-09", "privacy_version": "2026-09"}}),
            Some(created["version"].as_u64().unwrap()),
        )
        .await;
    assert_eq!(status, 200, "{saved}");
    let etag = headers["etag"].to_str().unwrap().to_owned();
    let path = format!("/v1/contractors/{id}/consents/withdrawal");
    let withdraw = |etag: String, document: &'static str| {
        let token = token.clone();
        let path = path.clone();
        async move {
            e2e_tests::read(
                e2e_tests::client()
                    .post(stack.url(&path))
                    .bearer_auth(&token)
                    .header("if-match", etag)
                    .json(&serde_json::json!({ "document": document }))
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let (status, _, terms) = withdraw(etag.clone(), "terms_of_service").await;
    assert_eq!(status, 422, "{terms}");
    assert_eq!(terms["errors"][0]["code"], "not_withdrawable");
    let (status, headers, after) = withdraw(etag.clone(), "privacy_notice").await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(
        after["progress"]["steps"]["agreements"]["status"], "in_progress",
        "{after}"
    );
    assert!(
        after["steps"]["agreements"]
            .get("privacy_version")
            .is_none()
    );
    let privacy: Vec<&serde_json::Value> = after["consents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["document"] == "privacy_notice")
        .collect();
    assert_eq!(privacy.len(), 1);
    assert!(privacy[0]["withdrawn_at"].is_string(), "{after}");
    // Optional emails are off; account emails are not a choice.
    let (_, _, prefs) = stack
        .get_as(&token, &format!("/v1/contractors/{id}/preferences"))
        .await;
    assert_eq!(prefs["updates"], false, "{prefs}");
    assert_eq!(prefs["reminders"], false, "{prefs}");
    // Twice: the same answer, nothing new in the trail.
    let (status, _, again) = withdraw(
        headers["etag"].to_str().unwrap().to_owned(),
        "privacy_notice",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(again["version"], after["version"]);
    let (_, _, audit) = stack
        .get_as(&token, &format!("/v1/contractors/{id}/audit"))
        .await;
    let withdrawals = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "consent.withdrawn")
        .count();
    assert_eq!(withdrawals, 1, "{audit}");

    // The consent history is in their export.
    let (status, headers, _) = stack
        .post_as(
            &token,
            &format!("/v1/contractors/{id}/exports"),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(status, 202);
    let location = headers["location"].to_str().unwrap().to_owned();
    let ready = eventually(Duration::from_secs(60), || async {
        let (_, _, body) = stack.get_as(&token, &location).await;
        (body["status"] == "ready").then_some(body)
    })
    .await
    .expect("the export is built");
    let bytes = e2e_tests::client()
        .get(ready["download"]["url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut profile = String::new();
    zip.by_name("data/contractor-profile.json")
        .unwrap()
        .read_to_string(&mut profile)
        .unwrap();
    let profile: serde_json::Value = serde_json::from_str(&profile).unwrap();
    let consents = profile[0]["consents"].as_array().unwrap();
    assert!(
        consents
            .iter()
            .any(|c| c["document"] == "privacy_notice" && c["withdrawn_at"].is_string()),
        "{consents:?}"
    );
    assert!(
        consents
            .iter()
            .all(|c| c["source_ip"].is_string() || c["source_ip"].is_null())
    );
}

#[tokio::test]
async fn replaced_documents_are_deleted_a_year_after_their_replacement_and_nothing_else() {
    use domain::documents::DocumentRepository;
    let stack = product();
    let (_token, contractor, _) = e2e_tests::registered_contractor("replaced").await;
    let contractor = domain::ids::ContractorId::parse(&contractor).unwrap();
    let aws = stack.aws().await;
    let bucket = stack.refs["DocumentsBucket"].clone();
    let documents = store::DynamoDocuments::new(store::Table::new(
        aws.dynamodb(),
        stack.refs["OnboardingTable"].clone(),
    ));
    let now = chrono::Utc::now();
    // Two certificates replaced on either side of the year, each with two file versions.
    let mut seeded = Vec::new();
    for days in [366, 364] {
        let intent: domain::documents::UploadIntent = serde_json::from_value(serde_json::json!({
            "kind": "insurance_certificate", "file_name": "coi.pdf", "content_type": "application/pdf",
            "size": 9, "sha256": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        }))
        .unwrap();
        let mut doc = intent
            .into_document(&contractor, now, chrono::Duration::minutes(10))
            .unwrap();
        doc.status = domain::terms::DocumentStatus::Extracted;
        doc.superseded_at = Some(now - chrono::Duration::days(days));
        documents.create(&doc).await.unwrap();
        for body in ["%PDF-1.4 a", "%PDF-1.4 b"] {
            aws.s3()
                .put_object()
                .bucket(&bucket)
                .key(&doc.object_key)
                .body(body.as_bytes().to_vec().into())
                .send()
                .await
                .unwrap();
        }
        seeded.push(doc);
    }
    let versions = |doc: &domain::documents::Document| {
        let prefix = format!("contractors/{contractor}/documents/{}/", doc.id);
        let s3 = aws.s3();
        let bucket = bucket.clone();
        async move {
            store::subject::object_versions(&s3, &bucket, &prefix)
                .await
                .unwrap()
                .len()
        }
    };
    assert_eq!(versions(&seeded[0]).await, 2);

    let out = retention(contractor.as_str(), &now.to_rfc3339()).await;
    assert_eq!(out["superseded_documents_deleted"], 1, "{out}");
    assert_eq!(out["drafts_erased"], 0, "the draft itself is young: {out}");
    assert!(documents.get(&seeded[0].id).await.unwrap().is_none());
    assert_eq!(versions(&seeded[0]).await, 0, "every version went");
    assert!(documents.get(&seeded[1].id).await.unwrap().is_some());
    assert_eq!(
        versions(&seeded[1]).await,
        2,
        "a day short of its year: kept"
    );
    // Run again: nothing more.
    let again = retention(contractor.as_str(), &now.to_rfc3339()).await;
    assert_eq!(again["superseded_documents_deleted"], 0, "{again}");
}

#[tokio::test]
async fn erasure_requests_nobody_moved_for_an_hour_are_found_again() {
    use store::privacy_jobs::{ErasureRequest, ErasureStatus, PrivacyJobs};
    let stack = product();
    let aws = stack.aws().await;
    let jobs = PrivacyJobs::new(store::Table::new(
        aws.dynamodb(),
        stack.refs["OnboardingTable"].clone(),
    ));
    let now = chrono::Utc::now();
    let request = |status, minutes_ago: i64| {
        let contractor = domain::ids::ContractorId::generate();
        let at = now - chrono::Duration::minutes(minutes_ago);
        ErasureRequest {
            erasure_id: domain::ids::ErasureId::for_contractor(&contractor),
            contractor_id: contractor,
            requested_by: "owner".into(),
            requester_digest: "d".repeat(64),
            owner_digest: "d".repeat(64),
            status,
            requested_at: at,
            updated_at: at,
            confirmation: None,
            items_deleted: 0,
            versions_deleted: 0,
            kept: vec![],
            completed_at: None,
        }
    };
    let stuck = request(ErasureStatus::Accepted, 120);
    let half_done = request(ErasureStatus::Erasing, 61);
    let moving = request(ErasureStatus::Erasing, 5);
    let finished = request(ErasureStatus::Done, 120);
    for r in [&stuck, &half_done, &moving, &finished] {
        assert!(jobs.open_erasure(r).await.unwrap().1);
    }
    let found: BTreeSet<String> = jobs
        .unfinished_erasures(now - chrono::Duration::minutes(60), usize::MAX)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.erasure_id.to_string())
        .collect();
    assert!(found.contains(stuck.erasure_id.as_str()));
    assert!(found.contains(half_done.erasure_id.as_str()));
    assert!(
        !found.contains(moving.erasure_id.as_str()),
        "moved five minutes ago"
    );
    assert!(!found.contains(finished.erasure_id.as_str()), "done");
    // They name no real contractor: nothing else to clean up but the items.
    for r in [&stuck, &half_done, &moving, &finished] {
        aws.dynamodb()
            .delete_item()
            .table_name(&stack.refs["OnboardingTable"])
            .key("pk", AttributeValue::S(format!("ERASURE#{}", r.erasure_id)))
            .key("sk", AttributeValue::S("REQUEST".into()))
            .send()
            .await
            .unwrap();
    }
}
