//! The DynamoDB adapter against a real DynamoDB API (LocalStack).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[path = "dynamodb/partial_writes.rs"]
mod partial_writes;

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use persistence_core::{
    Attributes, Error, MAX_KEY_BYTES, PersistenceAdapter, SaveMode, Version, conformance,
};
use persistence_dynamodb::DynamoDbAdapter;
use persistence_integration_tests::{
    dynamodb_adapter, dynamodb_adapter_with, dynamodb_client, erased, unique_name,
};
use serde_json::json;

persistence_core::conformance_tests!(setup => async {
    erased(dynamodb_adapter_with("conformance", &setup).await, MAX_KEY_BYTES)
});

fn attrs(v: serde_json::Value) -> Attributes {
    Attributes::try_from(v).unwrap()
}

async fn raw_item(a: &DynamoDbAdapter, key: &str) -> HashMap<String, AttributeValue> {
    a.client()
        .get_item()
        .table_name(a.table_name())
        .key("id", AttributeValue::S(key.into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .expect("item exists")
}

async fn put_raw(a: &DynamoDbAdapter, item: HashMap<String, AttributeValue>) {
    a.client()
        .put_item()
        .table_name(a.table_name())
        .set_item(Some(item))
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_share_versions_and_lose_no_update() {
    let Some(a) = dynamodb_adapter("two-instances").await else {
        return;
    };
    // A second client and adapter on the same table: another Lambda container.
    let b = DynamoDbAdapter::builder(dynamodb_client().await.unwrap(), a.table_name()).build();
    conformance::versions_across_instances(&a, &b).await;
    let report = conformance::update_contention(&[Arc::new(a), Arc::new(b)], 8, 10).await;
    eprintln!("dynamodb two instances: {report}");
}

#[tokio::test]
async fn reads_what_the_official_sdks_wrote_and_keeps_their_layout() {
    let Some(a) = dynamodb_adapter("fixtures").await else {
        return;
    };
    for f in common::fixtures() {
        // Python and Node fixtures share user IDs: a fresh key per fixture.
        let key = format!("{}-{}", f.user_id, f.name);
        let mut item = f.dynamodb_item.clone();
        item.insert("id".into(), AttributeValue::S(key.clone()));
        put_raw(&a, item).await;

        let got = a.get(&key).await.unwrap().expect("fixture item reads");
        assert_eq!(got.attributes, f.attributes, "{}", f.name);
        assert_eq!(
            got.version,
            Version::new(format!("sdk-{}", f.attributes.digest())),
            "{}: unversioned",
            f.name
        );

        // Saving over an SDK-written item with the version read works once...
        a.save(
            &key,
            &got.attributes,
            SaveMode::IfVersion(got.version.clone()),
        )
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", f.name));
        // ...and the item keeps the SDKs' layout: `attributes` is the same map.
        let raw = raw_item(&a, &key).await;
        assert_eq!(
            raw.get("attributes"),
            f.dynamodb_item.get("attributes"),
            "{}",
            f.name
        );
        assert!(
            matches!(raw.get("attributesVersion"), Some(AttributeValue::S(t))
                if t.split_once('.').is_some_and(|(token, n)| persistence_core::is_unique_token(token) && n == "0"))
        );
        assert!(matches!(raw.get("attributesTokens"), Some(AttributeValue::L(l)) if l.len() == 1));
        // ...but a second save with the old "unversioned" token conflicts.
        let stale = a
            .save(&key, &got.attributes, SaveMode::IfVersion(got.version))
            .await;
        assert!(
            matches!(stale, Err(Error::Conflict { .. })),
            "{}: {stale:?}",
            f.name
        );
    }
}

#[tokio::test]
async fn node_null_for_empty_string_reads_as_null() {
    let Some(a) = dynamodb_adapter("node-null").await else {
        return;
    };
    put_raw(
        &a,
        HashMap::from([
            ("id".to_string(), AttributeValue::S("u".into())),
            (
                "attributes".to_string(),
                AttributeValue::M(HashMap::from([(
                    "nickname".to_string(),
                    AttributeValue::Null(true),
                )])),
            ),
        ]),
    )
    .await;
    let got = a.get("u").await.unwrap().unwrap();
    assert_eq!(got.attributes, attrs(json!({"nickname": null})));
}

#[tokio::test]
async fn save_keeps_top_level_attributes_it_does_not_own() {
    let Some(a) = dynamodb_adapter("own-fields").await else {
        return;
    };
    put_raw(
        &a,
        HashMap::from([
            ("id".to_string(), AttributeValue::S("u".into())),
            ("attributes".to_string(), AttributeValue::M(HashMap::new())),
            ("owner".to_string(), AttributeValue::S("ops".into())),
        ]),
    )
    .await;
    let v = a.get("u").await.unwrap().unwrap().version;
    a.save("u", &attrs(json!({"n": 1})), SaveMode::IfVersion(v))
        .await
        .unwrap();
    a.save("u", &attrs(json!({"n": 2})), SaveMode::Overwrite)
        .await
        .unwrap();
    let raw = raw_item(&a, "u").await;
    assert_eq!(raw.get("owner"), Some(&AttributeValue::S("ops".into())));
    assert_eq!(a.get("u").await.unwrap().unwrap().attributes["n"], 2);
}

#[tokio::test]
async fn expiry_is_written_as_time_to_live_expects_and_ensure_table_enables_it() {
    let Some(a) = dynamodb_adapter("ttl").await else {
        return;
    };
    // ensure_table (run by the harness) enabled Time to Live on `ttl`.
    let ttl = a
        .client()
        .describe_time_to_live()
        .table_name(a.table_name())
        .send()
        .await
        .unwrap();
    let d = ttl.time_to_live_description().expect("a TTL description");
    assert_eq!(d.attribute_name(), Some("ttl"));
    assert!(matches!(
        d.time_to_live_status(),
        Some(
            aws_sdk_dynamodb::types::TimeToLiveStatus::Enabled
                | aws_sdk_dynamodb::types::TimeToLiveStatus::Enabling
        )
    ));
    // Running it again changes nothing and succeeds.
    a.ensure_table().await.unwrap();

    let before = std::time::SystemTime::now();
    a.save_with(
        "u",
        &attrs(json!({"n": 1})),
        &persistence_core::SaveOptions::new(SaveMode::Overwrite).expiry(
            persistence_core::Expiry::After(std::time::Duration::from_secs(3600)),
        ),
    )
    .await
    .unwrap();
    let raw = raw_item(&a, "u").await;
    let Some(AttributeValue::N(secs)) = raw.get("ttl") else {
        panic!("no ttl number: {raw:?}")
    };
    let secs: u64 = secs.parse().expect("whole epoch seconds");
    let now = persistence_core::clock::epoch_seconds(before);
    assert!((now + 3599..=now + 3602).contains(&secs), "{secs} vs {now}");
    // A save without expiry removes it.
    a.save("u", &attrs(json!({"n": 2})), SaveMode::Overwrite)
        .await
        .unwrap();
    assert!(!raw_item(&a, "u").await.contains_key("ttl"));
}

#[tokio::test]
async fn ensure_table_refuses_time_to_live_on_another_attribute() {
    let Some(a) = dynamodb_adapter("ttl-other").await else {
        return;
    };
    let b = DynamoDbAdapter::builder(a.client().clone(), a.table_name())
        .expiry_attribute_name("expiresAt")
        .build();
    let e = b.ensure_table().await.unwrap_err();
    assert!(matches!(e, Error::Incompatible { .. }), "{e:?}");
    assert!(
        e.to_string().contains("'ttl'") && e.to_string().contains("expiresAt"),
        "{e}"
    );
}

#[tokio::test]
async fn numbers_python_skills_store_load_and_untouched_ones_are_written_back_unchanged() {
    let Some(a) = dynamodb_adapter("python-numbers").await else {
        return;
    };
    // What boto3 writes for a Python skill: Decimal(2) / Decimal(3), ints past 2**64, a set of
    // Decimals, 38 significant digits, the range's ends.
    let numbers = [
        ("third", "0.6666666666666666666666666667"),
        ("big", "1180591620717411303424"),
        ("negative_big", "-1329227995784915872903807060280344576"),
        ("max_digits", "1.2345678901234567890123456789012345678"),
        ("tiny", "1E-130"),
        ("huge", "9.9999999999999999999999999999999999999E+125"),
    ];
    let mut map: HashMap<String, AttributeValue> = numbers
        .iter()
        .map(|(k, v)| (k.to_string(), AttributeValue::N((*v).into())))
        .collect();
    map.insert(
        "scores".into(),
        AttributeValue::Ns(vec!["0.3333333333333333333333333333".into(), "2".into()]),
    );
    map.insert("visits".into(), AttributeValue::N("1".into()));
    put_raw(
        &a,
        HashMap::from([
            ("id".to_string(), AttributeValue::S("py".into())),
            ("attributes".to_string(), AttributeValue::M(map)),
        ]),
    )
    .await;
    let before = raw_item(&a, "py").await;

    let got = a
        .get("py")
        .await
        .unwrap()
        .expect("the user can load their data");
    // The skill sees the nearest f64; the exact text is kept beside it.
    assert_eq!(got.attributes["third"], json!(2.0 / 3.0));
    let exact = |name: &str| got.attributes.exact(name).map(|v| v.to_json_text());
    assert_eq!(
        exact("third").as_deref(),
        Some("0.6666666666666666666666666667")
    );
    assert_eq!(exact("big").as_deref(), Some("1180591620717411303424"));
    assert_eq!(
        exact("negative_big").as_deref(),
        Some("-1329227995784915872903807060280344576")
    );

    // The skill changes one attribute and saves: every other number is stored as it was.
    let mut changed = got.attributes.clone();
    changed.insert("visits".into(), json!(2));
    a.save("py", &changed, SaveMode::IfVersion(got.version))
        .await
        .unwrap();
    let after = raw_item(&a, "py").await;
    let (Some(AttributeValue::M(b)), Some(AttributeValue::M(c))) =
        (before.get("attributes"), after.get("attributes"))
    else {
        panic!("attributes maps")
    };
    for (name, _) in numbers {
        let (AttributeValue::N(x), AttributeValue::N(y)) = (&b[name], &c[name]) else {
            panic!("{name} is not a number any more: {:?}", c[name])
        };
        assert_eq!(
            persistence_core::number::Decimal::parse(x),
            persistence_core::number::Decimal::parse(y),
            "{name}: {x} became {y}"
        );
    }
    assert_eq!(c["visits"], AttributeValue::N("2".into()));
    // The set Python wrote is still a number set, with its exact members.
    assert_eq!(
        c["scores"], b["scores"],
        "the number set changed type or text"
    );
    // And they read back identically.
    assert_eq!(a.get("py").await.unwrap().unwrap().attributes, changed);
}

#[tokio::test]
async fn mixed_fleet_with_an_official_sdk_writer_never_lets_a_stale_save_win() {
    let Some(a) = dynamodb_adapter("mixed-fleet").await else {
        return;
    };
    let sdk_item = |streak: &str| {
        HashMap::from([
            ("id".to_string(), AttributeValue::S("u".into())),
            (
                "attributes".to_string(),
                AttributeValue::M(HashMap::from([(
                    "streak".to_string(),
                    AttributeValue::N(streak.into()),
                )])),
            ),
        ])
    };
    // 1. The official SDK (PutItem, no version attribute) wrote; we read; the SDK writes again.
    put_raw(&a, sdk_item("3")).await;
    let read = a.get("u").await.unwrap().unwrap();
    put_raw(&a, sdk_item("4")).await;
    let stale = a
        .save(
            "u",
            &attrs(json!({"streak": 10})),
            SaveMode::IfVersion(read.version.clone()),
        )
        .await;
    assert!(matches!(stale, Err(Error::Conflict { .. })), "{stale:?}");
    assert_eq!(a.get("u").await.unwrap().unwrap().attributes["streak"], 4);
    let stale_delete = a.delete_if("u", &read.version).await;
    assert!(
        matches!(stale_delete, Err(Error::Conflict { .. })),
        "{stale_delete:?}"
    );

    // 2. We wrote (with a version); the SDK overwrote (its PutItem drops our version): stale.
    let fresh = a.get("u").await.unwrap().unwrap();
    let ours = a
        .save(
            "u",
            &attrs(json!({"streak": 5})),
            SaveMode::IfVersion(fresh.version),
        )
        .await
        .unwrap();
    put_raw(&a, sdk_item("6")).await;
    let stale = a
        .save(
            "u",
            &attrs(json!({"streak": 99})),
            SaveMode::IfVersion(ours),
        )
        .await;
    assert!(matches!(stale, Err(Error::Conflict { .. })), "{stale:?}");

    // 3. The limit: the SDK rewrites exactly the content we read. Nothing tells the two writes
    //    apart, and nothing is lost either: the save goes ahead over identical data.
    let read = a.get("u").await.unwrap().unwrap();
    put_raw(&a, sdk_item("6")).await;
    a.save(
        "u",
        &attrs(json!({"streak": 7})),
        SaveMode::IfVersion(read.version),
    )
    .await
    .expect("identical content is indistinguishable, and losing nothing, the save succeeds");
}

#[tokio::test]
async fn corrupt_items_are_reported_and_an_overwrite_repairs_them() {
    let Some(a) = dynamodb_adapter("corrupt").await else {
        return;
    };
    let cases = [
        (
            "attributes-a-string",
            "attributes",
            AttributeValue::S("oops".into()),
        ),
        (
            "version-a-string",
            "attributesVersion",
            AttributeValue::S("v1".into()),
        ),
    ];
    for (key, attr, value) in cases {
        let mut item = HashMap::from([
            ("id".to_string(), AttributeValue::S(key.into())),
            ("attributes".to_string(), AttributeValue::M(HashMap::new())),
        ]);
        item.insert(attr.to_string(), value);
        put_raw(&a, item).await;
        let e = a.get(key).await.unwrap_err();
        assert!(matches!(e, Error::CorruptData { .. }), "{key}: {e:?}");
        assert!(e.to_string().contains(attr), "{key}: {e}");
        assert!(e.to_string().contains(a.table_name()), "{key}: {e}");
        if attr == "attributes" {
            a.save(key, &attrs(json!({"fixed": true})), SaveMode::Overwrite)
                .await
                .unwrap();
            assert_eq!(a.get(key).await.unwrap().unwrap().attributes["fixed"], true);
        }
    }
}

#[tokio::test]
async fn ensure_table_creates_waits_and_tolerates_concurrent_creators() {
    let Some(client) = dynamodb_client().await else {
        return;
    };
    let table = unique_name("create");
    let adapters: Vec<_> = (0..4)
        .map(|_| DynamoDbAdapter::builder(client.clone(), &table).build())
        .collect();
    let results = futures::future::join_all(adapters.iter().map(|a| a.ensure_table())).await;
    for r in results {
        r.unwrap();
    }
    let desc = client
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    assert_eq!(
        desc.billing_mode_summary().and_then(|b| b.billing_mode()),
        Some(&BillingMode::PayPerRequest)
    );
    // Usable at once.
    adapters[0]
        .save("u", &attrs(json!({"ok": 1})), SaveMode::CreateOnly)
        .await
        .unwrap();
    // Idempotent.
    adapters[1].ensure_table().await.unwrap();
}

#[tokio::test]
async fn ensure_table_refuses_a_table_with_another_key_schema() {
    let Some(client) = dynamodb_client().await else {
        return;
    };
    let table = unique_name("wrong-schema");
    client
        .create_table()
        .table_name(&table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("userId")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("userId")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let e = DynamoDbAdapter::builder(client, &table)
        .build()
        .ensure_table()
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Incompatible { .. }), "{e:?}");
    let text = e.to_string();
    assert!(text.contains("userId") && text.contains("'id'"), "{text}");
}

#[tokio::test]
async fn missing_table_is_not_found_naming_it() {
    let Some(client) = dynamodb_client().await else {
        return;
    };
    let a = DynamoDbAdapter::builder(client, "no-such-table-here").build();
    for r in [
        a.get("u").await.map(|_| ()),
        a.save("u", &Attributes::new(), SaveMode::Overwrite)
            .await
            .map(|_| ()),
        a.delete("u").await,
    ] {
        let e = r.unwrap_err();
        assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
        assert!(e.to_string().contains("no-such-table-here"), "{e}");
    }
}

#[tokio::test]
async fn item_size_limit_is_checked_before_the_call() {
    let Some(a) = dynamodb_adapter("size").await else {
        return;
    };
    let mut fits = Attributes::new();
    fits.insert("blob".into(), "x".repeat(390 * 1024).into());
    a.save("u", &fits, SaveMode::Overwrite).await.unwrap();
    assert_eq!(a.get("u").await.unwrap().unwrap().attributes, fits);

    let mut too_big = Attributes::new();
    too_big.insert("blob".into(), "x".repeat(400 * 1024).into());
    match a.save("u", &too_big, SaveMode::Overwrite).await {
        Err(Error::TooLarge {
            size: Some(size),
            limit,
            ..
        }) => assert!(size > limit),
        other => panic!("{other:?}"),
    }
    // The refused save changed nothing.
    assert_eq!(a.get("u").await.unwrap().unwrap().attributes, fits);
}

#[tokio::test]
async fn a_scan_goes_past_items_it_cannot_read() {
    let Some(a) = dynamodb_adapter("stray-items").await else {
        return;
    };
    conformance::listing_goes_past_unreadable_entries(&a, |key| {
        let a = &a;
        async move {
            let mut item = raw_item(a, &key).await;
            item.insert("attributes".into(), AttributeValue::S("not a map".into()));
            put_raw(a, item).await;
        }
    })
    .await;
}
