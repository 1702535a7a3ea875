//! What keeps the relay from acting for strangers (issue 21): the long-lived token only with
//! `DEBUG` on, as Home Assistant's own function has it, and the skill-ID check (`ALEXA_SKILL_ID`,
//! or the explicit `ALEXA_SKIP_SKILL_ID_CHECK=1` opt-out). Through the binary as Lambda's
//! environment configures it, and through the library.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers

mod common;

use common::*;
use ha_relay::{LINK_ACCOUNT_SPEECH, Refused, RelayConfig, SkillIdCheck};
use serde_json::Value;

// ------------------------------------------------------------------------------------------
// The long-lived access token.

#[tokio::test]
async fn without_debug_the_long_lived_token_is_ignored_and_the_user_asked_to_link() {
    let ha = fake_ha(Behaviour::Answer(200, HA_ANSWER)).await;
    let owner = secret_token("OWNER");
    let unlinked = TempFile::new("unlinked", &request("IntentRequest", None, None));
    for debug in [None, Some("false")] {
        let mut env = vec![
            ("BASE_URL", ha.base_url.as_str()),
            ("ALEXA_SKILL_ID", SKILL_ID),
            ("LONG_LIVED_ACCESS_TOKEN", owner.as_str()),
        ];
        env.extend(debug.map(|d| ("DEBUG", d)));
        let out = output(binary(&["--invoke", unlinked.path()], &env)).await;
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(out.status.success(), "{debug:?}: {stdout}\n{stderr}");
        assert_says(
            &serde_json::from_str::<Value>(&stdout).unwrap(),
            LINK_ACCOUNT_SPEECH,
            true,
        );
        assert!(
            stderr.contains("LONG_LIVED_ACCESS_TOKEN is set but ignored"),
            "{debug:?}: a warning at start-up:\n{stderr}"
        );
        assert!(!stderr.contains(SECRET), "{stderr}");
    }
    assert!(
        ha.seen().is_empty(),
        "nothing may reach Home Assistant as its owner without DEBUG: {:?}",
        ha.seen()
    );
}

#[tokio::test]
async fn the_library_also_ignores_the_fallback_token_without_debug() {
    let ha = fake_ha(Behaviour::Answer(200, HA_ANSWER)).await;
    let owner = secret_token("LIBOWNER");
    let relay = relay_with(config(&ha.base_url).with_fallback_token(&owner).unwrap());
    let answer = relay
        .handle(&request("IntentRequest", None, None))
        .await
        .unwrap();
    assert_says(&answer, LINK_ACCOUNT_SPEECH, true);
    assert!(ha.seen().is_empty(), "{:?}", ha.seen());
    assert!(
        !format!("{relay:?}").contains("(set)"),
        "the relay does not even keep it: {relay:?}"
    );
}

// ------------------------------------------------------------------------------------------
// The skill ID.

#[tokio::test]
async fn the_library_refuses_other_skills_before_sending_anything() {
    let ha = fake_ha(Behaviour::Answer(200, HA_ANSWER)).await;
    let ours = linked_request(&secret_token("LIBSKILL"));
    let theirs = ours.replace(SKILL_ID, "amzn1.ask.skill.THEIRS");
    let only_context = ours.replacen(
        r#""application": {"applicationId": "amzn1.ask.skill.HA"},"#,
        "",
        1,
    );
    let relay = relay(&ha.base_url);
    assert_eq!(relay.handle(&theirs).await, Err(Refused::OtherSkill));
    assert!(ha.seen().is_empty(), "{:?}", ha.seen());
    // The context's ID alone (the session's removed) is enough when it is ours.
    assert_eq!(relay.handle(&only_context).await.unwrap(), ha_answer());
    assert_eq!(ha.seen().len(), 1);

    // Skipped on purpose: any skill goes through.
    let config = RelayConfig::new(&ha.base_url, SkillIdCheck::Skip).unwrap();
    let anyone = relay_with(config);
    assert_eq!(anyone.handle(&theirs).await.unwrap(), ha_answer());
    assert_eq!(ha.seen().len(), 2);
}

#[tokio::test]
async fn the_binary_refuses_to_start_without_a_skill_id_and_names_the_opt_out() {
    let ha = fake_ha(Behaviour::Answer(200, HA_ANSWER)).await;
    let linked = TempFile::new("linked", &linked_request(&secret_token("NOID")));
    for skill_id in [None, Some(" ")] {
        let mut env = vec![("BASE_URL", ha.base_url.as_str())];
        env.extend(skill_id.map(|id| ("ALEXA_SKILL_ID", id)));
        let out = output(binary(&["--invoke", linked.path()], &env)).await;
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{skill_id:?}: {stderr}");
        assert!(
            stderr.contains("ha-relay: cannot start: ALEXA_SKILL_ID is not set"),
            "{skill_id:?}: {stderr}"
        );
        assert!(
            stderr.contains("ALEXA_SKIP_SKILL_ID_CHECK=1"),
            "the opt-out is named: {stderr}"
        );
    }
    assert!(ha.seen().is_empty(), "{:?}", ha.seen());
}

#[tokio::test]
async fn a_request_for_another_skill_or_none_is_refused_and_not_forwarded() {
    let ha = fake_ha(Behaviour::Answer(200, HA_ANSWER)).await;
    let linked = linked_request(&secret_token("FOREIGN"));
    let no_id = linked.replace(
        r#""application": {"applicationId": "amzn1.ask.skill.HA"},"#,
        "",
    );
    assert!(!no_id.contains("applicationId"), "{no_id}");
    for (skill_id, request) in [
        ("amzn1.ask.skill.OURS", linked.as_str()),
        (SKILL_ID, no_id.as_str()),
    ] {
        let file = TempFile::new("foreign", request);
        let out = output(binary(
            &["--invoke", file.path()],
            &[
                ("BASE_URL", ha.base_url.as_str()),
                ("ALEXA_SKILL_ID", skill_id),
            ],
        ))
        .await;
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(!out.status.success(), "{stdout}\n{stderr}");
        assert!(
            stderr.contains("not for this skill"),
            "the refusal is said:\n{stderr}"
        );
        assert!(!stderr.contains(SECRET), "{stderr}");
    }
    assert!(
        ha.seen().is_empty(),
        "nothing is forwarded for another skill: {:?}",
        ha.seen()
    );
}

#[tokio::test]
async fn the_opt_out_relays_any_skill_and_warns_loudly() {
    let ha = fake_ha(Behaviour::Answer(200, HA_ANSWER)).await;
    let token = secret_token("OPTOUT");
    let linked = TempFile::new("optout", &linked_request(&token));
    let out = output(binary(
        &["--invoke", linked.path()],
        &[
            ("BASE_URL", ha.base_url.as_str()),
            ("ALEXA_SKIP_SKILL_ID_CHECK", "1"),
        ],
    ))
    .await;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_eq!(serde_json::from_str::<Value>(&stdout).unwrap(), ha_answer());
    assert_eq!(
        ha.only_request().authorization,
        Some(format!("Bearer {token}"))
    );
    assert!(
        stderr.contains("WARN") && stderr.contains("the skill-ID check is OFF"),
        "a loud warning at start-up:\n{stderr}"
    );
}
