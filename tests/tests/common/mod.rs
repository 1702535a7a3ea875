//! Fixture loading shared by the backend test files (included with `mod common;`).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::path::PathBuf;

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use persistence_core::Attributes;
use persistence_integration_tests::av_from_json;
use serde_json::Value;

/// One item/object written by an official ASK SDK adapter (see tests/data/ask-sdk-layout/README.md).
pub struct Fixture {
    pub name: String,
    pub user_id: String,
    pub attributes: Attributes,
    pub dynamodb_item: HashMap<String, AttributeValue>,
    pub s3_key: String,
    pub s3_body: Vec<u8>,
}

pub fn fixtures() -> Vec<Fixture> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/ask-sdk-layout");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let Value::Object(item) = &v["dynamodb_item"] else {
            panic!("{path:?}: no dynamodb_item")
        };
        out.push(Fixture {
            name: path.file_stem().unwrap().to_string_lossy().into_owned(),
            user_id: v["user_id"].as_str().unwrap().to_owned(),
            attributes: Attributes::try_from(v["attributes"].clone()).unwrap(),
            dynamodb_item: item
                .iter()
                .map(|(k, v)| (k.clone(), av_from_json(v)))
                .collect(),
            s3_key: v["s3_key"].as_str().unwrap().to_owned(),
            s3_body: base64::engine::general_purpose::STANDARD
                .decode(v["s3_body_base64"].as_str().unwrap())
                .unwrap(),
        });
    }
    assert!(out.len() >= 10, "fixtures missing from {dir:?}");
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}
