//! An HTTP chaos proxy for the history checker (`tests/tests/checker.rs`): a loopback HTTP/1
//! server in front of the emulator that decides for each request, from a seeded random number
//! generator, whether to pass it, answer with throttling or a server error without forwarding
//! it, or forward it and then break the answer (a 500 after the write landed, a cut connection,
//! an answer held back past the SDK's attempt timeout).
//!
//! Unlike [`crate::proxy::FaultProxy`] (one fault for every connection, at the TCP level), the
//! decisions are per request, so one run mixes every fault with normal traffic, and the SDK's
//! own retries meet them as they would in production. A forwarded request always runs to
//! completion upstream (in its own task), even when the client has given up on it: what the
//! emulator did is what a lost answer hides.
//!
//! DynamoDB requests are told apart by their `x-amz-target` header; everything else is treated
//! as S3.
//!
//! S3 conditional deletes: LocalStack answers 501 to `If-Match` on `DeleteObject`, which real S3
//! supports (and the S3 adapter uses). So that the checker exercises the adapter's real path,
//! the proxy implements it as S3 does: under a per-object lock that every `PUT` and `DELETE`
//! through the proxy also takes, it reads the object's ETag (`HEAD`) and answers 412
//! `PreconditionFailed` when it differs, 404 `NoSuchKey` when there is no object, and otherwise
//! forwards the delete without the header.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

/// How often each fault is injected (each a probability per request; their sum should stay
/// well below 1 so that most operations succeed).
#[derive(Clone, Debug)]
pub struct ChaosConfig {
    /// Seed of the proxy's random number generator.
    pub seed: u64,
    /// Throttle without forwarding (DynamoDB `ThrottlingException`, S3 503 `SlowDown`).
    pub throttle: f64,
    /// Answer 500 without forwarding.
    pub error_before: f64,
    /// Forward, then answer 500 instead of the emulator's answer (the request took effect).
    pub error_after: f64,
    /// Forward, then close the connection without answering.
    pub cut_after: f64,
    /// Forward, then hold the answer back for [`ChaosConfig::hold`] before sending it (set it
    /// past the client's attempt timeout).
    pub hold_after: f64,
    /// S3 only: 409 `OperationAborted` without forwarding.
    pub aborted_409: f64,
    /// How long a held answer is held.
    pub hold: Duration,
    /// Faults for the first requests, in order (the rates apply after them): to reproduce one
    /// sequence exactly.
    pub script: Vec<ChaosFault>,
}

impl ChaosConfig {
    /// About a quarter of requests faulted, spread over every kind; answers held for 1.5 s
    /// (past the 1 s attempt timeout of [`persistence_core::budget`]).
    pub fn moderate(seed: u64) -> Self {
        Self {
            seed,
            throttle: 0.07,
            error_before: 0.05,
            error_after: 0.04,
            cut_after: 0.04,
            hold_after: 0.02,
            aborted_409: 0.03,
            hold: Duration::from_millis(1_500),
            script: Vec::new(),
        }
    }

    /// Exactly `script` for the first requests, then nothing.
    pub fn scripted(script: Vec<ChaosFault>) -> Self {
        Self {
            seed: 0,
            throttle: 0.0,
            error_before: 0.0,
            error_after: 0.0,
            cut_after: 0.0,
            hold_after: 0.0,
            aborted_409: 0.0,
            hold: Duration::from_millis(1_500),
            script,
        }
    }
}

/// One kind of fault the proxy injects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChaosFault {
    /// Passed through untouched.
    Pass,
    /// Throttled without forwarding.
    Throttle,
    /// 500 without forwarding.
    ErrorBefore,
    /// Forwarded, then 500.
    ErrorAfter,
    /// Forwarded, then the connection cut.
    CutAfter,
    /// Forwarded, then the answer held back.
    HoldAfter,
    /// S3 409 `OperationAborted` without forwarding.
    Aborted409,
}

const KINDS: [ChaosFault; 7] = [
    ChaosFault::Pass,
    ChaosFault::Throttle,
    ChaosFault::ErrorBefore,
    ChaosFault::ErrorAfter,
    ChaosFault::CutAfter,
    ChaosFault::HoldAfter,
    ChaosFault::Aborted409,
];

