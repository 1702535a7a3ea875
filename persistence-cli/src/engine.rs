//! What the bulk commands share: reading a source as a stream of entries, writing one key
//! create-only with "already identical" detection, and cancellation.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use futures::stream::{self, BoxStream};
use futures::{FutureExt, StreamExt, future};
use persistence_core::{
    Attributes, Entry, Error, Expiry, ListOptions, PersistenceAdapter, SaveMode, SaveOptions,
    Stored, Version, unique_token,
};
use tokio::sync::watch;

use crate::checkpoint::Done;
use crate::compare::same_stored;
use crate::exit::is_per_key;
use crate::skip::Skip;
use crate::store::Store;

/// Keys per listing page the bulk commands ask for (bounded memory: a few pages are in flight).
pub const PAGE_SIZE: usize = 500;

/// Stops bulk work: the source is no longer read, keys in flight finish. Clones share the state.
#[derive(Clone, Debug)]
pub struct Cancel {
    tx: Arc<watch::Sender<bool>>,
    rx: watch::Receiver<bool>,
}

impl Default for Cancel {
    fn default() -> Self {
        let (tx, rx) = watch::channel(false);
        Self {
            tx: Arc::new(tx),
            rx,
        }
    }
}

impl Cancel {
    /// Not cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancels.
    pub fn cancel(&self) {
        self.tx.send_replace(true);
    }

    /// Whether it was cancelled.
    pub fn is_cancelled(&self) -> bool {
        *self.rx.borrow()
    }

    /// Resolves once cancelled (boxed, so that streams can `take_until` it).
    pub fn cancelled(&self) -> future::BoxFuture<'static, ()> {
        let mut rx = self.rx.clone();
        async move {
            let _ = rx.wait_for(|c| *c).await;
        }
        .boxed()
    }
}

/// One item of a source's listing: an entry, or one the listing could not give and the
/// command skips ([`Skip`]: a name that is no key, data that cannot be read).
#[derive(Debug)]
pub enum Listed {
    /// A key with what is stored under it.
    Entry(Entry),
    /// Skipped: counted and named in the report, the run goes on.
    Skipped(Skip),
}

/// The entries of `src` that `options` select (live ones unless `options.include_expired`), as
/// a stream. Stores that list entries in bulk are read page by page; S3 lists keys and reads
/// `concurrency` objects at once. Keys in `done` are left out (without being read, where the
/// listing allows) and counted in `resumed`. A per-entry error of reading a listed key, or of
/// the listing where it goes on past it ([`crate::store::StoreUrl::lists_past_bad_entries`]), is
/// a [`Listed::Skipped`] item and the stream goes on; any other error is an `Err` item that ends
/// the command.
pub fn entries<'a>(
    src: &'a Store,
    options: &ListOptions,
    concurrency: usize,
    done: Option<&'a Done>,
    resumed: &'a AtomicU64,
) -> BoxStream<'a, Result<Listed, Error>> {
    let is_done = move |key: &str| {
        let d = done.is_some_and(|d| d.contains(key));
        if d {
            resumed.fetch_add(1, Ordering::Relaxed);
        }
        d
    };
    if src.url.lists_entries_in_bulk() || options.include_expired {
        src.adapter
            .entries(options)
            .flat_map(flatten)
            .filter(move |e| future::ready(!matches!(e, Ok(en) if is_done(&en.key))))
            .map(move |e| match e {
                Ok(entry) => Ok(Listed::Entry(entry)),
                Err(e) => Skip::from_listing(e).map(Listed::Skipped),
            })
            .boxed()
    } else {
        let adapter = src.adapter.as_ref();
        src.adapter
            .list_keys(options)
            .flat_map(flatten)
            .filter(move |k| future::ready(!matches!(k, Ok(key) if is_done(key))))
            .map(move |k| async move {
                let key = match k {
                    Ok(key) => key,
                    Err(e) => return Skip::from_listing(e).map(|s| Some(Listed::Skipped(s))),
                };
                match adapter.get(&key).await {
                    Ok(got) => Ok(got.map(|stored| Listed::Entry(Entry { key, stored }))),
                    Err(e) => Skip::from_error(e, Some(&key)).map(|s| Some(Listed::Skipped(s))),
                }
            })
            .buffer_unordered(concurrency.max(1))
            .filter_map(|r| future::ready(r.transpose()))
            .boxed()
    }
}

