//! The whole conformance suite against SQLite, each test on a database file of its own, and the
//! two-instance checks with two adapters opened on one file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use persistence_core::{MAX_KEY_BYTES, PersistenceAdapter, conformance};
use persistence_sqlite::SqliteAdapter;

mod common;

use common::fresh_path;

async fn adapter(setup: &conformance::Setup) -> SqliteAdapter {
    let builder = SqliteAdapter::builder(fresh_path("suite")).clock(Arc::new(setup.clock.clone()));
    let builder = match setup.default_expiry {
        Some(d) => builder.default_expiry(d),
        None => builder,
    };
    builder.open().await.unwrap()
}

persistence_core::conformance_tests!(setup => async {
    Some((
        Arc::new(adapter(&setup).await) as Arc<dyn PersistenceAdapter>,
        MAX_KEY_BYTES,
    ))
});

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_file() {
    let path = fresh_path("two-instances");
    let a = SqliteAdapter::open(&path).await.unwrap();
    let b = SqliteAdapter::open(&path).await.unwrap();
    conformance::versions_across_instances(&a, &b).await;
    let report = conformance::update_contention(&[Arc::new(a), Arc::new(b)], 16, 20).await;
    eprintln!("{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_all_passes() {
    conformance::run_all(
        Arc::new(SqliteAdapter::open(fresh_path("run-all")).await.unwrap()),
        MAX_KEY_BYTES,
    )
    .await;
}
