//! The conformance suite: the behaviour every backend guarantees, as async checks its tests run.
//!
//! A backend is done when it passes all of these. Each check panics (like an assertion) with a
//! message naming the backend and what differed. The [`conformance_tests!`](crate::conformance_tests)
//! macro turns the whole suite into one `#[tokio::test]` per check for a backend:
//!
//! ```
//! # // In a backend's tests/conformance.rs:
//! # mod demo {
//! use std::sync::Arc;
//! use persistence_core::PersistenceAdapter;
//! # #[derive(Debug, Default)] struct MyAdapter;
//! # #[async_trait::async_trait] impl PersistenceAdapter for MyAdapter {
//! #   async fn get(&self, _: &str) -> persistence_core::Result<Option<persistence_core::Stored>> { unimplemented!() }
//! #   async fn save_with(&self, _: &str, _: &persistence_core::Attributes, _: &persistence_core::SaveOptions) -> persistence_core::Result<persistence_core::Version> { unimplemented!() }
//! #   async fn delete(&self, _: &str) -> persistence_core::Result<()> { unimplemented!() }
//! #   async fn delete_if(&self, _: &str, _: &persistence_core::Version) -> persistence_core::Result<()> { unimplemented!() }
//! #   fn list_keys<'a>(&'a self, _: &persistence_core::ListOptions) -> persistence_core::Pages<'a, String> { unimplemented!() }
//! #   fn describe(&self) -> String { "demo".into() }
//! # }
//! # impl MyAdapter { fn with_setup(_: &persistence_core::conformance::Setup) -> Self { Self } }
//!
//! persistence_core::conformance_tests!(
//!     // `setup` names the clock and default expiry the adapter must be built with; the async
//!     // expression gives a fresh Arc<dyn PersistenceAdapter> and the backend's key limit, or
//!     // None when the backend cannot run here
//!     setup => async { Some((Arc::new(MyAdapter::with_setup(&setup)) as Arc<dyn PersistenceAdapter>, 2048)) }
//! );
//! # }
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::{Attributes, ManualClock, PersistenceAdapter, Stored};

mod basics;
mod contention;
mod expiry;
mod listing;
mod values;
mod versions;

pub use basics::*;
pub use contention::*;
pub use expiry::*;
pub use listing::*;
pub use values::*;
pub use versions::*;

/// How the adapter under test must be built: with this clock (so expiry can be tested by
/// moving it, never by sleeping) and this default expiry ("keep a key's attributes for D
/// after its last save"; `None` unless a check needs one).
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Setup {
    /// The clock the adapter reads the time from.
    pub clock: ManualClock,
    /// The adapter's default expiry.
    pub default_expiry: Option<Duration>,
}

impl Setup {
    /// A setup with a default expiry.
    pub fn with_default_expiry(default_expiry: Duration) -> Self {
        Self {
            clock: ManualClock::new(),
            default_expiry: Some(default_expiry),
        }
    }
}

/// A key no other test run uses, so suites can share one table or bucket.
pub fn unique_key(case: &str) -> String {
    format!(
        "amzn1.ask.account.conformance-{case}-{:016x}",
        fastrand::u64(..)
    )
}

pub(crate) fn attrs(v: Value) -> Attributes {
    Attributes::try_from(v).expect("test attributes are an object")
}

pub(crate) async fn must_get(a: &dyn PersistenceAdapter, key: &str) -> Stored {
    a.get(key)
        .await
        .unwrap_or_else(|e| panic!("[{}] get failed: {e}", a.describe()))
        .unwrap_or_else(|| {
            panic!(
                "[{}] get found nothing where a value was saved",
                a.describe()
            )
        })
}

