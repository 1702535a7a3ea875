//! Property tests: for arbitrary JSON objects, what a backend saves is exactly what it reads back.
//!
//! Numbers are generated as DynamoDB can hold them exactly (its documented normalisation turns a
//! float with an integral value, like `2.0`, into the integer `2`, and its range is 1e-130 to
//! 1e126), and map keys are non-empty (DynamoDB refuses empty names inside maps; the adapter
//! reports that as an unsupported value, see the unit tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use persistence_core::{Attributes, PersistenceAdapter, SaveMode, conformance::unique_key};
use persistence_integration_tests::{dynamodb_adapter, s3_adapter};
use persistence_memory::MemoryAdapter;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value};

fn float() -> impl Strategy<Value = f64> {
    any::<f64>().prop_filter("finite, non-integral, in DynamoDB's range", |f| {
        f.is_finite() && f.fract() != 0.0 && f.abs() > 1e-120 && f.abs() < 1e120
    })
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        float().prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        "[a-z ]{0,12}".prop_map(Value::String),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[a-zA-Z_][a-zA-Z0-9_]{0,10}"]
        .prop_filter("non-empty", |k| !k.is_empty())
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn attributes() -> impl Strategy<Value = Attributes> {
    prop::collection::btree_map(key(), value(), 0..8)
        .prop_map(|m| m.into_iter().collect::<Attributes>())
}

/// Saves and reads `cases` arbitrary objects through `adapter`.
fn round_trips(adapter: Arc<dyn PersistenceAdapter>, cases: u32) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&attributes(), |attrs| {
        let got = rt.block_on(async {
            let key = unique_key("prop");
            adapter
                .save(&key, &attrs, SaveMode::Overwrite)
                .await
                .unwrap();
            let got = adapter.get(&key).await.unwrap().unwrap().attributes;
            adapter.delete(&key).await.unwrap();
            got
        });
        prop_assert_eq!(
            &got,
            &attrs,
            "[{}] round trip changed the value",
            adapter.describe()
        );
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn memory_round_trips_arbitrary_objects() {
    round_trips(Arc::new(MemoryAdapter::new()), 512);
}

#[test]
fn dynamodb_round_trips_arbitrary_objects() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(a) = rt.block_on(dynamodb_adapter("properties")) else {
        return;
    };
    drop(rt);
    round_trips(Arc::new(a), 64);
}

#[test]
fn s3_round_trips_arbitrary_objects() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(a) = rt.block_on(s3_adapter("properties", Some("prop"))) else {
        return;
    };
    drop(rt);
    round_trips(Arc::new(a), 64);
}
