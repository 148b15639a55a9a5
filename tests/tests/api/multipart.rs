//! Multipart uploads end to end: parts signed by filegate and PUT to the emulator, completed
//! from S3's own part list at finalize, resumed after a crash, aborted on delete and expiry.
//! The signature's binding of each part's length is checked against an S3 that checks
//! signatures (`CheckingS3`), as moto checks none.

use std::time::Duration;

use filegate_domain::audit::RequestOrigin;
use filegate_domain::file::{AllowedContentTypes, ContentType, FileSize, Sha256Checksum};
use filegate_domain::multipart::PartPlan;
use filegate_domain::timestamp::Timestamp;
use filegate_store::config::Encryption;
use filegate_store::objects::{Completion, ObjectStore};
use filegate_tests::checking_s3::CheckingS3;
use filegate_tests::{
    TestApp, TestOptions, noise, part_of, pdf, s3_client_at, sha256_base64, spawn_app,
    spawn_app_with,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

const MIB: usize = 1024 * 1024;
const PART: usize = 8 * MIB;

/// A multipart declaration of `size` bytes of `bytes`, with the whole file's SHA-256.
fn multipart_pdf(name: &str, bytes: &[u8]) -> Value {
    let mut declaration = pdf(name, bytes.len());
    declaration["multipart"] = true.into();
    declaration["checksum_sha256"] = sha256_base64(bytes).into();
    declaration
}

/// A multipart declaration without a checksum: its parts carry none either.
fn multipart_unchecked(name: &str, bytes: &[u8]) -> Value {
    let mut declaration = pdf(name, bytes.len());
    declaration["multipart"] = true.into();
    declaration
}

/// The file's bytes as the API serves them.
async fn content(app: &TestApp, id: &str) -> Vec<u8> {
    let r = app
        .http
        .get(format!("{}/v1/files/{id}/content", app.base))
        .bearer_auth(app.token())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn a_file_above_the_threshold_goes_up_in_three_parts() {
    let app = spawn_app_with(TestOptions {
        settings: vec![("FILEGATE_MULTIPART_THRESHOLD", (MIB as u64).to_string())],
        ..TestOptions::default()
    })
    .await;
    let bytes = noise(2 * PART + 1234, 1);
    let mut declaration = pdf("survey.pdf", bytes.len());
    declaration["checksum_sha256"] = sha256_base64(&bytes).into();
    let file = app.create_file(declaration).await;
    let id = file["id"].as_str().unwrap();
    assert_eq!(file["status"], "pending");
    let upload = &file["upload"];
    assert_eq!(upload["method"], "multipart", "{upload}");
    assert_eq!(upload["part_size"], PART.to_string(), "a decimal string");
    assert_eq!(upload["part_count"], 3);
    assert!(upload["expires_at"].is_string());
    assert!(upload.get("url").is_none(), "{upload}");
    // The upload id stays on the server.
    assert_eq!(app.multipart_uploads(id).await, 1);
    let upload_id = upload_id_of(&app, id).await;
    assert!(!file.to_string().contains(&upload_id));

    let parts: Vec<Value> = (1..=3)
        .map(|n| json!({"part_number": n, "checksum_sha256": sha256_base64(part_of(&bytes, PART, n))}))
        .collect();
    let signed = app.sign_parts(id, Value::Array(parts)).await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.body);
    assert_eq!(signed.body["object"], "list");
    let tickets = signed.body["data"].as_array().unwrap();
    // The upload id is inside the signed URLs, and nowhere else.
    let mut without_urls = signed.body.clone();
    for ticket in without_urls["data"].as_array_mut().unwrap() {
        ticket["url"] = Value::Null;
    }
    assert!(!without_urls.to_string().contains(&upload_id));
    let lengths: Vec<&str> = tickets
        .iter()
        .map(|t| t["headers"]["content-length"].as_str().unwrap())
        .collect();
    assert_eq!(lengths, [&PART.to_string(), &PART.to_string(), "1234"]);
    for (n, ticket) in (1..=3).zip(tickets) {
        assert_eq!(ticket["object"], "upload_part");
        assert_eq!(ticket["part_number"], n);
        assert_eq!(
            ticket["headers"]["x-amz-checksum-sha256"],
            sha256_base64(part_of(&bytes, PART, n))
        );
        assert_eq!(
            app.put_part(ticket, part_of(&bytes, PART, n)).await,
            StatusCode::OK
        );
    }

    let listed = app.get(&format!("/v1/files/{id}/parts")).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let sizes: Vec<&str> = listed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["size_bytes"].as_str().unwrap())
        .collect();
    assert_eq!(sizes, [&PART.to_string(), &PART.to_string(), "1234"]);
    assert_eq!(listed.body["part_count"], 3);

    let done = app.finalize(id).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.body["status"], "uploaded");
    assert_eq!(done.body["size_bytes"], bytes.len().to_string());
    assert_eq!(app.multipart_uploads(id).await, 0, "completed");
    assert_eq!(
        app.audit_actions(id).await,
        ["file.created", "file.uploaded"]
    );
    assert_eq!(content(&app, id).await, bytes);
    // Finalize is idempotent, and the part routes are closed once uploaded.
    assert_eq!(app.finalize(id).await.status, StatusCode::OK);
    let late = app.sign_parts(id, json!([{"part_number": 1}])).await;
    assert_eq!(
        (late.status, late.code()),
        (StatusCode::CONFLICT, "file_not_pending")
    );
    let late = app.get(&format!("/v1/files/{id}/parts")).await;
    assert_eq!(
        (late.status, late.code()),
        (StatusCode::CONFLICT, "file_not_pending")
    );
}