/// A page (or the error that ended the listing) as a stream of items.
pub fn flatten<T: Send + 'static>(
    page: Result<Vec<T>, Error>,
) -> BoxStream<'static, Result<T, Error>> {
    match page {
        Ok(items) => stream::iter(items.into_iter().map(Ok)).boxed(),
        Err(e) => stream::once(future::ready(Err(e))).boxed(),
    }
}

/// What writing one key did.
#[derive(Debug)]
pub enum Written {
    /// Written (the key was absent).
    Created,
    /// The destination already held the same attributes and expiry: nothing written.
    Identical,
    /// It held other attributes and they were replaced (`--overwrite`).
    Replaced,
    /// It held other attributes, left alone.
    Differs,
    /// Dry run: would be written.
    WouldCreate,
    /// Dry run: would replace other attributes (`--overwrite`).
    WouldReplace,
    /// This key failed (refused by the destination, conflict, corrupt); the others go on.
    Failed(Error),
    /// The destination failed as a whole (missing, unreachable, denied): stop.
    Fatal(Error),
}

fn classify(e: Error) -> Written {
    if is_per_key(&e) {
        Written::Failed(e)
    } else {
        Written::Fatal(e)
    }
}

/// Writes `attributes` (expiring at `expires_at`, or never) under `key` in `dst` without ever
/// losing what is there: create-only; when the key exists, reads it and reports it identical
/// (nothing to do), different (left alone), or, with `overwrite`, replaces it conditionally on
/// the version just read. Each write carries its own token, so a write whose answer was lost is
/// recognised by the adapter rather than applied twice.
pub async fn write_one(
    dst: &dyn PersistenceAdapter,
    key: &str,
    attributes: &Attributes,
    expires_at: Option<SystemTime>,
    overwrite: bool,
    dry_run: bool,
) -> Written {
    let wanted = Stored::new(attributes.clone(), Version::new("")).expiring(expires_at);
    let expiry = expires_at.map_or(Expiry::Never, Expiry::At);
    if dry_run {
        return match dst.get(key).await {
            Ok(None) => Written::WouldCreate,
            Ok(Some(current)) if same_stored(&current, &wanted) => Written::Identical,
            Ok(Some(_)) if overwrite => Written::WouldReplace,
            Ok(Some(_)) => Written::Differs,
            Err(e) => classify(e),
        };
    }
    let create = SaveOptions::new(SaveMode::CreateOnly)
        .expiry(expiry)
        .token(unique_token());
    for _ in 0..3 {
        match dst.save_with(key, attributes, &create).await {
            Ok(_) => return Written::Created,
            Err(e) if e.is_conflict() => {}
            Err(e) => return classify(e),
        }
        match dst.get(key).await {
            Ok(Some(current)) if same_stored(&current, &wanted) => return Written::Identical,
            Ok(Some(current)) if overwrite => {
                let replace = SaveOptions::new(SaveMode::IfVersion(current.version))
                    .expiry(expiry)
                    .token(unique_token());
                return match dst.save_with(key, attributes, &replace).await {
                    Ok(_) => Written::Replaced,
                    Err(e) => classify(e),
                };
            }
            Ok(Some(_)) => return Written::Differs,
            // Deleted (or expired) between the save and the read: try again.
            Ok(None) => {}
            Err(e) => return classify(e),
        }
    }
    Written::Failed(Error::Conflict {
        operation: "save",
        resource: dst.describe(),
        key: persistence_core::RedactedKey::new(key),
        reason: "the key kept changing while it was written".into(),
    })
}

/// A key (shown as `--show-keys` says) and what went wrong with it, for reports.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Problem {
    /// The key (redacted unless `--show-keys`), or the line number for imports.
    pub key: String,
    /// What went wrong.
    pub problem: String,
}

/// Problems kept in a report (all are counted).
pub const MAX_PROBLEMS_KEPT: usize = 100;

