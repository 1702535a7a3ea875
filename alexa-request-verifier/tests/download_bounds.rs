//! What certificate chain URLs can cost: concurrent requests for one URL share one download,
//! failures are remembered, and downloads are bounded in flight and per minute, so that a flood
//! of junk `https://s3.amazonaws.com/echo.api/...` URLs costs a bounded number of downloads.
//! The loopback chain server counts the downloads.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use alexa_request_verifier::{
    DEFAULT_MAX_DOWNLOADS_PER_MINUTE, DownloadLimit, RequestVerifier, RequestVerifierBuilder,
    VerifyError,
};
use alexa_request_verifier_testkit::{
    CHAIN_HOST, CHAIN_PATH, CHAIN_URL, ChainServer, Serve, SigningCertSpec, TestCa, headers,
    junk_chain_url, now, request_body, sign, signing_key,
};
use tokio::task::JoinSet;

struct Setup {
    server: ChainServer,
    verifier: RequestVerifier,
}

impl Setup {
    /// A chain server answering as `serve` says (given the CA's good chain), and a verifier
    /// trusting that CA, configured by `configure`.
    async fn new(
        serve: impl FnOnce(String) -> Serve,
        configure: impl FnOnce(RequestVerifierBuilder) -> RequestVerifierBuilder,
    ) -> Self {
        let ca = TestCa::new("Download Bounds Test Root");
        let chain = ca.signing_chain(&SigningCertSpec::default());
        let server = ChainServer::start(ca.server_config(CHAIN_HOST), serve(chain)).await;
        let builder = RequestVerifier::builder()
            .insecure_trust_roots_for_tests([ca.root_der()])
            .insecure_connect_to_loopback_for_tests(server.port());
        Self {
            server,
            verifier: configure(builder).build(),
        }
    }

