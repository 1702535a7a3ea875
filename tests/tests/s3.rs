//! The S3 adapter against a real S3 API (LocalStack).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use aws_sdk_s3::primitives::ByteStream;
use persistence_core::{Attributes, Error, PersistenceAdapter, SaveMode, conformance};
use persistence_integration_tests::{erased, new_bucket, s3_adapter_with, s3_client};
use persistence_s3::{MAX_OBJECT_KEY_BYTES, S3Adapter};
use serde_json::json;

const PREFIX: &str = "skills/conformance";

persistence_core::conformance_tests!(setup => async {
    erased(
        s3_adapter_with("conformance", Some(PREFIX), &setup).await,
        MAX_OBJECT_KEY_BYTES - PREFIX.len() - 1,
    )
});

fn attrs(v: serde_json::Value) -> Attributes {
    Attributes::try_from(v).unwrap()
}

async fn put_raw(client: &aws_sdk_s3::Client, bucket: &str, key: &str, body: Vec<u8>) {
    client
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body))
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_share_versions_and_lose_no_update() {
    let Some(client) = s3_client().await else {
        return;
    };
    let bucket = new_bucket(&client, "two-instances").await;
    let a = S3Adapter::builder(client, &bucket).build();
    let b = S3Adapter::builder(s3_client().await.unwrap(), &bucket).build();
    conformance::versions_across_instances(&a, &b).await;
    let report = conformance::update_contention(&[Arc::new(a), Arc::new(b)], 8, 10).await;
    eprintln!("s3 two instances: {report}");
}

#[tokio::test]
async fn reads_what_the_official_sdks_wrote_and_writes_the_same_layout() {
    let Some(client) = s3_client().await else {
        return;
    };
    let bucket = new_bucket(&client, "fixtures").await;
    let store = S3Adapter::builder(client.clone(), &bucket)
        .path_prefix("skills/cafe")
        .build();
    for f in common::fixtures() {
        put_raw(&client, &bucket, &f.s3_key, f.s3_body.clone()).await;
        let got = store
            .get(&f.user_id)
            .await
            .unwrap()
            .expect("fixture object reads");
        assert_eq!(got.attributes, f.attributes, "{}", f.name);

        // What we write lands at the same object key, as compact JSON the SDKs read.
        store
            .save(
                &f.user_id,
                &got.attributes,
                SaveMode::IfVersion(got.version),
            )
            .await
            .unwrap();
        let raw = client
            .get_object()
            .bucket(&bucket)
            .key(&f.s3_key)
            .send()
            .await
            .unwrap();
        assert_eq!(raw.content_type(), Some("application/json"));
        let body = raw.body.collect().await.unwrap().into_bytes();
        let text = std::str::from_utf8(&body).unwrap();
        assert!(
            !text.contains(": ") && !text.contains(", "),
            "not compact: {text}"
        );
        let parsed: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(
            parsed,
            serde_json::Value::from(f.attributes.clone()),
            "{}",
            f.name
        );
    }
}

#[tokio::test]
async fn prefixes_isolate_skills_sharing_a_bucket() {
    let Some(client) = s3_client().await else {
        return;
    };
    let bucket = new_bucket(&client, "prefixes").await;
    let cafe = S3Adapter::builder(client.clone(), &bucket)
        .path_prefix("cafe")
        .build();
    let facts = S3Adapter::builder(client.clone(), &bucket)
        .path_prefix("facts")
        .build();
    let root = S3Adapter::builder(client.clone(), &bucket).build();
    cafe.save("u", &attrs(json!({"skill": "cafe"})), SaveMode::Overwrite)
        .await
        .unwrap();
    assert!(facts.get("u").await.unwrap().is_none());
    assert!(root.get("u").await.unwrap().is_none());
    facts
        .save("u", &attrs(json!({"skill": "facts"})), SaveMode::Overwrite)
        .await
        .unwrap();
    facts.delete("u").await.unwrap();
    assert_eq!(
        cafe.get("u").await.unwrap().unwrap().attributes["skill"],
        "cafe"
    );
    // A key that tries to climb out of the prefix is refused before any request.
    for bad in ["../facts/u", "x/../../facts/u", "/u", "a\\b"] {
        let e = cafe
            .save(bad, &Attributes::new(), SaveMode::Overwrite)
            .await
            .unwrap_err();
        assert!(matches!(e, Error::InvalidKey { .. }), "{bad}: {e:?}");
    }
    // The root adapter sees the cafe object under its full key.
    assert!(root.get("cafe/u").await.unwrap().is_some());
}

#[tokio::test]
async fn corrupt_bodies_are_reported_and_an_overwrite_repairs_them() {
    let Some(client) = s3_client().await else {
        return;
    };
    let bucket = new_bucket(&client, "corrupt").await;
    let store = S3Adapter::builder(client.clone(), &bucket).build();
    let cases: [(&str, &[u8]); 6] = [
        ("invalid-json", b"{\"a\": "),
        ("python-nan", b"{\"score\": NaN}"),
        ("python-infinity", b"{\"score\": Infinity}"),
        ("array", b"[1, 2, 3]"),
        ("invalid-utf8", b"{\"a\": \"\xff\xfe\"}"),
        ("string", b"\"hello\""),
    ];
    for (key, body) in cases {
        put_raw(&client, &bucket, key, body.to_vec()).await;
        let e = store.get(key).await.unwrap_err();
        assert!(matches!(e, Error::CorruptData { .. }), "{key}: {e:?}");
        assert!(e.to_string().contains(&bucket), "{key}: {e}");
        store
            .save(key, &attrs(json!({"fixed": true})), SaveMode::Overwrite)
            .await
            .unwrap();
        assert_eq!(
            store.get(key).await.unwrap().unwrap().attributes["fixed"],
            true
        );
    }
    // An empty object is empty attributes, not an error.
    put_raw(&client, &bucket, "empty", Vec::new()).await;
    let got = store.get("empty").await.unwrap().unwrap();
    assert!(got.attributes.is_empty());
}

#[tokio::test]
async fn missing_bucket_is_not_found_naming_it() {
    let Some(client) = s3_client().await else {
        return;
    };
    let store = S3Adapter::builder(client, "no-such-bucket-here").build();
    for r in [
        store.get("u").await.map(|_| ()),
        store
            .save("u", &Attributes::new(), SaveMode::Overwrite)
            .await
            .map(|_| ()),
        store.delete("u").await,
    ] {
        let e = r.unwrap_err();
        assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
        assert!(e.to_string().contains("no-such-bucket-here"), "{e}");
    }
}

#[tokio::test]
async fn a_listing_goes_past_objects_it_cannot_read() {
    let Some(client) = s3_client().await else {
        return;
    };
    let bucket = new_bucket(&client, "stray-objects").await;
    let a = S3Adapter::builder(client.clone(), &bucket)
        .path_prefix("skills/stray")
        .build();
    conformance::listing_goes_past_unreadable_entries(&a, |key| {
        let (a, client, bucket) = (&a, &client, &bucket);
        async move {
            let object = a.object_key(&key).unwrap();
            put_raw(client, bucket, &object, b"{not json".to_vec()).await;
        }
    })
    .await;
}
