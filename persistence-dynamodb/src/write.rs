//! Saves and deletes: conditions, partial writes, the latest write tokens, and recognising a
//! write whose answer was lost.

use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use persistence_aws::{AttemptLog, ambiguous};
use persistence_core::clock::epoch_seconds;
use persistence_core::exact::ExactMap;
use persistence_core::limits::check_document_depth;
use persistence_core::{
    Attributes, Error, MAX_KEY_BYTES, RECENT_TOKENS, RedactedKey, Result, SaveMode, SaveOptions,
    Version, validate_key, write_token,
};

use crate::convert::{self, ConvertError};
use crate::version::{Expected, SHORT_TOKEN, format_version, short, slot};
use crate::{DynamoDbAdapter, Item, MAX_DEPTH, MAX_ITEM_BYTES, errors};

/// At most this many attributes are written one by one; more go as the whole map (an update
/// expression is limited to 4 KB of text).
const MAX_PARTIAL_NAMES: usize = 100;

/// What a save writes into the `attributes` map.
enum Body {
    /// The whole map.
    Whole(AttributeValue),
    /// Only these top-level attributes: a new value, or `None` to remove it.
    Changes(Vec<(String, Option<AttributeValue>)>),
}

impl DynamoDbAdapter {
    fn unsupported(&self, key: &str, e: ConvertError) -> Error {
        Error::UnsupportedValue {
            operation: "save",
            resource: self.resource.clone(),
            key: RedactedKey::new(key),
            detail: e.to_string(),
        }
    }

    /// The attributes to write: only those changed since the read, when the save is conditional
    /// on the version they were read at and that is smaller than the whole map.
    fn body(
        &self,
        key: &str,
        attributes: &Attributes,
        exact: &ExactMap,
        mode: &SaveMode,
        whole: AttributeValue,
        whole_size: usize,
    ) -> Result<Body> {
        let SaveMode::IfVersion(v) = mode else {
            return Ok(Body::Whole(whole));
        };
        if !self.partial_writes || attributes.read_at() != Some(v) {
            return Ok(Body::Whole(whole));
        }
        let Some(changed) = attributes.changed_since_read() else {
            return Ok(Body::Whole(whole));
        };
        // The map must exist on the item to set a name inside it: it does when one attribute
        // read from it is still there unchanged.
        let kept = attributes.keys().any(|k| !changed.contains(k));
        if !kept || changed.len() > MAX_PARTIAL_NAMES {
            return Ok(Body::Whole(whole));
        }
        let mut changes = Vec::with_capacity(changed.len());
        let mut size = 0;
        for name in changed {
            let value = match exact.get(&name) {
                Some(v) => {
                    let (av, n) = convert::value_to_item_value(&name, v)
                        .map_err(|e| self.unsupported(key, e))?;
                    size += n;
                    Some(av)
                }
                None => None,
            };
            // `#a.#nN = :nN, ` and the name itself.
            size += name.len() + 20;
            changes.push((name, value));
        }
        Ok(if size < whole_size {
            Body::Changes(changes)
        } else {
            Body::Whole(whole)
        })
    }

    /// True when `item` holds the write with `token` among its latest.
    fn holds(&self, item: &Item, token: &str) -> bool {
        self.tokens_of(item).iter().any(|t| t == short(token))
    }

    /// True when `item` proves that a write conditional on version `expected` never landed:
    /// the item still descends from that version (its token is in its slot of the list) and
    /// every write since is in the list, so a landed write would be there. Without such proof
    /// (a version from before the list, more writes since than the list keeps, or a delete
    /// and a new item since), nothing can be said.
    fn proves_not_landed(&self, item: Option<&Item>, expected: Option<&Expected>) -> bool {
        let (
            Some(item),
            Some(Expected::Token {
                token,
                seq: Some(prev),
                ..
            }),
        ) = (item, expected)
        else {
            return false;
        };
        let Some(now) = self.seq_of(item) else {
            return false;
        };
        let list = self.tokens_of(item);
        now >= *prev
            && now - prev < RECENT_TOKENS as u64
            && usize::try_from(slot(*prev))
                .ok()
                .and_then(|i| list.get(i))
                .is_some_and(|t| t == short(token))
    }

    /// True when `item` is the version `expected` names or one written after it (its token is
    /// still in the item's list), so a delete conditional on it cannot have landed.
    fn descends_from(&self, item: &Item, expected: &Expected) -> bool {
        match expected {
            Expected::Token { token, .. } => self.holds(item, token),
            _ => false,
        }
    }

