//! The relay's own answers, when Home Assistant's cannot be given: spoken apologies that end
//! the session, with the `LinkAccount` card when the account must be linked (again).

use serde_json::{Value, json};

/// Said when the request carries no access token and no fallback is configured.
pub const LINK_ACCOUNT_SPEECH: &str =
    "To use this skill, please link your Home Assistant account in the Alexa app.";
/// Said when Home Assistant refuses the token (HTTP 401).
pub const RELINK_ACCOUNT_SPEECH: &str = "Home Assistant did not accept your account link. \
     Please link your Home Assistant account again in the Alexa app.";
/// Said when Home Assistant cannot be reached or does not answer in time.
pub const UNREACHABLE_SPEECH: &str =
    "Sorry, I can't reach Home Assistant right now. Please try again later.";
/// Said when Home Assistant answers with an error or something that is not a response.
pub const FAILED_SPEECH: &str =
    "Sorry, Home Assistant couldn't handle that request right now. Please try again later.";

/// The response to give instead of Home Assistant's: nothing to say after a session ended.
pub(crate) fn answer(session_ended: bool, speech: &str, link_account: bool) -> Value {
    if session_ended {
        json!({"version": "1.0", "response": {}})
    } else {
        spoken(speech, link_account)
    }
}

/// A response envelope saying `speech` and ending the session, with the `LinkAccount` card
/// when `link_account`.
pub(crate) fn spoken(speech: &str, link_account: bool) -> Value {
    let mut response = json!({
        "outputSpeech": {"type": "PlainText", "text": speech},
        "shouldEndSession": true,
    });
    if link_account {
        response["card"] = json!({"type": "LinkAccount"});
    }
    json!({"version": "1.0", "response": response})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apologies_end_the_session_and_nothing_is_said_after_it_ended() {
        let link = answer(false, LINK_ACCOUNT_SPEECH, true);
        assert_eq!(
            link["response"]["outputSpeech"]["text"],
            LINK_ACCOUNT_SPEECH
        );
        assert_eq!(link["response"]["shouldEndSession"], true);
        assert_eq!(link["response"]["card"]["type"], "LinkAccount");
        assert!(answer(false, FAILED_SPEECH, false)["response"]["card"].is_null());
        assert_eq!(
            answer(true, FAILED_SPEECH, true),
            json!({"version": "1.0", "response": {}})
        );
    }
}
