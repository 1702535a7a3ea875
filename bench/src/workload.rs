//! The workload: attribute maps of a chosen size, and a skill turn through the adapter or
//! through the raw AWS SDK with the same item layout.

use std::sync::Arc;
use std::time::Instant;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use aws_sdk_s3::primitives::ByteStream;
use persistence_core::{Attributes, PersistenceAdapter, SaveMode};
use serde_json::{Map, Value, json};

use crate::BoxError;

/// A skill's attributes of about `target_bytes` of compact JSON (at least that much, at most
/// one history entry more): a visit counter, a profile, preferences and a history of intents,
/// with strings, integers, floats, booleans, nested maps and lists.
pub fn sample_map(target_bytes: usize) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("visits".into(), json!(17));
    m.insert("firstSeen".into(), json!("2025-01-04T08:12:44Z"));
    m.insert("lastSeen".into(), json!("2026-03-21T19:02:10Z"));
    m.insert("locale".into(), json!("en-US"));
    m.insert(
        "profile".into(),
        json!({"name": "Alex", "timezone": "America/Los_Angeles", "premium": false,
               "score": 1234.5, "level": 7}),
    );
    m.insert(
        "preferences".into(),
        json!({"drink": "latte", "size": "large", "milk": "oat", "sugar": 0, "extraShot": true}),
    );
    let mut history = Vec::new();
    let mut size = serde_json::to_vec(&m).map_or(0, |v| v.len()) + 12;
    let mut i = 0u64;
    while size < target_bytes {
        let entry = json!({
            "intent": if i.is_multiple_of(3) { "OrderIntent" } else { "RepeatOrderIntent" },
            "at": format!("2026-03-{:02}T{:02}:{:02}:00Z", 1 + i % 28, i % 24, i % 60),
            "slots": {"drink": "latte", "size": "large"},
            "ok": !i.is_multiple_of(7),
            "ms": 120 + (i * 37) % 400,
        });
        size += serde_json::to_vec(&entry).map_or(0, |v| v.len()) + 1;
        history.push(entry);
        i += 1;
    }
    m.insert("history".into(), Value::Array(history));
    m
}

/// The change a turn makes: one more visit.
pub fn bump(attrs: &mut Map<String, Value>) {
    let n = attrs.get("visits").and_then(Value::as_u64).unwrap_or(0) + 1;
    attrs.insert("visits".into(), n.into());
}

/// What a turn goes through.
#[derive(Clone, Debug)]
pub enum Store {
    /// An adapter, held as a skill holds it.
    Adapter {
        /// The adapter.
        adapter: Arc<dyn PersistenceAdapter>,
        /// True for the memory backend (turns never wait, so concurrent tasks must yield).
        in_process: bool,
    },
    /// DynamoDB calls issued directly, in the adapter's item layout (`id`, `attributes`,
    /// `attributesVersion`) with the same conditional update.
    RawDynamoDb {
        /// The client.
        client: aws_sdk_dynamodb::Client,
        /// The table.
        table: String,
    },
    /// S3 calls issued directly, in the adapter's layout (compact JSON body, ETag versions,
    /// `If-Match` writes).
    RawS3 {
        /// The client.
        client: aws_sdk_s3::Client,
        /// The bucket.
        bucket: String,
    },
}

/// How long the two halves of a turn took, in nanoseconds.
#[derive(Clone, Copy, Debug)]
pub struct TurnTimes {
    /// The read.
    pub get_ns: u64,
    /// The change and the write.
    pub save_ns: u64,
}

fn nanos(from: Instant, to: Instant) -> u64 {
    u64::try_from((to - from).as_nanos()).unwrap_or(u64::MAX)
}

impl Store {
    /// Whether turns run without I/O.
    pub fn in_process(&self) -> bool {
        matches!(
            self,
            Store::Adapter {
                in_process: true,
                ..
            }
        )
    }

