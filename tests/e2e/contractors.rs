//! Registering and reading contractors through the product's stack, with the JWT
//! authorizer in front; problem JSON for bad input; 404s as API Gateway gives them.

use e2e_tests::{client, product, read, registration, unique_subject};
use serde_json::json;

#[tokio::test]
async fn register_then_read_back_by_id_and_me() {
    let stack = product();
    let sub = unique_subject("dana");
    let token = stack.token(&sub, json!({"roles": ["contractor"]})).await;
    let (status, headers, created) = read(
        client()
            .post(stack.url("/v1/contractors"))
            .bearer_auth(&token)
            .header("x-correlation-id", "e2e-register-1")
            .json(&registration("read-back"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap();
    assert!(id.starts_with("ctr_"));
    assert_eq!(created["status"], "draft");
    assert_eq!(created["version"], 1);
    assert_eq!(
        headers["location"],
        format!("/v1/contractors/{id}").as_str()
    );
    assert_eq!(headers["x-correlation-id"], "e2e-register-1");

    let (status, headers, fetched) = stack.get_as(&token, &format!("/v1/contractors/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(fetched, created);
    assert_eq!(headers["etag"], "\"1\"");

    let (status, _, mine) = stack.get_as(&token, "/v1/contractors/me").await;
    assert_eq!(status, 200);
    assert_eq!(mine["id"], id);

    // Stored as designed: the profile item and the owner lock.
    let item = stack
        .table_item(&format!("CONTRACTOR#{id}"), "PROFILE")
        .await
        .expect("profile item");
    assert_eq!(item["gsi1pk"].as_s().unwrap(), "STATUS#draft");
    let lock = stack
        .table_item(&format!("OWNER#{sub}"), "OWNER")
        .await
        .expect("owner lock");
    assert_eq!(lock["contractor_id"].as_s().unwrap(), id);
}

#[tokio::test]
async fn the_authorizer_and_ownership_deny_everyone_else() {
    let stack = product();
    let owner = unique_subject("owner");
    let token = stack.token(&owner, json!({})).await;
    let (status, _, created) = stack
        .post_as(&token, "/v1/contractors", &registration("authz"))
        .await;
    assert_eq!(status, 201, "{created}");
    let path = format!("/v1/contractors/{}", created["id"].as_str().unwrap());

    // Refused by the JWT authorizer before any function runs.
    let expired = stack.token(&owner, json!({"expires_in": -60})).await;
    let wrong_audience = stack
        .token(&owner, json!({"audience": "https://someone-else.example"}))
        .await;
    let wrong_issuer = stack
        .token(&owner, json!({"issuer": "https://evil.example/"}))
        .await;
    let not_yet = stack.token(&owner, json!({"not_before_in": 600})).await;
    let mut tampered = token.clone();
    tampered.pop();
    tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
    for (what, auth) in [
        ("no token", None),
        ("garbage", Some("Bearer not-a-jwt".to_owned())),
        ("expired", Some(format!("Bearer {expired}"))),
        ("wrong audience", Some(format!("Bearer {wrong_audience}"))),
        ("wrong issuer", Some(format!("Bearer {wrong_issuer}"))),
        ("not valid yet", Some(format!("Bearer {not_yet}"))),
        ("bad signature", Some(format!("Bearer {tampered}"))),
    ] {
        let mut req = client().get(stack.url(&path));
        if let Some(a) = &auth {
            req = req.header("authorization", a);
        }
        let (status, headers, body) = read(req.send().await.unwrap()).await;
        assert_eq!(status, 401, "{what}: {body}");
        assert_eq!(body, json!({"message": "Unauthorized"}), "{what}");
        assert!(headers.contains_key("www-authenticate"), "{what}");
        let (status, _, _) = read(
            client()
                .post(stack.url("/v1/contractors"))
                .header("authorization", auth.unwrap_or_default())
                .json(&registration("x"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 401, "POST with {what}");
    }

    // Another contractor cannot see it (and cannot tell it exists); a reviewer can.
    let other = stack
        .token(&unique_subject("eve"), json!({"roles": ["contractor"]}))
        .await;
    let (status, _, body) = stack.get_as(&other, &path).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["code"], "not_found");
    let reviewer = stack
        .token(&unique_subject("rita"), json!({"roles": ["reviewer"]}))
        .await;
    let (status, _, body) = stack.get_as(&reviewer, &path).await;
    assert_eq!(status, 200);
    assert_eq!(body["id"], created["id"]);
}

#[tokio::test]
async fn bad_input_gets_problem_json_and_duplicates_are_refused() {
    let stack = product();
    let token = stack.token(&unique_subject("bad-input"), json!({})).await;
    let post = |body: reqwest::Body, content_type: &'static str| {
        client()
            .post(stack.url("/v1/contractors"))
            .bearer_auth(&token)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let (status, headers, body) = read(
        post(
            json!({"business_name": "", "contact": {"email": "nope"}})
                .to_string()
                .into(),
            "application/json",
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(headers["content-type"], "application/problem+json");
    assert_eq!(body["code"], "validation_failed");
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"business_name")
            && fields.contains(&"contact.email")
            && fields.contains(&"trade"),
        "{fields:?}"
    );

    let (status, _, _) = read(
        post("{\"business_name\":".into(), "application/json")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _, _) = read(
        post(
            "business_name=x".into(),
            "application/x-www-form-urlencoded",
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 415);
    let (status, _, body) = read(
        post(
            json!({"business_name": "x", "is_admin": true})
                .to_string()
                .into(),
            "application/json",
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 422, "{body}");

    let (status, _, _) = read(
        post(registration("dup").to_string().into(), "application/json")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _, body) = read(
        post(registration("dup").to_string().into(), "application/json")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(body["code"], "contractor_already_registered");
}

#[tokio::test]
async fn unknown_routes_are_404_problems_and_the_root_is_api_gateways_own() {
    let stack = product();
    // Caught by `ANY /{proxy+}`: our problem document.
    let (status, _, body) = read(
        client()
            .get(stack.url("/v1/nothing-here"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "not_found");
    // `/` matches no route at all ({proxy+} needs a segment): API Gateway's own answer.
    let (status, _, body) = read(client().get(stack.url("/")).send().await.unwrap()).await;
    assert_eq!(status, 404);
    assert_eq!(body, json!({"message": "Not Found"}));
}
