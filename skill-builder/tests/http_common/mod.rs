//! What the HTTP front's tests share: the one skill they serve (a per-user counter, easy to
//! port when the handler API changes), request bodies, a signing test CA with its loopback chain
//! server, raw HTTP/1.1 over TCP (to trickle, stall and overflow), and log capture.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alexa_request_verifier_testkit as kit;
use serde::{Deserialize, Serialize};
use serde_json::json;
use skill_builder::http::{HttpFront, RequestVerifier};
use skill_builder::{PersistenceAdapter, Skill, SkillBuilder, Turn, TurnResult};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The skill ID the test skill is built with, and its requests carry.
pub const SKILL_ID: &str = "amzn1.ask.skill.7e3f1c2a-http-front-tests";

#[derive(Default, Serialize, Deserialize)]
struct Counter {
    count: u64,
}

/// THE skill of the front's tests: `LaunchRequest` and `CountIntent` add one to the user's
/// persistent `count`, wait `turn_delay` (a slow turn), and say `count N`; the count is saved
/// when the turn answers.
pub fn counter_skill(adapter: Arc<dyn PersistenceAdapter>, turn_delay: Duration) -> Skill {
    async fn count(turn: Turn, delay: Duration) -> TurnResult {
        let mut counter = turn.state::<Counter>().await?;
        counter.count += 1;
        let n = counter.count;
        tokio::time::sleep(delay).await;
        Ok(turn.speak(format!("count {n}")))
    }
    SkillBuilder::new()
        .with_skill_id(SKILL_ID)
        .with_persistence_adapter(adapter)
        .on_launch(move |turn: Turn| count(turn, turn_delay))
        .on_intent("CountIntent", move |turn: Turn| count(turn, turn_delay))
        .build()
        .unwrap()
}

/// The user's saved count (0 when nothing was saved).
pub async fn saved_count(adapter: &dyn PersistenceAdapter, user: &str) -> u64 {
    match adapter.get(user).await.unwrap() {
        Some(stored) => stored
            .attributes
            .get_as::<u64>("count")
            .unwrap()
            .unwrap_or(0),
        None => 0,
    }
}

/// A request envelope of `request_type` (an `IntentRequest` is for `CountIntent`) from `user`,
/// timestamped now, as Alexa sends it (about 1.5 KB).
pub fn envelope(user: &str, request_type: &str) -> String {
    let mut request = json!({
        "type": request_type,
        "requestId": format!("amzn1.echo-api.request.{}", fastrand_id()),
        "timestamp": kit::timestamp_text(kit::now()),
        "locale": "en-US",
    });
    if request_type == "IntentRequest" {
        request["intent"] = json!({"name": "CountIntent", "confirmationStatus": "NONE"});
    }
    json!({
        "version": "1.0",
        "session": {
            "new": request_type == "LaunchRequest",
            "sessionId": "amzn1.echo-api.session.0000-http-front-tests",
            "application": {"applicationId": SKILL_ID},
            "attributes": {},
            "user": {"userId": user},
        },
        "context": {
            "System": {
                "application": {"applicationId": SKILL_ID},
                "user": {"userId": user},
                "device": {
                    "deviceId": "amzn1.ask.device.AEKQ7PWEXAMPLEDEVICEHTTPFRONTTESTS",
                    "supportedInterfaces": {"AudioPlayer": {}},
                },
                "apiEndpoint": "https://api.amazonalexa.com",
                "apiAccessToken": "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.TESTTOKEN.SIGNATURE",
            },
            "Viewport": {
                "experiences": [{"arcMinuteWidth": 246, "arcMinuteHeight": 144, "canRotate": false, "canResize": false}],
                "shape": "RECTANGLE", "pixelWidth": 1024, "pixelHeight": 600, "dpi": 160,
                "currentPixelWidth": 1024, "currentPixelHeight": 600,
                "touch": ["SINGLE"], "video": {"codecs": ["H_264_42", "H_264_41"]},
            },
        },
        "request": request,
    })
    .to_string()
}