/// Keeps the first [`MAX_PROBLEMS_KEPT`] problems.
pub fn keep(problems: &mut Vec<Problem>, p: Problem) {
    if problems.len() < MAX_PROBLEMS_KEPT {
        problems.push(p);
    }
}

/// Test hook: `ALEXA_PERSISTENCE_TEST_RAISE=SIGNAL:N` raises `SIGKILL` or `SIGINT` in this
/// process once `N` keys are done, so that tests can crash or interrupt a copy at a known point.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct RaiseHook {
    signal: nix::sys::signal::Signal,
    after: u64,
}

impl RaiseHook {
    /// The hook from the environment, if set.
    pub fn from_env() -> Option<Self> {
        let v = std::env::var("ALEXA_PERSISTENCE_TEST_RAISE").ok()?;
        let (sig, n) = v.split_once(':')?;
        let signal = match sig {
            "KILL" | "SIGKILL" => nix::sys::signal::Signal::SIGKILL,
            "INT" | "SIGINT" => nix::sys::signal::Signal::SIGINT,
            _ => return None,
        };
        Some(Self {
            signal,
            after: n.parse().ok()?,
        })
    }

    /// Raises the signal when `done` reaches the count.
    pub fn check(&self, done: u64) {
        if done == self.after {
            tracing::warn!(signal = ?self.signal, done, "test hook: raising a signal");
            let _ = nix::sys::signal::raise(self.signal);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use persistence_memory::MemoryAdapter;
    use serde_json::json;

    fn attrs(v: serde_json::Value) -> Attributes {
        Attributes::try_from(v).unwrap()
    }

    #[tokio::test]
    async fn writes_are_create_only_and_recognise_identical_content() {
        let dst = MemoryAdapter::new();
        let a = attrs(json!({"n": 1}));
        assert!(matches!(
            write_one(&dst, "k", &a, None, false, false).await,
            Written::Created
        ));
        let v = dst.get("k").await.unwrap().unwrap().version;
        assert!(matches!(
            write_one(&dst, "k", &a, None, false, false).await,
            Written::Identical
        ));
        assert_eq!(
            dst.get("k").await.unwrap().unwrap().version,
            v,
            "nothing rewritten"
        );
        let b = attrs(json!({"n": 2}));
        assert!(matches!(
            write_one(&dst, "k", &b, None, false, false).await,
            Written::Differs
        ));
        assert_eq!(dst.attributes("k").unwrap(), a, "left alone");
        assert!(matches!(
            write_one(&dst, "k", &b, None, true, true).await,
            Written::WouldReplace
        ));
        assert_eq!(dst.attributes("k").unwrap(), a, "dry run writes nothing");
        assert!(matches!(
            write_one(&dst, "k", &b, None, true, false).await,
            Written::Replaced
        ));
        assert_eq!(dst.attributes("k").unwrap(), b);
        assert!(matches!(
            write_one(&dst, "new", &b, None, false, true).await,
            Written::WouldCreate
        ));
        assert!(dst.attributes("new").is_none());
    }

    #[tokio::test]
    async fn a_different_expiry_is_a_difference() {
        let dst = MemoryAdapter::new();
        let a = attrs(json!({"n": 1}));
        let later = SystemTime::now() + std::time::Duration::from_secs(3600);
        write_one(&dst, "k", &a, None, false, false).await;
        assert!(matches!(
            write_one(&dst, "k", &a, Some(later), false, false).await,
            Written::Differs
        ));
        assert!(matches!(
            write_one(&dst, "k", &a, Some(later), true, false).await,
            Written::Replaced
        ));
        let got = dst.get("k").await.unwrap().unwrap();
        assert_eq!(
            got.expires_at.map(persistence_core::clock::epoch_seconds),
            Some(persistence_core::clock::epoch_seconds(later))
        );
    }

    #[tokio::test]
    async fn refused_keys_fail_alone() {
        let dst = MemoryAdapter::new().with_max_key_bytes(4);
        let w = write_one(&dst, "too-long", &attrs(json!({})), None, false, false).await;
        assert!(
            matches!(w, Written::Failed(Error::InvalidKey { .. })),
            "{w:?}"
        );
    }
}
