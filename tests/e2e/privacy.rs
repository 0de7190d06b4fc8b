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
