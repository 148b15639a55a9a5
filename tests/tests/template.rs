//! The SAM template deploys what the code serves: every documented route reaches a function,
//! every function binary has a resource, the table has the indexes the store queries, and no
//! policy of ours grants on `*`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_yaml_ng::Value;
use utoipa::OpenApi as _;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn template() -> Value {
    let text = std::fs::read_to_string(root().join("template.yaml")).unwrap();
    serde_yaml_ng::from_str(&text).unwrap()
}

fn resources(template: &Value) -> Vec<(String, &Value)> {
    template["Resources"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(name, resource)| (name.as_str().unwrap().to_owned(), resource))
        .collect()
}

fn functions(template: &Value) -> Vec<(String, &Value)> {
    resources(template)
        .into_iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .collect()
}

#[test]
fn every_documented_route_is_routed_to_a_function() {
    let template = template();
    let mut routed = BTreeSet::new();
    for (_, function) in functions(&template) {
        let Some(events) = function["Properties"]["Events"].as_mapping() else {
            continue;
        };
        for event in events.values().filter(|e| e["Type"] == "HttpApi") {
            let method = event["Properties"]["Method"]
                .as_str()
                .unwrap()
                .to_uppercase();
            let path = event["Properties"]["Path"].as_str().unwrap().to_owned();
            assert!(routed.insert((method, path)), "routed twice: {event:?}");
        }
    }
    // The streaming routes are the proxy function's URL (RESPONSE_STREAM), never HTTP API
    // routes, which would buffer them.
    let proxy = &template["Resources"]["ProxyFunction"]["Properties"];
    assert_eq!(proxy["CodeUri"], "functions/proxy");
    assert_eq!(proxy["FunctionUrlConfig"]["InvokeMode"], "RESPONSE_STREAM");
    let streamed = operations(&filegate_proxy::ProxyApi::openapi());
    assert!(!streamed.is_empty());
    for operation in &streamed {
        assert!(
            routed.insert(operation.clone()),
            "{operation:?} is an HTTP API route: it would be buffered"
        );
    }
    let documented = filegate_tests::documented_operations();
    assert_eq!(
        routed, documented,
        "template.yaml's routes (HttpApi events and the proxy's URL) and openapi.json's operations differ"
    );
}

fn operations(doc: &utoipa::openapi::OpenApi) -> BTreeSet<(String, String)> {
    let doc = serde_json::to_value(doc).unwrap();
    let mut found = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            found.insert((method.to_uppercase(), path.clone()));
        }
    }
    found
}

/// The binaries of a function crate: `[[bin]]` names in its Cargo.toml.
fn binaries(crate_dir: &Path) -> Vec<String> {
    let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml")).unwrap();
    let mut names = Vec::new();
    let mut in_bin = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
        } else if in_bin && let Some(name) = line.strip_prefix("name = ") {
            names.push(name.trim_matches('"').to_owned());
        }
    }
    names
}

#[test]
fn every_function_binary_has_a_resource_built_with_cargo_lambda() {
    let template = template();
    let mut deployed = BTreeSet::new();
    for (name, function) in functions(&template) {
        assert_eq!(
            function["Metadata"]["BuildMethod"], "rust-cargolambda",
            "{name}"
        );
        let code = function["Properties"]["CodeUri"].as_str().unwrap();
        let binary = match function["Metadata"]["BuildProperties"]["Binary"].as_str() {
            Some(binary) => binary.to_owned(),
            None => {
                let all = binaries(&root().join(code));
                assert_eq!(
                    all.len(),
                    1,
                    "{name}: {code} has several binaries; name one"
                );
                all[0].clone()
            }
        };
        assert!(
            deployed.insert((code.to_owned(), binary)),
            "{name} deployed twice"
        );
    }
    let mut built = BTreeSet::new();
    for entry in std::fs::read_dir(root().join("functions")).unwrap() {
        let dir = entry.unwrap().path();
        let code = format!("functions/{}", dir.file_name().unwrap().to_str().unwrap());
        for binary in binaries(&dir) {
            built.insert((code.clone(), binary));
        }
    }
    assert_eq!(deployed, built);
}

