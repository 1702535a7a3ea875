//! The `ha-relay` binary run as a user would: `--invoke FILE`, and as Lambda starts it, against a
//! fake Lambda runtime API and a fake Home Assistant on 127.0.0.1. No log line ever holds a
//! token, user ID or request body, whatever `RUST_LOG` says.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers

mod common;

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use common::*;
use ha_relay::LINK_ACCOUNT_SPEECH;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// The skill ID in tests/data/activate-scene.json.
const FILE_SKILL_ID: &str = "amzn1.ask.skill.00000000-0000-4000-8000-00000000a11a";

#[tokio::test]
async fn the_binary_refuses_to_start_without_base_url() {
    for env in [
        &[][..],
        &[("BASE_URL", " ")][..],
        // Even where Lambda started it.
        &[
            ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9"),
            ("AWS_LAMBDA_FUNCTION_NAME", "ha-relay"),
            ("AWS_LAMBDA_FUNCTION_VERSION", "1"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ][..],
    ] {
        let out = output(binary(&[], env)).await;
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{env:?}: {stderr}");
        assert!(
            stderr.contains("ha-relay: cannot start: BASE_URL is not set"),
            "{env:?}: {stderr}"
        );
    }
    let out = output(binary(
        &[],
        &[("BASE_URL", "https://ha.example.com"), ("DEBUG", "maybe")],
    ))
    .await;
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("DEBUG=\"maybe\""),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test]
async fn the_binary_relays_a_request_file_with_the_fallback_token_over_self_signed_tls() {
    // The fallback token is a debugging aid: used with DEBUG on only.
    let ha = fake_ha_tls(Behaviour::Answer(200, HA_ANSWER)).await;
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/activate-scene.json");
    let token = secret_token("BINARYFALLBACK");
    let out = output(binary(
        &["--invoke", file.to_str().unwrap()],
        &[
            ("BASE_URL", &format!("{}/", ha.base_url)),
            ("ALEXA_SKILL_ID", FILE_SKILL_ID),
            ("NOT_VERIFY_SSL", "true"),
            ("DEBUG", "true"),
            ("LONG_LIVED_ACCESS_TOKEN", &token),
        ],
    ))
    .await;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_eq!(serde_json::from_str::<Value>(&stdout).unwrap(), ha_answer());
    let seen = ha.only_request();
    assert_eq!(seen.authorization, Some(format!("Bearer {token}")));
    assert_eq!(seen.body, std::fs::read(&file).unwrap());
    for warning in [
        "NOT_VERIFY_SSL is set",
        "LONG_LIVED_ACCESS_TOKEN is set and DEBUG is on",
    ] {
        assert!(stderr.contains(warning), "no {warning:?} in\n{stderr}");
    }
    assert!(!stderr.contains(&token), "{stderr}");
}

/// A fake Lambda runtime API: hands out `events` in order from `GET .../invocation/next` (and
/// then holds the next poll forever), and reports each `POST .../response` or `.../error`.
struct FakeRuntime {
    addr: SocketAddr,
    answers: mpsc::UnboundedReceiver<(String, String, Vec<u8>)>,
    task: JoinHandle<()>,
}

impl Drop for FakeRuntime {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Clone)]
struct RuntimeState {
    events: Arc<Mutex<VecDeque<(String, String)>>>,
    answers: mpsc::UnboundedSender<(String, String, Vec<u8>)>,
}

