//! `alexa-persistence import` against DynamoDB on LocalStack: bad lines reported by number, the
//! import stopped or the bad lines skipped as asked (`scripts/test.sh` starts the emulator; under
//! `CI=true` a missing emulator fails this test instead of skipping it).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashSet;
use std::time::SystemTime;

use persistence_core::PersistenceAdapter;
use persistence_core::clock::epoch_seconds;
use persistence_integration_tests::dynamodb_adapter;

use common::{Tool, contents, exact_text};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn import_reports_bad_lines_by_number_and_stops_or_skips() {
    let Some(tool) = Tool::new().await else {
        return;
    };
    let table = dynamodb_adapter("cli-import").await.unwrap();
    let dst = format!("dynamodb://{}", table.table_name());
    let hour_ago = epoch_seconds(SystemTime::now()) - 3600;
    let lines = [
        r#"{"key":"amzn1.ask.account.U1","attributes":{"n":1,"d":0.6666666666666666666666666667}}"#
            .to_owned(),
        r#"{"key":"amzn1.ask.account.U2","attributes":{"n":2},"expires_at":4102444800}"#.to_owned(),
        r#"{"key":"amzn1.ask.account.U3","attributes":[1,2]}"#.to_owned(),
        r#"{"key":"amzn1.ask.account.U4","attributes":{"n":4}}"#.to_owned(),
        "this is not json".to_owned(),
        String::new(),
        format!(
            r#"{{"key":"amzn1.ask.account.U7","attributes":{{"n":7}},"expires_at":{hour_ago}}}"#
        ),
        r#"{"key":"amzn1.ask.account.U8","attributes":{"n":8,"big":1180591620717411303424}}"#
            .to_owned(),
    ];
    let file = tool.path("users.jsonl");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let f = file.to_str().unwrap();

    // Stop (the default): the file is checked first; nothing is written.
    let stop = tool.run(&["import", f, &dst]);
    stop.expect(2);
    assert!(stop.stderr.contains("line 3"), "{}", stop.stderr);
    assert!(stop.stderr.contains("not a JSON object"), "{}", stop.stderr);
    assert!(
        contents(&table, true).await.is_empty(),
        "a stopped import writes nothing"
    );

    // Skip: the good lines are imported, each bad one reported with its number.
    let skip = tool.run(&["import", f, &dst, "--on-error", "skip", "--json"]);
    skip.expect(1);
    assert!(skip.stderr.contains("line 3"), "{}", skip.stderr);
    assert!(
        skip.stderr.contains("line 5") && skip.stderr.contains("invalid JSON"),
        "{}",
        skip.stderr
    );
    let r = skip.json();
    assert_eq!(
        (
            r["imported"].as_u64(),
            r["failed"].as_u64(),
            r["expired"].as_u64()
        ),
        (Some(4), Some(2), Some(1)),
        "{r}"
    );
    let problems: Vec<&str> = r["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        problems.iter().copied().collect::<HashSet<_>>(),
        HashSet::from(["line 3", "line 5"])
    );
    let stored = contents(&table, true).await;
    let keys: Vec<&str> = stored.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "amzn1.ask.account.U1",
            "amzn1.ask.account.U2",
            "amzn1.ask.account.U4",
            "amzn1.ask.account.U8"
        ]
    );
    assert_eq!(
        exact_text(&stored["amzn1.ask.account.U1"].attributes, "d"),
        "0.6666666666666666666666666667"
    );
    assert_eq!(
        exact_text(&stored["amzn1.ask.account.U8"].attributes, "big"),
        "1180591620717411303424"
    );
    assert_eq!(
        stored["amzn1.ask.account.U2"].expires_at.map(epoch_seconds),
        Some(4_102_444_800)
    );

    // Running it again changes nothing (each line is one create-only save).
    let again = tool.run(&["import", f, &dst, "--on-error", "skip", "--json"]);
    again.expect(1);
    assert_eq!(again.json()["unchanged"], 4);

    // Other attributes under an existing key: a problem, unless --overwrite.
    let changed = tool.path("changed.jsonl");
    std::fs::write(
        &changed,
        "{\"key\":\"amzn1.ask.account.U1\",\"attributes\":{\"n\":100}}\n",
    )
    .unwrap();
    let c = changed.to_str().unwrap();
    let conflict = tool.run(&["import", c, &dst]);
    conflict.expect(1);
    assert!(
        conflict.stderr.contains("line 1") && conflict.stderr.contains("other attributes"),
        "{}",
        conflict.stderr
    );
    tool.run(&["import", c, &dst, "--overwrite", "--json"])
        .expect(0);
    assert_eq!(
        table
            .get("amzn1.ask.account.U1")
            .await
            .unwrap()
            .unwrap()
            .attributes["n"],
        100
    );

    // Export writes the file whole, and importing it elsewhere gives the same data.
    let export = tool.path("export.jsonl");
    tool.run(&["export", &dst, export.to_str().unwrap()])
        .expect(0);
    let text = std::fs::read_to_string(&export).unwrap();
    assert_eq!(text.lines().count(), 4);
    assert!(text.contains("0.6666666666666666666666666667") || text.contains("\"n\":100"));
    assert!(
        !tool.dir.path().read_dir().unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .contains(".tmp-"))
    );
    let copy = tool.path("copy");
    tool.run(&[
        "import",
        export.to_str().unwrap(),
        &format!("file://{}", copy.display()),
    ])
    .expect(0);
    tool.run(&["verify", &dst, &format!("file://{}", copy.display())])
        .expect(0);
}
