//! The account-linking example through the conversation kit, against a loopback OAuth userinfo
//! endpoint: linked and not linked, the same linked account under two Alexa user IDs (the user
//! disabled and enabled the skill again), an expired token, a provider that is down.
#![cfg(feature = "account-linking")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use skill_builder::{MemoryAdapter, envelope::Request};
use skill_examples::account_linking::{ProfileClient, builder, linked_key};
use skill_testkit::Conversation;

const TOKEN: &str = "Atza|linked-token-for-ada";
const EXPIRED: &str = "Atza|expired-token";

/// A userinfo endpoint on 127.0.0.1 that knows one token, and records the tokens it was given.
async fn provider() -> (String, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let app = Router::new().route(
        "/oauth2/userInfo",
        get(move |headers: HeaderMap| {
            let log = log.clone();
            async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                log.lock().unwrap().push(auth.clone());
                if auth == format!("Bearer {TOKEN}") {
                    (
                        StatusCode::OK,
                        r#"{"sub":"f1e2d3c4-0000-4000-8000-ada","username":"ada","given_name":"Ada","email":"ada@example.com"}"#,
                    )
                        .into_response()
                } else {
                    (StatusCode::UNAUTHORIZED, r#"{"error":"invalid_token"}"#).into_response()
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/oauth2/userInfo", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

#[tokio::test]
async fn a_linked_user_is_greeted_by_name_and_remembered_by_their_linked_account() {
    let (url, seen) = provider().await;
    let store = MemoryAdapter::new();
    let skill = builder(Arc::new(store.clone()), ProfileClient::new(url).unwrap())
        .skip_skill_id_check_for_local_testing()
        .build()
        .unwrap();

    let mut talk = Conversation::new(&skill)
        .user("amzn1.ask.account.FIRSTENABLEMENT")
        .access_token(TOKEN);
    assert_eq!(
        talk.launch().await.unwrap().speech(),
        "Hello Ada! Nice to meet you."
    );
    assert_eq!(
        talk.intent("HelloIntent").send().await.unwrap().speech(),
        "Welcome back, Ada! This is visit 2."
    );
    assert_eq!(seen.lock().unwrap()[0], format!("Bearer {TOKEN}"));

    // Disabled and enabled again: a new Alexa user ID, the same linked account, the same data.
    let mut again = Conversation::new(&skill)
        .user("amzn1.ask.account.SECONDENABLEMENT")
        .access_token(TOKEN);
    assert_eq!(
        again.launch().await.unwrap().speech(),
        "Welcome back, Ada! This is visit 3."
    );
    let key = "linked:f1e2d3c4-0000-4000-8000-ada";
    assert_eq!(store.attributes(key).unwrap()["visits"], 3);
    assert!(
        store
            .attributes("amzn1.ask.account.FIRSTENABLEMENT")
            .is_none()
    );
    assert_eq!(
        linked_key(&skill_examples::account_linking::Profile {
            sub: "x".into(),
            ..Default::default()
        }),
        "linked:x"
    );
}

#[tokio::test]
async fn without_a_linked_account_the_skill_sends_the_link_account_card() {
    let (url, seen) = provider().await;
    let store = MemoryAdapter::new();
    let skill = builder(Arc::new(store.clone()), ProfileClient::new(url).unwrap())
        .skip_skill_id_check_for_local_testing()
        .build()
        .unwrap();
    let mut talk = Conversation::new(&skill).user("amzn1.ask.account.NOTLINKED");
    let turn = talk.launch().await.unwrap();
    assert!(
        turn.speech().contains("link your account"),
        "{}",
        turn.speech()
    );
    assert!(matches!(
        turn.response().response.card,
        Some(skill_builder::response::Card::LinkAccount)
    ));
    assert!(turn.ends_session());
    assert!(seen.lock().unwrap().is_empty(), "no token, no lookup");
    assert!(store.is_empty(), "nothing is stored for an unlinked user");
    // Help says the same.
    let help = talk.intent("AMAZON.HelpIntent").send().await.unwrap();
    assert!(help.speech().contains("link your account"));
}

#[tokio::test]
async fn an_expired_token_asks_to_link_again_and_a_provider_down_is_an_apology() {
    let (url, _) = provider().await;
    let skill = builder(
        Arc::new(MemoryAdapter::new()),
        ProfileClient::new(url).unwrap(),
    )
    .skip_skill_id_check_for_local_testing()
    .build()
    .unwrap();
    let mut talk = Conversation::new(&skill).access_token(EXPIRED);
    let turn = talk.launch().await.unwrap();
    assert!(turn.speech().contains("expired"), "{}", turn.speech());
    assert!(matches!(
        turn.response().response.card,
        Some(skill_builder::response::Card::LinkAccount)
    ));

    // Nothing listens on this port.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead = format!("http://{}/oauth2/userInfo", closed.local_addr().unwrap());
    drop(closed);
    let skill = builder(
        Arc::new(MemoryAdapter::new()),
        ProfileClient::new(dead).unwrap(),
    )
    .skip_skill_id_check_for_local_testing()
    .build()
    .unwrap();
    let mut talk = Conversation::new(&skill).access_token(TOKEN);
    let turn = talk.launch().await.unwrap();
    assert!(
        turn.speech().contains("can't reach your account"),
        "{}",
        turn.speech()
    );
}

#[tokio::test]
async fn the_account_linked_event_is_answered_quietly() {
    let (url, _) = provider().await;
    let skill = builder(
        Arc::new(MemoryAdapter::new()),
        ProfileClient::new(url).unwrap(),
    )
    .skip_skill_id_check_for_local_testing()
    .build()
    .unwrap();
    let mut talk = Conversation::new(&skill).access_token(TOKEN);
    let event = Request::SkillAccountLinked(Default::default());
    let out = talk.send_event(event).await.unwrap();
    assert!(out.response().response.output_speech.is_none());
}
