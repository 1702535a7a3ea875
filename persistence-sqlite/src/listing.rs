//! Listing: keyset pages of keys or entries; a row that cannot be read is an error of its own
//! and the listing goes on past it.

use futures::StreamExt;
use persistence_core::listing::{page_items, until_fatal};
use persistence_core::{ListOptions, Pages, Result};

use crate::schema::ConnectionConfig;
use crate::{
    DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, ROW_COLUMNS, Row, SqliteAdapter, TABLE, row_at, to_secs,
};

impl SqliteAdapter {
    /// A stream of listing pages, in key order, each read from where the last one stopped
    /// (keyset pagination: `key > last key`, never an offset).
    pub(crate) fn pages<T, F>(&self, options: &ListOptions, read: F) -> Pages<'_, T>
    where
        T: Send + 'static,
        F: Fn(&ConnectionConfig, &str, Row) -> Result<T> + Send + Sync + Copy + 'static,
    {
        /// Where the next page starts.
        enum Next {
            /// At the prefix (inclusive).
            Start,
            /// After this key.
            After(String),
            /// No more pages.
            Done,
        }
        let prefix = options.prefix.clone().unwrap_or_default();
        let limit = options
            .page_size
            .unwrap_or(DEFAULT_PAGE_SIZE)
            .clamp(1, MAX_PAGE_SIZE);
        let include_expired = options.include_expired;
        let pages = futures::stream::unfold(Next::Start, move |next| {
            let prefix = prefix.clone();
            async move {
                let (from, inclusive) = match next {
                    Next::Done => return None,
                    Next::Start => (prefix.clone(), true),
                    Next::After(k) => (k, false),
                };
                let now = to_secs(self.clock.now());
                let page = self
                    .pool
                    .run("list", false, move |config, conn| {
                        let sql = format!(
                            "SELECT key, {ROW_COLUMNS} FROM {TABLE} WHERE key {} ?1{} \
                             ORDER BY key LIMIT ?2",
                            if inclusive { ">=" } else { ">" },
                            if include_expired {
                                ""
                            } else {
                                " AND (expires_at IS NULL OR expires_at > ?3)"
                            }
                        );
                        let limit_param = i64::try_from(limit).unwrap_or(i64::MAX);
                        let mut stmt = conn
                            .prepare_cached(&sql)
                            .map_err(|e| config.fail("list", e))?;
                        let fetched: Vec<(String, Row)> = if include_expired {
                            stmt.query_map(rusqlite::params![from, limit_param], |r| {
                                Ok((r.get(0)?, row_at(r, 1)?))
                            })
                            .and_then(Iterator::collect)
                        } else {
                            stmt.query_map(rusqlite::params![from, limit_param, now], |r| {
                                Ok((r.get(0)?, row_at(r, 1)?))
                            })
                            .and_then(Iterator::collect)
                        }
                        .map_err(|e| config.fail("list", e))?;
                        let full = fetched.len() == limit;
                        let mut out = Vec::with_capacity(fetched.len());
                        let mut last = None;
                        let mut past_prefix = false;
                        for (key, row) in fetched {
                            if !key.starts_with(prefix.as_str()) {
                                // Keys are in byte order: the keys under a prefix are
                                // contiguous, and this one is past them.
                                past_prefix = true;
                                break;
                            }
                            // A row that cannot be read is an error of its own; the listing
                            // goes on past it.
                            match read(config, &key, row) {
                                Err(e) if !e.is_entry_error() => return Err(e),
                                item => out.push(item),
                            }
                            last = Some(key);
                        }
                        let next = match last {
                            Some(k) if full && !past_prefix => Next::After(k),
                            _ => Next::Done,
                        };
                        Ok((out, next))
                    })
                    .await;
                match page {
                    Ok((items, _)) if items.is_empty() => None,
                    Ok((items, next)) => Some((page_items(items), next)),
                    Err(e) => Some((vec![Err(e)], Next::Done)),
                }
            }
        });
        until_fatal(pages.flat_map(futures::stream::iter))
    }
}
