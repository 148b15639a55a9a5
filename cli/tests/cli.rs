//! The `filegate` binary against the local API and the emulator: what a user's shell sees.

use std::path::Path;
use std::process::{Command, Output};

use filegate_tests::{TestApp, TestOptions, noise, sha256_base64, spawn_app_with};
use serde_json::Value;

/// Runs `filegate args…` against `app` with its token, off the tokio worker threads.
async fn filegate(app: &TestApp, dir: &Path, args: &[&str]) -> Output {
    let (base, token) = (app.base.clone(), app.token());
    let dir = dir.to_owned();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_filegate"))
            .args(&args)
            // Its resume state and profiles stay in the test's directory, not in $HOME.
            .env("FILEGATE_CONFIG_DIR", dir.join("config"))
            .current_dir(dir)
            .env("FILEGATE_URL", base)
            .env("FILEGATE_TOKEN", token)
            .env_remove("FILEGATE_API_KEY")
            .output()
            .expect("run filegate")
    })
    .await
    .unwrap()
}

fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("filegate-cli-{}", ulid::Ulid::generate()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn json_lines(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

#[tokio::test]
async fn upload_list_and_download_a_small_and_a_multipart_file() {
    // Above 1 MiB a file goes up in parts, so a 17 MiB file makes three.
    let app = spawn_app_with(TestOptions {
        settings: vec![("FILEGATE_MULTIPART_THRESHOLD", (1u64 << 20).to_string())],
        ..TestOptions::default()
    })
    .await;
    let dir = temp_dir();
    let small = noise(1000, 1);
    let big = noise((17 << 20) + 123, 2);
    std::fs::write(dir.join("small.pdf"), &small).unwrap();
    std::fs::write(dir.join("big.pdf"), &big).unwrap();

    let out = filegate(
        &app,
        &dir,
        &[
            "upload",
            "small.pdf",
            "big.pdf",
            "--parallel",
            "3",
            "--json",
        ],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let uploaded = json_lines(&out);
    assert_eq!(uploaded.len(), 2);
    assert!(
        out.stderr.is_empty(),
        "no progress bars when stdout is not a terminal: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (file, bytes) in uploaded.iter().zip([&small, &big]) {
        assert_eq!(file["status"], "uploaded", "{file}");
        assert_eq!(file["size_bytes"], bytes.len().to_string());
        assert_eq!(
            file["checksum_sha256"],
            sha256_base64(bytes),
            "the SHA-256 was declared"
        );
        assert_eq!(
            file["content_type"], "application/pdf",
            "detected from the first bytes"
        );
    }

    let out = filegate(&app, &dir, &["ls", "--json"]).await;
    assert!(out.status.success());
    let listed = json_lines(&out);
    let ids: Vec<&str> = listed.iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            uploaded[1]["id"].as_str().unwrap(),
            uploaded[0]["id"].as_str().unwrap()
        ]
    );

    let id = uploaded[1]["id"].as_str().unwrap();
    let out = filegate(&app, &dir, &["download", id, "-o", "back.pdf"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(dir.join("back.pdf")).unwrap(), big);

    let out = filegate(&app, &dir, &["ls"]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("17.0 MiB") && text.contains("big.pdf"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_bad_token_fails_with_the_apis_code_and_a_hint() {
    let app = spawn_app_with(TestOptions::default()).await;
    let dir = temp_dir();
    let out = tokio::task::spawn_blocking({
        let base = app.base.clone();
        let config = dir.join("config");
        move || {
            Command::new(env!("CARGO_BIN_EXE_filegate"))
                .args(["ls"])
                .env("FILEGATE_CONFIG_DIR", config)
                .env("FILEGATE_URL", base)
                .env("FILEGATE_TOKEN", "not-a-token")
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("invalid_token"), "{stderr}");
    assert!(stderr.contains("hint:"), "{stderr}");
    assert!(
        !stderr.contains("not-a-token"),
        "the secret is never printed: {stderr}"
    );
    // A file that does not exist: named in the failure, the others still go up.
    std::fs::write(dir.join("a.pdf"), noise(100, 3)).unwrap();
    let out = filegate(&app, &dir, &["upload", "a.pdf", "missing.pdf"]).await;
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("failed: missing.pdf"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("a.pdf"));
    let _ = std::fs::remove_dir_all(dir);
}

/// How many requests of `operation` (`s3.UploadPart`) the test's own emulator has served.
async fn served(app: &TestApp, operation: &str) -> u64 {
    let endpoint = app.emulator.as_ref().expect("own emulator").endpoint();
    let counts: Value = filegate_tests::http_builder()
        .build()
        .unwrap()
        .get(format!("{endpoint}/_filegate/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    counts[operation].as_u64().unwrap_or(0)
}

#[tokio::test]
async fn a_killed_multipart_upload_resumes_without_sending_the_parts_s3_holds() {
    let app = spawn_app_with(TestOptions {
        own_emulator: true,
        settings: vec![("FILEGATE_MULTIPART_THRESHOLD", (1u64 << 20).to_string())],
        ..TestOptions::default()
    })
    .await;
    let dir = temp_dir();
    let bytes = noise((4 << 23) + 100, 4);
    std::fs::write(dir.join("video.pdf"), &bytes).unwrap();
    let config = dir.join("config");
    let (base, token) = (app.base.clone(), app.token());
    let command = {
        let dir = dir.clone();
        move || {
            let mut c = Command::new(env!("CARGO_BIN_EXE_filegate"));
            c.args(["upload", "video.pdf", "--parallel", "1", "--json"])
                .current_dir(&dir)
                .env("FILEGATE_URL", &base)
                .env("FILEGATE_TOKEN", &token)
                .env("FILEGATE_CONFIG_DIR", &config);
            c
        }
    };
    let mut first = command()
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once S3 holds two of the five parts.
    let mut id = String::new();
    for _ in 0..200 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let pending = app.get("/v1/files?status=pending").await;
        let Some(found) = pending.body["data"][0]["id"].as_str() else {
            continue;
        };
        id = found.to_owned();
        let parts = app.get(&format!("/v1/files/{id}/parts")).await;
        if parts.body["data"].as_array().is_some_and(|p| p.len() >= 2) {
            break;
        }
    }
    first.kill().unwrap();
    first.wait().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let held = app.get(&format!("/v1/files/{id}/parts")).await.body["data"]
        .as_array()
        .unwrap()
        .len() as u64;
    assert!((2..5).contains(&held), "{held} parts held when killed");
    let before = served(&app, "s3.UploadPart").await;

    let out = tokio::task::spawn_blocking(move || command().output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (file["id"].as_str(), file["status"].as_str()),
        (Some(id.as_str()), Some("uploaded"))
    );
    assert_eq!(
        served(&app, "s3.UploadPart").await - before,
        5 - held,
        "only the parts S3 did not hold were sent again"
    );
    let pending = app.get("/v1/files?status=pending").await;
    assert_eq!(
        pending.body["data"],
        serde_json::json!([]),
        "no second file was declared"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn organise_a_file_and_read_its_audit_trail() {
    let app = spawn_app_with(TestOptions::default()).await;
    let dir = temp_dir();
    std::fs::write(dir.join("report.pdf"), noise(2000, 5)).unwrap();
    let out = filegate(&app, &dir, &["mkdir", "Contracts", "--json"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let folder = json_lines(&out).remove(0);
    let folder_id = folder["id"].as_str().unwrap();
    let out = filegate(
        &app,
        &dir,
        &["upload", "report.pdf", "--folder", folder_id, "--json"],
    )
    .await;
    let file = json_lines(&out).remove(0);
    assert_eq!(file["folder"], folder_id);
    let id = file["id"].as_str().unwrap();

    let out = filegate(&app, &dir, &["rename", id, "Acme MSA.pdf", "--json"]).await;
    assert_eq!(json_lines(&out)[0]["name"], "Acme MSA.pdf");
    let out = filegate(&app, &dir, &["mv", id, "root", "--json"]).await;
    assert_eq!(json_lines(&out)[0]["folder"], Value::Null);
    let out = filegate(&app, &dir, &["url", id, "--attachment"]).await;
    let url = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(
        url.starts_with("http") && url.contains("X-Amz-Signature"),
        "{url}"
    );

    let out = filegate(&app, &dir, &["audit", id, "--json"]).await;
    let actions: Vec<String> = json_lines(&out)
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        actions,
        [
            "file.created",
            "file.uploaded",
            "file.renamed",
            "file.moved",
            "file.download_url_issued"
        ]
    );
    let out = filegate(&app, &dir, &["rm", id]).await;
    assert!(out.status.success());
    let out = filegate(&app, &dir, &["info", id]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("file_not_found"));
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_directory_tree_becomes_folders() {
    let app = spawn_app_with(TestOptions::default()).await;
    let dir = temp_dir();
    std::fs::create_dir_all(dir.join("scans/2026")).unwrap();
    std::fs::write(dir.join("scans/a.pdf"), noise(300, 6)).unwrap();
    std::fs::write(dir.join("scans/2026/b.pdf"), noise(400, 7)).unwrap();
    let out = filegate(&app, &dir, &["upload", "scans", "--json"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files = json_lines(&out);
    let names: Vec<&str> = files.iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["b.pdf", "a.pdf"],
        "walked in name order, 2026/ before a.pdf"
    );
    // scans/ is a folder at the root; 2026/ a folder inside it, holding b.pdf.
    let top = app.get("/v1/folders?parent=root").await;
    assert_eq!(top.body["data"][0]["name"], "scans");
    let scans = top.body["data"][0]["id"].as_str().unwrap();
    assert_eq!(files[1]["folder"], scans);
    let inner = app.get(&format!("/v1/folders?parent={scans}")).await;
    assert_eq!(inner.body["data"][0]["name"], "2026");
    assert_eq!(files[0]["folder"], inner.body["data"][0]["id"]);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn the_same_tree_uploaded_again_fills_the_same_folders_and_folder_paths_are_found() {
    let app = spawn_app_with(TestOptions::default()).await;
    let dir = temp_dir();
    std::fs::create_dir_all(dir.join("scans")).unwrap();
    std::fs::write(dir.join("scans/a.pdf"), noise(300, 8)).unwrap();
    std::fs::write(dir.join("c.pdf"), noise(200, 9)).unwrap();
    for _ in 0..2 {
        let out = filegate(&app, &dir, &["upload", "scans", "--json"]).await;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let top = app.get("/v1/folders?parent=root").await;
    assert_eq!(
        top.body["data"].as_array().unwrap().len(),
        1,
        "{}",
        top.body
    );
    let scans = top.body["data"][0]["id"].as_str().unwrap().to_owned();
    let held = app.get(&format!("/v1/files?folder={scans}")).await;
    assert_eq!(held.body["data"].as_array().unwrap().len(), 2);

    // --folder-path finds scans/ and creates 2026/ inside it, once; --parent is declared.
    for _ in 0..2 {
        let out = filegate(
            &app,
            &dir,
            &[
                "upload",
                "c.pdf",
                "--folder-path",
                "scans/2026",
                "--parent",
                "invoice:inv_42",
                "--json",
            ],
        )
        .await;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let file = &json_lines(&out)[0];
        assert_eq!(
            file["parent"],
            serde_json::json!({"type": "invoice", "id": "inv_42"})
        );
    }
    let inner = app.get(&format!("/v1/folders?parent={scans}")).await;
    assert_eq!(
        inner.body["data"].as_array().unwrap().len(),
        1,
        "{}",
        inner.body
    );
    assert_eq!(inner.body["data"][0]["name"], "2026");
    let id = inner.body["data"][0]["id"].as_str().unwrap();
    let held = app.get(&format!("/v1/files?folder={id}")).await;
    assert_eq!(held.body["data"].as_array().unwrap().len(), 2);

    // A malformed --parent is refused before any request, naming the form it takes.
    let out = filegate(&app, &dir, &["upload", "c.pdf", "--parent", "inv_42"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("TYPE:ID"));
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_partial_download_is_resumed_with_a_range_and_still_checked() {
    let app = spawn_app_with(TestOptions {
        own_emulator: true,
        ..TestOptions::default()
    })
    .await;
    let dir = temp_dir();
    let bytes = noise((3 << 20) + 17, 10);
    std::fs::write(dir.join("scan.pdf"), &bytes).unwrap();
    let out = filegate(&app, &dir, &["upload", "scan.pdf", "--json"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = json_lines(&out)[0]["id"].as_str().unwrap().to_owned();

    // What an interrupted run leaves: the first MiB in `.part`.
    std::fs::write(dir.join("copy.pdf.part"), &bytes[..1 << 20]).unwrap();
    let ranged = served(&app, "s3.GetObject.ranged").await;
    let out = filegate(&app, &dir, &["download", &id, "-o", "copy.pdf", "--json"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(dir.join("copy.pdf")).unwrap(), bytes);
    assert!(!dir.join("copy.pdf.part").exists());
    assert_eq!(
        served(&app, "s3.GetObject.ranged").await,
        ranged + 1,
        "the rest was asked for with a Range"
    );

    // A `.part` that is not the file's start fails the SHA-256 check: fetched whole again.
    let mut wrong = bytes[..1 << 20].to_vec();
    wrong[10] ^= 1;
    std::fs::write(dir.join("again.pdf.part"), &wrong).unwrap();
    let out = filegate(&app, &dir, &["download", &id, "-o", "again.pdf"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(dir.join("again.pdf")).unwrap(), bytes);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn an_api_key_made_by_the_cli_works_for_the_cli_until_revoked() {
    let app = spawn_app_with(TestOptions::default()).await;
    let dir = temp_dir();
    let admin = app.token_for(&app.org, Some("admin"));
    let run = |args: &[&str], credential: (&'static str, String)| {
        let (base, dir) = (app.base.clone(), dir.clone());
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_filegate"))
                .args(args)
                .env("FILEGATE_CONFIG_DIR", dir.join("config"))
                .current_dir(dir)
                .env("FILEGATE_URL", base)
                .env_remove("FILEGATE_TOKEN")
                .env_remove("FILEGATE_API_KEY")
                .env(credential.0, credential.1)
                .output()
                .unwrap()
        })
    };
    let out = run(
        &["keys", "create", "ci", "--scopes", "files:read", "--json"],
        ("FILEGATE_TOKEN", admin.clone()),
    )
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = json_lines(&out).remove(0);
    let secret = key["secret"].as_str().unwrap().to_owned();
    let id = key["id"].as_str().unwrap().to_owned();

    let out = run(&["ls"], ("FILEGATE_API_KEY", secret.clone()))
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["keys", "ls"], ("FILEGATE_TOKEN", admin.clone()))
        .await
        .unwrap();
    let listed = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        listed.contains(&id) && !listed.contains(&secret),
        "{listed}"
    );

    let revoked = run(&["keys", "revoke", &id], ("FILEGATE_TOKEN", admin));
    assert!(revoked.await.unwrap().status.success());
    let out = run(&["ls"], ("FILEGATE_API_KEY", secret)).await.unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("hint:"), "{stderr}");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_profile_holds_the_url_and_credential_and_never_shows_the_secret() {
    let app = spawn_app_with(TestOptions::default()).await;
    let dir = temp_dir();
    let token = app.token();
    let run = |args: &[&str]| {
        let dir = dir.clone();
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_filegate"))
                .args(args)
                .env_remove("FILEGATE_URL")
                .env_remove("FILEGATE_TOKEN")
                .env_remove("FILEGATE_API_KEY")
                .env("FILEGATE_CONFIG_DIR", dir.join("config"))
                .output()
                .unwrap()
        })
    };
    let out = run(&["ls"]).await.unwrap();
    assert_eq!(out.status.code(), Some(2), "no credential anywhere");
    for (setting, value) in [("url", app.base.as_str()), ("token", token.as_str())] {
        let out = run(&["--profile", "work", "config", "set", setting, value])
            .await
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = run(&["--profile", "work", "ls", "--json"]).await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["--profile", "work", "config", "show", "--json"])
        .await
        .unwrap();
    let shown: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["url"], app.base.as_str());
    assert_eq!(shown["token"], "(set, not shown)");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&token));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.join("config/config.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "only its owner may read the secrets");
    }
    // Another profile knows nothing of it.
    let out = run(&["ls"]).await.unwrap();
    assert_eq!(out.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(dir);
}