    /// Verifies `n` fresh requests naming the chain URLs `urls(i)` at once; returns the results
    /// in order.
    async fn verify_concurrently(
        &self,
        n: usize,
        urls: impl Fn(usize) -> String,
    ) -> Vec<Result<(), VerifyError>> {
        let body = request_body(now());
        let signature = sign(signing_key(), body.as_bytes());
        let mut set = JoinSet::new();
        for i in 0..n {
            let verifier = self.verifier.clone();
            let h = headers(&urls(i), &signature);
            let body = body.clone();
            set.spawn(async move { (i, verifier.verify(&h, body.as_bytes()).await) });
        }
        let mut results: Vec<_> = set.join_all().await;
        results.sort_by_key(|(i, _)| *i);
        results.into_iter().map(|(_, r)| r).collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_for_one_url_share_one_download() {
    let s = Setup::new(
        |chain| Serve {
            delay: Duration::from_millis(300),
            ..Serve::ok(chain)
        },
        |b| b,
    )
    .await;
    let results = s.verify_concurrently(50, |_| CHAIN_URL.to_owned()).await;
    for r in &results {
        r.as_ref().unwrap();
    }
    assert_eq!(s.server.downloads(), 1, "{:?}", s.server.paths());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_for_one_failing_url_share_one_download_and_its_failure() {
    let s = Setup::new(
        |_| Serve {
            status: 403,
            delay: Duration::from_millis(300),
            ..Serve::ok("<Error><Code>AccessDenied</Code></Error>")
        },
        |b| b,
    )
    .await;
    let results = s.verify_concurrently(30, |_| CHAIN_URL.to_owned()).await;
    for r in results {
        let err = r.unwrap_err();
        assert!(
            matches!(
                err,
                VerifyError::ChainDownload {
                    status: Some(403),
                    ..
                }
            ),
            "{err:?}"
        );
    }
    assert_eq!(s.server.downloads(), 1);
    // And the next ones, for the failure TTL.
    for r in s.verify_concurrently(10, |_| CHAIN_URL.to_owned()).await {
        assert_eq!(r.unwrap_err().rule(), "download");
    }
    assert_eq!(s.server.downloads(), 1);
}

/// A flood of junk chain URLs (new paths, and query-string variants of the real one) with the
/// default bounds: downloads stay within the per-minute bound, every junk request is refused,
/// none waits long, and Alexa's chain, cached before, still verifies without a new download.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_junk_chain_urls_costs_a_bounded_number_of_downloads() {
    let s = Setup::new(|chain| Serve::ok(chain).only_at(CHAIN_PATH), |b| b).await;
    s.verify_concurrently(1, |_| CHAIN_URL.to_owned())
        .await
        .remove(0)
        .unwrap();
    assert_eq!(s.server.downloads(), 1);

    let started = Instant::now();
    let mut slowest = Duration::ZERO;
    let mut limited = 0;
    for round in 0..4 {
        let batch = Instant::now();
        let junk = s
            .verify_concurrently(100, |i| {
                if i % 2 == 0 {
                    junk_chain_url(round * 1000 + i)
                } else {
                    format!("{CHAIN_URL}?v={round}-{i}")
                }
            })
            .await;
        slowest = slowest.max(batch.elapsed());
        for r in junk {
            let err = r.unwrap_err();
            assert!(
                matches!(
                    err,
                    VerifyError::ChainDownload {
                        status: Some(404),
                        ..
                    } | VerifyError::DownloadLimited(_)
                ),
                "{err:?}"
            );
            limited += usize::from(matches!(err, VerifyError::DownloadLimited(_)));
        }
        // Alexa's chain is cached: it verifies in the middle of the flood.
        s.verify_concurrently(5, |_| CHAIN_URL.to_owned())
            .await
            .into_iter()
            .for_each(|r| r.unwrap());
    }
    let elapsed = started.elapsed();
    let junk_downloads = s.server.downloads() - 1;
    // GCRA: a burst of the bound, then one more every 60 s / bound.
    let per_minute = u64::from(DEFAULT_MAX_DOWNLOADS_PER_MINUTE);
    let allowed = per_minute + elapsed.as_secs() * per_minute / 60;
    println!(
        "400 junk requests in {elapsed:?} (slowest batch of 100: {slowest:?}): \
         {junk_downloads} downloads, {limited} refused by the bounds"
    );
    assert!(
        u64::try_from(junk_downloads).unwrap() <= allowed,
        "{junk_downloads} downloads > {allowed}"
    );
    assert!(limited >= 400 - junk_downloads);
    // Generous: only proves nothing waited for a download slot or a timer.
    assert!(slowest < Duration::from_secs(20), "{slowest:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_in_flight_are_bounded_and_the_rest_refused_at_once() {
    let s = Setup::new(
        |chain| Serve {
            delay: Duration::from_millis(800),
            ..Serve::ok(chain)
        },
        |b| b.max_downloads_in_flight(2).max_downloads_per_minute(1000),
    )
    .await;
    let results = s.verify_concurrently(10, junk_chain_url).await;
    let refused: Vec<_> = results
        .iter()
        .filter_map(|r| match r {
            Err(VerifyError::DownloadLimited(limit)) => Some(*limit),
            _ => None,
        })
        .collect();
    assert_eq!(refused.len(), 8, "{results:?}");
    assert!(
        refused
            .iter()
            .all(|l| *l == DownloadLimit::InFlight { max: 2 })
    );
    assert_eq!(s.server.downloads(), 2);
    // A refusal for a bound is not remembered: once the slots are free, the URL downloads.
    let again = s.verify_concurrently(1, |_| junk_chain_url(9)).await;
    again[0].as_ref().unwrap();
    assert_eq!(s.server.downloads(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_per_minute_are_bounded() {
    let s = Setup::new(
        |chain| Serve::ok(chain).only_at(CHAIN_PATH),
        |b| b.max_downloads_per_minute(3),
    )
    .await;
    let started = Instant::now();
    let mut results = Vec::new();
    for i in 0..12 {
        results.extend(s.verify_concurrently(1, |_| junk_chain_url(i)).await);
    }
    let limited = results
        .iter()
        .filter(|r| {
            matches!(
                r,
                Err(VerifyError::DownloadLimited(DownloadLimit::PerMinute {
                    per_minute: 3
                }))
            )
        })
        .count();
    let allowed = 3 + started.elapsed().as_secs() / 20;
    let downloads = u64::try_from(s.server.downloads()).unwrap();
    assert!(downloads <= allowed, "{downloads} > {allowed}");
    assert_eq!(u64::try_from(limited).unwrap(), 12 - downloads);
    // The messages say which bound, never the URL.
    let text = results
        .iter()
        .filter_map(|r| r.as_ref().err())
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        text.contains("downloads were started in the last minute"),
        "{text}"
    );
    assert!(!text.contains("junk-"), "{text}");
}
