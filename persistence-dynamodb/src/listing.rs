//! Listing: a parallel scan of the table, keys only or whole entries. An item whose key or
//! data cannot be read is an error of its own and the scan goes on past it.

use aws_sdk_dynamodb::types::AttributeValue;
use futures::StreamExt;
use persistence_core::clock::epoch_seconds;
use persistence_core::listing::{page_items, until_fatal};
use persistence_core::{Entry, ListOptions, Pages, Result};

use crate::{DynamoDbAdapter, Item, errors};

impl DynamoDbAdapter {
    pub(crate) fn list_keys_pages<'a>(&'a self, options: &ListOptions) -> Pages<'a, String> {
        self.scan(options, "#k", |this, item| this.key_of(&item))
    }

    pub(crate) fn entries_pages<'a>(&'a self, options: &ListOptions) -> Pages<'a, Entry> {
        self.scan(options, "#k, #a, #v, #t", |this, item| {
            let key = this.key_of(&item)?;
            let stored = this.stored_of(&key, &item)?;
            Ok(Entry { key, stored })
        })
    }

    fn scan<'a, T, F>(
        &'a self,
        options: &ListOptions,
        projection: &'static str,
        map: F,
    ) -> Pages<'a, T>
    where
        T: Send + 'a,
        F: Fn(&Self, Item) -> Result<T> + Send + Sync + Copy + 'a,
    {
        let segments = self.scan_segments.max(1);
        let options = options.clone();
        let streams = (0..segments).map(move |segment| {
            let options = options.clone();
            futures::stream::unfold(Some(None::<Item>), move |state| {
                let options = options.clone();
                async move {
                    let mut start = state?;
                    loop {
                        let out = match self
                            .scan_request(&options, projection, segment, segments, start)
                            .send()
                            .await
                        {
                            Ok(out) => out,
                            Err(e) => {
                                let e = errors::map("list", &self.resource, "", e);
                                return Some((vec![Err(e)], None));
                            }
                        };
                        let next = out.last_evaluated_key.filter(|k| !k.is_empty());
                        // An item that cannot be read is an error of its own; the scan goes on.
                        let items: Vec<Result<T>> = out
                            .items
                            .unwrap_or_default()
                            .into_iter()
                            .map(|item| map(self, item))
                            .collect();
                        if !items.is_empty() || next.is_none() {
                            return Some((page_items(items), next.map(Some)));
                        }
                        start = next;
                    }
                }
            })
            .flat_map(futures::stream::iter)
            .boxed()
        });
        until_fatal(futures::stream::select_all(streams))
    }

    fn scan_request(
        &self,
        options: &ListOptions,
        projection: &str,
        segment: u32,
        segments: u32,
        start: Option<Item>,
    ) -> aws_sdk_dynamodb::operation::scan::builders::ScanFluentBuilder {
        let mut req = self
            .client
            .scan()
            .table_name(&self.table)
            .consistent_read(self.consistent_read)
            .segment(segment as i32)
            .total_segments(segments as i32)
            .set_exclusive_start_key(start)
            .projection_expression(projection)
            .expression_attribute_names("#k", &self.partition_key);
        if projection.contains("#a") {
            req = req
                .expression_attribute_names("#a", &self.attributes_name)
                .expression_attribute_names("#v", &self.version_name);
        }
        let mut filters = Vec::new();
        if let Some(prefix) = &options.prefix {
            filters.push("begins_with(#k, :p)");
            req = req.expression_attribute_values(":p", AttributeValue::S(prefix.clone()));
        }
        if !options.include_expired {
            filters
                .push("(attribute_not_exists(#t) OR NOT attribute_type(#t, :ntype) OR #t > :now)");
            req = req
                .expression_attribute_values(":ntype", AttributeValue::S("N".into()))
                .expression_attribute_values(
                    ":now",
                    AttributeValue::N(epoch_seconds(self.clock.now()).to_string()),
                );
        }
        if projection.contains("#t") || !options.include_expired {
            req = req.expression_attribute_names("#t", &self.expiry_name);
        }
        if !filters.is_empty() {
            req = req.filter_expression(filters.join(" AND "));
        }
        if let Some(n) = options.page_size {
            req = req.limit(i32::try_from(n).unwrap_or(i32::MAX));
        }
        req
    }
}