impl ChaosFault {
    fn name(self) -> &'static str {
        match self {
            ChaosFault::Pass => "pass",
            ChaosFault::Throttle => "throttle",
            ChaosFault::ErrorBefore => "500-before",
            ChaosFault::ErrorAfter => "500-after",
            ChaosFault::CutAfter => "cut-after",
            ChaosFault::HoldAfter => "hold-after",
            ChaosFault::Aborted409 => "409-aborted",
        }
    }

    fn index(self) -> usize {
        KINDS.iter().position(|k| *k == self).unwrap_or(0)
    }
}

/// How many requests met each fault.
#[derive(Debug, Default)]
pub struct ChaosStats {
    counts: [AtomicU64; 7],
}

impl ChaosStats {
    /// Requests that met `fault`.
    pub fn count(&self, fault: ChaosFault) -> u64 {
        self.counts[fault.index()].load(Ordering::Relaxed)
    }

    /// Requests faulted (anything but [`ChaosFault::Pass`]).
    pub fn faulted(&self) -> u64 {
        KINDS[1..].iter().map(|k| self.count(*k)).sum()
    }
}

impl fmt::Display for ChaosStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = KINDS
            .iter()
            .map(|k| format!("{}={}", k.name(), self.count(*k)))
            .collect();
        f.write_str(&parts.join(" "))
    }
}

struct Shared {
    upstream: String,
    config: ChaosConfig,
    rng: Mutex<fastrand::Rng>,
    script: Mutex<std::collections::VecDeque<ChaosFault>>,
    enabled: AtomicBool,
    stats: Arc<ChaosStats>,
    client: Client<HttpConnector, Full<Bytes>>,
    /// Per S3 object path: held by writes and deletes while they run upstream.
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl Shared {
    fn lock_for(&self, path: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.entry(path.to_owned()).or_default().clone()
    }
}

/// A running chaos proxy on 127.0.0.1; dropping it stops accepting connections.
pub struct ChaosProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl fmt::Debug for ChaosProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChaosProxy")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl ChaosProxy {
    /// Starts a proxy on a free loopback port in front of `upstream` (`http://host:port`).
    pub async fn start(upstream: &str, config: ChaosConfig) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            rng: Mutex::new(fastrand::Rng::with_seed(config.seed)),
            script: Mutex::new(config.script.iter().copied().collect()),
            config,
            enabled: AtomicBool::new(true),
            stats: Arc::default(),
            client: Client::builder(TokioExecutor::new()).build_http(),
            locks: Mutex::default(),
        });
        let s = shared.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let s = s.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| handle(s.clone(), req));
                    // A connection the proxy cuts on purpose ends with an error: expected.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self { addr, shared, task })
    }

    /// The proxy's endpoint URL.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// What the proxy injected so far.
    pub fn stats(&self) -> &ChaosStats {
        &self.shared.stats
    }

    /// Turns fault injection on or off (off: every request passes).
    pub fn set_enabled(&self, on: bool) {
        self.shared.enabled.store(on, Ordering::SeqCst);
    }
}

impl Drop for ChaosProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Why the proxy cut a connection (the error hyper closes it with).
#[derive(Debug)]
struct Cut;

impl fmt::Display for Cut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection cut by the chaos proxy")
    }
}

impl std::error::Error for Cut {}

fn decide(s: &Shared, s3: bool) -> ChaosFault {
    if !s.enabled.load(Ordering::SeqCst) {
        return ChaosFault::Pass;
    }
    if let Some(f) = s
        .script
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .pop_front()
    {
        return f;
    }
    let r = s.rng.lock().unwrap_or_else(|p| p.into_inner()).f64();
    let c = &s.config;
    let mut edge = 0.0;
    let table = [
        (c.throttle, ChaosFault::Throttle),
        (c.error_before, ChaosFault::ErrorBefore),
        (c.error_after, ChaosFault::ErrorAfter),
        (c.cut_after, ChaosFault::CutAfter),
        (c.hold_after, ChaosFault::HoldAfter),
        (if s3 { c.aborted_409 } else { 0.0 }, ChaosFault::Aborted409),
    ];
    for (p, fault) in table {
        edge += p;
        if r < edge {
            return fault;
        }
    }
    ChaosFault::Pass
}

fn canned(status: StatusCode, content_type: &str, body: String) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    if let Ok(v) = content_type.parse() {
        resp.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    resp
}

fn dynamodb_error(status: StatusCode, kind: &str, message: &str) -> Response<Full<Bytes>> {
    canned(
        status,
        "application/x-amz-json-1.0",
        format!(r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{kind}","message":"{message}"}}"#),
    )
}

fn s3_error(status: StatusCode, code: &str, message: &str) -> Response<Full<Bytes>> {
    canned(
        status,
        "application/xml",
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{message}</Message><RequestId>chaos</RequestId></Error>"#
        ),
    )
}

