//! What the DynamoDB and S3 persistence adapters share, written once: the retry and timeout
//! budget that fits Alexa ([`client_config`]), telling a lost answer from a refusal
//! ([`ambiguous`], [`AttemptLog`]), the per-operation log line ([`log_outcome`]) and, with
//! feature `from-env`, loading the standard AWS configuration with that budget
//! ([`load_config`]).
//!
//! Skills do not depend on this crate directly; `persistence-dynamodb` and `persistence-s3`
//! re-export what a user needs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use persistence_core::{RedactedKey, Result, budget};

#[cfg(feature = "from-env")]
mod env;
#[cfg(feature = "from-env")]
pub use env::{endpoint_overridden, load_config, load_config_for_url, var};

/// Retry and timeout settings that fit Alexa's 8-second answer budget (see
/// [`persistence_core::budget`]): 3 attempts with exponential back-off for throttling, 5xx and
/// network faults, 1 s per attempt, 2.5 s per call, 1 s to connect.
///
/// ```
/// let (retry, timeout) = persistence_aws::client_config();
/// assert_eq!(retry.max_attempts(), 3);
/// assert!(timeout.operation_timeout().is_some());
/// ```
pub fn client_config() -> (RetryConfig, TimeoutConfig) {
    (
        RetryConfig::standard()
            .with_max_attempts(budget::MAX_ATTEMPTS)
            .with_initial_backoff(budget::INITIAL_BACKOFF)
            .with_max_backoff(budget::MAX_BACKOFF),
        TimeoutConfig::builder()
            .connect_timeout(budget::CONNECT_TIMEOUT)
            .operation_attempt_timeout(budget::ATTEMPT_TIMEOUT)
            .operation_timeout(budget::OPERATION_TIMEOUT)
            .build(),
    )
}

/// True for an error after which a write may or may not have landed: a timeout, a response
/// that could not be read, or an I/O failure after the request may have gone out.
pub fn ambiguous<E, R>(e: &SdkError<E, R>) -> bool {
    matches!(e, SdkError::TimeoutError(_) | SdkError::ResponseError(_))
        || matches!(e, SdkError::DispatchFailure(d) if d.is_io() || d.is_timeout())
}

/// Records, for one operation, whether any of its attempts may have been applied by the
/// service without the client hearing so: an attempt that was sent and then timed out, lost
/// its connection or got a 5xx answer. The SDK retries such attempts with the same request; an
/// adapter that later meets a failed condition needs to know whether its own earlier attempt
/// could be the reason. Attach a fresh one to each conditional write:
///
/// ```no_run
/// # async fn demo(client: aws_sdk_dynamodb::Client) {
/// let log = persistence_aws::AttemptLog::default();
/// let _ = client.update_item().customize().interceptor(log.clone()).send().await;
/// if log.possibly_applied() { /* an earlier attempt may have landed */ }
/// # }
/// ```
///
/// For a write that is not safe to send twice (a create-only or blind write, a blind delete:
/// sent again after it landed and another client changed the key, it would undo that change),
/// use [`AttemptLog::no_retry_after_unknown`]: once an attempt's outcome is unknown, the SDK's
/// next attempt is refused before it is sent, and the adapter looks at what is stored instead.
#[derive(Clone, Debug, Default)]
pub struct AttemptLog {
    sent: Arc<AtomicBool>,
    possibly_applied: Arc<AtomicBool>,
    no_retry_after_unknown: bool,
}

impl AttemptLog {
    /// A log that lets the SDK retry as it does (for writes conditional on a version, which a
    /// second attempt after the first landed can only fail).
    pub fn new() -> Self {
        Self::default()
    }

    /// A log that stops the SDK from sending the operation again once an attempt's outcome is
    /// unknown (for writes that are not safe to apply twice).
    pub fn no_retry_after_unknown() -> Self {
        Self {
            no_retry_after_unknown: true,
            ..Self::default()
        }
    }

    /// True when an attempt was sent and its outcome never reached the client.
    pub fn possibly_applied(&self) -> bool {
        self.possibly_applied.load(Ordering::SeqCst)
    }
}

/// Why an attempt was not sent (see [`AttemptLog::no_retry_after_unknown`]).
#[derive(Debug)]
struct NotRetried;

impl std::fmt::Display for NotRetried {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not sent again: an earlier attempt may have been applied")
    }
}

impl std::error::Error for NotRetried {}

impl Intercept for AttemptLog {
    fn name(&self) -> &'static str {
        "AttemptLog"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> std::result::Result<(), BoxError> {
        if self.no_retry_after_unknown && self.possibly_applied() {
            return Err(Box::new(NotRetried));
        }
        Ok(())
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> std::result::Result<(), BoxError> {
        self.sent.store(true, Ordering::SeqCst);
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> std::result::Result<(), BoxError> {
        if self.sent.swap(false, Ordering::SeqCst) {
            // A 2xx applied it (and is the last attempt); a 4xx refused it. Anything else
            // (no answer, a cut connection, a 5xx) leaves it unknown.
            let known = context.response().is_some_and(|r| {
                let status = r.status().as_u16();
                (200..500).contains(&status)
            });
            if !known {
                self.possibly_applied.store(true, Ordering::SeqCst);
            }
        }
        Ok(())
    }
}

/// Logs one operation's outcome: `debug` for success and conflicts, `warn` for errors, with
/// the backend, the resource, the operation, the key (redacted) and the latency.
pub fn log_outcome<T>(
    backend: &'static str,
    resource: &str,
    operation: &'static str,
    key: &str,
    started: Instant,
    r: &Result<T>,
) {
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let key = RedactedKey::new(key);
    match r {
        Ok(_) => {
            tracing::debug!(backend, resource, op = operation, key = %key, latency_ms, outcome = "ok", "storage")
        }
        Err(e) if e.is_conflict() => {
            tracing::debug!(backend, resource, op = operation, key = %key, latency_ms, outcome = "conflict", "storage")
        }
        Err(e) => {
            tracing::warn!(backend, resource, op = operation, key = %key, latency_ms, outcome = "error", error = %e, "storage")
        }
    }
}
