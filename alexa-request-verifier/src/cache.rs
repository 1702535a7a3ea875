//! What a certificate chain URL costs: validated chains kept until they expire, failures kept
//! for a short while, concurrent look-ups of one URL merged into one download, and bounds on the
//! downloads in flight and per minute.
//!
//! A request can name any `https://s3.amazonaws.com/echo.api/...` URL (any path, any query
//! string) before anything about it is authenticated, so without these bounds every junk
//! request would cost an outbound TLS download. With them, junk costs at most
//! `max_per_minute` downloads a minute (plus the initial burst of the same size), never more
//! than `max_in_flight` at once; requests past the bounds are refused at once with
//! [`VerifyError::DownloadLimited`]. Chains already validated are served from the cache and are
//! never refused for a bound.
//!
//! The caches are moka's (bounded, with per-entry expiry; `try_get_with` runs one download per
//! URL and hands its result to every caller waiting for it, and lets another waiter take over
//! if the caller running it is cancelled); the per-minute bound is governor's GCRA limiter; the
//! in-flight bound is a tokio semaphore, tried without waiting.

use std::future::Future;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use moka::Expiry;
use moka::future::Cache;
use tokio::sync::Semaphore;

use crate::chain::SigningCert;
use crate::error::{DownloadLimit, VerifyError};

/// How long a transient failure (connection, TLS, time-out, HTTP 5xx) is remembered at most: a
/// hiccup on the way to Amazon should not refuse Alexa for a whole minute.
pub(crate) const TRANSIENT_FAILURE_TTL: Duration = Duration::from_secs(10);

/// The settings of a [`Chains`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bounds {
    /// How many validated chains are kept (`0`: none, every request downloads its chain).
    pub(crate) capacity: usize,
    /// How many failed URLs are remembered (`0`: none).
    pub(crate) failure_capacity: usize,
    /// How long a failed URL is remembered (transient failures: at most
    /// [`TRANSIENT_FAILURE_TTL`]).
    pub(crate) failure_ttl: Duration,
    /// Downloads in flight at once.
    pub(crate) max_in_flight: usize,
    /// Downloads started per minute (GCRA: a burst of this many, then one every
    /// `60 s / max_per_minute`).
    pub(crate) max_per_minute: u32,
}

/// Validated chains, recent failures and the download bounds, shared by a verifier's clones.
pub(crate) struct Chains {
    valid: Option<Cache<String, Arc<SigningCert>>>,
    /// Failures, and every caller waiting for a URL's first download: `try_get_with` on the
    /// valid cache merges callers, this one remembers what their download found.
    failed: Option<Cache<String, VerifyError>>,
    in_flight: Arc<Semaphore>,
    max_in_flight: usize,
    per_minute: DefaultDirectRateLimiter,
    max_per_minute: u32,
    failure_ttl: Duration,
}

/// A validated chain lives until the first certificate in it expires.
struct UntilNotAfter;

impl Expiry<String, Arc<SigningCert>> for UntilNotAfter {
    fn expire_after_create(
        &self,
        _url: &String,
        cert: &Arc<SigningCert>,
        _created_at: Instant,
    ) -> Option<Duration> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let left = u64::try_from(cert.expires_at)
            .unwrap_or(0)
            .saturating_sub(now);
        Some(Duration::from_secs(left))
    }
}

/// A failure lives for the failure TTL, a transient one for at most
/// [`TRANSIENT_FAILURE_TTL`].
struct FailureTtl(Duration);

impl Expiry<String, VerifyError> for FailureTtl {
    fn expire_after_create(
        &self,
        _url: &String,
        error: &VerifyError,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(if error.is_transient() {
            self.0.min(TRANSIENT_FAILURE_TTL)
        } else {
            self.0
        })
    }
}

impl Chains {
    pub(crate) fn new(bounds: Bounds) -> Self {
        let valid = (bounds.capacity > 0).then(|| {
            Cache::builder()
                .max_capacity(u64::try_from(bounds.capacity).unwrap_or(u64::MAX))
                .expire_after(UntilNotAfter)
                .build()
        });
        let failed = (bounds.failure_capacity > 0 && !bounds.failure_ttl.is_zero()).then(|| {
            Cache::builder()
                .max_capacity(u64::try_from(bounds.failure_capacity).unwrap_or(u64::MAX))
                .expire_after(FailureTtl(bounds.failure_ttl))
                .build()
        });
        let max_in_flight = bounds.max_in_flight.max(1);
        let max_per_minute = NonZeroU32::new(bounds.max_per_minute).unwrap_or(NonZeroU32::MIN);
        Self {
            valid,
            failed,
            in_flight: Arc::new(Semaphore::new(max_in_flight)),
            max_in_flight,
            per_minute: RateLimiter::direct(Quota::per_minute(max_per_minute)),
            max_per_minute: max_per_minute.get(),
            failure_ttl: bounds.failure_ttl,
        }
    }