fn server_error(s3: bool) -> Response<Full<Bytes>> {
    if s3 {
        s3_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "We encountered an internal error. Please try again.",
        )
    } else {
        dynamodb_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "Internal server error (chaos proxy)",
        )
    }
}

async fn handle(
    s: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Box<dyn std::error::Error + Send + Sync>> {
    let s3 = !req.headers().contains_key("x-amz-target");
    let fault = decide(&s, s3);
    s.stats.counts[fault.index()].fetch_add(1, Ordering::Relaxed);
    match fault {
        ChaosFault::Throttle if s3 => {
            return Ok(s3_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "SlowDown",
                "Please reduce your request rate.",
            ));
        }
        ChaosFault::Throttle => {
            return Ok(dynamodb_error(
                StatusCode::BAD_REQUEST,
                "ThrottlingException",
                "Rate of requests exceeds the allowed throughput.",
            ));
        }
        ChaosFault::ErrorBefore => return Ok(server_error(s3)),
        ChaosFault::Aborted409 => {
            return Ok(s3_error(
                StatusCode::CONFLICT,
                "OperationAborted",
                "A conflicting conditional operation is currently in progress against this resource. Please try again.",
            ));
        }
        _ => {}
    }
    // Forward in a task of its own: it runs to completion even if the client gives up.
    let forwarded = tokio::spawn(forward(s.clone(), req, s3));
    let response = match forwarded.await {
        Ok(Ok(r)) => r,
        // The emulator could not be reached: as a gateway would.
        Ok(Err(e)) => {
            return Ok(canned(
                StatusCode::BAD_GATEWAY,
                "text/plain",
                format!("chaos proxy: upstream failed: {e}"),
            ));
        }
        Err(e) => return Err(Box::new(e)),
    };
    match fault {
        ChaosFault::ErrorAfter => Ok(server_error(s3)),
        ChaosFault::CutAfter => Err(Box::new(Cut)),
        ChaosFault::HoldAfter => {
            tokio::time::sleep(s.config.hold).await;
            Ok(response)
        }
        _ => Ok(response),
    }
}

async fn forward(
    s: Arc<Shared>,
    req: Request<Incoming>,
    s3: bool,
) -> Result<Response<Full<Bytes>>, Box<dyn std::error::Error + Send + Sync>> {
    let (mut parts, body) = req.into_parts();
    let body = body.collect().await?.to_bytes();
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", hyper::http::uri::PathAndQuery::as_str)
        .to_owned();
    let uri: hyper::Uri = format!("{}{}", s.upstream, path).parse()?;
    let method = parts.method.clone();
    let mutating = s3 && (method == hyper::Method::PUT || method == hyper::Method::DELETE);
    let lock = mutating.then(|| s.lock_for(parts.uri.path()));
    let _held = match &lock {
        Some(l) => Some(l.lock().await),
        None => None,
    };
    if s3
        && method == hyper::Method::DELETE
        && let Some(expected) = parts.headers.remove(hyper::header::IF_MATCH)
    {
        let mut head = Request::builder()
            .method(hyper::Method::HEAD)
            .uri(uri.clone());
        for (name, value) in &parts.headers {
            head = head.header(name, value);
        }
        let found = s
            .client
            .request(head.body(Full::new(Bytes::new()))?)
            .await?;
        let unquote = |v: &[u8]| String::from_utf8_lossy(v).trim_matches('"').to_owned();
        if found.status() == StatusCode::NOT_FOUND {
            return Ok(s3_error(
                StatusCode::NOT_FOUND,
                "NoSuchKey",
                "The specified key does not exist.",
            ));
        }
        let etag = found
            .headers()
            .get(hyper::header::ETAG)
            .map(|v| unquote(v.as_bytes()));
        if !found.status().is_success() || etag != Some(unquote(expected.as_bytes())) {
            return Ok(s3_error(
                StatusCode::PRECONDITION_FAILED,
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold",
            ));
        }
    }
    let mut up = Request::builder().method(method).uri(uri);
    for (name, value) in &parts.headers {
        up = up.header(name, value);
    }
    let up = up.body(Full::new(body))?;
    let resp = s.client.request(up).await?;
    let (parts, body) = resp.into_parts();
    let body = body.collect().await?.to_bytes();
    Ok(Response::from_parts(parts, Full::new(body)))
}