fn fastrand_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("{:016x}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A test CA and the loopback server serving its Alexa-like chain at [`kit::CHAIN_URL`] (404
/// elsewhere, as S3 answers junk keys), and verifiers trusting them.
pub struct Signing {
    pub ca: kit::TestCa,
    pub server: kit::ChainServer,
}

impl Signing {
    pub async fn start() -> Self {
        let ca = kit::TestCa::new("HTTP Front Test Root");
        let chain = ca.signing_chain(&kit::SigningCertSpec::default());
        let server = kit::ChainServer::start(
            ca.server_config(kit::CHAIN_HOST),
            kit::Serve::ok(chain).only_at(kit::CHAIN_PATH),
        )
        .await;
        Self { ca, server }
    }

    /// A verifier trusting the test CA and downloading from the loopback server, with the
    /// default bounds.
    pub fn verifier(&self) -> RequestVerifier {
        RequestVerifier::builder()
            .insecure_trust_roots_for_tests([self.ca.root_der()])
            .insecure_connect_to_loopback_for_tests(self.server.port())
            .build()
    }

    /// Alexa's headers for `body`: the chain URL and its `Signature-256`.
    pub fn headers(body: &str) -> Vec<(String, String)> {
        vec![
            ("SignatureCertChainUrl".into(), kit::CHAIN_URL.into()),
            (
                "Signature-256".into(),
                kit::sign(kit::signing_key(), body.as_bytes()),
            ),
        ]
    }
}

/// Serves `front` on a free loopback port until `stop` is dropped or fired; returns the address
/// and the server task.
pub async fn start(
    front: HttpFront,
) -> (
    SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(front.serve_with_shutdown(listener, async {
        stopped.await.ok();
    }));
    (addr, stop, server)
}

/// The head of a `POST /` with `body_len` bytes of JSON and `headers`.
pub fn request_head(addr: SocketAddr, body_len: usize, headers: &[(String, String)]) -> String {
    let mut head = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json; charset=utf-8\r\n\
         Content-Length: {body_len}\r\n"
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head
}

/// An HTTP response read off a socket.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub head: String,
    pub body: String,
}

/// Reads one response (with `Content-Length`) from `stream`; `None` if the connection closed or
/// failed first.
pub async fn read_answer(stream: &mut TcpStream) -> Option<Answer> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let length = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let body = String::from_utf8_lossy(&buf[head_end..head_end + length]).into_owned();
    Some(Answer { status, head, body })
}

/// POSTs `body` with `headers` on a new connection and reads the answer. (A server may answer
/// and close before the body is all sent, so a failed write is not an error here.)
pub async fn post(addr: SocketAddr, headers: &[(String, String)], body: &str) -> Answer {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("{}{body}", request_head(addr, body.len(), headers));
    let _ = stream.write_all(request.as_bytes()).await;
    read_answer(&mut stream).await.expect("an answer")
}

/// Waits until the server closes `stream` (reading and discarding whatever it sends), at most
/// `limit`; returns how long that took, or `None` if it was still open at `limit`.
pub async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut sink = [0u8; 4096];
    let closed = tokio::time::timeout(limit, async {
        loop {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    closed.ok().map(|()| started.elapsed())
}

/// Everything logged at any level while the guard lives, on this thread (tests that use it
/// run on a current-thread runtime, so the server's tasks log here too).
pub fn capture_logs() -> (Arc<Mutex<Vec<u8>>>, tracing::subscriber::DefaultGuard) {
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let logs = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&logs);
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || Sink(Arc::clone(&sink)))
        .finish();
    (logs, tracing::subscriber::set_default(subscriber))
}

pub fn text(logs: &Mutex<Vec<u8>>) -> String {
    String::from_utf8_lossy(&logs.lock().unwrap()).into_owned()
}