async fn runtime_handler(
    State(state): State<RuntimeState>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    let path = uri.path();
    if method == Method::GET && path == "/2018-06-01/runtime/invocation/next" {
        let next = state.events.lock().unwrap().pop_front();
        let Some((id, event)) = next else {
            return std::future::pending().await;
        };
        let deadline = SystemTime::now() + Duration::from_secs(60);
        let deadline_ms = deadline.duration_since(UNIX_EPOCH).unwrap().as_millis();
        return (
            StatusCode::OK,
            [
                ("content-type", "application/json".to_owned()),
                ("lambda-runtime-aws-request-id", id),
                ("lambda-runtime-deadline-ms", deadline_ms.to_string()),
                (
                    "lambda-runtime-invoked-function-arn",
                    "arn:aws:lambda:us-east-1:123456789012:function:ha-relay".to_owned(),
                ),
                (
                    "lambda-runtime-trace-id",
                    "Root=1-00000000-000000000000000000000000".to_owned(),
                ),
            ],
            event,
        )
            .into_response();
    }
    if method == Method::POST {
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let (id, kind) = match parts.as_slice() {
            ["2018-06-01", "runtime", "invocation", id, kind] => {
                ((*id).to_owned(), (*kind).to_owned())
            }
            _ => ("init".to_owned(), path.to_owned()),
        };
        let _ = state.answers.send((id, kind, body.to_vec()));
        return StatusCode::ACCEPTED.into_response();
    }
    StatusCode::NOT_FOUND.into_response()
}

async fn fake_runtime(events: Vec<(String, String)>) -> FakeRuntime {
    let (tx, answers) = mpsc::unbounded_channel();
    let state = RuntimeState {
        events: Arc::new(Mutex::new(events.into())),
        answers: tx,
    };
    let router = Router::new().fallback(runtime_handler).with_state(state);
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    FakeRuntime {
        addr,
        answers,
        task,
    }
}

/// What the fake runtime API received for one invocation: its ID, `response` or `error`, the
/// body.
type Answer = (String, String, Vec<u8>);