async fn upload_id_of(app: &TestApp, id: &str) -> String {
    filegate_store::clients::s3_client(&app.deployment.sdk, &app.state().config)
        .list_multipart_uploads()
        .bucket(&app.state().config.bucket)
        .prefix(format!("{}/{id}", app.org))
        .send()
        .await
        .unwrap()
        .uploads()[0]
        .upload_id()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn parts_go_up_in_parallel_and_in_any_order() {
    let app = spawn_app().await;
    let bytes = noise(4 * PART + 5, 2);
    let file = app
        .create_file(multipart_unchecked("dataset.pdf", &bytes))
        .await;
    let id = file["id"].as_str().unwrap();
    assert_eq!(file["upload"]["part_count"], 5);
    let order = [4u32, 1, 5, 3, 2];
    let signed = app
        .sign_parts(
            id,
            order.iter().map(|n| json!({"part_number": n})).collect(),
        )
        .await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.body);
    let tickets = signed.body["data"].as_array().unwrap();
    let puts = tickets.iter().map(|ticket| {
        let n = ticket["part_number"].as_u64().unwrap() as u32;
        let app = &app;
        let bytes = &bytes;
        async move { app.put_part(ticket, part_of(bytes, PART, n)).await }
    });
    let statuses = futures_util::future::join_all(puts).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    let done = app.finalize(id).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(content(&app, id).await, bytes, "parts joined in part order");
}

#[tokio::test]
async fn an_interrupted_upload_resumes_from_the_parts_s3_holds() {
    let app = spawn_app().await;
    let bytes = noise(3 * PART + 77, 3);
    let file = app.create_file(multipart_pdf("video.pdf", &bytes)).await;
    let id = file["id"].as_str().unwrap().to_owned();
    app.upload_parts(&file, &bytes, &[1, 2]).await;
    // The client crashes here and forgets everything but the file id.
    drop(file);

    let first = app.get(&format!("/v1/files/{id}/parts?limit=1")).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.body["part_size"], PART.to_string());
    assert_eq!(first.body["part_count"], 4);
    assert_eq!(first.body["has_more"], true);
    assert_eq!(first.body["data"][0]["part_number"], 1);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = app
        .get(&format!("/v1/files/{id}/parts?limit=1&cursor={cursor}"))
        .await;
    assert_eq!(second.body["data"][0]["part_number"], 2, "{}", second.body);
    assert_eq!(second.body["data"][0]["size_bytes"], PART.to_string());
    assert!(second.body["data"][0]["etag"].is_string());
    // Another file's cursor does not open this list.
    let all = app.get(&format!("/v1/files/{id}/parts")).await;
    let held: Vec<u64> = all.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["part_number"].as_u64().unwrap())
        .collect();
    assert_eq!(held, [1, 2]);

    // Resume: only the parts that are not there.
    let resumed = json!({"id": id, "checksum_sha256": sha256_base64(&bytes), "upload": {"part_size": PART.to_string()}});
    app.upload_parts(&resumed, &bytes, &[3, 4]).await;
    let done = app.finalize(&id).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(content(&app, &id).await, bytes);
}

