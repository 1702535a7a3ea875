//! Listing: object names under the prefix, and entries read object by object.
//!
//! A name under the prefix that no key maps to (a "folder" marker `prefix/a/` the S3 console
//! makes, a name with `.`, `..` or empty segments) is yielded as an [`Error::InvalidKey`] of its
//! own and the listing goes on; so is an object whose body cannot be read
//! ([`Error::CorruptData`]) when listing entries. Bulk tools skip and count them.

use futures::StreamExt;
use persistence_core::{Entry, Error, ListOptions, Pages, Result, is_expired};

use crate::{S3Adapter, errors};

impl S3Adapter {
    pub(crate) fn list_key_pages<'a>(&'a self, options: &ListOptions) -> Pages<'a, String> {
        let directory = match self.names.directory() {
            Ok(d) => d,
            Err(e) => return futures::stream::once(async { Err(e) }).boxed(),
        };
        let list_prefix = format!("{directory}{}", options.prefix.as_deref().unwrap_or(""));
        let max_keys = options
            .page_size
            .map(|n| i32::try_from(n.min(1000)).unwrap_or(1000));
        let selected = options.clone();
        futures::stream::unfold(Some(None::<String>), move |state| {
            let list_prefix = list_prefix.clone();
            let selected = selected.clone();
            async move {
                let token = state?;
                let out = match self
                    .client
                    .list_objects_v2()
                    .bucket(&self.bucket)
                    .prefix(list_prefix)
                    .set_max_keys(max_keys)
                    .set_continuation_token(token)
                    .send()
                    .await
                {
                    Ok(out) => out,
                    Err(e) => {
                        let e = match errors::map("list", &self.resource, "", "", e, None) {
                            errors::Mapped::Error(e) => e,
                            errors::Mapped::Missing => Error::NotFound {
                                operation: "list",
                                resource: self.resource.clone(),
                            },
                        };
                        return Some((vec![Err(e)], None));
                    }
                };
                let mut keys = Vec::new();
                let mut items = Vec::new();
                for name in out.contents().iter().filter_map(|o| o.key()) {
                    match self.names.storage_key(name) {
                        Some(Ok(key)) if selected.matches(&key) => keys.push(key),
                        Some(Ok(_)) | None => {}
                        Some(Err(e)) => items.push(Err(e)),
                    }
                }
                if !keys.is_empty() {
                    items.insert(0, Ok(keys));
                }
                let next = (out.is_truncated() == Some(true))
                    .then(|| out.next_continuation_token().map(|t| Some(t.to_owned())))
                    .flatten();
                Some((items, next))
            }
        })
        .flat_map(futures::stream::iter)
        .boxed()
    }

    pub(crate) fn entry_pages<'a>(&'a self, options: &ListOptions) -> Pages<'a, Entry> {
        let include_expired = options.include_expired;
        self.list_key_pages(options)
            .then(move |page| async move {
                let keys = match page {
                    Ok(keys) => keys,
                    Err(e) => return vec![Err(e)],
                };
                let mut reads = futures::stream::iter(keys)
                    .map(|key| async move {
                        let got = self.fetch(&key).await;
                        (key, got)
                    })
                    .buffered(8);
                let mut entries = Vec::new();
                let mut errors = Vec::new();
                let now = self.clock.now();
                while let Some((key, got)) = reads.next().await {
                    match got {
                        Ok(Some(stored))
                            if include_expired || !is_expired(stored.expires_at, now) =>
                        {
                            entries.push(Entry { key, stored });
                        }
                        Ok(_) => {}
                        Err(e) => errors.push(Err(e)),
                    }
                }
                let mut out: Vec<Result<Vec<Entry>>> = Vec::with_capacity(errors.len() + 1);
                if !entries.is_empty() {
                    out.push(Ok(entries));
                }
                out.extend(errors);
                out
            })
            .flat_map(futures::stream::iter)
            .boxed()
    }
}
