//! The Home Assistant relay against a fake Home Assistant on 127.0.0.1 started by each test:
//! what it forwards (the request's exact bytes, the user's or the fallback token), what it
//! returns, and the spoken answer for every way Home Assistant can fail. No log line ever holds
//! a token, user ID or request body.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers

mod common;

use std::time::Duration;

use axum::http::Method;
use common::*;
use ha_relay::{
    FAILED_SPEECH, LINK_ACCOUNT_SPEECH, MAX_RESPONSE_BYTES, RELINK_ACCOUNT_SPEECH, RelayConfig,
    UNREACHABLE_SPEECH,
};
use serde_json::json;

// ------------------------------------------------------------------------------------------
// Forwarding.

#[tokio::test]
async fn a_linked_users_request_is_forwarded_byte_for_byte_and_the_answer_returned() {
    let ha = fake_ha(Behaviour::Answer(200, HA_ANSWER)).await;
    // A trailing slash on BASE_URL is tolerated.
    let relay = relay(&format!("{}/", ha.base_url));
    let token = secret_token("LINKED");
    let request = linked_request(&token);

    let answer = relay.handle(&request).await.unwrap();

    assert_eq!(answer, ha_answer(), "Home Assistant's answer, as it came");
    let seen = ha.only_request();
    assert_eq!(seen.method, Method::POST);
    assert_eq!(seen.path, "/api/alexa");
    assert_eq!(
        seen.authorization.as_deref(),
        Some(format!("Bearer {token}").as_str())
    );
    assert_eq!(seen.content_type.as_deref(), Some("application/json"));
    assert_eq!(
        String::from_utf8(seen.body).unwrap(),
        request,
        "the body must be the request's exact bytes"
    );
}

#[tokio::test]
async fn the_session_token_is_used_when_the_context_has_none() {
    let ha = fake_ha(Behaviour::Answer(200, HA_ANSWER)).await;
    let relay = relay(&ha.base_url);
    let token = secret_token("SESSION");
    let request = request("LaunchRequest", None, Some(&token));
    assert_eq!(relay.handle(&request).await.unwrap(), ha_answer());
    let seen = ha.only_request();
    assert_eq!(seen.authorization, Some(format!("Bearer {token}")));
    assert_eq!(seen.body, request.as_bytes());
}

#[tokio::test]
async fn the_fallback_token_is_used_only_when_the_request_has_none() {
    let ha = fake_ha(Behaviour::Answer(200, HA_ANSWER)).await;
    let fallback = secret_token("FALLBACK");
    let relay = relay_with(debug_config_with_fallback(&ha.base_url, &fallback));
    let unlinked = request("IntentRequest", None, None);
    assert_eq!(relay.handle(&unlinked).await.unwrap(), ha_answer());
    let user_token = secret_token("USERWINS");
    assert_eq!(
        relay.handle(&linked_request(&user_token)).await.unwrap(),
        ha_answer()
    );

    let seen = ha.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].authorization, Some(format!("Bearer {fallback}")));
    assert_eq!(seen[0].body, unlinked.as_bytes());
    assert_eq!(
        seen[1].authorization,
        Some(format!("Bearer {user_token}")),
        "the user's own token wins over the fallback"
    );
}

#[tokio::test]
async fn without_a_token_the_user_is_asked_to_link_the_account() {
    let ha = fake_ha(Behaviour::Answer(200, HA_ANSWER)).await;
    let relay = relay(&ha.base_url);
    let answer = relay
        .handle(&request("IntentRequest", None, None))
        .await
        .unwrap();
    assert_says(&answer, LINK_ACCOUNT_SPEECH, true);
    assert!(ha.seen().is_empty(), "nothing is sent without a token");
}

// ------------------------------------------------------------------------------------------
// Failures: each is a spoken answer that ends the session.

#[tokio::test]
async fn connection_refused_is_an_apology() {
    let relay = relay(&closed_port_url().await);
    let answer = within(
        "refused",
        relay.handle(&linked_request(&secret_token("REFUSED"))),
    )
    .await
    .unwrap();
    assert_says(&answer, UNREACHABLE_SPEECH, false);
}

#[tokio::test]
async fn a_home_assistant_that_does_not_answer_in_time_is_an_apology() {
    // The default budget (6 s, what the Lambda function uses); Home Assistant would take a
    // minute. Only "answered with the apology" is asserted, not how fast.
    let ha = fake_ha(Behaviour::Slow(Duration::from_secs(60))).await;
    let relay = relay(&ha.base_url);
    let answer = within("slow", relay.handle(&linked_request(&secret_token("SLOW"))))
        .await
        .unwrap();
    assert_says(&answer, UNREACHABLE_SPEECH, false);
    assert_eq!(ha.seen().len(), 1, "the request did reach Home Assistant");
}

