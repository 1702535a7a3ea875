//! The whole conformance suite through the cache, in front of memory and SQLite, and the
//! two-instance checks with two caches over one store (where a cached copy can be stale).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use persistence_cache::CachingAdapter;
use persistence_core::{MAX_KEY_BYTES, PersistenceAdapter, conformance};
use persistence_memory::MemoryAdapter;
use persistence_sqlite::SqliteAdapter;

mod common;

/// A cache in front of `inner`, told the store's clock and default expiry as the suite's setup
/// gives them.
fn cached<A: PersistenceAdapter + 'static>(
    inner: A,
    setup: &conformance::Setup,
) -> Arc<dyn PersistenceAdapter> {
    Arc::new(
        CachingAdapter::builder(inner)
            .clock(Arc::new(setup.clock.clone()))
            .store_default_expiry(setup.default_expiry)
            .build(),
    )
}

mod memory {
    use super::*;

    pub(super) fn store(setup: &conformance::Setup) -> MemoryAdapter {
        let store = MemoryAdapter::new().with_clock(Arc::new(setup.clock.clone()));
        match setup.default_expiry {
            Some(d) => store.with_default_expiry(d),
            None => store,
        }
    }

    persistence_core::conformance_tests!(setup => async {
        Some((cached(store(&setup), &setup), MAX_KEY_BYTES))
    });
}

mod sqlite {
    use super::*;

    pub(super) async fn store(setup: &conformance::Setup) -> SqliteAdapter {
        let builder = SqliteAdapter::builder(common::fresh_sqlite_path("suite"))
            .clock(Arc::new(setup.clock.clone()));
        let builder = match setup.default_expiry {
            Some(d) => builder.default_expiry(d),
            None => builder,
        };
        builder.open().await.unwrap()
    }

    persistence_core::conformance_tests!(setup => async {
        Some((cached(store(&setup).await, &setup), MAX_KEY_BYTES))
    });
}

/// Two caches over one memory store: a version read through one is honoured by the other, and
/// 16 writers spread over both caches (and the bare store, whose read gives the final count:
/// a cache's own copy may be up to its time to live old) lose no update.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_caches_over_one_memory_store() {
    let store = MemoryAdapter::new();
    let a = Arc::new(CachingAdapter::new(store.clone()));
    let b = Arc::new(CachingAdapter::new(store.clone()));
    conformance::versions_across_instances(a.as_ref(), b.as_ref()).await;
    let report =
        conformance::update_contention(&[Arc::new(store), a.clone(), b.clone()], 16, 20).await;
    eprintln!("memory, bare store + 2 caches: {report}");
    eprintln!("cache a: {:?}; cache b: {:?}", a.stats(), b.stats());
}

/// The same over one SQLite file opened by three adapters (two cached).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_caches_over_one_sqlite_file() {
    let path = common::fresh_sqlite_path("two-caches");
    let bare = SqliteAdapter::open(&path).await.unwrap();
    let a = Arc::new(CachingAdapter::new(
        SqliteAdapter::open(&path).await.unwrap(),
    ));
    let b = Arc::new(CachingAdapter::new(
        SqliteAdapter::open(&path).await.unwrap(),
    ));
    conformance::versions_across_instances(a.as_ref(), b.as_ref()).await;
    let report =
        conformance::update_contention(&[Arc::new(bare), a.clone(), b.clone()], 16, 20).await;
    eprintln!("sqlite, bare store + 2 caches: {report}");
    eprintln!("cache a: {:?}; cache b: {:?}", a.stats(), b.stats());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_all_passes_in_front_of_memory() {
    conformance::run_all(
        Arc::new(CachingAdapter::new(MemoryAdapter::new())),
        MAX_KEY_BYTES,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_all_passes_in_front_of_sqlite() {
    let store = SqliteAdapter::open(common::fresh_sqlite_path("run-all"))
        .await
        .unwrap();
    conformance::run_all(Arc::new(CachingAdapter::new(store)), MAX_KEY_BYTES).await;
}