    /// One persisted turn: read `key`, change one field, save it only if nobody wrote since.
    pub async fn turn(&self, key: &str) -> Result<TurnTimes, BoxError> {
        match self {
            Store::Adapter { adapter, .. } => adapter_turn(adapter.as_ref(), key).await,
            Store::RawDynamoDb { client, table } => {
                let t0 = Instant::now();
                let (mut attrs, version) = match raw_dynamodb_get(client, table, key).await? {
                    Some((a, v)) => (a, Some(v)),
                    None => (Map::new(), None),
                };
                let t1 = Instant::now();
                bump(&mut attrs);
                raw_dynamodb_save(client, table, key, &attrs, version.as_deref()).await?;
                let t2 = Instant::now();
                Ok(TurnTimes {
                    get_ns: nanos(t0, t1),
                    save_ns: nanos(t1, t2),
                })
            }
            Store::RawS3 { client, bucket } => {
                let t0 = Instant::now();
                let (mut attrs, etag) = match raw_s3_get(client, bucket, key).await? {
                    Some((a, v)) => (a, Some(v)),
                    None => (Map::new(), None),
                };
                let t1 = Instant::now();
                bump(&mut attrs);
                raw_s3_save(client, bucket, key, &attrs, etag.as_deref()).await?;
                let t2 = Instant::now();
                Ok(TurnTimes {
                    get_ns: nanos(t0, t1),
                    save_ns: nanos(t1, t2),
                })
            }
        }
    }
}

/// A turn as a skill's attributes manager does it: `get`, change one field, `save` with
/// [`SaveMode::expecting`] the version read.
pub async fn adapter_turn(
    adapter: &dyn PersistenceAdapter,
    key: &str,
) -> Result<TurnTimes, BoxError> {
    let t0 = Instant::now();
    let (mut attrs, version) = match adapter.get(key).await? {
        Some(stored) => (stored.attributes, Some(stored.version)),
        None => (Attributes::new(), None),
    };
    let t1 = Instant::now();
    bump(&mut attrs);
    adapter
        .save(key, &attrs, SaveMode::expecting(version.as_ref()))
        .await?;
    let t2 = Instant::now();
    Ok(TurnTimes {
        get_ns: nanos(t0, t1),
        save_ns: nanos(t1, t2),
    })
}

fn sdk_err<E: std::error::Error + Send + Sync + 'static>(op: &str, e: E) -> BoxError {
    format!("{op}: {}", aws_sdk_dynamodb::error::DisplayErrorContext(e)).into()
}

/// `GetItem` (strongly consistent, projecting the attributes and the version) and
/// `serde_dynamo` for the map: the adapter's read, by hand.
pub async fn raw_dynamodb_get(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    key: &str,
) -> Result<Option<(Map<String, Value>, String)>, BoxError> {
    let out = client
        .get_item()
        .table_name(table)
        .key("id", AttributeValue::S(key.to_owned()))
        .consistent_read(true)
        .projection_expression("#a, #v")
        .expression_attribute_names("#a", "attributes")
        .expression_attribute_names("#v", "attributesVersion")
        .send()
        .await
        .map_err(|e| sdk_err("GetItem", e))?;
    let Some(mut item) = out.item else {
        return Ok(None);
    };
    // The adapter's versions: `<token>.<n>` strings (see persistence-dynamodb's version.rs).
    let version = match item.remove("attributesVersion") {
        Some(AttributeValue::S(v)) => v,
        _ => return Err("item without a version".into()),
    };
    let attrs = match item.remove("attributes") {
        Some(av) => serde_dynamo::from_attribute_value(av)?,
        None => Map::new(),
    };
    Ok(Some((attrs, version)))
}

