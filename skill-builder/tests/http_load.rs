//! Load and abuse test of the HTTP front, on loopback, bounded in count and time.
//!
//! Users send validly signed requests (a test CA, its chain served by a loopback HTTPS server)
//! through the real front (`HttpFront::serve_with_shutdown`) to the real counter skill on a
//! real adapter: SQLite, and DynamoDB when `AWS_ENDPOINT_URL` is set (LocalStack, as
//! `scripts/test.sh` runs it) and the `dynamodb` feature is on. Meanwhile slow clients trickle
//! headers and bodies, junk certificate URLs arrive, and oversized bodies are sent. Each phase
//! runs with verification on, then off, and prints requests/s, p50/p99 latency, peak memory
//! (the process's peak RSS, client and server together) and peak open descriptors, and the
//! cost of verification as a ratio.
//!
//! It asserts what must hold: every valid request answered `200` with the count it made, every
//! saved turn present exactly once afterwards (each user's counter equals its requests, and
//! the counters sum to the valid requests), junk and oversized requests refused, slow
//! connections closed by their timeouts, and certificate downloads within the per-minute bound.
//! Speed and memory are printed, not asserted.
//!
//! The CI form (part of `cargo test`) takes a few seconds. The longer form, by hand:
//!
//! ```text
//! LOAD_REQUESTS=20000 LOAD_USERS=64 cargo test --release -p skill-builder \
//!     --features http,sqlite --test http_load -- --nocapture
//! LOAD_SECONDS=120 ...   # repeat rounds of LOAD_REQUESTS for at least 120 s per phase
//! ```
//!
//! | variable | default | what |
//! |---|---|---|
//! | `LOAD_REQUESTS` | 400 | valid requests per round |
//! | `LOAD_USERS` | 32 | concurrent users (one keep-alive connection each, requests in sequence) |
//! | `LOAD_SECONDS` | 0 | run rounds until this many seconds have passed (at least one round) |
//! | `LOAD_SLOW` | 16 | slow clients per round (half trickle headers, half bodies) |
//! | `LOAD_JUNK` | 100 | requests with a junk certificate URL per round |
//! | `LOAD_OVERSIZED` | 10 | 1 MiB bodies per round |
#![cfg(all(feature = "http", feature = "sqlite"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod http_common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use alexa_request_verifier_testkit as kit;
use http_common::{
    Signing, counter_skill, envelope, post, read_answer, request_head, saved_count, start,
};
use skill_builder::PersistenceAdapter;
use skill_builder::http::{DEFAULT_MAX_BODY_BYTES, HttpFront};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The front's limits in this test: shorter than the defaults so that slow clients are cut
/// within a CI-sized phase.
const HEADER_TIMEOUT: Duration = Duration::from_secs(1);
const BODY_TIMEOUT: Duration = Duration::from_secs(1);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(4);
/// Slack on top of a timeout before a still-open connection fails the test.
const SLACK: Duration = Duration::from_secs(10);

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(Clone, Copy, Debug)]
struct Config {
    requests: usize,
    users: usize,
    seconds: u64,
    slow: usize,
    junk: usize,
    oversized: usize,
}

impl Config {
    fn from_env() -> Self {
        Self {
            requests: env("LOAD_REQUESTS", 400),
            users: env("LOAD_USERS", 32).max(1),
            seconds: u64::try_from(env("LOAD_SECONDS", 0)).unwrap_or(0),
            slow: env("LOAD_SLOW", 16),
            junk: env("LOAD_JUNK", 100),
            oversized: env("LOAD_OVERSIZED", 10),
        }
    }
}

/// What one phase measured.
#[derive(Debug, Default)]
struct Figures {
    valid: usize,
    busy: Duration,
    latencies: Vec<Duration>,
    peak_rss_kib: u64,
    peak_fds: usize,
    slow_closed: usize,
    slowest_close: Duration,
    junk_refused: usize,
    oversized_refused: usize,
    downloads: usize,
}

impl Figures {
    fn per_second(&self) -> f64 {
        self.valid as f64 / self.busy.as_secs_f64().max(1e-9)
    }

    fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let mut sorted = self.latencies.clone();
        sorted.sort();
        let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        sorted[i.min(sorted.len() - 1)]
    }

    fn print(&self, name: &str) {
        println!(
            "{name}: {} valid requests in {:.2?}: {:.0} req/s, p50 {:.2?}, p99 {:.2?}; \
             peak RSS {:.1} MiB, peak open descriptors {}; slow clients closed {} (slowest {:.2?}); \
             junk refused {}, oversized refused {}, chain downloads {}",
            self.valid,
            self.busy,
            self.per_second(),
            self.percentile(0.50),
            self.percentile(0.99),
            self.peak_rss_kib as f64 / 1024.0,
            self.peak_fds,
            self.slow_closed,
            self.slowest_close,
            self.junk_refused,
            self.oversized_refused,
            self.downloads,
        );
    }
}

/// One signed (or, verification off, merely well-formed) request.
struct Prepared {
    body: String,
    headers: Vec<(String, String)>,
}

fn prepare(user: &str, n: usize) -> Prepared {
    let kind = if n == 0 {
        "LaunchRequest"
    } else {
        "IntentRequest"
    };
    let body = envelope(user, kind);
    let headers = Signing::headers(&body);
    Prepared { body, headers }
}

/// Sends a user's requests in sequence on one keep-alive connection; checks each answer says
/// the count it made. Returns the latencies.
async fn user_session(
    addr: SocketAddr,
    requests: Vec<Prepared>,
    counted_before: u64,
) -> Vec<Duration> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut latencies = Vec::with_capacity(requests.len());
    for (i, r) in requests.iter().enumerate() {
        let started = Instant::now();
        let request = format!("{}{}", request_head(addr, r.body.len(), &r.headers), r.body);
        stream.write_all(request.as_bytes()).await.unwrap();
        let answer = read_answer(&mut stream).await.expect("an answer");
        latencies.push(started.elapsed());
        assert_eq!(answer.status, 200, "{answer:?}");
        let expected = format!("count {}", counted_before + i as u64 + 1);
        assert!(answer.body.contains(&expected), "{expected}: {answer:?}");
    }
    latencies
}

