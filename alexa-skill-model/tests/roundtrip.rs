//! Every typed request, event and directive against Alexa's JSON (samples written out by hand
//! from Alexa's documentation, in tests/data/): parsed into its variant, and serialized back to
//! the same JSON. Request types this crate does not model come back byte for byte.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use alexa_skill_model::directive::{Directive, UpdateBehavior};
use alexa_skill_model::envelope::RequestEnvelope;
use alexa_skill_model::request::{Request, UserInformationPersistenceStatus};
use alexa_skill_model::response::{OutputSpeech, PlayBehavior, Response, ResponseBuilder};
use serde_json::{Value, json};

fn data(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Parses an envelope sample and checks that it serializes back to the same JSON.
fn envelope(name: &str) -> RequestEnvelope {
    let text = data(name);
    let envelope: RequestEnvelope = serde_json::from_str(&text).unwrap();
    let original: Value = serde_json::from_str(&text).unwrap();
    let back = serde_json::to_value(&envelope).unwrap();
    assert_eq!(
        back["request"], original["request"],
        "{name}: request round trip"
    );
    assert_eq!(
        back["context"]["System"]["user"]["userId"],
        original["context"]["System"]["user"]["userId"],
        "{name}"
    );
    envelope
}

#[test]
fn skill_enabled() {
    let e = envelope("skill_enabled.json");
    let Request::SkillEnabled(r) = &e.request else {
        panic!("{:?}", e.request)
    };
    assert_eq!(
        r.event_creation_time.as_deref(),
        Some("2026-05-06T20:38:21Z")
    );
    assert_eq!(e.request_type(), "AlexaSkillEvent.SkillEnabled");
    assert!(e.session.is_none(), "skill events come outside a session");
}

#[test]
fn skill_disabled() {
    let e = envelope("skill_disabled.json");
    let Request::SkillDisabled(r) = &e.request else {
        panic!("{:?}", e.request)
    };
    assert_eq!(
        r.body.user_information_persistence_status,
        Some(UserInformationPersistenceStatus::Persisted)
    );
    assert_eq!(
        r.event_publishing_time.as_deref(),
        Some("2026-05-07T08:15:03Z")
    );
    assert_eq!(
        e.request.request_id(),
        "amzn1.echo-api.request.1d2e3f40-5a6b-7c8d-9e0f-112233445566"
    );
}

#[test]
fn skill_account_linked_keeps_the_token_out_of_debug() {
    let e = envelope("skill_account_linked.json");
    let Request::SkillAccountLinked(r) = &e.request else {
        panic!("{:?}", e.request)
    };
    assert_eq!(
        r.body.access_token.as_deref(),
        Some("Atza|IwEBIEXAMPLELINKEDACCESSTOKEN")
    );
    let shown = format!("{e:?}");
    assert!(!shown.contains("EXAMPLELINKEDACCESSTOKEN"), "{shown}");
}

#[test]
fn skill_permission_accepted_and_changed() {
    let e = envelope("skill_permission_accepted.json");
    let Request::SkillPermissionAccepted(r) = &e.request else {
        panic!("{:?}", e.request)
    };
    assert_eq!(
        r.body.accepted_permissions[0].scope,
        "alexa::devices:all:notifications:write"
    );
    assert_eq!(
        r.body.accepted_person_permissions[0].scope,
        "alexa::profile:email:read"
    );

    let e = envelope("skill_permission_changed.json");
    let Request::SkillPermissionChanged(r) = &e.request else {
        panic!("{:?}", e.request)
    };
    assert_eq!(r.body.accepted_permissions.len(), 2);
    assert!(r.body.accepted_person_permissions.is_empty());
}

#[test]
fn connections_response() {
    let e = envelope("connections_response_buy.json");
    let Request::ConnectionsResponse(r) = &e.request else {
        panic!("{:?}", e.request)
    };
    assert_eq!(r.name, "Buy");
    assert_eq!(r.status.code, "200");
    assert_eq!(r.token.as_deref(), Some("correlationToken"));
    assert_eq!(r.payload.as_ref().unwrap()["purchaseResult"], "ACCEPTED");
    assert_eq!(e.request.locale(), Some("en-US"));
    assert_eq!(e.session_attributes().unwrap()["step"], "buying");
}

#[test]
fn apl_user_event() {
    let e = envelope("apl_user_event.json");
    let Request::AplUserEvent(r) = &e.request else {
        panic!("{:?}", e.request)
    };
    assert_eq!(
        r.arguments,
        vec![json!("firstArgument"), json!("secondArgument")]
    );
    assert_eq!(r.source.as_ref().unwrap()["handler"], "Press");
    assert_eq!(r.components["idForTheComponent"], "valueForTheComponent");
    assert_eq!(r.token.as_deref(), Some("documentToken"));
}

#[test]
fn unknown_request_types_are_kept_byte_for_byte() {
    for name in [
        "can_fulfill_intent_request.json",
        "audioplayer_playback_nearly_finished.json",
    ] {
        // The request object's text (the file's final newline is not part of it).
        let text = data(name).trim_end().to_owned();
        let request: Request = serde_json::from_str(&text).unwrap();
        let Request::Other(raw) = &request else {
            panic!("{name}: {request:?}")
        };
        assert_eq!(raw.json(), text, "{name}: kept as received");
        assert_eq!(
            serde_json::to_string(&request).unwrap(),
            text,
            "{name}: written as received"
        );

        // Inside a whole envelope too: the request's bytes are written unchanged.
        let envelope_text = format!(
            r#"{{"version":"1.0","context":{{"System":{{"user":{{"userId":"amzn1.ask.account.A"}}}}}},"request":{text}}}"#
        );
        let envelope: RequestEnvelope = serde_json::from_str(&envelope_text).unwrap();
        let written = serde_json::to_string(&envelope).unwrap();
        assert!(written.contains(&text), "{name}: {written}");
        // Debug shows field names, not values.
        assert!(!format!("{request:?}").contains("blue"), "{request:?}");
    }
}

#[test]
fn new_fields_on_known_types_survive_a_round_trip() {
    let text = r#"{"type":"LaunchRequest","requestId":"r","timestamp":"2026-05-08T14:00:00Z","locale":"en-US","shouldLinkResultBeReturned":false,"futureField":{"x":[1,2.50]}}"#;
    let request: Request = serde_json::from_str(text).unwrap();
    let Request::Launch(l) = &request else {
        panic!()
    };
    assert_eq!(l.extra["shouldLinkResultBeReturned"], false);
    let back: Value = serde_json::to_value(&request).unwrap();
    assert_eq!(back, serde_json::from_str::<Value>(text).unwrap());
}

#[test]
fn every_directive_round_trips_and_unknown_ones_are_kept() {
    let samples: Vec<Value> = serde_json::from_str(&data("directives.json")).unwrap();
    let parsed: Vec<Directive> = samples
        .iter()
        .map(|v| serde_json::from_value(v.clone()).unwrap())
        .collect();
    let kinds: Vec<&str> = parsed.iter().map(Directive::directive_type).collect();
    assert_eq!(
        kinds,
        [
            "Dialog.Delegate",
            "Dialog.ElicitSlot",
            "Dialog.ConfirmSlot",
            "Dialog.ConfirmIntent",
            "Dialog.UpdateDynamicEntities",
            "Dialog.UpdateDynamicEntities",
            "Alexa.Presentation.APL.RenderDocument",
            "Alexa.Presentation.APL.RenderDocument",
            "AudioPlayer.Play",
        ]
    );
    assert!(
        matches!(&parsed[0], Directive::Delegate(d) if d.updated_intent.as_ref().unwrap().slots["drink"].value.as_deref() == Some("latte"))
    );
    assert!(matches!(&parsed[1], Directive::ElicitSlot(d) if d.slot_to_elicit == "size"));
    assert!(matches!(&parsed[2], Directive::ConfirmSlot(d) if d.slot_to_confirm == "size"));
    assert!(matches!(&parsed[3], Directive::ConfirmIntent(_)));
    assert!(
        matches!(&parsed[4], Directive::UpdateDynamicEntities(d) if d.update_behavior == UpdateBehavior::Replace && d.types[0].values[0].name.synonyms.len() == 2)
    );
    assert!(
        matches!(&parsed[5], Directive::UpdateDynamicEntities(d) if d.update_behavior == UpdateBehavior::Clear)
    );
    assert!(
        matches!(&parsed[6], Directive::RenderDocument(d) if d.token == "menuToken" && d.datasources.is_some())
    );
    assert!(matches!(&parsed[8], Directive::Other(_)));
    for (directive, sample) in parsed.iter().zip(&samples) {
        assert_eq!(
            &serde_json::to_value(directive).unwrap(),
            sample,
            "{}",
            directive.directive_type()
        );
    }
}

#[test]
fn a_response_with_directives_and_play_behavior_is_what_alexa_expects() {
    let response: Response = ResponseBuilder::new()
        .speak("One moment")
        .play_behavior(PlayBehavior::ReplaceEnqueued)
        .add_directive(alexa_skill_model::directive::ElicitSlot::new("size"))
        .get_response();
    let v = serde_json::to_value(&response).unwrap();
    assert_eq!(
        v,
        json!({
            "outputSpeech": {"type": "SSML", "ssml": "<speak>One moment</speak>",
                             "playBehavior": "REPLACE_ENQUEUED"},
            "directives": [{"type": "Dialog.ElicitSlot", "slotToElicit": "size"}]
        })
    );
    let back: Response = serde_json::from_value(v).unwrap();
    assert_eq!(back, response);
    assert!(matches!(
        back.output_speech,
        Some(OutputSpeech::Ssml {
            play_behavior: Some(PlayBehavior::ReplaceEnqueued),
            ..
        })
    ));
}
