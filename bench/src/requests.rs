//! Requests per turn, counted at the SDK: what a skill pays DynamoDB or S3 for.

use std::collections::BTreeMap;

use persistence_core::{Attributes, PersistenceAdapter, SaveMode};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::BoxError;
use crate::counting::{RequestCounter, Traffic, describe, tally};
use crate::workload::{bump, sample_map};

/// The five-turn session, as printed under the table.
pub const SESSION: &str = "five-turn session = LaunchRequest (get, visits+1, save) → \
OrderIntent (get, change the order, save) → HelpIntent (get, nothing changes, no save) → \
OrderIntent (get, change, save) → SessionEndedRequest (no I/O)";

/// One scenario's count.
#[derive(Clone, Debug, Serialize)]
pub struct RequestRow {
    /// What the skill did.
    pub scenario: &'static str,
    /// Requests by operation name.
    pub by_operation: BTreeMap<String, u64>,
    /// Item or object reads.
    pub reads: u64,
    /// Item or object writes.
    pub writes: u64,
    /// Anything else (should be none).
    pub other: u64,
    /// The most reads that meet the target.
    pub max_reads: u64,
    /// The most writes that meet the target.
    pub max_writes: u64,
}

impl RequestRow {
    /// Reads, writes and other requests within the target.
    pub fn meets_target(&self) -> bool {
        self.reads <= self.max_reads && self.writes <= self.max_writes && self.other == 0
    }

    /// `GetItem×1 UpdateItem×1`.
    pub fn operations(&self) -> String {
        describe(&self.by_operation)
    }
}

/// A skill turn as an attributes manager runs it: one `get`; `change` (if any) applied; a
/// `save` only when the attributes changed.
async fn skill_turn(
    store: &dyn PersistenceAdapter,
    key: &str,
    change: Option<fn(&mut Map<String, Value>)>,
) -> Result<(), BoxError> {
    let Some(change) = change else {
        store.get(key).await?;
        return Ok(());
    };
    let (attrs, version) = match store.get(key).await? {
        Some(s) => (s.attributes, Some(s.version)),
        None => (Attributes::new(), None),
    };
    let mut changed = attrs.clone();
    change(&mut changed);
    if changed != attrs {
        store
            .save(key, &changed, SaveMode::expecting(version.as_ref()))
            .await?;
    }
    Ok(())
}

fn order(attrs: &mut Map<String, Value>) {
    let n = attrs.get("orders").and_then(Value::as_u64).unwrap_or(0) + 1;
    attrs.insert("orders".into(), n.into());
    attrs.insert("lastOrder".into(), "flat white".into());
}

fn nothing(_: &mut Map<String, Value>) {}

/// Counts the requests of each scenario through `store`, whose client reports to `counter`.
/// Keys start with `key_prefix`.
pub async fn count(
    store: &dyn PersistenceAdapter,
    counter: &RequestCounter,
    key_prefix: &str,
) -> Result<Vec<RequestRow>, BoxError> {
    let returning = format!("{key_prefix}-returning");
    store
        .save(
            &returning,
            &Attributes::from(sample_map(1024)),
            SaveMode::Overwrite,
        )
        .await?;
    let mut rows = Vec::new();
    let mut measure = |scenario, counts: BTreeMap<String, u64>, max_reads, max_writes| {
        let (reads, writes, other) = tally(&counts);
        rows.push(RequestRow {
            scenario,
            by_operation: counts,
            reads,
            writes,
            other,
            max_reads,
            max_writes,
        });
    };

    counter.take();
    skill_turn(store, &format!("{key_prefix}-new"), Some(bump)).await?;
    measure("new user: get (nothing), create", counter.take(), 1, 1);

    skill_turn(store, &returning, None).await?;
    measure("read-only turn: get", counter.take(), 1, 0);

    skill_turn(store, &returning, Some(nothing)).await?;
    measure("unchanged turn: get, no change", counter.take(), 1, 0);

    skill_turn(store, &returning, Some(bump)).await?;
    measure("changing turn: get, change, save", counter.take(), 1, 1);

    let session_key = format!("{key_prefix}-session");
    store
        .save(
            &session_key,
            &Attributes::from(sample_map(1024)),
            SaveMode::Overwrite,
        )
        .await?;
    counter.take();
    skill_turn(store, &session_key, Some(bump)).await?; // LaunchRequest
    skill_turn(store, &session_key, Some(order)).await?; // OrderIntent
    skill_turn(store, &session_key, Some(nothing)).await?; // HelpIntent
    skill_turn(store, &session_key, Some(order)).await?; // OrderIntent
    // SessionEndedRequest: no persistence I/O.
    measure("five-turn session (see below)", counter.take(), 4, 3);
    Ok(rows)
}