/// A client that trickles its head (`body: false`) or its body, one byte every `every`, until
/// the server closes the connection; returns how long that took.
async fn slow_client(addr: SocketAddr, body: bool, every: Duration) -> Duration {
    let stream = TcpStream::connect(addr).await.unwrap();
    let started = Instant::now();
    let (mut read, mut write) = stream.into_split();
    let trickle = tokio::spawn(async move {
        let head = if body {
            format!(
                "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
                 Content-Length: 100000\r\n\r\n{{"
            )
        } else {
            "POST / HTTP/1.1\r\nHost: x\r\n".to_owned()
        };
        if write.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        loop {
            tokio::time::sleep(every).await;
            if write.write_all(b" ").await.is_err() {
                return;
            }
        }
    });
    let mut sink = [0u8; 1024];
    let closed = tokio::time::timeout(REQUEST_TIMEOUT + SLACK, async {
        loop {
            match read.read(&mut sink).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    trickle.abort();
    assert!(
        closed.is_ok(),
        "a slow client (body: {body}, every {every:?}) was still connected"
    );
    started.elapsed()
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Resets the peak RSS to the current RSS (Linux: `echo 5 > /proc/self/clear_refs`).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

/// One phase: `rounds` of (valid load + abuse) against a fresh front on `store`.
async fn phase(
    name: &str,
    config: Config,
    store: Arc<dyn PersistenceAdapter>,
    verify: bool,
) -> Figures {
    let signing = Signing::start().await;
    let skill = counter_skill(store.clone(), Duration::ZERO);
    let mut front = HttpFront::new(skill)
        .with_header_read_timeout(HEADER_TIMEOUT)
        .with_body_read_timeout(BODY_TIMEOUT)
        .with_request_timeout(REQUEST_TIMEOUT);
    front = if verify {
        front.with_verifier(signing.verifier())
    } else {
        front.skip_verification_for_local_development()
    };
    let (addr, stop, server) = start(front).await;

    let run = format!("{}-{}", std::process::id(), name.replace(' ', "-"));
    let users: Vec<String> = (0..config.users)
        .map(|u| format!("amzn1.ask.account.LOAD{run}-{u}"))
        .collect();
    let mut counted = vec![0u64; config.users];
    let mut figures = Figures::default();
    let started = Instant::now();
    let mut round = 0;
    reset_peak_rss();
    let sampling = Arc::new(AtomicBool::new(true));
    let peak_fds = Arc::new(AtomicUsize::new(0));
    let sampler = {
        let (sampling, peak) = (sampling.clone(), peak_fds.clone());
        tokio::spawn(async move {
            while sampling.load(Ordering::Relaxed) {
                peak.fetch_max(open_fds(), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    loop {
        // Untimed: sign this round's requests (timestamps stay fresh per round).
        let per_user = config.requests.div_ceil(config.users);
        let mut batches = Vec::new();
        let mut total = 0;
        for (u, user) in users.iter().enumerate() {
            let n = per_user.min(config.requests - total);
            total += n;
            let first = usize::try_from(counted[u]).unwrap();
            batches.push((0..n).map(|i| prepare(user, first + i)).collect::<Vec<_>>());
        }

        // Abuse, started with the load and running alongside it.
        let mut abuse = tokio::task::JoinSet::new();
        for i in 0..config.slow {
            let (body, every) = match i % 4 {
                0 | 1 => (false, Duration::from_millis(200)),
                2 => (true, Duration::from_millis(200)), // fast enough: the request timeout
                _ => (true, BODY_TIMEOUT * 3),           // pauses: the body timeout
            };
            abuse.spawn(async move { Abuse::Slow(slow_client(addr, body, every).await) });
        }
        let junk = config.junk;
        let base = round * junk;
        abuse.spawn(async move {
            let mut refused = 0;
            for i in 0..junk {
                let body = envelope("amzn1.ask.account.JUNK", "LaunchRequest")
                    .replace(http_common::SKILL_ID, "amzn1.ask.skill.junk");
                let mut headers = Signing::headers(&body);
                headers[0].1 = kit::junk_chain_url(base + i);
                let answer = post(addr, &headers, &body).await;
                assert_eq!(answer.status, 400, "{answer:?}");
                refused += 1;
            }
            Abuse::Junk(refused)
        });
        for _ in 0..config.oversized {
            abuse.spawn(async move {
                let body = " ".repeat(4 * DEFAULT_MAX_BODY_BYTES);
                let answer = post(addr, &[], &body).await;
                assert_eq!(answer.status, 413, "{answer:?}");
                Abuse::Oversized
            });
        }

        // Timed: the valid load.
        let busy = Instant::now();
        let mut sessions = tokio::task::JoinSet::new();
        for (u, batch) in batches.into_iter().enumerate() {
            let before = counted[u];
            counted[u] += batch.len() as u64;
            figures.valid += batch.len();
            sessions.spawn(user_session(addr, batch, before));
        }
        for latencies in sessions.join_all().await {
            figures.latencies.extend(latencies);
        }
        figures.busy += busy.elapsed();

        for outcome in abuse.join_all().await {
            match outcome {
                Abuse::Slow(took) => {
                    figures.slow_closed += 1;
                    figures.slowest_close = figures.slowest_close.max(took);
                }
                Abuse::Junk(n) => figures.junk_refused += n,
                Abuse::Oversized => figures.oversized_refused += 1,
            }
        }
        round += 1;
        if started.elapsed().as_secs() >= config.seconds {
            break;
        }
    }
    sampling.store(false, Ordering::Relaxed);
    sampler.await.unwrap();
    figures.peak_fds = peak_fds.load(Ordering::Relaxed);
    figures.peak_rss_kib = peak_rss_kib();
    figures.downloads = signing.server.downloads();
    let elapsed = started.elapsed();

    stop.send(()).unwrap();
    tokio::time::timeout(SLACK, server)
        .await
        .expect("the server shut down")
        .unwrap()
        .unwrap();

    // Every saved turn is there exactly once.
    let mut sum = 0;
    for (u, user) in users.iter().enumerate() {
        let saved = saved_count(store.as_ref(), user).await;
        assert_eq!(saved, counted[u], "{user}");
        sum += saved;
    }
    assert_eq!(sum, figures.valid as u64);
    assert_eq!(
        saved_count(store.as_ref(), "amzn1.ask.account.JUNK").await,
        0,
        "a junk request ran a turn"
    );
    // Slow clients were closed by their timeouts, junk and oversized all refused.
    assert_eq!(figures.slow_closed, config.slow * round);
    assert!(figures.slowest_close <= REQUEST_TIMEOUT + SLACK);
    assert_eq!(figures.junk_refused, config.junk * round);
    assert_eq!(figures.oversized_refused, config.oversized * round);
    // Downloads: Alexa's chain once, junk within the per-minute bound (a burst, then one
    // every 6 s).
    let per_minute = u64::from(alexa_request_verifier::DEFAULT_MAX_DOWNLOADS_PER_MINUTE);
    let allowed = 1 + per_minute + elapsed.as_secs() * per_minute / 60;
    assert!(
        figures.downloads as u64 <= allowed,
        "{} downloads > {allowed}",
        figures.downloads
    );
    if !verify {
        assert_eq!(figures.downloads, 0);
    }
    figures.print(name);
    figures
}

enum Abuse {
    Slow(Duration),
    Junk(usize),
    Oversized,
}

async fn sqlite_store(dir: &tempfile::TempDir, name: &str) -> Arc<dyn PersistenceAdapter> {
    Arc::new(
        skill_builder::SqliteAdapter::open(dir.path().join(format!("{name}.sqlite3")))
            .await
            .unwrap(),
    )
}

fn ratio(name: &str, on: &Figures, off: &Figures) {
    println!(
        "{name}: verification costs {:.2}x in throughput (off/on req/s {:.0}/{:.0}), \
         p50 {:.2}x, p99 {:.2}x",
        off.per_second() / on.per_second().max(1e-9),
        off.per_second(),
        on.per_second(),
        on.percentile(0.5).as_secs_f64() / off.percentile(0.5).as_secs_f64().max(1e-9),
        on.percentile(0.99).as_secs_f64() / off.percentile(0.99).as_secs_f64().max(1e-9),
    );
}

/// The phases run one after the other (the figures are the whole process's), SQLite first,
/// then DynamoDB when there is an emulator.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_and_abuse() {
    let config = Config::from_env();
    println!("{config:?}");
    let dir = tempfile::tempdir().unwrap();
    let on = phase(
        "SQLite, verification on",
        config,
        sqlite_store(&dir, "on").await,
        true,
    )
    .await;
    let off = phase(
        "SQLite, verification off",
        config,
        sqlite_store(&dir, "off").await,
        false,
    )
    .await;
    ratio("SQLite", &on, &off);

    #[cfg(feature = "dynamodb")]
    if let Some(store) = dynamodb_store().await {
        let on = phase("DynamoDB, verification on", config, store.clone(), true).await;
        let off = phase("DynamoDB, verification off", config, store, false).await;
        ratio("DynamoDB", &on, &off);
    }
}

/// A fresh table on the emulator at `AWS_ENDPOINT_URL`, if it is set.
#[cfg(feature = "dynamodb")]
async fn dynamodb_store() -> Option<Arc<dyn PersistenceAdapter>> {
    let Some(endpoint) = std::env::var("AWS_ENDPOINT_URL")
        .ok()
        .filter(|e| !e.is_empty())
    else {
        println!("AWS_ENDPOINT_URL is unset: no DynamoDB phase (scripts/test.sh sets it)");
        return None;
    };
    println!("DynamoDB at {endpoint}");
    let table = format!("http-load-{}", std::process::id());
    let store =
        skill_builder::DynamoDbAdapter::from_url(&format!("dynamodb://{table}?region=us-east-1"))
            .await
            .unwrap();
    store.ensure_table().await.unwrap();
    Some(Arc::new(store))
}