    /// The validated signing certificate for `url`: from the cache, from a recent failure, from
    /// a download already running for it, or from `download` (run at most once per URL at a
    /// time, within the bounds).
    pub(crate) async fn signing_cert<F>(
        &self,
        url: &str,
        download: F,
    ) -> Result<Arc<SigningCert>, VerifyError>
    where
        F: Future<Output = Result<Arc<SigningCert>, VerifyError>>,
    {
        if let Some(failure) = self.recent_failure(url).await {
            return Err(failure);
        }
        let bounded = self.bounded(url, download);
        match &self.valid {
            Some(valid) => valid
                .try_get_with_by_ref(url, bounded)
                .await
                .map_err(|shared| VerifyError::clone(&shared)),
            None => bounded.await,
        }
    }

    /// Runs `download` within the bounds, and remembers its failure.
    async fn bounded<F>(&self, url: &str, download: F) -> Result<Arc<SigningCert>, VerifyError>
    where
        F: Future<Output = Result<Arc<SigningCert>, VerifyError>>,
    {
        // Another caller's download may have failed between our look-up and now.
        if let Some(failure) = self.recent_failure(url).await {
            return Err(failure);
        }
        let _permit = Arc::clone(&self.in_flight)
            .try_acquire_owned()
            .map_err(|_| {
                VerifyError::DownloadLimited(DownloadLimit::InFlight {
                    max: self.max_in_flight,
                })
            })?;
        self.per_minute.check().map_err(|_| {
            VerifyError::DownloadLimited(DownloadLimit::PerMinute {
                per_minute: self.max_per_minute,
            })
        })?;
        let result = download.await;
        if let (Err(e), Some(failed)) = (&result, &self.failed) {
            tracing::debug!(
                rule = e.rule(),
                ttl = ?if e.is_transient() { self.failure_ttl.min(TRANSIENT_FAILURE_TTL) } else { self.failure_ttl },
                "remembering a failed certificate chain URL"
            );
            failed.insert(url.to_owned(), e.clone()).await;
        }
        result
    }

    async fn recent_failure(&self, url: &str) -> Option<VerifyError> {
        self.failed.as_ref()?.get(url).await
    }

    #[cfg(test)]
    pub(crate) async fn cached(&self, url: &str) -> bool {
        match &self.valid {
            Some(valid) => valid.get(url).await.is_some(),
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn bounds() -> Bounds {
        Bounds {
            capacity: 4,
            failure_capacity: 16,
            failure_ttl: Duration::from_secs(60),
            max_in_flight: 4,
            max_per_minute: 100,
        }
    }

    fn in_secs(secs: i64) -> Arc<SigningCert> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        Arc::new(SigningCert::for_tests(
            i64::try_from(now).unwrap_or(i64::MAX) + secs,
        ))
    }

    #[tokio::test]
    async fn a_chain_lives_until_it_expires() {
        let chains = Chains::new(bounds());
        let runs = AtomicUsize::new(0);
        let download = |cert: Arc<SigningCert>| {
            let runs = &runs;
            async move {
                runs.fetch_add(1, Ordering::SeqCst);
                Ok(cert)
            }
        };
        chains.signing_cert("a", download(in_secs(3600))).await.ok();
        chains.signing_cert("a", download(in_secs(3600))).await.ok();
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert!(chains.cached("a").await);
        // Already expired: not kept.
        chains.signing_cert("b", download(in_secs(-1))).await.ok();
        assert!(!chains.cached("b").await);
    }

    #[tokio::test]
    async fn a_transient_failure_is_remembered_for_less_time() {
        let timeout = VerifyError::ChainTimeout {
            timeout: Duration::from_secs(3),
        };
        assert!(timeout.is_transient());
        assert!(VerifyError::download_status(http::StatusCode::BAD_GATEWAY).is_transient());
        assert!(!VerifyError::download_status(http::StatusCode::FORBIDDEN).is_transient());
        assert!(!VerifyError::SignatureMismatch.is_transient());
        let ttl = FailureTtl(Duration::from_secs(60));
        let at = Instant::now();
        let key = String::new();
        assert_eq!(
            ttl.expire_after_create(&key, &timeout, at),
            Some(TRANSIENT_FAILURE_TTL)
        );
        assert_eq!(
            ttl.expire_after_create(
                &key,
                &VerifyError::download_status(http::StatusCode::NOT_FOUND),
                at
            ),
            Some(Duration::from_secs(60))
        );
    }
}