    fn unknown(&self, operation: &'static str, key: &str) -> Error {
        Error::OutcomeUnknown {
            operation,
            resource: self.resource.clone(),
            key: RedactedKey::new(key),
            detail: format!(
                "an attempt's answer was lost and the item does not show whether it landed \
                 (more than {RECENT_TOKENS} writes since, or it was deleted or overwritten)"
            ),
        }
    }

    /// A strongly consistent read bounded to one attempt's time, for settling a lost answer.
    async fn settle_read(&self, operation: &'static str, key: &str) -> Result<Option<Item>> {
        match tokio::time::timeout(
            persistence_core::budget::ATTEMPT_TIMEOUT,
            self.read_item(operation, key, true),
        )
        .await
        {
            Ok(Ok(item)) => Ok(item),
            _ => Err(self.unknown(operation, key)),
        }
    }

    pub(crate) async fn save_item(
        &self,
        key: &str,
        attributes: &Attributes,
        options: &SaveOptions,
    ) -> Result<Version> {
        validate_key(key, MAX_KEY_BYTES)?;
        let token = write_token(options, "save", &self.resource, key)?;
        let exact = attributes.to_exact();
        check_document_depth(&exact, MAX_DEPTH, "save", &self.resource, key)?;
        let (whole, attrs_size) = convert::to_item_value(&exact, &self.attributes_name)
            .map_err(|e| self.unsupported(key, e))?;
        let now = self.clock.now();
        let expires = options.expiry.resolve(self.default_expiry, now);
        let expected = match &options.mode {
            SaveMode::IfVersion(v) => Some(self.parse_version("save", key, v)?),
            _ => None,
        };
        let previous_seq = match &expected {
            Some(Expected::Token { seq: Some(n), .. }) => Some(*n),
            _ => None,
        };
        let seq = previous_seq.map_or(0, |n| n + 1);
        let version = format_version(&token, seq);
        let size = self.partition_key.len()
            + key.len()
            + self.attributes_name.len()
            + attrs_size
            + self.version_name.len()
            + version.len()
            + self.tokens_name.len()
            + 3
            + RECENT_TOKENS * (SHORT_TOKEN + 2)
            + expires.map_or(0, |_| self.expiry_name.len() + 7);
        if size > MAX_ITEM_BYTES {
            return Err(Error::TooLarge {
                operation: "save",
                resource: self.resource.clone(),
                key: RedactedKey::new(key),
                size: Some(size),
                limit: MAX_ITEM_BYTES,
                source: None,
            });
        }
        let body = self.body(key, attributes, &exact, &options.mode, whole, attrs_size)?;

        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(self.key_value(key)))
            .expression_attribute_names("#a", &self.attributes_name)
            .expression_attribute_names("#v", &self.version_name)
            .expression_attribute_names("#r", &self.tokens_name)
            .expression_attribute_names("#t", &self.expiry_name)
            .expression_attribute_values(":version", AttributeValue::S(version.clone()))
            .return_values(ReturnValue::None);
        let mut set = Vec::new();
        let mut remove = Vec::new();
        match body {
            Body::Whole(value) => {
                set.push("#a = :a".to_owned());
                req = req.expression_attribute_values(":a", value);
            }
            Body::Changes(changes) => {
                for (i, (name, value)) in changes.into_iter().enumerate() {
                    req = req.expression_attribute_names(format!("#n{i}"), name);
                    match value {
                        Some(v) => {
                            set.push(format!("#a.#n{i} = :n{i}"));
                            req = req.expression_attribute_values(format!(":n{i}"), v);
                        }
                        None => remove.push(format!("#a.#n{i}")),
                    }
                }
            }
        }
        set.push("#v = :version".to_owned());
        match previous_seq {
            // The item keeps its latest tokens; this write takes its slot.
            Some(_) => {
                set.push(format!("#r[{}] = :token", slot(seq)));
                req = req.expression_attribute_values(
                    ":token",
                    AttributeValue::S(short(&token).to_owned()),
                );
            }
            // A new history: created, overwritten, or written before tokens were kept.
            None => {
                set.push("#r = :tokens".to_owned());
                req = req.expression_attribute_values(
                    ":tokens",
                    AttributeValue::L(vec![AttributeValue::S(short(&token).to_owned())]),
                );
            }
        }
        match expires {
            Some(at) => {
                set.push("#t = :exp".to_owned());
                req = req.expression_attribute_values(
                    ":exp",
                    AttributeValue::N(epoch_seconds(at).to_string()),
                );
            }
            None => remove.push("#t".to_owned()),
        }
        let mut update = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            update.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        req = req.update_expression(update);
        let expected_ref = expected.clone();
        let (req, expectation) = self
            .save_condition(req, key, &token, &options.mode, expected, now)
            .await?;
        let req = req
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);

        // A write conditional on a version can only fail when sent again after it landed, so
        // the SDK may retry it; a create-only or blind write sent again after it landed could
        // undo another client's change made in between, so it is never sent again once an
        // attempt's answer was lost: what is stored settles it instead.
        let log = match options.mode {
            SaveMode::IfVersion(_) => AttemptLog::new(),
            _ => AttemptLog::no_retry_after_unknown(),
        };
        let e = match req.customize().interceptor(log.clone()).send().await {
            Ok(_) => return Ok(Version::new(version)),
            Err(e) => e,
        };
        let failed_condition = match e.as_service_error() {
            Some(UpdateItemError::ConditionalCheckFailedException(ccf)) => {
                Some(ccf.item().filter(|i| !i.is_empty()).cloned())
            }
            _ => None,
        };
        // The item already holds this write's token: an earlier attempt of this very save
        // landed and its answer was lost (the client retried it, or the caller saved again with
        // the same token), possibly with other writes on top of it since.
        if let Some(Some(old)) = &failed_condition
            && self.holds(old, &token)
        {
            tracing::debug!(key = %RedactedKey::new(key), "a retried save found its own write");
            return Ok(Version::new(version));
        }
        if log.possibly_applied() || (failed_condition.is_none() && ambiguous(&e)) {
            let current = match failed_condition {
                Some(old) => old,
                None => self.settle_read("save", key).await?,
            };
            if current.as_ref().is_some_and(|i| self.holds(i, &token)) {
                tracing::debug!(key = %RedactedKey::new(key), "a save whose answer was lost had landed");
                return Ok(Version::new(version));
            }
            if !self.proves_not_landed(current.as_ref(), expected_ref.as_ref()) {
                return Err(self.unknown("save", key));
            }
        }
        Err(errors::map_save(
            "save",
            &self.resource,
            key,
            e,
            expectation.as_deref(),
        ))
    }

    /// Adds the condition `mode` needs to a save; returns what a failed condition means.
    async fn save_condition(
        &self,
        req: UpdateItemFluentBuilder,
        key: &str,
        token: &str,
        mode: &SaveMode,
        expected: Option<Expected>,
        now: std::time::SystemTime,
    ) -> Result<(UpdateItemFluentBuilder, Option<String>)> {
        Ok(match (mode, expected) {
            // Blind, but a retried overwrite that already landed writes nothing again.
            (SaveMode::Overwrite, _) => (
                req.condition_expression("attribute_not_exists(#r) OR NOT contains(#r, :token)")
                    .expression_attribute_values(
                        ":token",
                        AttributeValue::S(short(token).to_owned()),
                    ),
                None,
            ),
            // An expired item counts as absent.
            (SaveMode::CreateOnly, _) => (
                req.condition_expression("attribute_not_exists(#k) OR #t <= :now")
                    .expression_attribute_names("#k", &self.partition_key)
                    .expression_attribute_values(
                        ":now",
                        AttributeValue::N(epoch_seconds(now).to_string()),
                    ),
                Some("the item already exists".to_owned()),
            ),
            (SaveMode::IfVersion(v), expected) => {
                let req = match expected {
                    Some(Expected::Token { stored, .. }) => req
                        .condition_expression("#v = :expected")
                        .expression_attribute_values(":expected", AttributeValue::S(stored)),
                    Some(Expected::Legacy(n)) => req
                        .condition_expression("#v = :expected")
                        .expression_attribute_values(":expected", AttributeValue::N(n)),
                    Some(Expected::Unversioned(digest)) => {
                        let Some((condition, old)) =
                            self.unversioned_condition("save", key, &digest).await?
                        else {
                            return Err(self.conflict(
                                "save",
                                key,
                                "the item was deleted since it was read",
                            ));
                        };
                        let req = req
                            .condition_expression(condition)
                            .expression_attribute_names("#k", &self.partition_key);
                        match old {
                            Some(old) => req.expression_attribute_values(":old", old),
                            None => req,
                        }
                    }
                    None => req,
                };
                (
                    req,
                    Some(format!(
                        "the item is no longer at version {v} (changed or deleted since it was read)"
                    )),
                )
            }
        })
    }

    /// For a save or delete conditional on the state of an item the official SDKs wrote (no
    /// version attribute, known by the digest of its attributes): reads the item and returns
    /// the condition that holds only while it is still exactly that item, with its values.
    async fn unversioned_condition(
        &self,
        operation: &'static str,
        key: &str,
        digest: &str,
    ) -> Result<Option<(String, Option<AttributeValue>)>> {
        let Some(item) = self.read_item(operation, key, true).await? else {
            return Ok(None);
        };
        if item.contains_key(&self.version_name) {
            return Err(self.conflict(
                operation,
                key,
                "the item was saved again since it was read",
            ));
        }
        let attributes = self.attributes_of(key, &item)?;
        if attributes.digest() != digest {
            return Err(self.conflict(
                operation,
                key,
                "the item was changed since it was read (by a writer that keeps no version, \
                 such as an official ASK SDK)",
            ));
        }
        Ok(Some(match item.get(&self.attributes_name) {
            Some(old) => (
                "attribute_exists(#k) AND attribute_not_exists(#v) AND #a = :old".to_owned(),
                Some(old.clone()),
            ),
            None => (
                "attribute_exists(#k) AND attribute_not_exists(#v) AND attribute_not_exists(#a)"
                    .to_owned(),
                None,
            ),
        }))
    }

    pub(crate) async fn delete_item(&self, key: &str) -> Result<()> {
        validate_key(key, MAX_KEY_BYTES)?;
        // Blind: never sent again after an attempt's answer was lost (it could delete what
        // another client wrote in between); what is stored settles it instead.
        let log = AttemptLog::no_retry_after_unknown();
        let sent = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(self.key_value(key)))
            .customize()
            .interceptor(log.clone())
            .send()
            .await;
        match sent {
            Ok(_) => Ok(()),
            Err(e) if log.possibly_applied() || ambiguous(&e) => {
                match self.settle_read("delete", key).await? {
                    None => Ok(()),
                    Some(_) => Err(self.unknown("delete", key)),
                }
            }
            Err(e) => Err(errors::map("delete", &self.resource, key, e)),
        }
    }

    pub(crate) async fn delete_item_if(&self, key: &str, expected: &Version) -> Result<()> {
        validate_key(key, MAX_KEY_BYTES)?;
        let mut req = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(self.key_value(key)))
            .expression_attribute_names("#v", &self.version_name)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let expected_parsed = self.parse_version("delete", key, expected)?;
        req = match expected_parsed.clone() {
            Expected::Token { stored, .. } => req
                .condition_expression("#v = :expected")
                .expression_attribute_values(":expected", AttributeValue::S(stored)),
            Expected::Legacy(n) => req
                .condition_expression("#v = :expected")
                .expression_attribute_values(":expected", AttributeValue::N(n)),
            Expected::Unversioned(digest) => {
                let Some((condition, old)) =
                    self.unversioned_condition("delete", key, &digest).await?
                else {
                    return Ok(());
                };
                let req = req
                    .condition_expression(condition)
                    .expression_attribute_names("#k", &self.partition_key)
                    .expression_attribute_names("#a", &self.attributes_name);
                match old {
                    Some(old) => req.expression_attribute_values(":old", old),
                    None => req,
                }
            }
        };
        let log = AttemptLog::new();
        let e = match req.customize().interceptor(log.clone()).send().await {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        let found = match e.as_service_error() {
            Some(DeleteItemError::ConditionalCheckFailedException(ccf)) => {
                Some(ccf.item().filter(|i| !i.is_empty()).cloned())
            }
            _ => None,
        };
        if log.possibly_applied() || (found.is_none() && ambiguous(&e)) {
            let current = match found {
                Some(item) => item,
                None => self.settle_read("delete", key).await?,
            };
            match current {
                // Nothing there any more: what the delete wanted.
                None => return Ok(()),
                // Still the item the delete expected (it never landed), or a later version of
                // it: the answer the condition gave is the right one.
                Some(item) if self.descends_from(&item, &expected_parsed) => {}
                // Another item: this delete may have landed before it was written.
                Some(_) => return Err(self.unknown("delete", key)),
            }
        } else if let Some(None) = found {
            return Ok(());
        }
        Err(errors::map_save(
            "delete",
            &self.resource,
            key,
            e,
            Some(&format!("the item is no longer at version {expected}")),
        ))
    }
}
