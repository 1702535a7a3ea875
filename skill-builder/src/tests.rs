//! Unit tests of the dispatch, the attributes manager and the envelopes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use persistence_core::{
    Attributes, DeviceIdKey, Error, KeyGenerator, KeySource, ListOptions, Pages,
    PersistenceAdapter, PersonIdKey, Result as PResult, SaveMode, SaveOptions, Stored, Version,
    async_trait,
};
use persistence_memory::MemoryAdapter;
use serde_json::{Value, json};

use crate::envelope::{
    ConfirmationStatus, DialogState, Request, RequestEnvelope, SessionEndedReason,
};
use crate::testkit::Conversation;
use crate::{
    HandlerInput, HandlerResult, RequestHandler, SkillBuilder, SkillError, is_intent_name,
    is_request_type,
};

const LAUNCH: &str = include_str!("../tests/data/launch_request.json");
const INTENT: &str = include_str!("../tests/data/intent_request.json");
const SESSION_ENDED: &str = include_str!("../tests/data/session_ended_request.json");
const APL_EVENT: &str = include_str!("../tests/data/apl_user_event.json");
const SKILL_ID: &str = "amzn1.ask.skill.0f2b6a1e-7c59-4a7e-9a8e-0c3f5c2d9b11";
const USER_ID: &str =
    "amzn1.ask.account.AHZ3XJ4FQK2L7NMRT5VW6YB8CD9EFG0HIJKLMNOPQRSTUVWXYZ1234567890ABCDEFGH";

/// A memory store that counts the calls made to it.
#[derive(Debug, Default)]
struct Counting {
    inner: MemoryAdapter,
    gets: AtomicUsize,
    saves: AtomicUsize,
    deletes: AtomicUsize,
    modes: Mutex<Vec<SaveMode>>,
}

impl Counting {
    fn gets(&self) -> usize {
        self.gets.load(Ordering::SeqCst)
    }
    fn saves(&self) -> usize {
        self.saves.load(Ordering::SeqCst)
    }
    fn modes(&self) -> Vec<SaveMode> {
        self.modes.lock().unwrap().clone()
    }
}

#[async_trait]
impl PersistenceAdapter for Counting {
    async fn get(&self, key: &str) -> PResult<Option<Stored>> {
        self.gets.fetch_add(1, Ordering::SeqCst);
        self.inner.get(key).await
    }
    async fn save_with(
        &self,
        key: &str,
        attributes: &Attributes,
        options: &SaveOptions,
    ) -> PResult<Version> {
        self.saves.fetch_add(1, Ordering::SeqCst);
        self.modes.lock().unwrap().push(options.mode.clone());
        self.inner.save_with(key, attributes, options).await
    }
    async fn delete(&self, key: &str) -> PResult<()> {
        self.deletes.fetch_add(1, Ordering::SeqCst);
        self.inner.delete(key).await
    }
    async fn delete_if(&self, key: &str, expected: &Version) -> PResult<()> {
        self.deletes.fetch_add(1, Ordering::SeqCst);
        self.inner.delete_if(key, expected).await
    }
    fn list_keys<'a>(&'a self, options: &ListOptions) -> Pages<'a, String> {
        self.inner.list_keys(options)
    }
    fn describe(&self) -> String {
        "counting memory store".into()
    }
}

fn speech(r: &crate::ResponseEnvelope) -> &str {
    r.response
        .output_speech
        .as_ref()
        .map_or("", |s| s.content())
}

