//! A real SIGTERM to this test process while a slow turn is in flight: `serve_on` stops
//! accepting, lets the turn finish and its save land, and returns. Alone in its test binary, so
//! that the signal reaches no other test.
#![cfg(all(feature = "http", unix))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod http_common;

use std::sync::Arc;
use std::time::Duration;

use http_common::{counter_skill, envelope, read_answer, request_head, saved_count};
use skill_builder::MemoryAdapter;
use skill_builder::http::HttpFront;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

const USER: &str = "amzn1.ask.account.SIGTERMTESTUSER";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_turn_in_flight_finish_and_save_then_the_server_returns() {
    let store = Arc::new(MemoryAdapter::new());
    let front = HttpFront::new(counter_skill(store.clone(), Duration::from_millis(1500)))
        .skip_verification_for_local_development();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(front.serve_on(listener));

    let body = envelope(USER, "LaunchRequest");
    let mut in_flight = TcpStream::connect(addr).await.unwrap();
    in_flight
        .write_all(format!("{}{body}", request_head(addr, body.len(), &[])).as_bytes())
        .await
        .unwrap();
    // The server has been polled (it accepted us) and the turn is running.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let status = std::process::Command::new("kill")
        .args(["-TERM", &std::process::id().to_string()])
        .status()
        .expect("kill(1) runs");
    assert!(status.success());

    let answer = read_answer(&mut in_flight)
        .await
        .expect("the turn's answer");
    assert_eq!(answer.status, 200, "{answer:?}");
    assert!(answer.body.contains("count 1"), "{answer:?}");
    tokio::time::timeout(Duration::from_secs(15), server)
        .await
        .expect("serve_on returned after SIGTERM")
        .unwrap()
        .unwrap();
    assert_eq!(saved_count(store.as_ref(), USER).await, 1);
    assert!(TcpStream::connect(addr).await.is_err(), "still listening");
}
