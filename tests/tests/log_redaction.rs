//! No full user ID, person ID, device ID or access token in any log line or error message:
//! every backend and the skill builder run with all logging on, captured, and searched.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use persistence_core::{Attributes, PersistenceAdapter, PersistenceAdapterExt, SaveMode, Version};
use persistence_dynamodb::DynamoDbAdapter;
use persistence_integration_tests::{dynamodb_adapter, dynamodb_client, s3_adapter};
use persistence_memory::MemoryAdapter;
use serde_json::json;

static LOGS: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct Capture;

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOGS.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures this crate's, the adapters' and the skill builder's logs at TRACE level.
fn capture_logs() {
    static INIT: OnceLock<()> = OnceLock::new();
    INIT.get_or_init(|| {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "persistence_core=trace,persistence_memory=trace,persistence_dynamodb=trace,\
                 persistence_s3=trace,skill_builder=trace,skill_examples=trace",
            ))
            .with_ansi(false)
            .with_writer(|| Capture)
            .init();
    });
}

fn assert_absent(secrets: &[&str], errors: &[String]) {
    let logs = String::from_utf8_lossy(&LOGS.lock().unwrap()).into_owned();
    assert!(
        logs.len() > 200,
        "too little was logged to prove anything:\n{logs}"
    );
    for secret in secrets {
        assert!(
            !logs.contains(secret),
            "`{secret}` appears in the logs:\n{logs}"
        );
        for e in errors {
            assert!(!e.contains(secret), "`{secret}` appears in an error: {e}");
        }
    }
}

fn secret_user(tag: &str) -> String {
    format!("amzn1.ask.account.SECRET{tag}{:016X}ZZZZ", fastrand_u64())
}

fn fastrand_u64() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

/// get, save (new, conflicting, versioned), update, delete, and an invalid key.
async fn exercise(store: &dyn PersistenceAdapter, user: &str) -> Vec<String> {
    let mut errors = Vec::new();
    let mut a = Attributes::new();
    a.insert("n".into(), json!(1));
    store.save(user, &a, SaveMode::Overwrite).await.unwrap();
    store.get(user).await.unwrap();
    for mode in [
        SaveMode::CreateOnly,
        SaveMode::IfVersion(Version::new("12345")),
    ] {
        let e = store.save(user, &a, mode).await.unwrap_err();
        errors.push(format!("{e} {e:?}"));
    }
    store
        .update(user, |attrs| attrs.insert("n".into(), json!(2)))
        .await
        .unwrap();
    let bad = format!("{user}\n");
    let e = store.get(&bad).await.unwrap_err();
    errors.push(format!("{e} {e:?}"));
    store.delete(user).await.unwrap();
    errors
}

#[tokio::test]
async fn adapters_never_log_or_report_a_full_user_id() {
    capture_logs();
    let user = secret_user("ADAPTER");
    let mut errors = exercise(&MemoryAdapter::new(), &user).await;
    if let Some(d) = dynamodb_adapter("redaction").await {
        errors.extend(exercise(&d, &user).await);
        let missing =
            DynamoDbAdapter::builder(dynamodb_client().await.unwrap(), "no-table").build();
        let e = missing.get(&user).await.unwrap_err();
        errors.push(format!("{e} {e:?}"));
    }
    if let Some(s) = s3_adapter("redaction", Some("p")).await {
        errors.extend(exercise(&s, &user).await);
    }
    assert_absent(&[&user], &errors);
}

#[tokio::test]
async fn skills_never_log_ids_or_tokens() {
    capture_logs();
    let user = secret_user("SKILL");
    let person = format!("amzn1.ask.person.SECRETPERSON{:016X}", fastrand_u64());
    let device = format!("amzn1.ask.device.SECRETDEVICE{:016X}", fastrand_u64());
    let token = format!("Atza|SECRETACCESSTOKEN{:016X}", fastrand_u64());
    let api_token = format!("eyJSECRETAPITOKEN{:016X}", fastrand_u64());
    let store: Arc<dyn PersistenceAdapter> = match dynamodb_adapter("redaction-skill").await {
        Some(d) => Arc::new(d),
        None => Arc::new(MemoryAdapter::new()),
    };
    const APP: &str = "amzn1.ask.skill.cafe-redaction";
    let skill = skill_examples::cafe::builder(store)
        .with_skill_id(APP)
        .build()
        .unwrap();
    let envelope = |request: serde_json::Value| {
        json!({
            "version": "1.0",
            "session": {"new": true, "sessionId": "amzn1.echo-api.session.S",
                        "application": {"applicationId": APP},
                        "user": {"userId": user, "accessToken": token}},
            "context": {"System": {
                "application": {"applicationId": APP},
                "user": {"userId": user, "accessToken": token},
                "person": {"personId": person, "accessToken": token},
                "device": {"deviceId": device, "supportedInterfaces": {}},
                "apiEndpoint": "https://api.amazonalexa.com", "apiAccessToken": api_token}},
            "request": request
        })
    };
    let mut errors = Vec::new();
    for request in [
        json!({"type": "LaunchRequest", "requestId": "r1", "locale": "en-US"}),
        json!({"type": "IntentRequest", "requestId": "r2", "locale": "en-US",
               "intent": {"name": "OrderIntent", "slots": {"drink": {"name": "drink", "value": "coffee"}}}}),
        json!({"type": "IntentRequest", "requestId": "r3", "locale": "en-US",
               "intent": {"name": "NoSuchIntent"}}),
        json!({"type": "SessionEndedRequest", "requestId": "r4", "reason": "USER_INITIATED"}),
    ] {
        match skill.invoke_value(envelope(request)).await {
            Ok(r) => drop(r),
            Err(e) => errors.push(format!("{e} {e:?}")),
        }
    }
    // A request for another skill is refused; its error and log must not leak either.
    let mut other = envelope(json!({"type": "LaunchRequest", "requestId": "r5"}));
    other["context"]["System"]["application"]["applicationId"] = json!("amzn1.ask.skill.other");
    if let Err(e) = skill.invoke_value(other).await {
        errors.push(format!("{e} {e:?}"));
    }
    // The envelope's Debug form is what ends up in logs most easily.
    let parsed: skill_builder::RequestEnvelope = serde_json::from_value(envelope(
        json!({"type": "LaunchRequest", "requestId": "r6"}),
    ))
    .unwrap();
    errors.push(format!("{parsed:?}"));
    assert_absent(&[&user, &person, &device, &token, &api_token], &errors);
}