/// What a save of a large map costs on the wire, with the bytes of the read before it for
/// comparison.
#[derive(Clone, Debug, Serialize)]
pub struct SaveBytesRow {
    /// What was sent.
    pub request: &'static str,
    /// Compact JSON size of the attributes, bytes.
    pub attributes_bytes: usize,
    /// Requests by operation name.
    pub by_operation: BTreeMap<String, u64>,
    /// Bytes sent and received.
    pub traffic: Traffic,
}

impl SaveBytesRow {
    /// `UpdateItem×1`.
    pub fn operations(&self) -> String {
        describe(&self.by_operation)
    }
}

/// The size of the map [`save_bytes`] saves: the "350 KB map", in compact JSON.
pub const LARGE_MAP_BYTES: usize = 350_000;

/// Measures the bytes of a read and of a conditional save of a ~350 KB map through `store`,
/// and, with `old_save` (a DynamoDB client reporting to the same `counter`, and the table),
/// the same save as release 0.1.0 sent it: `UpdateItem` with `ReturnValues=UPDATED_NEW`,
/// which made DynamoDB send the whole map back. Keys start with `key_prefix`.
pub async fn save_bytes(
    store_arc: &std::sync::Arc<dyn PersistenceAdapter>,
    counter: &RequestCounter,
    key_prefix: &str,
    old_save: Option<(&aws_sdk_dynamodb::Client, &str)>,
) -> Result<Vec<SaveBytesRow>, BoxError> {
    let store = store_arc.as_ref();
    let key = format!("{key_prefix}-large");
    let mut attrs = sample_map(LARGE_MAP_BYTES);
    let attributes_bytes = serde_json::to_vec(&attrs)?.len();
    store
        .save(&key, &Attributes::from(attrs.clone()), SaveMode::Overwrite)
        .await?;
    let mut rows = Vec::new();
    let mut measure = |request, counter: &RequestCounter| {
        rows.push(SaveBytesRow {
            request,
            attributes_bytes,
            by_operation: counter.take(),
            traffic: counter.take_bytes(),
        });
    };

    counter.take();
    counter.take_bytes();
    let version = store.get(&key).await?.map(|s| s.version);
    measure("get (reads the whole map)", counter);

    bump(&mut attrs);
    let version = store
        .save(
            &key,
            &Attributes::from(attrs.clone()),
            SaveMode::expecting(version.as_ref()),
        )
        .await?;
    measure(
        "whole-map save: a map built by the caller, conditional on the version",
        counter,
    );

    // Issue 22: the attributes as read, one field changed, saved on the version they were read
    // at: DynamoDB writes only that field (`SET attributes.#n`); S3 has no partial write.
    let mut read = store.get(&key).await?.ok_or("the large map vanished")?;
    if read.version != version {
        return Err("the large map changed under the benchmark".into());
    }
    counter.take();
    counter.take_bytes();
    bump(&mut read.attributes);
    store
        .save(
            &key,
            &read.attributes,
            SaveMode::expecting(Some(&read.version)),
        )
        .await?;
    attrs = read.attributes.clone().into_inner();
    measure(
        "save of the map as read, one field changed (DynamoDB: partial write)",
        counter,
    );

    // The same change made by a skill handler (skill-builder's turn: get, change, save).
    let skill = crate::session::skill(store_arc.clone(), true, true)?;
    counter.take();
    counter.take_bytes();
    let turn = skill_testkit::Conversation::new(&skill)
        .user(key.clone())
        .launch()
        .await?;
    if turn.speech().is_empty() {
        return Err("the one-field skill said nothing".into());
    }
    bump(&mut attrs);
    measure(
        "skill-builder turn: get, one field changed, save (bytes of both)",
        counter,
    );

    if let Some((client, table)) = old_save {
        use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
        bump(&mut attrs);
        let value = persistence_dynamodb::attributes_to_dynamodb(&Attributes::from(attrs))?;
        client
            .update_item()
            .table_name(table)
            .key("id", AttributeValue::S(key.clone()))
            .update_expression("SET #a = :a, #v = if_not_exists(#v, :zero) + :one")
            .expression_attribute_names("#a", "attributes")
            // 0.1.0's numeric counter, under a name of its own: today's `attributesVersion`
            // holds a write token (a string), which `+ :one` cannot add to.
            .expression_attribute_names("#v", "benchCounterVersion")
            .expression_attribute_values(":a", value)
            .expression_attribute_values(":zero", AttributeValue::N("0".into()))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string())?;
        measure(
            "0.1.0's save (raw SDK): UpdateItem, ReturnValues=UPDATED_NEW",
            counter,
        );
    }
    Ok(rows)
}