fn attrs(v: Value) -> Attributes {
    Attributes::try_from(v).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Envelopes
// ---------------------------------------------------------------------------------------------

#[test]
fn launch_sample_parses_with_context_and_viewport() {
    let e: RequestEnvelope = serde_json::from_str(LAUNCH).unwrap();
    assert_eq!(e.version, "1.0");
    assert!(matches!(&e.request, Request::Launch(r)
        if r.locale.as_deref() == Some("en-US")
        && r.request_id == "amzn1.echo-api.request.9d3c2b7a-1e4f-4c8b-a6d5-7f0e8b9c1a23"));
    assert!(e.is_new_session());
    assert_eq!(e.application_id(), Some(SKILL_ID));
    assert_eq!(e.session_application_id(), Some(SKILL_ID));
    assert_eq!(e.user_id(), Some(USER_ID));
    assert_eq!(
        e.device_id(),
        Some("amzn1.ask.device.AEKQ7PWEXAMPLEDEVICE3MZ5N2XAZVTR7LPQ4JHG6YUIOKLMNB")
    );
    assert_eq!(e.person_id(), None);
    assert_eq!(
        e.context.system.api_endpoint.as_deref(),
        Some("https://api.amazonalexa.com")
    );
    assert!(e.api_access_token().unwrap().starts_with("eyJ0eXAi"));
    // Other context objects are kept.
    assert_eq!(e.context.other["Viewport"]["pixelWidth"], 1280);
    assert!(e.context.other.contains_key("Viewports"));
    assert!(
        e.context
            .system
            .device
            .as_ref()
            .unwrap()
            .supported_interfaces
            .contains_key("Alexa.Presentation.APL")
    );
    assert_eq!(e.session_attributes(), None);
}

#[test]
fn intent_sample_parses_slots_resolutions_and_ids() {
    let e: RequestEnvelope = serde_json::from_str(INTENT).unwrap();
    let Request::Intent(r) = &e.request else {
        panic!("not an intent request: {:?}", e.request)
    };
    assert_eq!(r.dialog_state, Some(DialogState::Completed));
    assert_eq!(r.locale.as_deref(), Some("en-GB"));
    assert_eq!(r.intent.name, "OrderIntent");
    assert_eq!(r.intent.confirmation_status, ConfirmationStatus::None);
    assert_eq!(e.intent_name(), Some("OrderIntent"));

    let drink = e.slot("drink").unwrap();
    assert_eq!(drink.value(), Some("coffees"));
    assert_eq!(drink.resolved().unwrap().id, "COFFEE");
    assert_eq!(drink.resolved_or_spoken(), Some("coffee"));
    assert!(drink.slot_value.is_some());
    // An unfilled slot is there without a value.
    assert_eq!(e.slot("size").unwrap().value(), None);
    assert_eq!(e.slot_value("size"), None);
    // No match: the spoken value stands.
    let milk = e.slot("milk").unwrap();
    assert!(milk.resolved().is_none());
    assert_eq!(milk.resolved_or_spoken(), Some("oat"));

    assert_eq!(
        e.person_id(),
        Some("amzn1.ask.person.AFGH4EXAMPLEPERSON7QWERTYUIOPASDFGHJKLZXCVBNM")
    );
    assert_eq!(
        PersonIdKey.key(&e).unwrap(),
        "amzn1.ask.person.AFGH4EXAMPLEPERSON7QWERTYUIOPASDFGHJKLZXCVBNM"
    );
    assert!(
        DeviceIdKey
            .key(&e)
            .unwrap()
            .starts_with("amzn1.ask.device.")
    );
    assert_eq!(
        e.user_access_token(),
        Some("Atza|IwEBIexampleLinkedAccountToken")
    );
    assert_eq!(
        e.session_attributes().unwrap(),
        &attrs(json!({"facts_heard": 1, "last_question": "another_fact"}))
    );
    assert!(!e.is_new_session());
}

#[test]
fn session_ended_sample_parses_reason_and_error() {
    let e: RequestEnvelope = serde_json::from_str(SESSION_ENDED).unwrap();
    let Request::SessionEnded(r) = &e.request else {
        panic!("{:?}", e.request)
    };
    assert_eq!(r.reason, Some(SessionEndedReason::Error));
    let err = r.error.as_ref().unwrap();
    assert_eq!(err.error_type, "INVALID_RESPONSE");
    assert!(err.message.contains("exception"));
}

#[test]
fn unknown_request_types_are_kept_whole() {
    let e: RequestEnvelope = serde_json::from_str(APL_EVENT).unwrap();
    assert_eq!(e.request_type(), "Alexa.Presentation.APL.UserEvent");
    let Request::AplUserEvent(event) = &e.request else {
        panic!("{:?}", e.request)
    };
    assert_eq!(event.arguments, vec![json!("nextFact"), json!(4)]);
    assert_eq!(
        e.request.request_id(),
        "amzn1.echo-api.request.77aa88bb-99cc-4dd0-8ee1-2ff3a4b5c6d7"
    );
    // It serializes back as it came.
    let original: Value = serde_json::from_str(APL_EVENT).unwrap();
    assert_eq!(
        serde_json::to_value(&e.request).unwrap(),
        original["request"]
    );
}

#[test]
fn known_requests_round_trip_through_json() {
    for sample in [LAUNCH, INTENT, SESSION_ENDED] {
        let e: RequestEnvelope = serde_json::from_str(sample).unwrap();
        let again: RequestEnvelope =
            serde_json::from_value(serde_json::to_value(&e).unwrap()).unwrap();
        assert_eq!(again, e);
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(
            v["request"]["type"],
            e.request_type(),
            "type tag is written"
        );
        assert!(v["context"]["System"].is_object());
    }
}

#[test]
fn unknown_fields_are_ignored_and_bad_requests_refused() {
    let e: RequestEnvelope = serde_json::from_value(json!({
        "version": "1.0", "somethingNew": {"x": 1},
        "request": {"type": "IntentRequest", "intent": {"name": "X", "future": true,
            "slots": {"s": {"name": "s", "value": "v", "newField": 1, "confirmationStatus": "MAYBE"}}}}
    }))
    .unwrap();
    assert_eq!(e.slot_value("s"), Some("v"));
    assert_eq!(
        e.slot("s").unwrap().confirmation_status,
        ConfirmationStatus::Unknown
    );

    for bad in [
        json!({"request": {}}),
        json!({"request": {"type": 5}}),
        json!({"request": {"type": "IntentRequest"}}),
        json!({"version": "1.0"}),
    ] {
        assert!(
            serde_json::from_value::<RequestEnvelope>(bad.clone()).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn debug_output_never_shows_ids_or_tokens_in_full() {
    let e: RequestEnvelope = serde_json::from_str(INTENT).unwrap();
    let shown = format!("{e:?}");
    assert!(!shown.contains(USER_ID), "user ID leaked");
    assert!(
        !shown.contains("IwEBIexampleLinkedAccountToken"),
        "access token leaked"
    );
    assert!(!shown.contains("c2lnbmF0dXJl"), "api access token leaked");
    assert!(!shown.contains("consent.sig"), "consent token leaked");
    assert!(!shown.contains("AFGH4EXAMPLEPERSON7QWERTYUIOPASDFGHJKLZXCVBNM"));
    assert!(shown.contains("OrderIntent"));
}

// ---------------------------------------------------------------------------------------------
// Dispatch
// ---------------------------------------------------------------------------------------------

struct Named(&'static str, Arc<Mutex<Vec<String>>>);

#[async_trait]
impl RequestHandler for Named {
    fn can_handle(&self, input: &HandlerInput) -> bool {
        self.1
            .lock()
            .unwrap()
            .push(format!("can_handle {}", self.0));
        is_request_type(input, "LaunchRequest")
    }
    async fn handle(&self, input: &mut HandlerInput) -> HandlerResult {
        self.1.lock().unwrap().push(format!("handle {}", self.0));
        Ok(input.response_builder.speak(self.0).get_response())
    }
}

#[tokio::test]
async fn first_matching_handler_in_registration_order_wins() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let skill = SkillBuilder::new()
        .add_request_handler_fn(
            |i| is_intent_name(i, "Nope"),
            |i| Box::pin(async move { Ok(i.response_builder.speak("never").get_response()) }),
        )
        .add_request_handler(Named("first", log.clone()))
        .add_request_handler(Named("second", log.clone()))
        .build();
    let out = skill.invoke_json(LAUNCH).await.unwrap();
    assert_eq!(speech(&out), "first");
    assert_eq!(
        *log.lock().unwrap(),
        vec!["can_handle first", "handle first"],
        "later handlers are not even asked"
    );
}

#[tokio::test]
async fn interceptors_run_in_order_around_the_handler() {
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let (l1, l2, l3, l4) = (log.clone(), log.clone(), log.clone(), log.clone());
    let skill = SkillBuilder::new()
        .add_request_interceptor_fn(move |i| {
            let l = l1.clone();
            Box::pin(async move {
                l.lock().unwrap().push("request 1".into());
                i.attributes_manager
                    .request_attributes_mut()
                    .set("seen_by", &vec!["request 1"])?;
                Ok(())
            })
        })
        .add_request_interceptor_fn(move |i| {
            let l = l2.clone();
            Box::pin(async move {
                l.lock().unwrap().push("request 2".into());
                let req = i.attributes_manager.request_attributes_mut();
                let mut seen: Vec<String> = req.get_as("seen_by")?.unwrap_or_default();
                seen.push("request 2".into());
                req.set("seen_by", &seen)?;
                Ok(())
            })
        })
        .add_request_handler_fn(
            |i| is_request_type(i, "LaunchRequest"),
            move |i| {
                let l = l3.clone();
                Box::pin(async move {
                    l.lock().unwrap().push("handler".into());
                    let seen: Vec<String> = i
                        .attributes_manager
                        .request_attributes()
                        .get_as("seen_by")?
                        .unwrap_or_default();
                    Ok(i.response_builder.speak(seen.join(", ")).get_response())
                })
            },
        )
        .add_response_interceptor_fn(move |_i, response| {
            let l = l4.clone();
            Box::pin(async move {
                l.lock().unwrap().push("response 1".into());
                response.should_end_session = Some(true);
                Ok(())
            })
        })
        .add_response_interceptor_fn(|_i, response| {
            Box::pin(async move {
                // Sees what the first response interceptor did.
                assert_eq!(response.should_end_session, Some(true));
                response.directives.push(json!({"type": "Marker"}).into());
                Ok(())
            })
        })
        .build();
    let out = skill.invoke_json(LAUNCH).await.unwrap();
    assert_eq!(speech(&out), "request 1, request 2");
    assert_eq!(out.response.should_end_session, Some(true));
    assert_eq!(
        out.response.directives,
        vec![skill_builder_directive_other(json!({"type": "Marker"}))]
    );
    assert_eq!(
        *log.lock().unwrap(),
        vec!["request 1", "request 2", "handler", "response 1"]
    );
}

#[tokio::test]
async fn a_failing_request_interceptor_skips_the_handler_and_reaches_exception_handlers() {
    let handled = Arc::new(AtomicUsize::new(0));
    let h = handled.clone();
    let skill = SkillBuilder::new()
        .add_request_interceptor_fn(|_i| {
            Box::pin(async move { Err(SkillError::other("interceptor broke")) })
        })
        .add_request_handler_fn(
            |_| true,
            move |i| {
                h.fetch_add(1, Ordering::SeqCst);
                Box::pin(async move { Ok(i.response_builder.speak("handled").get_response()) })
            },
        )
        .add_exception_handler_fn(
            |_i, e| matches!(e, SkillError::Handler(_)),
            |i, e| {
                let msg = e.to_string();
                Box::pin(async move { Ok(i.response_builder.speak(msg).get_response()) })
            },
        )
        .build();
    let out = skill.invoke_json(LAUNCH).await.unwrap();
    assert_eq!(speech(&out), "the skill failed: interceptor broke");
    assert_eq!(handled.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn unhandled_requests_go_to_exception_handlers_or_back_to_the_caller() {
    let bare = SkillBuilder::new().build();
    match bare.invoke_json(INTENT).await {
        Err(SkillError::Unhandled {
            request_type,
            intent_name,
        }) => {
            assert_eq!(request_type, "IntentRequest");
            assert_eq!(intent_name.as_deref(), Some("OrderIntent"));
        }
        other => panic!("{other:?}"),
    }

    let skill = SkillBuilder::new()
        .add_exception_handler_fn(
            |_i, e| matches!(e, SkillError::Unhandled { .. }),
            |i, _e| {
                Box::pin(async move {
                    Ok(i.response_builder
                        .speak("Sorry, I can't do that.")
                        .reprompt("What now?")
                        .get_response())
                })
            },
        )
        .build();
    let out = skill.invoke_json(INTENT).await.unwrap();
    assert_eq!(speech(&out), "Sorry, I can't do that.");
    // The session attributes the request brought are returned.
    assert_eq!(
        out.session_attributes,
        Some(attrs(
            json!({"facts_heard": 1, "last_question": "another_fact"})
        ))
    );
}

#[tokio::test]
async fn exception_handler_starts_from_a_fresh_response_and_response_interceptors_are_skipped() {
    let intercepted = Arc::new(AtomicUsize::new(0));
    let n = intercepted.clone();
    let skill = SkillBuilder::new()
        .add_request_handler_fn(
            |_| true,
            |i| {
                Box::pin(async move {
                    i.response_builder.speak("half-built").simple_card("x", "y");
                    Err(SkillError::other("boom"))
                })
            },
        )
        .add_response_interceptor_fn(move |_i, _r| {
            n.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move { Ok(()) })
        })
        .add_exception_handler_fn(
            |_, _| true,
            |i, _| Box::pin(async move { Ok(i.response_builder.speak("sorry").get_response()) }),
        )
        .build();
    let out = skill.invoke_json(LAUNCH).await.unwrap();
    assert_eq!(speech(&out), "sorry");
    assert_eq!(
        out.response.card, None,
        "nothing of the failed handler's response"
    );
    assert_eq!(intercepted.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn requests_for_another_skill_are_refused_before_any_handler() {
    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    let skill = SkillBuilder::new()
        .with_skill_id(SKILL_ID)
        .add_request_interceptor_fn(move |_| {
            r.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move { Ok(()) })
        })
        .add_request_handler_fn(
            |_| true,
            |i| Box::pin(async move { Ok(i.response_builder.speak("ok").get_response()) }),
        )
        .add_exception_handler_fn(
            |_, _| true,
            |i, _| Box::pin(async move { Ok(i.response_builder.speak("caught").get_response()) }),
        )
        .build();

    // The right skill ID passes.
    assert_eq!(speech(&skill.invoke_json(LAUNCH).await.unwrap()), "ok");
    assert_eq!(ran.load(Ordering::SeqCst), 1);

    let mut in_context: Value = serde_json::from_str(LAUNCH).unwrap();
    in_context["context"]["System"]["application"]["applicationId"] = json!("amzn1.ask.skill.evil");
    let mut in_session: Value = serde_json::from_str(LAUNCH).unwrap();
    in_session["session"]["application"]["applicationId"] = json!("amzn1.ask.skill.evil");
    for request in [in_context, in_session] {
        match skill.invoke_value(request).await {
            Err(SkillError::SkillIdMismatch { expected, received }) => {
                assert_eq!(expected, SKILL_ID);
                assert_eq!(received.as_deref(), Some("amzn1.ask.skill.evil"));
            }
            other => panic!("{other:?}"),
        }
    }
    // No ID at all is refused too.
    let none = json!({"version": "1.0", "request": {"type": "LaunchRequest"}});
    assert!(matches!(
        skill.invoke_value(none).await,
        Err(SkillError::SkillIdMismatch { received: None, .. })
    ));
    assert_eq!(
        ran.load(Ordering::SeqCst),
        1,
        "no interceptor ran for refused requests"
    );

    // Without a configured skill ID, anything is accepted.
    let open = SkillBuilder::new()
        .add_request_handler_fn(
            |_| true,
            |i| Box::pin(async move { Ok(i.response_builder.speak("ok").get_response()) }),
        )
        .build();
    let mut other: Value = serde_json::from_str(LAUNCH).unwrap();
    other["context"]["System"]["application"]["applicationId"] = json!("amzn1.ask.skill.evil");
    assert!(open.invoke_value(other).await.is_ok());
}

#[tokio::test]
async fn unknown_request_types_reach_handlers() {
    let skill = SkillBuilder::new()
        .add_request_handler_fn(
            |i| is_request_type(i, "Alexa.Presentation.APL.UserEvent"),
            |i| {
                Box::pin(async move {
                    let arg = match i.request() {
                        Request::AplUserEvent(e) => e.arguments[0].as_str().unwrap_or(""),
                        _ => "",
                    }
                    .to_owned();
                    Ok(i.response_builder.speak(arg).get_response())
                })
            },
        )
        .build();
    let out = skill.invoke_json(APL_EVENT).await.unwrap();
    assert_eq!(speech(&out), "nextFact");
}

#[tokio::test]
async fn invalid_json_is_a_typed_error() {
    let skill = SkillBuilder::new().build();
    assert!(matches!(
        skill.invoke_json("{not json").await,
        Err(SkillError::InvalidEnvelope(_))
    ));
    assert!(matches!(
        skill.invoke_value(json!([1, 2])).await,
        Err(SkillError::InvalidEnvelope(_))
    ));
}

#[tokio::test]
async fn response_envelope_has_version_user_agent_and_session_attributes() {
    let skill = SkillBuilder::new()
        .add_request_handler_fn(
            |_| true,
            |i| {
                Box::pin(async move {
                    i.attributes_manager
                        .session_attributes_mut()
                        .set("count", &1)?;
                    Ok(i.response_builder.speak("x").get_response())
                })
            },
        )
        .build();
    let v = serde_json::to_value(skill.invoke_json(LAUNCH).await.unwrap()).unwrap();
    assert_eq!(v["version"], "1.0");
    assert_eq!(v["sessionAttributes"], json!({"count": 1}));
    assert!(
        v["userAgent"]
            .as_str()
            .unwrap()
            .starts_with("skill-builder-rs/")
    );
}

// ---------------------------------------------------------------------------------------------
// Persistent attributes
// ---------------------------------------------------------------------------------------------

fn read_only_skill(store: Arc<Counting>, save_on_response: bool) -> crate::Skill {
    SkillBuilder::new()
        .with_persistence_adapter(store)
        .with_save_on_response(save_on_response)
        .add_request_interceptor_fn(|i| {
            Box::pin(async move {
                // Loads in the interceptor...
                i.attributes_manager.persistent_attributes().await?;
                Ok(())
            })
        })
        .add_request_handler_fn(
            |i| {
                // ...so can_handle can read them.
                i.attributes_manager
                    .loaded_persistent_attributes()
                    .is_some()
            },
            |i| {
                Box::pin(async move {
                    // ...and the handler reads them again, and even takes them mutably.
                    let visits = i
                        .attributes_manager
                        .persistent_attributes()
                        .await?
                        .get_as::<u32>("visits")?;
                    let _ = i.attributes_manager.persistent_attributes_mut().await?;
                    let _ = i.attributes_manager.persistent_attributes().await?;
                    let wrote = i.attributes_manager.save_persistent_attributes().await?;
                    assert!(!wrote);
                    Ok(i.response_builder
                        .speak(format!("{visits:?}"))
                        .get_response())
                })
            },
        )
        .build()
}

#[tokio::test]
async fn a_read_only_turn_loads_once_and_writes_nothing() {
    for save_on_response in [false, true] {
        let store = Arc::new(Counting::default());
        store.inner.seed(USER_ID, attrs(json!({"visits": 4})));
        let skill = read_only_skill(store.clone(), save_on_response);
        let out = skill.invoke_json(LAUNCH).await.unwrap();
        assert_eq!(speech(&out), "Some(4)");
        assert_eq!(store.gets(), 1, "loaded once per turn");
        assert_eq!(store.saves(), 0, "a read-only turn costs no write");

        // A second turn loads again (nothing is cached across turns).
        skill.invoke_json(LAUNCH).await.unwrap();
        assert_eq!(store.gets(), 2);
        assert_eq!(store.saves(), 0);
    }
}

#[tokio::test]
async fn a_turn_that_does_not_touch_persistence_does_not_load() {
    let store = Arc::new(Counting::default());
    let skill = SkillBuilder::new()
        .with_persistence_adapter(store.clone())
        .with_save_on_response(true)
        .add_request_handler_fn(
            |_| true,
            |i| Box::pin(async move { Ok(i.response_builder.speak("hi").get_response()) }),
        )
        .build();
    skill.invoke_json(LAUNCH).await.unwrap();
    assert_eq!((store.gets(), store.saves()), (0, 0));
}

fn counter_skill(store: Arc<dyn PersistenceAdapter>, save_on_response: bool) -> crate::Skill {
    SkillBuilder::new()
        .with_persistence_adapter(store)
        .with_save_on_response(save_on_response)
        .add_request_handler_fn(
            |i| is_request_type(i, "LaunchRequest"),
            move |i| {
                Box::pin(async move {
                    let a = i.attributes_manager.persistent_attributes_mut().await?;
                    let n = a.get_as::<u32>("visits")?.unwrap_or(0) + 1;
                    a.set("visits", &n)?;
                    if !save_on_response {
                        assert!(i.attributes_manager.save_persistent_attributes().await?);
                    }
                    Ok(i.response_builder.speak(n.to_string()).get_response())
                })
            },
        )
        .build()
}

#[tokio::test]
async fn changes_are_saved_with_the_version_loaded() {
    for save_on_response in [false, true] {
        let store = Arc::new(Counting::default());
        let skill = counter_skill(store.clone(), save_on_response);
        assert_eq!(speech(&skill.invoke_json(LAUNCH).await.unwrap()), "1");
        assert_eq!(speech(&skill.invoke_json(LAUNCH).await.unwrap()), "2");
        assert_eq!(
            store.inner.attributes(USER_ID),
            Some(attrs(json!({"visits": 2})))
        );
        let modes = store.modes();
        assert_eq!(modes.len(), 2);
        assert_eq!(
            modes[0],
            SaveMode::CreateOnly,
            "nothing was stored: create only"
        );
        assert!(
            matches!(&modes[1], SaveMode::IfVersion(v) if v.as_str() == "1"),
            "{modes:?}"
        );
    }
}

/// A store where someone else writes between the skill's load and its save.
#[derive(Debug, Default)]
struct Racing {
    inner: MemoryAdapter,
}

#[async_trait]
impl PersistenceAdapter for Racing {
    async fn get(&self, key: &str) -> PResult<Option<Stored>> {
        let got = self.inner.get(key).await;
        // Another device writes right after we read.
        self.inner.seed(key, attrs(json!({"visits": 100})));
        got
    }
    async fn save_with(
        &self,
        key: &str,
        attributes: &Attributes,
        options: &SaveOptions,
    ) -> PResult<Version> {
        self.inner.save_with(key, attributes, options).await
    }
    async fn delete(&self, key: &str) -> PResult<()> {
        self.inner.delete(key).await
    }
    async fn delete_if(&self, key: &str, expected: &Version) -> PResult<()> {
        self.inner.delete_if(key, expected).await
    }
    fn list_keys<'a>(&'a self, options: &ListOptions) -> Pages<'a, String> {
        self.inner.list_keys(options)
    }
    fn describe(&self) -> String {
        "racing memory store".into()
    }
}

#[tokio::test]
async fn a_conflicting_save_reaches_the_exception_handler_as_a_typed_conflict() {
    for save_on_response in [false, true] {
        let store = Arc::new(Racing::default());
        let seen = Arc::new(Mutex::new(None::<String>));
        let s = seen.clone();
        let skill = SkillBuilder::new()
            .with_persistence_adapter(store.clone())
            .with_save_on_response(save_on_response)
            .add_request_handler(counter_skill_handler(save_on_response))
            .add_exception_handler_fn(
                move |_i, e| {
                    *s.lock().unwrap() = Some(format!("{e:?}"));
                    matches!(e.persistence(), Some(Error::Conflict { .. }))
                },
                |i, _e| {
                    Box::pin(async move {
                        Ok(i.response_builder
                            .speak("Someone else changed that. Try again.")
                            .get_response())
                    })
                },
            )
            .build();
        let out = skill.invoke_json(LAUNCH).await.unwrap();
        assert_eq!(speech(&out), "Someone else changed that. Try again.");
        assert!(
            seen.lock()
                .unwrap()
                .as_deref()
                .unwrap()
                .contains("Conflict")
        );
        // The other writer's value survived.
        assert_eq!(
            store.inner.attributes(USER_ID),
            Some(attrs(json!({"visits": 100})))
        );
        // And the turn's session change, computed from stale data, did not go out.
        let session = out.session_attributes.unwrap_or_default();
        assert!(!session.contains_key("counted"), "{session:?}");
        assert!(out.response.output_speech.is_some());
    }
}

fn counter_skill_handler(save_on_response: bool) -> impl RequestHandler {
    crate::request_handler(
        |i| is_request_type(i, "LaunchRequest"),
        move |i| {
            Box::pin(async move {
                let a = i.attributes_manager.persistent_attributes_mut().await?;
                let n = a.get_as::<u32>("visits")?.unwrap_or(0) + 1;
                a.set("visits", &n)?;
                i.attributes_manager
                    .session_attributes_mut()
                    .set("counted", &n)?;
                if !save_on_response {
                    i.attributes_manager.save_persistent_attributes().await?;
                }
                Ok(i.response_builder.speak(n.to_string()).get_response())
            })
        },
    )
}

#[tokio::test]
async fn a_conflict_with_no_exception_handler_is_returned() {
    let skill = SkillBuilder::new()
        .with_persistence_adapter(Arc::new(Racing::default()))
        .add_request_handler(counter_skill_handler(false))
        .build();
    let err = skill.invoke_json(LAUNCH).await.unwrap_err();
    assert!(err.is_conflict(), "{err:?}");
}

#[tokio::test]
async fn a_failed_handler_is_not_saved_on_response() {
    let store = Arc::new(Counting::default());
    let skill = SkillBuilder::new()
        .with_persistence_adapter(store.clone())
        .with_save_on_response(true)
        .add_request_handler_fn(
            |_| true,
            |i| {
                Box::pin(async move {
                    i.attributes_manager
                        .persistent_attributes_mut()
                        .await?
                        .set("half", &true)?;
                    Err(SkillError::other("failed midway"))
                })
            },
        )
        .add_exception_handler_fn(
            |_, _| true,
            |i, _| Box::pin(async move { Ok(i.response_builder.speak("sorry").get_response()) }),
        )
        .build();
    skill.invoke_json(LAUNCH).await.unwrap();
    assert_eq!(store.saves(), 0);
    assert!(store.inner.is_empty());
}

#[tokio::test]
async fn persistence_without_an_adapter_is_not_configured() {
    let skill = SkillBuilder::new()
        .add_request_handler_fn(
            |_| true,
            |i| {
                Box::pin(async move {
                    i.attributes_manager.persistent_attributes().await?;
                    Ok(i.response_builder.get_response())
                })
            },
        )
        .build();
    match skill.invoke_json(LAUNCH).await {
        Err(SkillError::Persistence(Error::NotConfigured { what })) => {
            assert!(what.contains("with_persistence_adapter"), "{what}");
        }
        other => panic!("{other:?}"),
    }
    let mut input = HandlerInput::new(serde_json::from_str(LAUNCH).unwrap());
    assert!(matches!(
        input.attributes_manager.save_persistent_attributes().await,
        Err(Error::NotConfigured { .. })
    ));
    assert!(matches!(
        input
            .attributes_manager
            .delete_persistent_attributes()
            .await,
        Err(Error::NotConfigured { .. })
    ));
}

#[tokio::test]
async fn a_request_without_the_key_field_is_a_missing_key_source() {
    let store: Arc<dyn PersistenceAdapter> = Arc::new(MemoryAdapter::new());
    let envelope: RequestEnvelope =
        serde_json::from_value(json!({"request": {"type": "LaunchRequest"}})).unwrap();
    let mut input = HandlerInput::new(envelope).with_persistence(store, DeviceIdKey);
    assert!(matches!(
        input.attributes_manager.persistent_attributes().await,
        Err(Error::MissingKeySource { field }) if field == persistence_core::DEVICE_ID_FIELD
    ));
}

#[tokio::test]
async fn delete_removes_now_and_a_later_save_creates_anew() {
    let store = Arc::new(Counting::default());
    store.inner.seed(USER_ID, attrs(json!({"visits": 3})));
    let envelope: RequestEnvelope = serde_json::from_str(LAUNCH).unwrap();
    let mut input =
        HandlerInput::new(envelope).with_persistence(store.clone(), persistence_core::UserIdKey);
    let am = &mut input.attributes_manager;
    assert_eq!(am.persistent_attributes().await.unwrap()["visits"], 3);
    am.delete_persistent_attributes().await.unwrap();
    assert!(store.inner.is_empty());
    assert!(am.persistent_attributes().await.unwrap().is_empty());
    assert!(
        !am.save_persistent_attributes().await.unwrap(),
        "empty: nothing to write"
    );
    am.persistent_attributes_mut()
        .await
        .unwrap()
        .set("fresh", &true)
        .unwrap();
    assert!(am.persistent_attributes_changed());
    assert!(am.save_persistent_attributes().await.unwrap());
    assert_eq!(store.modes().last(), Some(&SaveMode::CreateOnly));
    assert_eq!(
        store.inner.attributes(USER_ID),
        Some(attrs(json!({"fresh": true})))
    );
    assert_eq!(
        store.gets(),
        1,
        "delete needs no read, and the load was reused"
    );
}

#[tokio::test]
async fn set_persistent_attributes_replaces_and_saves_conditionally() {
    let store = Arc::new(Counting::default());
    store.inner.seed(USER_ID, attrs(json!({"old": 1})));
    let envelope: RequestEnvelope = serde_json::from_str(LAUNCH).unwrap();
    let mut input =
        HandlerInput::new(envelope).with_persistence(store.clone(), persistence_core::UserIdKey);
    input
        .attributes_manager
        .set_persistent_attributes(attrs(json!({"new": 2})))
        .await
        .unwrap();
    assert!(
        input
            .attributes_manager
            .save_persistent_attributes()
            .await
            .unwrap()
    );
    assert!(matches!(store.modes()[0], SaveMode::IfVersion(_)));
    assert_eq!(
        store.inner.attributes(USER_ID),
        Some(attrs(json!({"new": 2})))
    );
}

// ---------------------------------------------------------------------------------------------
// Test kit
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn conversation_carries_session_attributes_and_starts_new_sessions() {
    let skill = SkillBuilder::new()
        .with_skill_id(SKILL_ID)
        .add_request_handler_fn(
            |i| is_intent_name(i, "CountIntent"),
            |i| {
                Box::pin(async move {
                    let s = i.attributes_manager.session_attributes_mut();
                    let n = s.get_as::<u32>("n")?.unwrap_or(0) + 1;
                    s.set("n", &n)?;
                    let by = i.slot_value("by").unwrap_or("nobody").to_owned();
                    let rb = &mut i.response_builder;
                    rb.speak(format!("{n} by {by}"));
                    if n >= 3 {
                        rb.end_session();
                    } else {
                        rb.reprompt("Again?");
                    }
                    Ok(rb.get_response())
                })
            },
        )
        .add_request_handler_fn(
            |i| is_request_type(i, "SessionEndedRequest"),
            |i| Box::pin(async move { Ok(i.response_builder.get_response()) }),
        )
        .build();
    let mut c = Conversation::new(&skill).user("amzn1.ask.account.KIT");
    let t1 = c
        .intent("CountIntent")
        .slot("by", "Ada")
        .send()
        .await
        .unwrap();
    assert_eq!(t1.speech(), "1 by Ada");
    assert_eq!(t1.reprompt(), "Again?");
    assert!(t1.keeps_session_open() && !t1.ends_session());
    assert!(t1.request().is_new_session());
    assert_eq!(t1.request().application_id(), Some(SKILL_ID));
    assert_eq!(t1.request().user_id(), Some("amzn1.ask.account.KIT"));

    let t2 = c.intent("CountIntent").send().await.unwrap();
    assert_eq!(t2.speech(), "2 by nobody");
    assert!(!t2.request().is_new_session());
    assert_eq!(
        t2.request().session.as_ref().unwrap().session_id,
        t1.request().session.as_ref().unwrap().session_id
    );
    let t3 = c.intent("CountIntent").send().await.unwrap();
    assert!(t3.ends_session());
    assert!(!c.in_session());
    // The skill ended the session: the next request starts over.
    assert_eq!(
        c.intent("CountIntent").send().await.unwrap().speech(),
        "1 by nobody"
    );
    c.new_session();
    assert_eq!(
        c.intent("CountIntent").send().await.unwrap().speech(),
        "1 by nobody"
    );
    assert_eq!(
        c.intent("CountIntent").send().await.unwrap().speech(),
        "2 by nobody"
    );
    let end = c
        .end_session(SessionEndedReason::UserInitiated)
        .await
        .unwrap();
    assert_eq!(end.speech(), "");
    assert!(!c.in_session());

    // Addressed to another skill: refused.
    let mut stranger = Conversation::new(&skill).application_id("amzn1.ask.skill.other");
    assert!(matches!(
        stranger.launch().await,
        Err(SkillError::SkillIdMismatch { .. })
    ));
}

#[tokio::test]
async fn conversation_reads_stored_attributes_with_the_skills_key_generator() {
    let store: Arc<dyn PersistenceAdapter> = Arc::new(MemoryAdapter::new());
    let skill = SkillBuilder::new()
        .with_persistence_adapter(store)
        .with_key_generator(DeviceIdKey)
        .with_save_on_response(true)
        .add_request_handler_fn(
            |_| true,
            |i| {
                Box::pin(async move {
                    i.attributes_manager
                        .persistent_attributes_mut()
                        .await?
                        .set("seen", &true)?;
                    Ok(i.response_builder.get_response())
                })
            },
        )
        .build();
    let mut c = Conversation::new(&skill).device("amzn1.ask.device.KITCHEN");
    assert_eq!(c.stored_attributes().await.unwrap(), None);
    c.launch().await.unwrap();
    assert_eq!(
        c.stored_attributes().await.unwrap(),
        Some(attrs(json!({"seen": true})))
    );
    let other_device = Conversation::new(&skill).device("amzn1.ask.device.BEDROOM");
    assert_eq!(other_device.stored_attributes().await.unwrap(), None);

    let no_store = SkillBuilder::new().build();
    assert!(matches!(
        Conversation::new(&no_store).stored_attributes().await,
        Err(SkillError::Persistence(Error::NotConfigured { .. }))
    ));
}

#[test]
fn skills_and_inputs_can_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>(_: &T) {}
    send_sync::<crate::Skill>();
    send_sync::<HandlerInput>();
    send_sync::<Conversation>();
    let skill = SkillBuilder::new().build();
    // The future of a turn can be spawned on a multi-threaded runtime.
    send(&skill.invoke(RequestEnvelope::default()));
}

#[test]
fn debug_of_an_unknown_request_type_shows_no_values() {
    let secret = "Atza|IwEBIDEADBEEFSECRETACCESSTOKEN";
    let json = json!({
        "version": "1.0",
        "context": {"System": {"user": {"userId": USER_ID}}},
        "request": {
            "type": "Alexa.Authorization.Grant",
            "requestId": "r1",
            "body": {"grant": {"type": "OAuth2.AuthorizationCode", "code": secret}},
            "accessToken": secret,
            "userId": USER_ID
        }
    });
    let e: RequestEnvelope = serde_json::from_value(json).unwrap();
    let shown = format!("{e:?} {:?}", e.request);
    assert!(!shown.contains("SECRETACCESSTOKEN"), "{shown}");
    assert!(!shown.contains(USER_ID), "{shown}");
    assert!(shown.contains("Alexa.Authorization.Grant"), "{shown}");
    assert!(shown.contains("body"), "field names stay visible: {shown}");
}

fn skill_builder_directive_other(v: Value) -> crate::directive::Directive {
    crate::directive::Directive::Other(v)
}