#[tokio::test]
async fn a_part_url_can_be_signed_again_and_the_new_one_works() {
    let app = spawn_app().await;
    let bytes = noise(PART + 10, 4);
    let file = app
        .create_file(multipart_unchecked("scan.pdf", &bytes))
        .await;
    let id = file["id"].as_str().unwrap();
    let first = app.sign_parts(id, json!([{"part_number": 2}])).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let again = app.sign_parts(id, json!([{"part_number": 2}])).await;
    let (a, b) = (&first.body["data"][0], &again.body["data"][0]);
    assert!(
        b["expires_at"].as_str().unwrap() > a["expires_at"].as_str().unwrap(),
        "{a} {b}"
    );
    assert_ne!(a["url"], b["url"]);
    app.upload_parts(&file, &bytes, &[1]).await;
    assert_eq!(
        app.put_part(b, part_of(&bytes, PART, 2)).await,
        StatusCode::OK
    );
    assert_eq!(app.finalize(id).await.status, StatusCode::OK);
}

#[tokio::test]
async fn finalize_before_every_part_is_there_is_409_and_changes_nothing() {
    let app = spawn_app().await;
    let bytes = noise(2 * PART + 3, 5);
    let file = app.create_file(multipart_pdf("scan.pdf", &bytes)).await;
    let id = file["id"].as_str().unwrap();
    let early = app.finalize(id).await;
    assert_eq!(
        (early.status, early.code()),
        (StatusCode::CONFLICT, "upload_incomplete")
    );
    assert_eq!(
        early.body["error"]["details"]["missing_parts"],
        json!([1, 2, 3])
    );

    app.upload_parts(&file, &bytes, &[1, 3]).await;
    let early = app.finalize(id).await;
    assert_eq!(
        (early.status, early.code()),
        (StatusCode::CONFLICT, "upload_incomplete"),
        "{}",
        early.body
    );
    assert_eq!(early.body["error"]["details"]["missing_parts"], json!([2]));
    assert_eq!(early.body["error"]["details"]["missing_count"], 1);
    assert_eq!(
        app.get(&format!("/v1/files/{id}")).await.body["status"],
        "pending"
    );
    assert_eq!(app.audit_actions(id).await, ["file.created"]);
    assert_eq!(
        app.multipart_uploads(id).await,
        1,
        "the upload is still open"
    );

    app.upload_parts(&file, &bytes, &[2]).await;
    let done = app.finalize(id).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(content(&app, id).await, bytes);
}

