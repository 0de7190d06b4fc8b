//! `template.yaml` against the code: every function has a crate and a factory, every crate is
//! deployed, queues are protected by DLQs with alarms, and what cfn-lint cannot catch.

use std::collections::BTreeSet;

use e2e_tests::repo_root;
use local_runner::template::Template;
use serde_json::{Value, json};

fn template() -> Template {
    Template::load(&repo_root().join("template.yaml")).expect("template.yaml parses")
}

#[test]
fn functions_crates_and_registry_agree() {
    let t = template();
    let in_template: BTreeSet<String> = t
        .of_kind("AWS::Serverless::Function")
        .map(|f| {
            local_runner::model::function_binary(&f.metadata)
                .expect("every function names its binary")
                .to_owned()
        })
        .collect();
    let mut crates = BTreeSet::new();
    for entry in std::fs::read_dir(repo_root().join("functions")).unwrap() {
        let manifest = entry.unwrap().path().join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).unwrap();
        let name = text
            .lines()
            .find_map(|l| {
                l.strip_prefix("name = \"")
                    .and_then(|r| r.strip_suffix('"'))
            })
            .expect("package name")
            .to_owned();
        crates.insert(name);
    }
    let registry: BTreeSet<String> = local_runner::product_registry().keys().cloned().collect();
    assert_eq!(
        in_template, crates,
        "template functions vs crates under functions/"
    );
    assert_eq!(
        registry, crates,
        "local runner registry vs crates under functions/"
    );
    for f in t.of_kind("AWS::Serverless::Function") {
        let image = f.properties.get("PackageType").and_then(Value::as_str) == Some("Image");
        if image {
            // Container images: the Dockerfile exists and builds the named binary.
            let dockerfile = f
                .metadata
                .get("Dockerfile")
                .and_then(Value::as_str)
                .unwrap();
            let text = std::fs::read_to_string(repo_root().join(dockerfile))
                .unwrap_or_else(|e| panic!("{}: {dockerfile}: {e}", f.logical_id));
            assert!(
                text.contains("ARG BINARY"),
                "{dockerfile} takes the BINARY build arg"
            );
        } else {
            assert_eq!(
                f.metadata.get("BuildMethod").and_then(Value::as_str),
                Some("makefile"),
                "{}",
                f.logical_id
            );
        }
    }
}