fn statements(value: &Value, found: &mut Vec<Value>) {
    match value {
        Value::Mapping(map) => {
            if let Some(Value::Sequence(list)) = map.get("Statement") {
                found.extend(list.iter().cloned());
            }
            for v in map.values() {
                statements(v, found);
            }
        }
        Value::Sequence(list) => list.iter().for_each(|v| statements(v, found)),
        Value::Tagged(tagged) => statements(&tagged.value, found),
        _ => {}
    }
}

#[test]
fn no_policy_of_ours_grants_on_every_resource() {
    let mut found = Vec::new();
    statements(&template()["Resources"], &mut found);
    assert!(found.len() >= 10, "statements found: {}", found.len());
    for statement in &found {
        let resources = match &statement["Resource"] {
            Value::Sequence(list) => list.clone(),
            other => vec![other.clone()],
        };
        for resource in resources {
            assert_ne!(resource.as_str(), Some("*"), "{statement:?}");
            if let Some(text) = resource.as_str() {
                assert!(!text.ends_with(":*"), "{statement:?}");
            }
        }
        let actions = format!("{:?}", statement["Action"]);
        assert!(
            statement["Effect"] == "Deny" || !actions.contains(":*\""),
            "wildcard action: {statement:?}"
        );
    }
}

#[test]
fn the_table_has_what_the_store_queries() {
    let template = template();
    let table = &template["Resources"]["FilesTable"]["Properties"];
    assert_eq!(table["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(
        table["TimeToLiveSpecification"]["AttributeName"],
        "expires_at"
    );
    assert_eq!(
        table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
    let indexes: Vec<(String, String, String)> = table["GlobalSecondaryIndexes"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|gsi| {
            let key = |i: usize| {
                gsi["KeySchema"][i]["AttributeName"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            };
            assert_eq!(gsi["Projection"]["ProjectionType"], "ALL");
            (
                gsi["IndexName"].as_str().unwrap().to_owned(),
                key(0),
                key(1),
            )
        })
        .collect();
    let expected: Vec<(String, String, String)> = filegate_store::metadata::INDEXES
        .iter()
        .map(|(name, pk, sort)| ((*name).to_owned(), (*pk).to_owned(), (*sort).to_owned()))
        .collect();
    assert_eq!(indexes, expected);
}

#[test]
fn s3_events_reach_the_finalizer_with_partial_batch_failures() {
    let template = template();
    let function = &template["Resources"]["AutoFinalizeFunction"];
    let event = &function["Properties"]["Events"]["UploadEvents"];
    assert_eq!(event["Type"], "SQS");
    assert_eq!(
        event["Properties"]["FunctionResponseTypes"][0],
        "ReportBatchItemFailures"
    );
    let queue = &template["Resources"]["UploadEventsQueue"]["Properties"];
    assert_eq!(queue["RedrivePolicy"]["maxReceiveCount"], 5);
    // Without s3:ListBucket, HeadObject on a missing key is a 403 and finalize a 500.
    for name in ["FinalizeFunction", "AutoFinalizeFunction"] {
        let policies = format!(
            "{:?}",
            template["Resources"][name]["Properties"]["Policies"]
        );
        assert!(policies.contains("s3:ListBucket"), "{name}");
    }
    // The S3-event finalizer never holds the JWT secret.
    let env = format!("{:?}", function["Properties"]["Environment"]);
    assert!(!env.contains("FILEGATE_JWT_SECRET"), "{env}");
}

#[test]
fn every_function_that_authenticates_callers_has_the_same_identity_settings() {
    let template = template();
    let identity = |name: &str| {
        ["FILEGATE_JWT_", "FILEGATE_JWKS_", "FILEGATE_CURSOR_"]
            .iter()
            .any(|p| name.starts_with(p))
    };
    let settings: Vec<(String, BTreeSet<String>)> = functions(&template)
        .into_iter()
        .map(|(name, f)| {
            let names = f["Properties"]["Environment"]["Variables"]
                .as_mapping()
                .map(|vars| {
                    vars.keys()
                        .filter_map(|k| k.as_str())
                        .filter(|k| identity(k))
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            (name, names)
        })
        .filter(|(_, names): &(String, BTreeSet<String>)| !names.is_empty())
        .collect();
    let authenticating: Vec<&str> = settings.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        authenticating,
        [
            "PresignFunction",
            "FinalizeFunction",
            "MetadataFunction",
            "ProxyFunction"
        ],
        "the HTTP functions, and no other, verify callers"
    );
    let first = &settings[0].1;
    for (name, names) in &settings {
        assert_eq!(
            names, first,
            "{name} has other identity settings than PresignFunction"
        );
    }
    for required in [
        "FILEGATE_JWT_SECRET",
        "FILEGATE_JWT_JWKS_URL",
        "FILEGATE_CURSOR_SECRET",
    ] {
        assert!(first.contains(required), "{required}");
    }
    // Every setting the template passes is one the config loader reads.
    let loader = std::fs::read_to_string(root().join("crates/store/src/config.rs")).unwrap();
    for name in first {
        assert!(
            loader.contains(&format!("\"{name}\"")),
            "{name} is read by no loader"
        );
    }
}

#[test]
fn multipart_uploads_have_exactly_the_actions_they_use_and_a_late_backstop() {
    let template = template();
    let s3_actions = |name: &str| -> BTreeSet<String> {
        let mut found = Vec::new();
        statements(
            &template["Resources"][name]["Properties"]["Policies"],
            &mut found,
        );
        found
            .iter()
            .flat_map(|s| match &s["Action"] {
                Value::Sequence(list) => list.clone(),
                other => vec![other.clone()],
            })
            .filter_map(|a| a.as_str().map(str::to_owned))
            .filter(|a| a.starts_with("s3:") && a.contains("Multipart"))
            .collect()
    };
    let set = |names: &[&str]| {
        names
            .iter()
            .map(|n| (*n).to_owned())
            .collect::<BTreeSet<_>>()
    };
    // Creating and completing an upload is s3:PutObject; listing and aborting are their own.
    let expected = [
        (
            "PresignFunction",
            set(&["s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]),
        ),
        (
            "FinalizeFunction",
            set(&["s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]),
        ),
        ("AutoFinalizeFunction", set(&["s3:AbortMultipartUpload"])),
        ("MetadataFunction", set(&["s3:AbortMultipartUpload"])),
        ("SweeperFunction", set(&["s3:AbortMultipartUpload"])),
        ("ProxyFunction", set(&[])),
    ];
    for (name, actions) in expected {
        assert_eq!(s3_actions(name), actions, "{name}");
    }
    let finalize = format!(
        "{:?}",
        template["Resources"]["FinalizeFunction"]["Properties"]["Policies"]
    );
    assert!(finalize.contains("s3:PutObject"), "CompleteMultipartUpload");

    // The lifecycle rule aborts only what the sweeper could not: never before the longest
    // multipart expiry a deployment may set.
    let rules =
        &template["Resources"]["FilesBucket"]["Properties"]["LifecycleConfiguration"]["Rules"];
    let days = rules[0]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]
        .as_u64()
        .unwrap();
    let longest = template["Parameters"]["MultipartExpirySecs"]["MaxValue"]
        .as_u64()
        .unwrap();
    assert!(days * 86_400 > longest, "{days} days");
    assert_eq!(
        template["Parameters"]["MaxUploadBytes"]["MaxValue"].as_u64(),
        Some(filegate_domain::file::FileSize::MAX_OBJECT)
    );
}
