//! Progressive responses against a loopback directive service.
#![cfg(feature = "progressive")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Value, json};
use skill_builder::{HandlerError, SkillBuilder, Turn};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// One HTTP/1.1 request read off a socket: its head and body.
async fn read_request(socket: &mut tokio::net::TcpStream) -> (String, Vec<u8>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = socket.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed before the request ended");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let n = socket.read(&mut chunk).await.unwrap();
        body.extend_from_slice(&chunk[..n]);
    }
    (head, body)
}

#[tokio::test]
async fn a_progressive_response_reaches_the_directive_service_with_the_requests_token() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let (head, body) = read_request(&mut socket).await;
        socket
            .write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
            .await
            .unwrap();
        (head, body)
    });

    let skill = SkillBuilder::new()
        .skip_skill_id_check_for_local_testing()
        .on_launch(|turn: Turn| async move {
            turn.send_progressive_response("One moment.").await?;
            Ok::<_, HandlerError>(turn.speak("Done."))
        })
        .build()
        .unwrap();
    let request = json!({
        "version": "1.0",
        "context": {"System": {
            "user": {"userId": "amzn1.ask.account.A"},
            "apiEndpoint": endpoint,
            "apiAccessToken": "api-token-123"
        }},
        "request": {"type": "LaunchRequest", "requestId": "amzn1.echo-api.request.R1"}
    });
    let out = skill.invoke_value(request).await.unwrap();
    assert_eq!(out.response.output_speech.unwrap().content(), "Done.");

    let (head, body) = server.await.unwrap();
    assert!(head.starts_with("POST /v1/directives HTTP/1.1"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("authorization: bearer api-token-123"),
        "{head}"
    );
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        body,
        json!({
            "header": {"requestId": "amzn1.echo-api.request.R1"},
            "directive": {"type": "VoicePlayer.Speak", "speech": "<speak>One moment.</speak>"}
        })
    );
}

#[tokio::test]
async fn a_refused_or_impossible_progressive_response_is_an_error_the_handler_sees() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let _ = read_request(&mut socket).await;
        socket
            .write_all(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n")
            .await
            .unwrap();
    });
    let skill = SkillBuilder::new()
        .skip_skill_id_check_for_local_testing()
        .on_launch(|turn: Turn| async move {
            let said = match turn.send_progressive_response("One moment.").await {
                Ok(()) => "sent".to_owned(),
                Err(e) => format!("not sent: {e}"),
            };
            Ok::<_, HandlerError>(turn.speak(said))
        })
        .build()
        .unwrap();
    let with = |endpoint: Value, token: Value| {
        json!({
            "version": "1.0",
            "context": {"System": {"apiEndpoint": endpoint, "apiAccessToken": token}},
            "request": {"type": "LaunchRequest", "requestId": "r"}
        })
    };
    let speech = |out: skill_builder::ResponseEnvelope| {
        out.response.output_speech.unwrap().content().to_owned()
    };
    let refused = speech(
        skill
            .invoke_value(with(json!(endpoint), json!("t")))
            .await
            .unwrap(),
    );
    assert!(refused.contains("403"), "{refused}");
    let no_token = speech(
        skill
            .invoke_value(with(json!(endpoint), Value::Null))
            .await
            .unwrap(),
    );
    assert!(no_token.contains("apiAccessToken"), "{no_token}");
    let plain_http = speech(
        skill
            .invoke_value(with(json!("http://api.amazonalexa.com"), json!("t")))
            .await
            .unwrap(),
    );
    assert!(
        plain_http.contains("https"),
        "the token never goes out in clear: {plain_http}"
    );
}