/// Runs the binary as Lambda starts a bootstrap (no arguments, Lambda's variables and `env`)
/// against a fake runtime API handing out `events`, until each is answered; returns the answers
/// and everything the binary logged.
async fn serve_events(
    events: Vec<(String, String)>,
    env: &[(&str, &str)],
) -> (Vec<Answer>, String) {
    let count = events.len();
    let mut runtime = fake_runtime(events).await;
    let log_path = std::env::temp_dir().join(format!("ha-relay-lambda-{}.log", unique()));
    let log_file = std::fs::File::create(&log_path).unwrap();
    let runtime_api = runtime.addr.to_string();
    let mut vars = vec![
        ("AWS_LAMBDA_RUNTIME_API", runtime_api.as_str()),
        ("AWS_LAMBDA_FUNCTION_NAME", "ha-relay"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
    ];
    vars.extend_from_slice(env);
    let mut child = binary(&[], &vars)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log_file)
        .spawn()
        .unwrap();
    let mut answers = Vec::new();
    for _ in 0..count {
        let answer = within("the runtime API", runtime.answers.recv()).await;
        answers.push(answer.unwrap());
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let stderr = std::fs::read_to_string(&log_path).unwrap();
    let _ = std::fs::remove_file(&log_path);
    (answers, stderr)
}

#[tokio::test]
async fn the_binary_serves_lambda_through_the_runtime_api_and_logs_no_secret_at_trace() {
    let ha = fake_ha(Behaviour::Answer(200, HA_ANSWER)).await;
    let token = secret_token("LAMBDA");
    let linked = linked_request(&token);
    let unlinked = request("LaunchRequest", None, None);
    let (answers, stderr) = serve_events(
        vec![
            ("invocation-1".to_owned(), linked.clone()),
            ("invocation-2".to_owned(), unlinked),
        ],
        &[
            ("BASE_URL", ha.base_url.as_str()),
            ("ALEXA_SKILL_ID", SKILL_ID),
            ("DEBUG", "1"),
            // Everything on, lambda_runtime's own TRACE lines included.
            ("RUST_LOG", "trace"),
        ],
    )
    .await;
    let (id, kind, body) = &answers[0];
    assert_eq!(
        (id.as_str(), kind.as_str()),
        ("invocation-1", "response"),
        "{stderr}"
    );
    assert_eq!(serde_json::from_slice::<Value>(body).unwrap(), ha_answer());
    let seen = ha.only_request();
    assert_eq!(seen.authorization, Some(format!("Bearer {token}")));
    // The event's JSON text exactly: key order, spacing, escapes and number text kept. Only the
    // whitespace after the value (a trailing newline here) is not part of the JSON value
    // lambda_runtime hands over.
    assert_eq!(
        String::from_utf8(seen.body).unwrap(),
        linked.trim_end(),
        "the event's exact text, through the Lambda front"
    );

    let (id, kind, body) = &answers[1];
    assert_eq!(
        (id.as_str(), kind.as_str()),
        ("invocation-2", "response"),
        "{stderr}"
    );
    assert_says(
        &serde_json::from_slice(body).unwrap(),
        LINK_ACCOUNT_SPEECH,
        true,
    );

    assert!(
        stderr.contains("TRACE"),
        "RUST_LOG=trace was in effect:\n{stderr}"
    );
    assert!(
        stderr.contains("relaying the request to Home Assistant"),
        "debug lines:\n{stderr}"
    );
    assert!(
        !stderr.contains(SECRET),
        "a token, ID or request body in the binary's logs:\n{stderr}"
    );
}

#[tokio::test]
async fn a_request_for_another_skill_fails_the_invocation_and_reaches_nothing() {
    let ha = fake_ha(Behaviour::Answer(200, HA_ANSWER)).await;
    let token = secret_token("OTHERSKILL");
    let ours = linked_request(&token);
    let theirs = ours.replace(SKILL_ID, "amzn1.ask.skill.THEIRS");
    let (answers, stderr) = serve_events(
        vec![
            ("theirs".to_owned(), theirs),
            ("ours".to_owned(), ours.clone()),
        ],
        &[
            ("BASE_URL", ha.base_url.as_str()),
            ("ALEXA_SKILL_ID", SKILL_ID),
        ],
    )
    .await;
    let (id, kind, body) = &answers[0];
    assert_eq!(
        (id.as_str(), kind.as_str()),
        ("theirs", "error"),
        "{stderr}"
    );
    let error: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(error["errorType"], "Refused::other_skill", "{error}");
    assert!(
        !error.to_string().contains("amzn1"),
        "no ID in what goes back: {error}"
    );
    let (id, kind, body) = &answers[1];
    assert_eq!(
        (id.as_str(), kind.as_str()),
        ("ours", "response"),
        "{stderr}"
    );
    assert_eq!(serde_json::from_slice::<Value>(body).unwrap(), ha_answer());
    let seen = ha.only_request();
    assert_eq!(
        seen.body,
        ours.trim_end().as_bytes(),
        "only our skill's request"
    );
    assert!(
        stderr.contains("request refused, nothing relayed: it is not for this skill"),
        "{stderr}"
    );
    assert!(!stderr.contains(SECRET), "{stderr}");
}

#[tokio::test]
async fn no_rust_log_directive_brings_back_lambda_runtimes_raw_event_line() {
    // lambda_runtime logs each raw event at TRACE (target lambda_runtime::layers::api_response)
    // inside its "Lambda runtime invoke" span, which has a requestId field. Per tracing-subscriber's
    // EnvFilter, a span directive enables every event inside a matching span whatever the target
    // directives say; so does a plain target directive naming the raw-event target.
    let ha = fake_ha(Behaviour::Answer(200, HA_ANSWER)).await;
    for rust_log in [
        "[{requestId}]=trace",
        "[Lambda runtime invoke]=trace",
        "lambda_runtime::layers::api_response=trace",
        "trace,lambda_runtime=trace",
    ] {
        let token = secret_token("SPANDIRECTIVE");
        let (answers, stderr) = serve_events(
            vec![("invocation-1".to_owned(), linked_request(&token))],
            &[
                ("BASE_URL", ha.base_url.as_str()),
                ("ALEXA_SKILL_ID", SKILL_ID),
                ("RUST_LOG", rust_log),
            ],
        )
        .await;
        assert_eq!(answers[0].1, "response", "{rust_log}: {stderr}");
        assert!(
            !stderr.contains("raw JSON event"),
            "RUST_LOG={rust_log} brought back the raw event line:\n{stderr}"
        );
        assert!(
            !stderr.contains(SECRET),
            "RUST_LOG={rust_log}: a token, ID or request body in the logs:\n{stderr}"
        );
    }
}
