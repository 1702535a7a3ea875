//! The tool against what the official ASK SDKs' adapters wrote: it reads their DynamoDB items and
//! S3 objects, and writes what they read (on LocalStack, started by scripts/test.sh).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_s3::primitives::ByteStream;
use base64::Engine;
use persistence_integration_tests::{
    av_from_json, dynamodb_adapter, dynamodb_client, new_bucket, s3_client, unique_name,
};
use serde_json::Value;

use common::Tool;

/// One item or object an official ASK SDK adapter wrote (tests/data/ask-sdk-layout).
struct Fixture {
    name: String,
    user_id: String,
    attributes: Value,
    dynamodb_item: HashMap<String, AttributeValue>,
    s3_body: Vec<u8>,
}

fn fixtures() -> Vec<Fixture> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/ask-sdk-layout");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        out.push(Fixture {
            name: path.file_stem().unwrap().to_string_lossy().into_owned(),
            user_id: v["user_id"].as_str().unwrap().to_owned(),
            attributes: v["attributes"].clone(),
            dynamodb_item: v["dynamodb_item"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), av_from_json(v)))
                .collect(),
            s3_body: base64::engine::general_purpose::STANDARD
                .decode(v["s3_body_base64"].as_str().unwrap())
                .unwrap(),
        });
    }
    assert!(out.len() >= 10, "fixtures missing from {dir:?}");
    out
}

/// Reads keys back the way the official Python adapters do (boto3 in LocalStack's virtualenv):
/// `table.get_item(Key={"id": key}, ConsistentRead=True)["Item"]["attributes"]` and
/// `json.loads(s3.get_object(Bucket=b, Key=prefix + "/" + key)["Body"].read().decode("utf-8"))`,
/// and compares with the expected JSON (numbers by value). Returns None when there is no such
/// Python here (only allowed outside CI).
fn read_like_the_python_sdk(
    endpoint: &str,
    table: &str,
    bucket: &str,
    prefix: &str,
    expected: &BTreeMap<String, Value>,
) -> Option<String> {
    let home = std::env::var_os("HOME")?;
    let cache = std::env::var_os("ALEXA_PERSISTENCE_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(home).join(".cache/alexa-persistence"));
    let python = cache.join("localstack/venv/bin/python");
    if !python.exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "no boto3 at {python:?} under CI"
        );
        eprintln!("!!!!!!!! no boto3 at {python:?}: the Python-side read is not checked");
        return None;
    }
    let script = r#"
import json, sys
from decimal import Decimal
import boto3
endpoint, table, bucket, prefix = sys.argv[1:5]
expected = json.load(sys.stdin)
kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
t = boto3.resource("dynamodb", **kw).Table(table)
s3 = boto3.client("s3", config=boto3.session.Config(s3={"addressing_style": "path"}), **kw)
bad = []
for key, want in expected.items():
    item = t.get_item(Key={"id": key}, ConsistentRead=True)["Item"]
    want_dec = json.loads(json.dumps(want), parse_float=Decimal, parse_int=Decimal)
    if item["attributes"] != want_dec:
        bad.append(f"dynamodb {key}: {item['attributes']!r} != {want_dec!r}")
    body = s3.get_object(Bucket=bucket, Key=prefix + "/" + key)["Body"].read().decode("utf-8")
    if json.loads(body) != want:
        bad.append(f"s3 {key}: {body!r}")
print("\n".join(bad) if bad else f"ok {len(expected)}")
"#;
    let mut child = Command::new(python)
        .args(["-c", script, endpoint, table, bucket, prefix])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(expected).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "python: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reads_what_the_official_sdks_wrote_and_writes_what_they_read() {
    let Some(tool) = Tool::new().await else {
        return;
    };
    let ddb = dynamodb_client().await.unwrap();
    let s3 = s3_client().await.unwrap();
    let fixtures = fixtures();
    let key_of = |f: &Fixture| format!("{}-{}", f.user_id, f.name);

    // What the SDKs' DynamoDB adapters wrote -> the tool -> S3 (prefix skills/cafe).
    let sdk_table = dynamodb_adapter("cli-sdk-items").await.unwrap();
    for f in &fixtures {
        let mut item = f.dynamodb_item.clone();
        item.insert("id".into(), AttributeValue::S(key_of(f)));
        ddb.put_item()
            .table_name(sdk_table.table_name())
            .set_item(Some(item))
            .send()
            .await
            .unwrap();
    }
    let bucket = new_bucket(&s3, "cli-sdk-out").await;
    tool.run(&[
        "copy",
        &format!("dynamodb://{}", sdk_table.table_name()),
        &format!("s3://{bucket}/skills/cafe"),
        "--verify",
    ])
    .expect(0);
    for f in &fixtures {
        let obj = s3
            .get_object()
            .bucket(&bucket)
            .key(format!("skills/cafe/{}", key_of(f)))
            .send()
            .await
            .unwrap();
        assert_eq!(obj.content_type(), Some("application/json"), "{}", f.name);
        let body = obj.body.collect().await.unwrap().into_bytes();
        let parsed: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            parsed, f.attributes,
            "{}: the S3 object holds the attributes",
            f.name
        );
        let compact = serde_json::to_vec(&parsed).unwrap();
        assert_eq!(
            &body[..compact.len()],
            &compact[..],
            "{}: compact JSON (then whitespace)",
            f.name
        );
        assert!(body[compact.len()..].iter().all(u8::is_ascii_whitespace));
    }

    // What the SDKs' S3 adapters wrote (Python's spaced JSON, Node's compact) -> the tool ->
    // DynamoDB: the SDKs' item layout.
    let sdk_bucket = new_bucket(&s3, "cli-sdk-objects").await;
    for f in &fixtures {
        s3.put_object()
            .bucket(&sdk_bucket)
            .key(format!("skills/cafe/{}", key_of(f)))
            .body(ByteStream::from(f.s3_body.clone()))
            .send()
            .await
            .unwrap();
    }
    let table = unique_name("cli-sdk-out");
    tool.run(&[
        "copy",
        &format!("s3://{sdk_bucket}/skills/cafe"),
        &format!("dynamodb://{table}"),
        "--create-table",
        "--verify",
    ])
    .expect(0);
    for f in &fixtures {
        let item = ddb
            .get_item()
            .table_name(&table)
            .key("id", AttributeValue::S(key_of(f)))
            .consistent_read(true)
            .send()
            .await
            .unwrap()
            .item
            .unwrap();
        assert_eq!(
            item.get("attributes"),
            f.dynamodb_item.get("attributes"),
            "{}: the SDKs' `attributes` map",
            f.name
        );
        let mut names: Vec<&str> = item.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            // The SDKs' `id` and `attributes`, and our version and recent write tokens.
            ["attributes", "attributesTokens", "attributesVersion", "id"],
            "{}",
            f.name
        );
    }

    // And the Python SDK's own reads (boto3) find exactly the attributes, in both.
    let expected: BTreeMap<String, Value> = fixtures
        .iter()
        .map(|f| (key_of(f), f.attributes.clone()))
        .collect();
    if let Some(out) =
        read_like_the_python_sdk(&tool.endpoint, &table, &bucket, "skills/cafe", &expected)
    {
        assert_eq!(out, format!("ok {}", fixtures.len()), "what boto3 read");
    }
}
