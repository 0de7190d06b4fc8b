//! Upload intents with a real presigned PUT against the local stack's S3, and the document
//! records that follow (scanning and extraction are `pipeline.rs`).

use e2e_tests::{client, product};
use serde_json::{Value, json};

async fn contractor(tag: &str) -> (String, String) {
    let (token, id, _) = e2e_tests::registered_contractor(tag).await;
    (token, id)
}

async fn intent(token: &str, id: &str, body: Value) -> (u16, Value) {
    let (status, _, body) = product()
        .post_as(token, &format!("/v1/contractors/{id}/documents"), &body)
        .await;
    (status, body)
}

#[tokio::test]
async fn an_intent_gives_a_presigned_put_that_uploads_the_declared_file() {
    let stack = product();
    let (token, id) = contractor("upload").await;
    let file = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
        .to_vec();
    let (status, doc) = intent(
        &token,
        &id,
        json!({"kind": "insurance_certificate", "file_name": "../COI (2026).pdf", "content_type": "application/pdf", "size": file.len(), "sha256": e2e_tests::hex_sha256(&file)}),
    )
    .await;
    assert_eq!(status, 201, "{doc}");
    assert_eq!(doc["status"], "awaiting_upload");
    assert_eq!(doc["file_name"], "COI (2026).pdf");
    let upload = &doc["upload"];
    assert_eq!(upload["method"], "PUT");
    let url = upload["url"].as_str().unwrap();
    assert!(
        url.contains("X-Amz-Signature=") && url.contains("X-Amz-Expires="),
        "a SigV4 presigned URL: {url}"
    );
    let headers = upload["headers"].as_object().unwrap();
    assert_eq!(headers["content-type"], "application/pdf");
    assert!(
        headers.contains_key("x-amz-checksum-sha256"),
        "the checksum is a signed header: {headers:?}"
    );
    let signed = url
        .split("X-Amz-SignedHeaders=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    for h in ["content-length", "content-type", "x-amz-checksum-sha256"] {
        assert!(signed.contains(h), "{h} is signed: {signed}");
    }
    let key_prefix = format!(
        "contractors/{id}/documents/{}/",
        doc["id"].as_str().unwrap()
    );

    // The client's PUT, exactly as told.
    let mut put = client().put(url).body(file.clone());
    for (k, v) in headers {
        if k != "content-length" {
            put = put.header(k, v.as_str().unwrap());
        }
    }
    let resp = put.send().await.unwrap();
    assert!(resp.status().is_success(), "{}", resp.text().await.unwrap());
    let s3 = stack.aws().await.s3();
    let listed = s3
        .list_objects_v2()
        .bucket(&stack.refs["DocumentsBucket"])
        .prefix(&key_prefix)
        .send()
        .await
        .unwrap();
    let key = listed.contents()[0].key().unwrap().to_owned();
    assert!(
        key.ends_with("/original.pdf"),
        "our key, not the file name: {key}"
    );
    let stored = s3
        .get_object()
        .bucket(&stack.refs["DocumentsBucket"])
        .key(&key)
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes();
    assert_eq!(stored.as_ref(), file.as_slice());

    // On AWS, S3 refuses a body that does not match the signed checksum (BadDigest); moto
    // accepts it, so locally that refusal is the scan step's job (docs/local-stack.md).
    let (status, second) = intent(
        &token,
        &id,
        json!({"kind": "w9", "file_name": "w9.pdf", "content_type": "application/pdf", "size": file.len(), "sha256": e2e_tests::hex_sha256(b"something else")}),
    )
    .await;
    assert_eq!(status, 201);

    // Read back: the list (newest first) and the record.
    let (status, _, list) = stack
        .get_as(&token, &format!("/v1/contractors/{id}/documents"))
        .await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![second["id"].as_str().unwrap(), doc["id"].as_str().unwrap()]
    );
    let (status, _, one) = stack
        .get_as(
            &token,
            &format!("/v1/documents/{}", doc["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(one["history"][0]["status"], "awaiting_upload");
    assert!(one.get("upload").is_none(), "the upload URL is given once");
}

#[tokio::test]
async fn intents_are_refused_clearly_and_documents_stay_private() {
    let stack = product();
    let (token, id) = contractor("refuse").await;
    let sha = e2e_tests::hex_sha256(b"x");
    let (status, body) = intent(&token, &id, json!({"kind": "license", "file_name": "card.jpg", "content_type": "image/jpeg", "size": 50 * 1024 * 1024, "sha256": sha})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (413, Some("file_too_large")),
        "{body}"
    );
    let (status, body) = intent(&token, &id, json!({"kind": "w9", "file_name": "w9.exe", "content_type": "application/x-msdownload", "size": 10, "sha256": sha})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (415, Some("unsupported_file_type")),
        "{body}"
    );
    let (status, body) = intent(
        &token,
        &id,
        json!({"kind": "passport", "size": -1, "sha256": "zz"}),
    )
    .await;
    assert_eq!(status, 422);
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        vec!["kind", "file_name", "content_type", "size", "sha256"]
    );

    let (_, doc) = intent(&token, &id, json!({"kind": "license", "file_name": "card.png", "content_type": "image/png", "size": 10, "sha256": sha})).await;
    let other = stack
        .token(&format!("auth0|snoop-{}", ulid::Ulid::new()), json!({}))
        .await;
    let (status, _) = intent(&other, &id, json!({"kind": "license", "file_name": "x.png", "content_type": "image/png", "size": 10, "sha256": sha})).await;
    assert_eq!(status, 404, "another contractor cannot upload here");
    let (status, _, _) = stack
        .get_as(
            &other,
            &format!("/v1/documents/{}", doc["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _, _) = stack
        .get_as(&other, &format!("/v1/contractors/{id}/documents"))
        .await;
    assert_eq!(status, 404);
    let reviewer = stack
        .token(
            &format!("auth0|rev-{}", ulid::Ulid::new()),
            json!({"roles": ["reviewer"]}),
        )
        .await;
    let (status, _, _) = stack
        .get_as(
            &reviewer,
            &format!("/v1/documents/{}", doc["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = intent(&reviewer, &id, json!({"kind": "license", "file_name": "x.png", "content_type": "image/png", "size": 10, "sha256": sha})).await;
    assert_eq!(status, 403, "reviewers do not upload for contractors");
}
