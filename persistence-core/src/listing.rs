//! The listing contract every adapter keeps, and the helpers that keep it.
//!
//! A listing ([`PersistenceAdapter::list_keys`](crate::PersistenceAdapter::list_keys),
//! [`entries`](crate::PersistenceAdapter::entries)) yields an entry it cannot give (a stored
//! name that is no key: [`Error::InvalidKey`]; stored data that cannot be read:
//! [`Error::CorruptData`]) as an `Err` item of its own and **goes on** with the entries after
//! it ([`Error::is_entry_error`]). Any other error (the store is gone, access denied, the
//! network) is the listing's last item. A bulk tool can so skip and count a stray object and
//! still reach every good entry.

use futures::{Stream, StreamExt};

use crate::{Error, Pages, Result};

impl Error {
    /// True for an error a listing yields for one entry and goes on past ([`Error::InvalidKey`],
    /// [`Error::CorruptData`]); false for one that ends it.
    ///
    /// ```
    /// # use persistence_core::Error;
    /// assert!(Error::corrupt("memory", "amzn1.ask.account.X", "not JSON").is_entry_error());
    /// ```
    pub fn is_entry_error(&self) -> bool {
        matches!(self, Error::InvalidKey { .. } | Error::CorruptData { .. })
    }
}

/// One fetched page's per-entry results as listing items: each run of good entries one page,
/// each entry error an item of its own, and nothing after an error that ends the listing.
///
/// ```
/// use persistence_core::{Error, listing::page_items};
/// let bad = || Error::corrupt("memory", "k", "not JSON");
/// let items = page_items(vec![Ok(1), Ok(2), Err(bad()), Ok(3)]);
/// assert_eq!(items.len(), 3);
/// assert_eq!(items[0].as_ref().unwrap(), &vec![1, 2]);
/// assert!(items[1].as_ref().unwrap_err().is_entry_error());
/// assert_eq!(items[2].as_ref().unwrap(), &vec![3]);
/// ```
pub fn page_items<T>(results: impl IntoIterator<Item = Result<T>>) -> Vec<Result<Vec<T>>> {
    let mut out = Vec::new();
    let mut run = Vec::new();
    for result in results {
        match result {
            Ok(item) => run.push(item),
            Err(e) => {
                if !run.is_empty() {
                    out.push(Ok(std::mem::take(&mut run)));
                }
                let fatal = !e.is_entry_error();
                out.push(Err(e));
                if fatal {
                    return out;
                }
            }
        }
    }
    if !run.is_empty() {
        out.push(Ok(run));
    }
    out
}

/// `items` up to and including the first error that ends a listing (one that is not
/// [`Error::is_entry_error`]), without empty pages.
pub fn until_fatal<'a, T, S>(items: S) -> Pages<'a, T>
where
    T: Send + 'a,
    S: Stream<Item = Result<Vec<T>>> + Send + 'a,
{
    items
        .filter(|item| futures::future::ready(!matches!(item, Ok(p) if p.is_empty())))
        .scan(false, |ended, item| {
            if *ended {
                return futures::future::ready(None);
            }
            *ended = matches!(&item, Err(e) if !e.is_entry_error());
            futures::future::ready(Some(item))
        })
        .boxed()
}