/// The adapter's conditional `UpdateItem`, by hand, in its item layout: the whole map, the
/// version `<token>.<n>` (a fresh write token, the sequence number one past the version read),
/// the token in its slot of the latest-tokens list (a new list for a new item), no expiry;
/// conditional on the version read (or on the item not existing). Returns the new version.
pub async fn raw_dynamodb_save(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    key: &str,
    attrs: &Map<String, Value>,
    expected: Option<&str>,
) -> Result<String, BoxError> {
    let value: AttributeValue = serde_dynamo::to_attribute_value(attrs)?;
    let token = persistence_core::unique_token();
    let short = token[..16.min(token.len())].to_owned();
    let previous = expected
        .and_then(|v| v.rsplit_once('.'))
        .and_then(|(_, n)| n.parse::<u64>().ok());
    let seq = previous.map_or(0, |n| n + 1);
    let version = format!("{token}.{seq}");
    let mut req = client
        .update_item()
        .table_name(table)
        .key("id", AttributeValue::S(key.to_owned()))
        .expression_attribute_names("#a", "attributes")
        .expression_attribute_names("#v", "attributesVersion")
        .expression_attribute_names("#r", "attributesTokens")
        .expression_attribute_names("#t", "ttl")
        .expression_attribute_values(":a", value)
        .expression_attribute_values(":version", AttributeValue::S(version.clone()))
        .return_values(ReturnValue::None);
    req = match previous {
        Some(_) => req
            .update_expression(format!(
                "SET #a = :a, #v = :version, #r[{}] = :token REMOVE #t",
                seq % persistence_core::RECENT_TOKENS as u64
            ))
            .expression_attribute_values(":token", AttributeValue::S(short)),
        None => req
            .update_expression("SET #a = :a, #v = :version, #r = :tokens REMOVE #t")
            .expression_attribute_values(
                ":tokens",
                AttributeValue::L(vec![AttributeValue::S(short)]),
            ),
    };
    req = match expected {
        Some(v) => req
            .condition_expression("#v = :expected")
            .expression_attribute_values(":expected", AttributeValue::S(v.to_owned())),
        None => req
            .condition_expression("attribute_not_exists(#k)")
            .expression_attribute_names("#k", "id"),
    };
    req.send().await.map_err(|e| sdk_err("UpdateItem", e))?;
    Ok(version)
}

/// `GetObject` and `serde_json` for the body: the adapter's read, by hand.
pub async fn raw_s3_get(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> Result<Option<(Map<String, Value>, String)>, BoxError> {
    let out = match client.get_object().bucket(bucket).key(key).send().await {
        Ok(out) => out,
        Err(e) if e.as_service_error().is_some_and(|se| se.is_no_such_key()) => return Ok(None),
        Err(e) => return Err(sdk_err("GetObject", e)),
    };
    let etag = out.e_tag().ok_or("GetObject returned no ETag")?.to_owned();
    let body = out.body.collect().await?.into_bytes();
    let attrs = if body.is_empty() {
        Map::new()
    } else {
        serde_json::from_slice(&body)?
    };
    Ok(Some((attrs, etag)))
}

/// The adapter's conditional `PutObject`, by hand. Returns the new ETag.
pub async fn raw_s3_save(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    attrs: &Map<String, Value>,
    expected: Option<&str>,
) -> Result<String, BoxError> {
    let body = serde_json::to_vec(attrs)?;
    let mut req = client
        .put_object()
        .bucket(bucket)
        .key(key)
        .content_type("application/json")
        .body(ByteStream::from(body));
    req = match expected {
        Some(etag) => req.if_match(etag),
        None => req.if_none_match("*"),
    };
    let out = req.send().await.map_err(|e| sdk_err("PutObject", e))?;
    Ok(out.e_tag().ok_or("PutObject returned no ETag")?.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_maps_have_the_size_asked_for() {
        for target in [1024, 64 * 1024, 350 * 1024] {
            let m = sample_map(target);
            let len = serde_json::to_vec(&m).unwrap().len();
            assert!(len >= target && len < target + 200, "{target}: {len}");
        }
    }

    #[tokio::test]
    async fn a_turn_bumps_the_visits() {
        let mem = persistence_memory::MemoryAdapter::new();
        mem.seed("u", Attributes::from(sample_map(1024)));
        let store = Store::Adapter {
            adapter: Arc::new(mem.clone()),
            in_process: true,
        };
        store.turn("u").await.unwrap();
        store.turn("u").await.unwrap();
        assert_eq!(mem.attributes("u").unwrap()["visits"], 19);
    }
}