/// Runs every check above that needs no clock, in order, against one adapter (`max_key_bytes`
/// as in [`invalid_keys`]); contention uses 8 writers x 25 increments. [`expiry`] and
/// [`default_expiry`] need an adapter built with a [`Setup`]'s clock.
pub async fn run_all(adapter: Arc<dyn PersistenceAdapter>, max_key_bytes: usize) {
    let a = adapter.as_ref();
    absent_read(a).await;
    round_trip(a).await;
    overwrite(a).await;
    delete(a).await;
    delete_absent(a).await;
    versioned_save(a).await;
    create_only(a).await;
    key_isolation(a).await;
    awkward_json(a).await;
    invalid_keys(a, max_key_bytes).await;
    versions_across_instances(a, a).await;
    versions_never_repeat(a).await;
    stale_save_after_delete_and_recreate(a).await;
    lost_response_retry_is_recognised(a).await;
    conditional_delete(a).await;
    invalid_versions(a).await;
    malformed_tokens_are_refused(a).await;
    exact_values(a).await;
    saved_values_read_back(a).await;
    listing(a).await;
    let report = update_contention(std::slice::from_ref(&adapter), 8, 25).await;
    eprintln!("[{}] {report}", adapter.describe());
}

#[doc(hidden)]
/// Type anchor for [`conformance_tests!`](crate::conformance_tests).
pub fn __expect_adapter(
    made: Option<(Arc<dyn PersistenceAdapter>, usize)>,
) -> Option<(Arc<dyn PersistenceAdapter>, usize)> {
    made
}

/// Expands to a `conformance_suite` test module with one `#[tokio::test]` per check above.
///
/// `conformance_tests!(setup => make)`: for each test, `setup` is bound to a fresh [`Setup`]
/// (a [`ManualClock`] and, for the default-expiry check, a default expiry) and `make` is an
/// async expression evaluating to `Option<(Arc<dyn PersistenceAdapter>, usize)>`: an adapter
/// built with `setup`'s clock and default expiry, and its key limit in bytes, or `None` when the
/// backend is not available here (the test then returns early; the harness decides whether that
/// is allowed). It is evaluated inside the generated module (which does `use super::*`).
/// Two-instance checks need two real instances, so call [`versions_across_instances`] and
/// [`update_contention`] with two adapters in the backend's own tests as well. The calling crate
/// needs `tokio` (features `macros`, `rt-multi-thread`).
#[macro_export]
macro_rules! conformance_tests {
    ($setup:ident => $make:expr) => {
        mod conformance_suite {
            #[allow(unused_imports)]
            use super::*;

            $crate::conformance_tests!(@cases $setup => $make;
                absent_read, round_trip, overwrite, delete, delete_absent, versioned_save,
                create_only, key_isolation, awkward_json, versions_never_repeat,
                stale_save_after_delete_and_recreate, lost_response_retry_is_recognised,
                conditional_delete, invalid_versions, malformed_tokens_are_refused, exact_values,
                saved_values_read_back, listing);

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn invalid_keys() {
                let $setup = $crate::conformance::Setup::default();
                let Some((adapter, max)) = $crate::conformance::__expect_adapter($make.await) else { return };
                $crate::conformance::invalid_keys(adapter.as_ref(), max).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn versions_across_instances() {
                let $setup = $crate::conformance::Setup::default();
                let Some((a, _)) = $crate::conformance::__expect_adapter($make.await) else { return };
                $crate::conformance::versions_across_instances(a.as_ref(), a.as_ref()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn expiry() {
                let $setup = $crate::conformance::Setup::default();
                let clock = $setup.clock.clone();
                let Some((a, _)) = $crate::conformance::__expect_adapter($make.await) else { return };
                $crate::conformance::expiry(a.as_ref(), &clock).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn default_expiry() {
                let day = ::std::time::Duration::from_secs(86_400);
                let $setup = $crate::conformance::Setup::with_default_expiry(day);
                let clock = $setup.clock.clone();
                let Some((a, _)) = $crate::conformance::__expect_adapter($make.await) else { return };
                $crate::conformance::default_expiry(a.as_ref(), &clock, day).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn update_contention() {
                let $setup = $crate::conformance::Setup::default();
                let Some((adapter, _)) = $crate::conformance::__expect_adapter($make.await) else { return };
                let report =
                    $crate::conformance::update_contention(::std::slice::from_ref(&adapter), 8, 25).await;
                eprintln!("[{}] {}", adapter.describe(), report);
            }
        }
    };
    (@cases $setup:ident => $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let $setup = $crate::conformance::Setup::default();
                let Some((adapter, _)) = $crate::conformance::__expect_adapter($make.await) else { return };
                $crate::conformance::$name(adapter.as_ref()).await;
            }
        )*
    };
}