#[tokio::test]
async fn http_401_asks_to_link_the_account_again() {
    let ha = fake_ha(Behaviour::Answer(401, r#"{"message": "Unauthorized"}"#)).await;
    let relay = relay(&ha.base_url);
    let answer = relay
        .handle(&linked_request(&secret_token("EXPIRED")))
        .await
        .unwrap();
    assert_says(&answer, RELINK_ACCOUNT_SPEECH, true);
}

#[tokio::test]
async fn http_errors_are_apologies() {
    for status in [404, 500, 502, 302] {
        let ha = fake_ha(Behaviour::Answer(status, r#"{"message": "nope"}"#)).await;
        let relay = relay(&ha.base_url);
        let answer = relay
            .handle(&linked_request(&secret_token("STATUS")))
            .await
            .unwrap();
        assert_says(&answer, FAILED_SPEECH, false);
        assert_eq!(
            ha.seen().len(),
            1,
            "HTTP {status}: one request, no retry or redirect"
        );
    }
}

#[tokio::test]
async fn an_answer_that_is_not_a_response_envelope_is_an_apology() {
    for body in [
        "<html><body>Home Assistant</body></html>",
        r#"{"event": {"payload": {"type": "INTERNAL_ERROR"}}}"#,
        r#"{"version": "1.0"}"#,
        "",
    ] {
        let ha = fake_ha(Behaviour::Answer(200, body)).await;
        let relay = relay(&ha.base_url);
        let answer = relay
            .handle(&linked_request(&secret_token("NOTJSON")))
            .await
            .unwrap();
        assert_says(&answer, FAILED_SPEECH, false);
    }
}

#[tokio::test]
async fn an_answer_over_the_size_limit_is_an_apology() {
    let relay_answers = |size| async move {
        let ha = fake_ha(Behaviour::Big(size)).await;
        relay(&ha.base_url)
            .handle(&linked_request(&secret_token("BIG")))
            .await
            .unwrap()
    };
    // At the limit it goes through; one byte more is refused.
    let at_limit = relay_answers(MAX_RESPONSE_BYTES).await;
    assert_eq!(at_limit["version"], "1.0");
    assert_eq!(
        at_limit["padding"].as_str().map(str::len),
        Some(MAX_RESPONSE_BYTES - 49)
    );
    let over = relay_answers(MAX_RESPONSE_BYTES + 1).await;
    assert_says(&over, FAILED_SPEECH, false);
}

#[tokio::test]
async fn a_session_ended_request_gets_an_empty_response_when_relaying_fails() {
    // Alexa speaks nothing after a session ended: no apology, no card.
    let ended = |token: Option<&str>| request("SessionEndedRequest", token, token);
    let relay_to_nowhere = relay(&closed_port_url().await);
    let empty = json!({"version": "1.0", "response": {}});
    assert_eq!(relay_to_nowhere.handle(&ended(None)).await.unwrap(), empty);
    let token = secret_token("ENDED");
    assert_eq!(
        relay_to_nowhere.handle(&ended(Some(&token))).await.unwrap(),
        empty
    );
    // When Home Assistant answers, its answer goes through as usual.
    let ha = fake_ha(Behaviour::Answer(200, HA_ANSWER)).await;
    assert_eq!(
        relay(&ha.base_url)
            .handle(&ended(Some(&token)))
            .await
            .unwrap(),
        ha_answer()
    );
}

#[tokio::test]
async fn a_self_signed_certificate_is_refused_unless_not_verify_ssl() {
    let ha = fake_ha_tls(Behaviour::Answer(200, HA_ANSWER)).await;
    let token = secret_token("TLS");
    let request = linked_request(&token);

    // Verified (the default): the handshake fails, nothing reaches Home Assistant.
    let verifying = relay(&ha.base_url);
    let answer = within("verifying", verifying.handle(&request))
        .await
        .unwrap();
    assert_says(&answer, UNREACHABLE_SPEECH, false);
    assert!(ha.seen().is_empty(), "{:?}", ha.seen());

    // NOT_VERIFY_SSL: accepted, and the relay works as over HTTP.
    let config = RelayConfig::from_lookup(|name| match name {
        "BASE_URL" => Some(ha.base_url.clone()),
        "ALEXA_SKILL_ID" => Some(SKILL_ID.to_owned()),
        "NOT_VERIFY_SSL" => Some("yes".to_owned()),
        _ => None,
    })
    .unwrap();
    let trusting = relay_with(config);
    assert_eq!(
        within("trusting", trusting.handle(&request)).await.unwrap(),
        ha_answer()
    );
    let seen = ha.only_request();
    assert_eq!(seen.authorization, Some(format!("Bearer {token}")));
    assert_eq!(seen.body, request.as_bytes());
    assert!(
        logs().contains("NOT_VERIFY_SSL is set: Home Assistant's TLS certificate is NOT verified"),
        "a warning at start-up"
    );
}

// ------------------------------------------------------------------------------------------
// Logs.

#[tokio::test]
async fn tokens_ids_and_request_bodies_never_reach_the_logs() {
    // Every path once more, here (other tests add their own lines to the same capture).
    let ok = fake_ha(Behaviour::Answer(200, HA_ANSWER)).await;
    let unauthorized = fake_ha(Behaviour::Answer(401, "{}")).await;
    let failing = fake_ha(Behaviour::Answer(500, "{}")).await;
    let fallback = secret_token("LOGFALLBACK");
    for relay in [
        relay(&ok.base_url),
        relay(&unauthorized.base_url),
        relay(&failing.base_url),
        relay(&closed_port_url().await),
        relay_with(debug_config_with_fallback(&ok.base_url, &fallback)),
    ] {
        relay
            .handle(&linked_request(&secret_token("LOG")))
            .await
            .unwrap();
        relay
            .handle(&request("LaunchRequest", None, None))
            .await
            .unwrap();
        relay
            .handle("[\"not an envelope\", \"SECRET\"]")
            .await
            .unwrap();
    }
    let logs = logs();
    for expected in [
        "relaying Alexa requests to Home Assistant",
        "relaying the request to Home Assistant",
        "Home Assistant answered",
        "kind=\"unauthorized\"",
        "HTTP 500",
        "kind=\"unreachable\"",
        "no account-linking token",
        "token_from=\"LONG_LIVED_ACCESS_TOKEN\"",
        "not an Alexa request envelope",
    ] {
        assert!(
            logs.contains(expected),
            "no {expected:?} in the logs:\n{logs}"
        );
    }
    assert!(
        !logs.contains(SECRET),
        "a token, ID or request body in the logs:\n{logs}"
    );
}
