//! Partial writes (issue 22): a one-field change of a large map sends that field, not the map,
//! stays conditional on the version, and leaves an item every reader reads whole. Bytes are
//! counted at the SDK (an interceptor on the request body), never timed.

use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::types::AttributeValue;
use persistence_core::{Attributes, Error, PersistenceAdapter, SaveMode};
use persistence_dynamodb::DynamoDbAdapter;
use persistence_integration_tests::dynamodb_adapter;
use serde_json::json;

use super::{attrs, raw_item};

/// The request bodies sent, as (operation, bytes), the operation from `x-amz-target`.
#[derive(Clone, Debug, Default)]
struct SentBodies(Arc<Mutex<Vec<(String, usize)>>>);

impl SentBodies {
    fn take(&self) -> Vec<(String, usize)> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

impl Intercept for SentBodies {
    fn name(&self) -> &'static str {
        "SentBodies"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request();
        let op = request
            .headers()
            .get("x-amz-target")
            .and_then(|t| t.rsplit('.').next())
            .unwrap_or("?")
            .to_owned();
        let bytes = request.body().bytes().map_or(0, <[u8]>::len);
        self.0.lock().unwrap().push((op, bytes));
        Ok(())
    }
}

/// A skill's ~350 KB map: a few counters and a long history.
fn large_map() -> Attributes {
    let history: Vec<_> = (0..3_000)
        .map(|i| {
            json!({"intent": "OrderIntent", "at": format!("2026-03-{:02}T10:00:00Z", 1 + i % 28),
                   "slots": {"drink": "latte", "size": "large"}, "ms": 120 + i % 400})
        })
        .collect();
    let a = attrs(json!({"visits": 17, "locale": "en-US", "history": history}));
    assert!(a.json_len() > 300_000, "{}", a.json_len());
    a
}

#[tokio::test]
async fn a_one_field_change_of_a_large_map_sends_only_that_field_and_the_item_stays_whole() {
    let Some(plain) = dynamodb_adapter("partial-write").await else {
        return;
    };
    let sent = SentBodies::default();
    let counted = aws_sdk_dynamodb::Client::from_conf(
        plain
            .client()
            .config()
            .to_builder()
            .interceptor(sent.clone())
            .build(),
    );
    let a = DynamoDbAdapter::builder(counted.clone(), plain.table_name()).build();
    let whole = large_map();
    a.save("u", &whole, SaveMode::Overwrite).await.unwrap();
    let first = sent.take();
    assert!(
        first[0].1 > 300_000,
        "the whole map went out first: {first:?}"
    );

    // A turn: read, change one field, save on the version read.
    let mut read = a.get("u").await.unwrap().unwrap();
    let stale = read.version.clone();
    read.attributes.insert("visits".into(), 18.into());
    sent.take();
    let v2 = a
        .save(
            "u",
            &read.attributes,
            SaveMode::expecting(Some(&read.version)),
        )
        .await
        .unwrap();
    let save = sent.take();
    assert_eq!(save.len(), 1, "{save:?}");
    assert_eq!(save[0].0, "UpdateItem");
    assert!(
        save[0].1 < 2_000,
        "a one-field change sent {} bytes",
        save[0].1
    );

    // Every reader reads the whole map with the change: this adapter, another instance, the
    // raw item in the official SDKs' layout.
    let mut expected = whole.clone();
    expected.insert("visits".into(), 18.into());
    let back = a.get("u").await.unwrap().unwrap();
    assert_eq!((&back.attributes, &back.version), (&expected, &v2));
    assert_eq!(plain.get("u").await.unwrap().unwrap().attributes, expected);
    let item = raw_item(&plain, "u").await;
    let Some(AttributeValue::M(map)) = item.get("attributes") else {
        panic!("no attributes map: {:?}", item.keys().collect::<Vec<_>>());
    };
    assert_eq!(map.get("visits"), Some(&AttributeValue::N("18".into())));
    assert!(matches!(map.get("history"), Some(AttributeValue::L(l)) if l.len() == 3_000));

    // Still conditional: a one-field save on the version before is refused, nothing written.
    let mut late = read.attributes.clone();
    late.insert("locale".into(), "en-GB".into());
    let refused = a.save("u", &late, SaveMode::expecting(Some(&stale))).await;
    assert!(
        matches!(refused, Err(Error::Conflict { .. })),
        "{refused:?}"
    );
    assert_eq!(a.get("u").await.unwrap().unwrap().attributes, expected);

    // The same change with partial writes off sends the whole map again: the saving above is
    // the partial write's.
    let off = DynamoDbAdapter::builder(counted, plain.table_name())
        .partial_writes(false)
        .build();
    let mut read = off.get("u").await.unwrap().unwrap();
    read.attributes.insert("visits".into(), 19.into());
    sent.take();
    off.save(
        "u",
        &read.attributes,
        SaveMode::expecting(Some(&read.version)),
    )
    .await
    .unwrap();
    let save = sent.take();
    assert!(save[0].1 > 300_000, "{save:?}");
}
