//! Reading items: the attributes, version and expiry an item holds.

use std::time::SystemTime;

use aws_sdk_dynamodb::types::AttributeValue;
use persistence_core::clock::from_epoch_seconds;
use persistence_core::{Attributes, Error, RedactedKey, Result, Stored, Version, is_expired};

use crate::version::{UNVERSIONED_PREFIX, split_version};
use crate::{DynamoDbAdapter, Item, convert, errors};

impl DynamoDbAdapter {
    /// The attributes an item holds.
    pub(crate) fn attributes_of(&self, key: &str, item: &Item) -> Result<Attributes> {
        match item.get(&self.attributes_name) {
            // An item without the map (e.g. only a TTL set by someone else) holds no
            // attributes yet.
            None | Some(AttributeValue::Null(_)) => Ok(Attributes::new()),
            Some(AttributeValue::M(m)) => {
                let exact = convert::map_to_exact(m, &self.attributes_name)
                    .map_err(|e| self.corrupt(key, e.to_string()))?;
                Attributes::from_exact(exact).map_err(|e| self.corrupt(key, e.to_string()))
            }
            Some(other) => Err(self.corrupt(
                key,
                format!(
                    "attribute `{}` should be a map (M), found {}",
                    self.attributes_name,
                    errors::type_name(other)
                ),
            )),
        }
    }

    /// The version of an item holding `attributes`.
    fn version_of(&self, key: &str, item: &Item, attributes: &Attributes) -> Result<Version> {
        match item.get(&self.version_name) {
            None => Ok(Version::new(format!(
                "{UNVERSIONED_PREFIX}{}",
                attributes.digest()
            ))),
            Some(AttributeValue::S(t)) if split_version(t).is_some() => Ok(Version::new(t.clone())),
            Some(AttributeValue::N(n)) if n.parse::<u64>().is_ok() => Ok(Version::new(n.clone())),
            Some(other) => Err(self.corrupt(
                key,
                format!(
                    "attribute `{}` should be a version token, found {}",
                    self.version_name,
                    errors::type_name(other)
                ),
            )),
        }
    }

    /// When an item expires: its expiry attribute, if it is a whole number of epoch seconds
    /// (anything else is ignored, as DynamoDB's Time to Live ignores it).
    pub(crate) fn expiry_of(&self, item: &Item) -> Option<SystemTime> {
        match item.get(&self.expiry_name) {
            Some(AttributeValue::N(n)) => n.parse::<u64>().ok().map(from_epoch_seconds),
            _ => None,
        }
    }

    pub(crate) fn stored_of(&self, key: &str, item: &Item) -> Result<Stored> {
        let attributes = self.attributes_of(key, item)?;
        let version = self.version_of(key, item, &attributes)?;
        Ok(Stored::new(attributes, version).expiring(self.expiry_of(item)))
    }

    pub(crate) fn key_of(&self, item: &Item) -> Result<String> {
        match item.get(&self.partition_key) {
            Some(AttributeValue::S(k)) => Ok(k.clone()),
            _ => Err(Error::CorruptData {
                resource: self.resource.clone(),
                key: RedactedKey::new(""),
                detail: format!("an item's `{}` is not a string", self.partition_key),
            }),
        }
    }

    /// Reads an item (strongly consistent when `consistent`), projected to what reads and
    /// conditions need.
    pub(crate) async fn read_item(
        &self,
        operation: &'static str,
        key: &str,
        consistent: bool,
    ) -> Result<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(self.key_value(key)))
            .consistent_read(consistent)
            .projection_expression("#a, #v, #t, #r")
            .expression_attribute_names("#a", &self.attributes_name)
            .expression_attribute_names("#v", &self.version_name)
            .expression_attribute_names("#t", &self.expiry_name)
            .expression_attribute_names("#r", &self.tokens_name)
            .send()
            .await
            .map_err(|e| errors::map(operation, &self.resource, key, e))?;
        Ok(out.item)
    }

    pub(crate) async fn get_stored(&self, key: &str) -> Result<Option<Stored>> {
        let Some(item) = self.read_item("get", key, self.consistent_read).await? else {
            return Ok(None);
        };
        if is_expired(self.expiry_of(&item), self.clock.now()) {
            return Ok(None);
        }
        self.stored_of(key, &item).map(Some)
    }
}