#[test]
fn every_queue_has_a_dead_letter_queue_with_an_alarm() {
    let t = template();
    let queues: Vec<_> = t.of_kind("AWS::SQS::Queue").collect();
    let dlq_targets: BTreeSet<String> = queues
        .iter()
        .filter_map(|q| {
            q.properties
                .pointer("/RedrivePolicy/deadLetterTargetArn/Fn::GetAtt/0")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .collect();
    let alarmed: BTreeSet<String> = t
        .of_kind("AWS::CloudWatch::Alarm")
        .flat_map(|a| {
            a.properties
                .get("Dimensions")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|d| {
            d.pointer("/Value/Fn::GetAtt/0")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .collect();
    for q in &queues {
        if dlq_targets.contains(&q.logical_id) {
            assert!(
                alarmed.contains(&q.logical_id),
                "dead-letter queue {} has no alarm",
                q.logical_id
            );
        } else {
            let redrive = q
                .properties
                .get("RedrivePolicy")
                .unwrap_or_else(|| panic!("queue {} has no RedrivePolicy", q.logical_id));
            assert!(
                redrive
                    .get("maxReceiveCount")
                    .and_then(Value::as_i64)
                    .is_some_and(|n| n > 0),
                "{}",
                q.logical_id
            );
        }
    }
}

#[test]
fn sqs_event_sources_report_batch_item_failures() {
    // cfn-lint accepts a misspelled FunctionResponseTypes entry; this does not.
    for f in template().of_kind("AWS::Serverless::Function") {
        for (name, event) in f
            .properties
            .get("Events")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
        {
            if event.get("Type").and_then(Value::as_str) == Some("SQS") {
                assert_eq!(
                    event.pointer("/Properties/FunctionResponseTypes"),
                    Some(&serde_json::json!(["ReportBatchItemFailures"])),
                    "{}.{name}",
                    f.logical_id
                );
            }
        }
    }
}

#[test]
fn local_only_routes_never_reach_the_template() {
    let text = std::fs::read_to_string(repo_root().join("template.yaml")).unwrap();
    assert!(!text.contains("/_local"));
}

#[test]
fn sam_builds_every_function_through_the_makefile() {
    let makefile = std::fs::read_to_string(repo_root().join("Makefile")).unwrap();
    for f in template().of_kind("AWS::Serverless::Function") {
        let Some(binary) = f
            .metadata
            .pointer("/BuildProperties/Binary")
            .and_then(Value::as_str)
        else {
            continue; // container images are built from their Dockerfile
        };
        let target = format!(
            "build-{}:\n\tscripts/lambda-artifact.sh {binary} \"$(ARTIFACTS_DIR)\"",
            f.logical_id
        );
        assert!(makefile.contains(&target), "Makefile lacks:\n{target}");
    }
}

#[test]
fn filter_policies_name_only_known_event_types() {
    let t = template();
    let mut filtered = 0;
    for sub in t.of_kind("AWS::SNS::Subscription") {
        let Some(types) = sub
            .properties
            .get("FilterPolicy")
            .and_then(|p| p.get("event_type"))
            .and_then(Value::as_array)
        else {
            continue;
        };
        filtered += 1;
        for kind in types {
            let kind = kind.as_str().unwrap_or_default();
            assert!(
                domain::events::EVENT_TYPES.contains(&kind),
                "{} filters on {kind:?}, which no domain event is",
                sub.logical_id
            );
        }
    }
    assert!(
        filtered >= 4,
        "the events topic's subscriptions filter by type"
    );
}

/// The packaging check (`scripts/packaging.py`, run by `make test` and `make package`)
/// resolves CodeUri as `sam build` does: the zip-only template written beside
/// template.yaml passes, the same template written into a subfolder (where `make package`
/// once wrote it, and `sam build` found no Makefile) fails with the reason.
#[test]
fn the_packaging_check_catches_a_template_sam_build_could_not_build() {
    let python = std::env::var("MOTO_PYTHON").unwrap_or_else(|_| "python3".into());
    let run = |args: &[&str]| {
        std::process::Command::new(&python)
            .current_dir(repo_root())
            .arg("scripts/packaging.py")
            .args(args)
            .output()
            .expect("run scripts/packaging.py (make test installs its venv)")
    };
    let dir = std::env::temp_dir().join(format!("packaging-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let beside = repo_root().join(format!(
        ".sam-template-zip-test-{}.json",
        std::process::id()
    ));
    let below = dir.join("template-zip.json");
    for out in [&beside, &below] {
        let split = run(&["split", out.to_str().unwrap()]);
        assert!(
            split.status.success(),
            "{}",
            String::from_utf8_lossy(&split.stderr)
        );
    }
    let good = run(&["check", "template.yaml", beside.to_str().unwrap()]);
    let _ = std::fs::remove_file(&beside);
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    let bad = run(&["check", below.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(1), "{said}");
    assert!(said.contains("has no Makefile"), "{said}");
    assert!(
        said.contains("ContractorsRegisterFunction"),
        "every function is named: {said}"
    );
}

#[test]
fn the_documents_bucket_expires_what_the_data_map_says() {
    let t = template();
    let bucket = t
        .of_kind("AWS::S3::Bucket")
        .find(|b| b.properties.pointer("/NotificationConfiguration").is_some())
        .expect("the documents bucket");
    let rules = bucket
        .properties
        .pointer("/LifecycleConfiguration/Rules")
        .and_then(Value::as_array)
        .expect("lifecycle rules");
    // The quarantine and the exports: removed, every version, after the map's days.
    for prefix in [
        store::objects::QUARANTINE_PREFIX,
        store::privacy_jobs::EXPORTS_PREFIX,
    ] {
        let kind = store::data_map::OBJECTS
            .iter()
            .find(|o| o.pattern.starts_with(prefix))
            .unwrap_or_else(|| panic!("{prefix} in the data map"));
        let domain::privacy::Retention::Job { days, .. } = kind.holding.retention else {
            panic!("{prefix} is removed after a number of days");
        };
        let expire = rules
            .iter()
            .find(|r| r["Prefix"] == prefix)
            .unwrap_or_else(|| panic!("a rule for {prefix}"));
        assert_eq!(expire["Status"], "Enabled");
        assert_eq!(expire["ExpirationInDays"], u64::from(days), "{prefix}");
        assert!(
            expire
                .pointer("/NoncurrentVersionExpiration/NoncurrentDays")
                .is_some()
        );
    }
    assert!(
        rules
            .iter()
            .any(|r| r["ExpiredObjectDeleteMarker"] == true && r["Status"] == "Enabled"),
        "delete markers left alone are removed"
    );
}

/// Operability: every queue a function consumes has an alarm on the age of its oldest
/// message (a stuck consumer shows before anything reaches a DLQ), every DLQ an alarm on its
/// depth, and the operations dashboard shows functions, queues, DLQs and our own metrics.
#[test]
fn every_queue_is_watched_and_the_dashboard_covers_the_stack() {
    let t = template();
    let alarms: Vec<&Value> = t
        .of_kind("AWS::CloudWatch::Alarm")
        .map(|a| &a.properties)
        .collect();
    let watched = |queue: &str, metric: &str| {
        alarms.iter().any(|a| {
            a["MetricName"] == metric
                && a.pointer("/Dimensions/0/Value/Fn::GetAtt/0") == Some(&json!(queue))
        })
    };
    let mut queues = 0;
    for q in t.of_kind("AWS::SQS::Queue") {
        if let Some(dlq) = q
            .properties
            .pointer("/RedrivePolicy/deadLetterTargetArn/Fn::GetAtt/0")
            .and_then(Value::as_str)
        {
            queues += 1;
            assert!(
                watched(&q.logical_id, "ApproximateAgeOfOldestMessage"),
                "{}: no age alarm",
                q.logical_id
            );
            assert!(
                watched(dlq, "ApproximateNumberOfMessagesVisible"),
                "{dlq}: no depth alarm"
            );
        }
    }
    assert!(queues >= 12, "{queues}");
    let dashboard = t
        .of_kind("AWS::CloudWatch::Dashboard")
        .next()
        .expect("the operations dashboard");
    let body = dashboard.properties["DashboardBody"]["Fn::Sub"]
        .as_str()
        .expect("a body with the stack's names substituted");
    let parsed: Value = serde_json::from_str(body).expect("the body is JSON");
    assert!(parsed["widgets"].as_array().unwrap().len() >= 8);
    for needle in [
        "{AWS/Lambda,FunctionName} (MetricName=\\\"Errors\\\"",
        "ApproximateAgeOfOldestMessage",
        "DLQ",
        "{HolidayLights/Onboarding,service}",
        "ExtractionConfidence",
        "AWS/ApiGateway",
    ] {
        assert!(body.contains(needle), "the dashboard lacks {needle}");
    }
}