#[tokio::test]
async fn a_part_of_the_wrong_length_counts_as_missing() {
    // moto checks no signature, so a short part lands; finalize still refuses it.
    let app = spawn_app().await;
    let bytes = noise(2 * PART + 3, 6);
    let file = app
        .create_file(multipart_unchecked("scan.pdf", &bytes))
        .await;
    let id = file["id"].as_str().unwrap();
    app.upload_parts(&file, &bytes, &[1, 3]).await;
    let signed = app.sign_parts(id, json!([{"part_number": 2}])).await;
    let short = &part_of(&bytes, PART, 2)[..PART - 1];
    let mut request = app
        .http
        .put(signed.body["data"][0]["url"].as_str().unwrap())
        .body(short.to_vec());
    for (name, value) in signed.body["data"][0]["headers"].as_object().unwrap() {
        if name != "content-length" {
            request = request.header(name, value.as_str().unwrap());
        }
    }
    assert_eq!(request.send().await.unwrap().status(), StatusCode::OK);
    let early = app.finalize(id).await;
    assert_eq!(early.code(), "upload_incomplete", "{}", early.body);
    assert_eq!(early.body["error"]["details"]["missing_parts"], json!([2]));
    app.upload_parts(&file, &bytes, &[2]).await;
    assert_eq!(app.finalize(id).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_signed_part_binds_its_length_where_s3_checks_signatures() {
    let s3 = CheckingS3::start().await;
    let bucket = "filegate-parts";
    let client = s3_client_at(s3.endpoint()).await;
    client.create_bucket().bucket(bucket).send().await.unwrap();
    let objects = ObjectStore::new(client, bucket, Encryption::S3Managed);
    let key = "acme/file_01JD3Q5Z8K2M4N6P8R0T2V4X6Z";
    let content_type = ContentType::parse("application/pdf", &AllowedContentTypes::any()).unwrap();
    let upload_id = objects
        .create_multipart_upload(key, &content_type, false)
        .await
        .unwrap();
    let plan = PartPlan::for_size(FileSize::parse(&(PART + 100).to_string(), u64::MAX).unwrap());
    let second = plan.part_number(2, "p").unwrap();
    let bytes = noise(100, 7);
    let http = filegate_tests::http_builder().build().unwrap();
    let put = |url: String, body: Vec<u8>| {
        let http = http.clone();
        async move { http.put(url).body(body).send().await.unwrap().status() }
    };
    let sign = |start: Timestamp, expires: u64| {
        objects.presign_part(
            key,
            &upload_id,
            second,
            plan.length_of(second),
            None,
            expires,
            start,
        )
    };
    let ticket = sign(Timestamp::now(), 300).await.unwrap();
    assert_eq!(ticket.headers["content-length"], "100");
    // One byte more or less than signed: refused.
    for wrong in [99, 101] {
        let status = put(ticket.url.clone(), noise(wrong, 7)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{wrong} bytes");
    }
    // An expired part URL is refused; signing it again gives one that works.
    let stale = sign(Timestamp::now(), 1).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(put(stale.url, bytes.clone()).await, StatusCode::FORBIDDEN);
    assert_eq!(put(ticket.url.clone(), bytes.clone()).await, StatusCode::OK);
    let parts = objects.all_parts(key, &upload_id).await.unwrap().unwrap();
    assert_eq!((parts.len(), parts[0].number, parts[0].size), (1, 2, 100));

    // A part's SHA-256 is signed (on an upload created with part checksums): a client cannot
    // send another digest with the URL.
    let checksummed = objects
        .create_multipart_upload(key, &content_type, true)
        .await
        .unwrap();
    let sum = Sha256Checksum::parse(&sha256_base64(&bytes)).unwrap();
    let bound = objects
        .presign_part(
            key,
            &checksummed,
            second,
            100,
            Some(&sum),
            300,
            Timestamp::now(),
        )
        .await
        .unwrap();
    assert_eq!(bound.headers["x-amz-checksum-sha256"], sum.as_base64());
    let other = Sha256Checksum::parse(&sha256_base64(b"other")).unwrap();
    let status = http
        .put(bound.url.clone())
        .header("x-amz-checksum-sha256", other.as_base64())
        .body(bytes.clone())
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_part_whose_bytes_differ_from_the_declared_checksum_fails_the_file() {
    // AWS refuses a part whose bytes do not hash to its signed SHA-256 at the PUT; moto does
    // not, so this checks the second line: finalize hashes the completed object.
    let app = spawn_app().await;
    let bytes = noise(PART + 10, 8);
    let file = app.create_file(multipart_pdf("scan.pdf", &bytes)).await;
    let id = file["id"].as_str().unwrap();
    app.upload_parts(&file, &bytes, &[1]).await;
    let mut tampered = part_of(&bytes, PART, 2).to_vec();
    tampered[0] ^= 1;
    let signed = app
        .sign_parts(
            id,
            json!([{"part_number": 2, "checksum_sha256": sha256_base64(part_of(&bytes, PART, 2))}]),
        )
        .await;
    assert_eq!(
        app.put_part(&signed.body["data"][0], &tampered).await,
        StatusCode::OK
    );
    let r = app.finalize(id).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "upload_mismatch"),
        "{}",
        r.body
    );
    assert_eq!(r.body["error"]["details"]["reason"], "checksum");
    assert!(app.head_object(id).await.is_none(), "object deleted");
    assert_eq!(
        app.get(&format!("/v1/files/{id}")).await.body["status"],
        "failed"
    );
    let again = app.finalize(id).await;
    assert_eq!(again.code(), "upload_mismatch");
}

#[tokio::test]
async fn deleting_a_pending_multipart_file_aborts_its_upload() {
    let app = spawn_app().await;
    let bytes = noise(PART + 10, 9);
    let file = app.create_file(multipart_pdf("scan.pdf", &bytes)).await;
    let id = file["id"].as_str().unwrap();
    app.upload_parts(&file, &bytes, &[1]).await;
    assert_eq!(app.multipart_uploads(id).await, 1);
    let deleted = app.delete(&format!("/v1/files/{id}")).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    assert_eq!(app.multipart_uploads(id).await, 0, "no parts left billed");
    assert_eq!(
        app.get(&format!("/v1/files/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    let r = app.get(&format!("/v1/files/{id}/parts")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn failing_a_pending_multipart_file_aborts_its_upload() {
    let app = spawn_app().await;
    let bytes = noise(PART + 10, 10);
    let file = app.create_file(multipart_pdf("scan.pdf", &bytes)).await;
    let id = file["id"].as_str().unwrap();
    app.upload_parts(&file, &bytes, &[1]).await;
    let r = app
        .post(
            &format!("/v1/files/{id}/status"),
            &json!({"status": "failed", "error_message": "the user cancelled"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(app.multipart_uploads(id).await, 0);
}

#[tokio::test]
async fn the_sweeper_aborts_an_expired_multipart_upload() {
    let app = spawn_app().await;
    let bytes = noise(PART + 10, 11);
    let file = app.create_file(multipart_pdf("scan.pdf", &bytes)).await;
    let id = file["id"].as_str().unwrap();
    app.upload_parts(&file, &bytes, &[1]).await;
    // Before its expiry (24 h), the upload is left to its client.
    let early = app.sweep_in(3600).await;
    assert_eq!(early.expired, 0, "{early}");
    assert_eq!(app.multipart_uploads(id).await, 1);
    let late = app.sweep_in(25 * 3600).await;
    assert_eq!(late.expired, 1, "{late}");
    assert_eq!(app.multipart_uploads(id).await, 0);
    assert_eq!(
        app.audit_actions(id).await,
        ["file.created", "file.expired"]
    );
}

#[tokio::test]
async fn a_one_tebibyte_declaration_gets_9987_parts_of_105_mib() {
    let app = spawn_app().await;
    let size: u64 = 1 << 40;
    let file = app.create_file(pdf("archive.pdf", size as usize)).await;
    let id = file["id"].as_str().unwrap();
    let part = 105 * MIB as u64;
    assert_eq!(file["upload"]["method"], "multipart");
    assert_eq!(file["upload"]["part_size"], part.to_string());
    assert_eq!(file["upload"]["part_count"], 9987);
    assert_eq!(file["size_bytes"], size.to_string());
    let signed = app
        .sign_parts(id, json!([{"part_number": 1}, {"part_number": 9987}]))
        .await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.body);
    let last = size - 9986 * part;
    assert_eq!(
        signed.body["data"][0]["headers"]["content-length"],
        part.to_string()
    );
    assert_eq!(
        signed.body["data"][1]["headers"]["content-length"],
        last.to_string()
    );
    for bad in [0, 9988, 10_001] {
        let r = app
            .sign_parts(id, json!([{"part_number": 1}, {"part_number": bad}]))
            .await;
        assert_eq!(
            (r.status, r.code(), r.param()),
            (
                StatusCode::BAD_REQUEST,
                "invalid_part_number",
                Some("parts[1].part_number")
            ),
            "{bad}"
        );
    }
    let nothing = app.get(&format!("/v1/files/{id}/parts")).await;
    assert_eq!(nothing.body["data"], json!([]), "nothing was uploaded");
    let incomplete = app.finalize(id).await;
    assert_eq!(incomplete.body["error"]["details"]["missing_count"], 9987);
    assert_eq!(
        incomplete.body["error"]["details"]["missing_parts"]
            .as_array()
            .unwrap()
            .len(),
        1000
    );
    // 5 TiB is the largest object S3 holds.
    let too_big = app
        .post("/v1/files", &pdf("huge.pdf", (5usize << 40) + 1))
        .await;
    assert_eq!(too_big.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn a_batch_mixes_single_puts_and_multipart_uploads() {
    let app = spawn_app().await;
    let small = noise(100, 12);
    let mut tiny_multipart = pdf("one-part.pdf", 200);
    tiny_multipart["multipart"] = true.into();
    let r = app
        .post(
            "/v1/files/batch",
            &json!({"files": [pdf("a.pdf", 100), tiny_multipart]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let (single, multi) = (&r.body["data"][0], &r.body["data"][1]);
    assert_eq!(single["upload"]["method"], "PUT");
    assert_eq!(multi["upload"]["method"], "multipart");
    assert_eq!(multi["upload"]["part_count"], 1);
    assert_eq!(app.upload(single, &small).await, StatusCode::OK);
    let one_part = noise(200, 13);
    app.upload_parts(multi, &one_part, &[1]).await;
    for (file, bytes) in [(single, &small), (multi, &one_part)] {
        let id = file["id"].as_str().unwrap();
        let done = app.finalize(id).await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.body);
        assert_eq!(&content(&app, id).await, bytes);
    }
    // A single-PUT file has no parts.
    let id = single["id"].as_str().unwrap();
    let r = app.sign_parts(id, json!([{"part_number": 1}])).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "not_multipart")
    );
}

#[tokio::test]
async fn a_batch_that_is_refused_leaves_no_multipart_upload() {
    let app = spawn_app().await;
    let mut multi = pdf("big.pdf", 200);
    multi["multipart"] = true.into();
    let mut missing_folder = pdf("b.pdf", 10);
    missing_folder["folder"] = "fldr_01JD3Q5Z8K2M4N6P8R0T2V4X70".into();
    let r = app
        .post(
            "/v1/files/batch",
            &json!({"files": [multi, missing_folder]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let uploads = filegate_store::clients::s3_client(&app.deployment.sdk, &app.state().config)
        .list_multipart_uploads()
        .bucket(&app.state().config.bucket)
        .prefix(format!("{}/", app.org))
        .send()
        .await
        .unwrap();
    assert!(uploads.uploads().is_empty(), "{uploads:?}");
}

#[tokio::test]
async fn part_requests_are_checked() {
    let app = spawn_app().await;
    let file = app
        .create_file(multipart_pdf("scan.pdf", &noise(PART + 1, 14)))
        .await;
    let id = file["id"].as_str().unwrap();
    let cases = [
        (json!([]), "invalid_parts_count", "parts"),
        (
            json!([{"part_number": 1}, {"part_number": 1}]),
            "duplicate_part_number",
            "parts[1].part_number",
        ),
        (
            json!([{"part_number": 1, "checksum_sha256": "abc"}]),
            "invalid_checksum",
            "parts[0].checksum_sha256",
        ),
        (
            json!([{"part_number": "1"}]),
            "invalid_type",
            "parts[0].part_number",
        ),
        (
            json!([{"part_number": 1, "etag": "x"}]),
            "unknown_field",
            "parts[0].etag",
        ),
    ];
    for (parts, code, param) in cases {
        let r = app.sign_parts(id, parts.clone()).await;
        assert_eq!(
            (r.status, r.code(), r.param()),
            (StatusCode::BAD_REQUEST, code, Some(param)),
            "{parts}: {}",
            r.body
        );
    }
    let r = app.sign_parts(id, json!([{"part_number": 1}])).await;
    assert_eq!(
        (r.status, r.code(), r.param()),
        (
            StatusCode::BAD_REQUEST,
            "part_checksum_required",
            Some("parts[0].checksum_sha256")
        ),
        "a file declared with its checksum has checksummed parts"
    );
    let unchecked = app
        .create_file(multipart_unchecked("plain.pdf", &noise(PART + 1, 14)))
        .await;
    let r = app
        .sign_parts(
            unchecked["id"].as_str().unwrap(),
            json!([{"part_number": 1, "checksum_sha256": sha256_base64(b"x")}]),
        )
        .await;
    assert_eq!(
        (r.status, r.code(), r.param()),
        (
            StatusCode::BAD_REQUEST,
            "part_checksum_not_declared",
            Some("parts[0].checksum_sha256")
        )
    );
    let many: Vec<Value> = (1..=101).map(|n| json!({"part_number": n})).collect();
    let r = app.sign_parts(id, Value::Array(many)).await;
    assert_eq!(r.code(), "invalid_parts_count");
    let read_only = app.token_for(&app.org, Some("files:read"));
    let r = app
        .send(
            reqwest::Method::POST,
            &format!("/v1/files/{id}/parts"),
            Some(&read_only),
            Some(&json!({"parts": [{"part_number": 1}]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn another_orgs_token_gets_404_on_both_part_routes() {
    let app = spawn_app().await;
    let file = app
        .create_file(multipart_pdf("scan.pdf", &noise(PART + 1, 15)))
        .await;
    let id = file["id"].as_str().unwrap();
    let other = app.token_for(&format!("{}-b", app.org), Some("admin"));
    for (method, body) in [
        (
            reqwest::Method::POST,
            Some(json!({"parts": [{"part_number": 1}]})),
        ),
        (reqwest::Method::GET, None),
    ] {
        let r = app
            .send(
                method.clone(),
                &format!("/v1/files/{id}/parts"),
                Some(&other),
                body.as_ref(),
            )
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::NOT_FOUND, "file_not_found"),
            "{method}"
        );
    }
}

#[tokio::test]
async fn the_completion_event_finalizes_once_whoever_comes_first() {
    let app = spawn_app_with(TestOptions {
        event_poller: true,
        ..TestOptions::default()
    })
    .await;
    let bytes = noise(PART + 10, 16);
    let file = app.create_file(multipart_pdf("scan.pdf", &bytes)).await;
    let id = file["id"].as_str().unwrap();
    app.upload_parts(&file, &bytes, &[1, 2]).await;
    // Parts alone create no object, so no event finalizes the file early.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        app.get(&format!("/v1/files/{id}")).await.body["status"],
        "pending"
    );

    // A finalize that died right after completing the upload: S3 has the object, the row is
    // still pending. The completion's S3 event finishes the job.
    let objects = app.state().files.objects();
    let key = format!("{}/{id}", app.org);
    let upload_id = upload_id_of(&app, id).await;
    let parts = objects.all_parts(&key, &upload_id).await.unwrap().unwrap();
    assert_eq!(
        objects
            .complete_multipart_upload(&key, &upload_id, &parts)
            .await
            .unwrap(),
        Completion::Completed
    );
    app.wait_for_status(id, "uploaded").await;

    // A manual finalize and a duplicate of the event, racing: nothing more happens.
    let bucket = app.state().config.bucket.clone();
    let origin = RequestOrigin::default();
    let (manual, event) = tokio::join!(
        app.finalize(id),
        app.state().files.finalize_object(&origin, &bucket, &key)
    );
    assert_eq!(manual.status, StatusCode::OK, "{}", manual.body);
    assert!(
        matches!(
            event,
            filegate_core::finalize::ObjectFinalized::Finalized(_)
        ),
        "{event:?}"
    );
    assert_eq!(
        app.audit_actions(id).await,
        ["file.created", "file.uploaded"]
    );
    assert_eq!(content(&app, id).await, bytes);
}

#[tokio::test]
async fn a_file_too_large_to_hash_in_a_request_is_checked_by_its_s3_event() {
    let app = spawn_app_with(TestOptions {
        event_poller: true,
        settings: vec![("FILEGATE_FINALIZE_HASH_MAX_BYTES", MIB.to_string())],
        ..TestOptions::default()
    })
    .await;
    let bytes = noise(PART + 10, 17);
    let good = app.create_file(multipart_pdf("good.pdf", &bytes)).await;
    let bad = app.create_file(multipart_pdf("bad.pdf", &bytes)).await;
    app.upload_parts(&good, &bytes, &[1, 2]).await;
    let mut tampered = bytes.clone();
    tampered[PART + 1] ^= 1;
    app.upload_parts(&bad, &tampered, &[1, 2]).await;
    for (file, status) in [(&good, "uploaded"), (&bad, "failed")] {
        let id = file["id"].as_str().unwrap();
        let r = app.finalize(id).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
        assert_eq!(r.headers["retry-after"], "10");
        assert_eq!(r.body["status"], "pending");
        assert_eq!(app.multipart_uploads(id).await, 0, "completed");
        // The completion's S3 event reads the whole object and settles the file.
        app.wait_for_status(id, status).await;
    }
    let id = bad["id"].as_str().unwrap();
    assert_eq!(app.finalize(id).await.code(), "upload_mismatch");
    assert!(app.head_object(id).await.is_none());
    let id = good["id"].as_str().unwrap();
    assert_eq!(app.finalize(id).await.status, StatusCode::OK);
    assert_eq!(
        app.audit_actions(id).await,
        ["file.created", "file.uploaded"]
    );
}

#[tokio::test]
async fn a_whole_file_checksum_is_refused_where_it_could_not_be_verified() {
    let app = spawn_app().await;
    let mut declaration = pdf("huge.pdf", (64usize << 30) + 1);
    declaration["checksum_sha256"] = sha256_base64(b"x").into();
    let r = app.post("/v1/files", &declaration).await;
    assert_eq!(
        (r.status, r.code(), r.param()),
        (
            StatusCode::BAD_REQUEST,
            "checksum_not_verifiable",
            Some("checksum_sha256")
        )
    );
    declaration["size_bytes"] = (64u64 << 30).to_string().into();
    assert_eq!(
        app.post("/v1/files", &declaration).await.status,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn a_completed_upload_is_finalized_not_expired_however_late_the_sweep() {
    let app = spawn_app().await;
    let bytes = noise(PART + 10, 18);
    let file = app.create_file(multipart_pdf("scan.pdf", &bytes)).await;
    let id = file["id"].as_str().unwrap();
    app.upload_parts(&file, &bytes, &[1, 2]).await;
    // A finalize that completed the upload and died; its S3 event was lost too.
    let objects = app.state().files.objects();
    let key = format!("{}/{id}", app.org);
    let upload_id = upload_id_of(&app, id).await;
    let parts = objects.all_parts(&key, &upload_id).await.unwrap().unwrap();
    let completed = objects.complete_multipart_upload(&key, &upload_id, &parts);
    assert_eq!(completed.await.unwrap(), Completion::Completed);
    let report = app.sweep_in(25 * 3600).await;
    assert_eq!((report.finalized, report.expired), (1, 0), "{report}");
    assert_eq!(
        app.get(&format!("/v1/files/{id}")).await.body["status"],
        "uploaded"
    );
    assert_eq!(content(&app, id).await, bytes);
}
