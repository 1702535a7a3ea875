//! The HTTP front's limits against misbehaving clients on loopback: slow headers, slow bodies,
//! oversized bodies, too many connections, and a graceful shutdown with a turn in flight.
//! Limits are set small here so the tests are quick; the time bounds asserted are generous
//! (they only prove that a connection does not stay open for ever).
#![cfg(feature = "http")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod http_common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use http_common::{
    closed_within, counter_skill, envelope, post, read_answer, request_head, saved_count, start,
};
use skill_builder::MemoryAdapter;
use skill_builder::http::{DEFAULT_MAX_BODY_BYTES, HttpFront};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const USER: &str = "amzn1.ask.account.HTTPLIMITSTESTUSER";
/// How long a connection may stay open past its limit before the test fails: far above every
/// limit set here.
const CANNOT_HANG: Duration = Duration::from_secs(15);

fn front(turn_delay: Duration) -> (HttpFront, Arc<MemoryAdapter>) {
    let store = Arc::new(MemoryAdapter::new());
    let skill = counter_skill(store.clone(), turn_delay);
    (
        HttpFront::new(skill).skip_verification_for_local_development(),
        store,
    )
}

#[tokio::test]
async fn a_client_trickling_its_headers_is_disconnected_by_the_header_timeout() {
    let (front, _) = front(Duration::ZERO);
    let (addr, _stop, _server) =
        start(front.with_header_read_timeout(Duration::from_millis(500))).await;

    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    // One byte every 100 ms: each arrives well within any per-read timeout, the head never ends.
    let trickle = tokio::spawn(async move {
        write
            .write_all(b"POST / HTTP/1.1\r\nHost: x\r\n")
            .await
            .ok();
        for byte in b"X-Slow: ".iter().cycle().take(1000) {
            if write.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let mut sink = [0u8; 1024];
    let started = Instant::now();
    let closed = tokio::time::timeout(CANNOT_HANG, async {
        use tokio::io::AsyncReadExt;
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
        "a slowloris client was still connected after {CANNOT_HANG:?}"
    );
    println!(
        "slowloris client disconnected after {:?}",
        started.elapsed()
    );

    // A connection that sends nothing, and one kept alive after a request, go the same way.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    let took = closed_within(&mut idle, CANNOT_HANG).await;
    assert!(took.is_some(), "an idle connection stayed open");
    let mut kept_alive = TcpStream::connect(addr).await.unwrap();
    let body = envelope(USER, "LaunchRequest");
    kept_alive
        .write_all(format!("{}{body}", request_head(addr, body.len(), &[])).as_bytes())
        .await
        .unwrap();
    let answer = read_answer(&mut kept_alive).await.unwrap();
    assert_eq!(answer.status, 200, "{answer:?}");
    assert!(closed_within(&mut kept_alive, CANNOT_HANG).await.is_some());
}

#[tokio::test]
async fn a_client_pausing_in_its_body_gets_408_and_is_disconnected() {
    let (front, store) = front(Duration::ZERO);
    let front = front
        .with_body_read_timeout(Duration::from_millis(500))
        .with_request_timeout(Duration::from_secs(60));
    let (addr, _stop, _server) = start(front).await;

    let body = envelope(USER, "LaunchRequest");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(request_head(addr, body.len(), &[]).as_bytes())
        .await
        .unwrap();
    stream.write_all(&body.as_bytes()[..10]).await.unwrap();
    // ... and nothing more.
    let started = Instant::now();
    let answer = tokio::time::timeout(CANNOT_HANG, read_answer(&mut stream))
        .await
        .expect("the body timeout should have fired")
        .expect("an answer");
    assert_eq!(answer.status, 408, "{answer:?}");
    assert!(
        answer
            .head
            .to_ascii_lowercase()
            .contains("connection: close"),
        "{answer:?}"
    );
    assert!(closed_within(&mut stream, CANNOT_HANG).await.is_some());
    println!("stalled body answered 408 after {:?}", started.elapsed());
    assert_eq!(saved_count(store.as_ref(), USER).await, 0, "no turn ran");
}

#[tokio::test]
async fn a_body_trickled_just_fast_enough_is_still_bounded_by_the_request_timeout() {
    let (front, store) = front(Duration::ZERO);
    let front = front
        .with_body_read_timeout(Duration::from_secs(2))
        .with_request_timeout(Duration::from_millis(1500));
    let (addr, _stop, _server) = start(front).await;

    let body = envelope(USER, "LaunchRequest");
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let head = request_head(addr, body.len(), &[]);
    let trickle = tokio::spawn(async move {
        write.write_all(head.as_bytes()).await.ok();
        for byte in body.as_bytes() {
            if write.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let started = Instant::now();
    let answer = tokio::time::timeout(CANNOT_HANG, async {
        use tokio::io::AsyncReadExt;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 1024];
        loop {
            match read.read(&mut chunk).await {
                Ok(0) | Err(_) => return buf,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await
    .expect("the request timeout should have ended the connection");
    trickle.abort();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    println!("trickled body ended after {:?}", started.elapsed());
    assert_eq!(saved_count(store.as_ref(), USER).await, 0);
}

#[tokio::test]
async fn an_oversized_body_gets_413_without_being_read_whole() {
    let (front, store) = front(Duration::ZERO);
    let (addr, _stop, _server) = start(front).await;

    // Declared too large: answered before the body is sent.
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(request_head(addr, 50_000_000, &[]).as_bytes())
        .await
        .unwrap();
    stream.write_all(&[b' '; 1024]).await.unwrap();
    let answer = tokio::time::timeout(CANNOT_HANG, read_answer(&mut stream))
        .await
        .expect("413 should come at once")
        .expect("an answer");
    assert_eq!(answer.status, 413, "{answer:?}");
    assert!(closed_within(&mut stream, CANNOT_HANG).await.is_some());

    // Chunked, no length: the server stops reading past the cap and answers 413, while the
    // client still has most of its 64 MiB to send.
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let sender = tokio::spawn(async move {
        let head = format!(
            "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Transfer-Encoding: chunked\r\n\r\n"
        );
        write.write_all(head.as_bytes()).await.ok();
        let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, " ".repeat(64 * 1024));
        let mut sent = 0usize;
        while sent < 64 * 1024 * 1024 {
            if write.write_all(chunk.as_bytes()).await.is_err() {
                break;
            }
            sent += 64 * 1024;
        }
        sent
    });
    let answer = tokio::time::timeout(CANNOT_HANG, async {
        use tokio::io::AsyncReadExt;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 1024];
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
            match read.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        String::from_utf8_lossy(&buf).into_owned()
    })
    .await
    .expect("413 should come once the cap is passed");
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    drop(read);
    let sent = tokio::time::timeout(CANNOT_HANG, sender)
        .await
        .expect("the server should have stopped reading")
        .unwrap();
    println!("chunked body: 413 after the client could send {sent} bytes");
    assert!(sent < 64 * 1024 * 1024, "the whole body was read: {sent}");

    // Twice the cap, sent whole with its length: refused all the same.
    let body = envelope(USER, "LaunchRequest");
    let twice = format!("{body}{}", " ".repeat(2 * DEFAULT_MAX_BODY_BYTES));
    let answer = post(addr, &[], &twice).await;
    assert_eq!(answer.status, 413, "{answer:?}");
    assert_eq!(saved_count(store.as_ref(), USER).await, 0);

    // Just under the cap: accepted.
    let body = envelope(USER, "LaunchRequest");
    let padded = format!(
        "{body}{}",
        " ".repeat(DEFAULT_MAX_BODY_BYTES - body.len() - 1)
    );
    let answer = post(addr, &[], &padded).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(saved_count(store.as_ref(), USER).await, 1);
}

#[tokio::test]
async fn connections_beyond_the_limit_wait_until_one_closes() {
    let (front, store) = front(Duration::ZERO);
    let front = front
        .with_max_connections(2)
        .with_header_read_timeout(Duration::from_secs(60));
    let (addr, _stop, _server) = start(front).await;

    let first = TcpStream::connect(addr).await.unwrap();
    let _second = TcpStream::connect(addr).await.unwrap();
    // The third connects (the kernel's backlog accepts it) but is not served...
    let body = envelope(USER, "LaunchRequest");
    let mut third = TcpStream::connect(addr).await.unwrap();
    third
        .write_all(format!("{}{body}", request_head(addr, body.len(), &[])).as_bytes())
        .await
        .unwrap();
    let early = tokio::time::timeout(Duration::from_millis(700), read_answer(&mut third)).await;
    assert!(early.is_err(), "served beyond the limit: {early:?}");
    assert_eq!(saved_count(store.as_ref(), USER).await, 0);
    // ... until a slot frees.
    drop(first);
    let answer = tokio::time::timeout(CANNOT_HANG, read_answer(&mut third))
        .await
        .expect("served once a connection closed")
        .expect("an answer");
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(saved_count(store.as_ref(), USER).await, 1);
}

#[tokio::test]
async fn a_graceful_shutdown_lets_a_slow_turn_finish_and_its_save_land() {
    let (front, store) = front(Duration::from_millis(1500));
    let (addr, stop, server) = start(front).await;

    let body = envelope(USER, "LaunchRequest");
    let mut in_flight = TcpStream::connect(addr).await.unwrap();
    in_flight
        .write_all(format!("{}{body}", request_head(addr, body.len(), &[])).as_bytes())
        .await
        .unwrap();
    let mut idle = TcpStream::connect(addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await; // the turn is running
    let stopping = Instant::now();
    stop.send(()).unwrap();

    // New connections are refused once the listener is closed.
    let refused = tokio::time::timeout(CANNOT_HANG, async {
        loop {
            if TcpStream::connect(addr).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(refused.is_ok(), "still accepting after shutdown");
    // The idle connection is closed at once, the turn in flight answers...
    assert!(closed_within(&mut idle, CANNOT_HANG).await.is_some());
    let answer = read_answer(&mut in_flight)
        .await
        .expect("the turn's answer");
    assert_eq!(answer.status, 200, "{answer:?}");
    assert!(answer.body.contains("count 1"), "{answer:?}");
    // ... its save landed, and the server returned.
    tokio::time::timeout(CANNOT_HANG, server)
        .await
        .expect("the server returned")
        .unwrap()
        .unwrap();
    println!("shut down {:?} after the signal", stopping.elapsed());
    assert_eq!(saved_count(store.as_ref(), USER).await, 1);
}

#[tokio::test]
async fn a_shutdown_waits_no_longer_than_its_grace_period() {
    let (front, store) = front(Duration::from_secs(30));
    let front = front
        .with_shutdown_grace_period(Duration::from_millis(500))
        .with_request_timeout(Duration::from_secs(60));
    let (addr, stop, server) = start(front).await;
    let body = envelope(USER, "LaunchRequest");
    let mut in_flight = TcpStream::connect(addr).await.unwrap();
    in_flight
        .write_all(format!("{}{body}", request_head(addr, body.len(), &[])).as_bytes())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stopping = Instant::now();
    stop.send(()).unwrap();
    tokio::time::timeout(CANNOT_HANG, server)
        .await
        .expect("the server returned after its grace period")
        .unwrap()
        .unwrap();
    println!(
        "gave up on a 30 s turn {:?} after the signal",
        stopping.elapsed()
    );
    assert!(
        read_answer(&mut in_flight).await.is_none(),
        "closed unanswered"
    );
    assert_eq!(saved_count(store.as_ref(), USER).await, 0);
}
