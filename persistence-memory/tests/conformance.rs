//! The whole conformance suite against the memory backend.

use std::sync::Arc;

use persistence_core::{MAX_KEY_BYTES, PersistenceAdapter, conformance};
use persistence_memory::MemoryAdapter;

fn adapter(setup: &conformance::Setup) -> MemoryAdapter {
    let store = MemoryAdapter::new().with_clock(Arc::new(setup.clock.clone()));
    match setup.default_expiry {
        Some(d) => store.with_default_expiry(d),
        None => store,
    }
}

persistence_core::conformance_tests!(setup => async {
    Some((
        Arc::new(adapter(&setup)) as Arc<dyn PersistenceAdapter>,
        MAX_KEY_BYTES,
    ))
});

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_clones_behave_as_two_instances() {
    let a = MemoryAdapter::new();
    let b = a.clone();
    conformance::versions_across_instances(&a, &b).await;
    let report = conformance::update_contention(&[Arc::new(a), Arc::new(b)], 16, 20).await;
    eprintln!("{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_all_passes() {
    conformance::run_all(Arc::new(MemoryAdapter::new()), MAX_KEY_BYTES).await;
}
