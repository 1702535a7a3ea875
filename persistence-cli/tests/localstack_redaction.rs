//! The tool on LocalStack: keys are redacted unless asked, and errors name what is missing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use persistence_core::{Attributes, PersistenceAdapter, SaveMode};
use persistence_integration_tests::{dynamodb_adapter, new_bucket, s3_client};
use serde_json::{Value, json};

use common::{Run, Tool};

fn attrs(v: Value) -> Attributes {
    Attributes::try_from(v).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn keys_are_redacted_unless_asked_and_errors_name_what_is_missing() {
    let Some(tool) = Tool::new().await else {
        return;
    };
    let table = dynamodb_adapter("cli-redact").await.unwrap();
    let bucket = new_bucket(&s3_client().await.unwrap(), "cli-redact").await;
    let secret = "amzn1.ask.account.SECRETSECRETSECRETSECRET/../escape";
    table
        .save(secret, &attrs(json!({"x": 1})), SaveMode::CreateOnly)
        .await
        .unwrap();
    table
        .save(
            "amzn1.ask.account.FINE",
            &attrs(json!({"x": 2})),
            SaveMode::CreateOnly,
        )
        .await
        .unwrap();
    let ddb = format!("dynamodb://{}", table.table_name());
    let s3_url = format!("s3://{bucket}");

    // S3 refuses the key (it would leave the prefix): that key fails alone, redacted.
    let r = tool.run(&["copy", &ddb, &s3_url, "--json", "--no-checkpoint"]);
    r.expect(1);
    let report = r.json();
    assert_eq!(
        (report["copied"].as_u64(), report["failed"].as_u64()),
        (Some(1), Some(1)),
        "{report}"
    );
    assert!(
        !r.stderr.contains("SECRETSECRETSECRETSECRET"),
        "{}",
        r.stderr
    );
    assert!(
        !r.stdout.contains("SECRETSECRETSECRETSECRET"),
        "{}",
        r.stdout
    );
    let shown = tool.run(&[
        "copy",
        &ddb,
        &s3_url,
        "--json",
        "--no-checkpoint",
        "--show-keys",
    ]);
    shown.expect(1);
    assert!(shown.stderr.contains(secret), "{}", shown.stderr);
    let e = tool.run(&["erase", secret, &ddb]);
    e.expect(0);
    assert!(
        !e.stdout.contains("SECRETSECRETSECRETSECRET") && e.stdout.contains("were deleted"),
        "{}",
        e.stdout
    );
    assert!(table.get(secret).await.unwrap().is_none());

    // A missing table or bucket: exit 3, named.
    let missing = tool.run(&["ls", "dynamodb://no-such-table-here"]);
    missing.expect(3);
    assert!(
        missing
            .stderr
            .contains("DynamoDB table 'no-such-table-here' does not exist"),
        "{}",
        missing.stderr
    );
    let missing = tool.run(&["ls", "s3://no-such-bucket-here"]);
    missing.expect(3);
    assert!(
        missing.stderr.contains("no-such-bucket-here"),
        "{}",
        missing.stderr
    );
    let missing = tool.run(&["get", "amzn1.ask.account.NOBODY", &ddb]);
    missing.expect(3);
    // A bad URL: exit 2, with the forms that work.
    let bad = tool.run(&["ls", "dynamo://table"]);
    bad.expect(2);
    assert!(bad.stderr.contains("dynamodb://TABLE"), "{}", bad.stderr);

    // get, put (create-only, then conditional), rm.
    let put = |args: &[&str], body: &str| {
        let mut c = tool.command(args);
        c.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = c.spawn().unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(body.as_bytes())
            .unwrap();
        Run::from(args, child.wait_with_output().unwrap())
    };
    let key = "amzn1.ask.account.PUTME";
    put(
        &["put", key, &ddb],
        r#"{"n": 0.6666666666666666666666666667}"#,
    )
    .expect(0);
    put(&["put", key, &ddb], r#"{"n": 2}"#).expect(4);
    let got = tool.run(&["get", key, &ddb, "--json"]);
    got.expect(0);
    let v = got.json()["version"].as_str().unwrap().to_owned();
    assert!(
        got.stdout
            .contains(r#""attributes":{"n":0.6666666666666666666666666667}"#),
        "{}",
        got.stdout
    );
    put(&["put", key, &ddb, "--if-version", &v], r#"{"n": 3}"#).expect(0);
    put(&["put", key, &ddb, "--if-version", &v], r#"{"n": 4}"#).expect(4);
    tool.run(&["rm", key, &ddb, "--if-version", &v]).expect(4);
    tool.run(&["rm", key, &ddb]).expect(0);
    tool.run(&["get", key, &ddb]).expect(3);
    put(&["put", key, &ddb], "[1, 2]").expect(2);
}
