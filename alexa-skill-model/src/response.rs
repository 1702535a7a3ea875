//! The response envelope a skill returns to Alexa, and the builder handlers use.
//!
//! ```
//! use alexa_skill_model::response::{Card, OutputSpeech, ResponseBuilder};
//!
//! let mut rb = ResponseBuilder::new();
//! let response = rb
//!     .speak("Here is a fact. Want another?")
//!     .reprompt("Want another fact?")
//!     .simple_card("Cat Facts", "Cats sleep a lot.")
//!     .get_response();
//! assert_eq!(response.output_speech, Some(OutputSpeech::ssml("<speak>Here is a fact. Want another?</speak>")));
//! assert_eq!(response.should_end_session, Some(false));
//! assert!(matches!(response.card, Some(Card::Simple { .. })));
//!
//! let json = serde_json::to_value(&response)?;
//! assert_eq!(json["outputSpeech"]["type"], "SSML");
//! assert_eq!(json["reprompt"]["outputSpeech"]["ssml"], "<speak>Want another fact?</speak>");
//! assert_eq!(json["shouldEndSession"], false);
//! # Ok::<(), serde_json::Error>(())
//! ```

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::directive::Directive;

/// What a skill returns for one turn.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseEnvelope {
    /// `version`, `"1.0"`.
    pub version: String,
    /// `sessionAttributes`: Alexa sends them back on the next request of the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_attributes: Option<Map<String, Value>>,
    /// `userAgent`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// `response`
    pub response: Response,
}

/// `response`: what Alexa says and shows, and whether the session goes on.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Response {
    /// `outputSpeech`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_speech: Option<OutputSpeech>,
    /// `card`, shown in the Alexa app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<Card>,
    /// `reprompt`: said when the user does not answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reprompt: Option<Reprompt>,
    /// `shouldEndSession`: `true` ends the session, `false` keeps it open and listens; absent
    /// lets the device decide.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub should_end_session: Option<bool>,
    /// `directives` (dialog, APL, audio player, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub directives: Vec<Directive>,
}

/// `outputSpeech`, plain text or SSML.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all_fields = "camelCase")]
pub enum OutputSpeech {
    /// `{"type": "PlainText", "text": ...}`
    PlainText {
        /// `text`
        text: String,
        /// `playBehavior`
        #[serde(default, skip_serializing_if = "Option::is_none")]
        play_behavior: Option<PlayBehavior>,
    },
    /// `{"type": "SSML", "ssml": "<speak>...</speak>"}`
    #[serde(rename = "SSML")]
    Ssml {
        /// `ssml`, wrapped in `<speak>`.
        ssml: String,
        /// `playBehavior`
        #[serde(default, skip_serializing_if = "Option::is_none")]
        play_behavior: Option<PlayBehavior>,
    },
}

impl OutputSpeech {
    /// Plain-text speech.
    pub fn plain(text: impl Into<String>) -> Self {
        OutputSpeech::PlainText {
            text: text.into(),
            play_behavior: None,
        }
    }

    /// SSML speech, taken as given (it should be wrapped in `<speak>`).
    pub fn ssml(ssml: impl Into<String>) -> Self {
        OutputSpeech::Ssml {
            ssml: ssml.into(),
            play_behavior: None,
        }
    }

    /// What is said: the plain text, or the SSML without its `<speak>` wrapper (inner tags are
    /// kept).
    ///
    /// ```
    /// # use alexa_skill_model::response::OutputSpeech;
    /// assert_eq!(OutputSpeech::ssml("<speak>Hi <break/>there</speak>").content(), "Hi <break/>there");
    /// assert_eq!(OutputSpeech::plain("Hi").content(), "Hi");
    /// ```
    pub fn content(&self) -> &str {
        match self {
            OutputSpeech::PlainText { text, .. } => text,
            OutputSpeech::Ssml { ssml, .. } => strip_speak(ssml),
        }
    }
}

/// `ssml` without a surrounding `<speak>…</speak>`, trimmed.
fn strip_speak(ssml: &str) -> &str {
    let t = ssml.trim();
    t.strip_prefix("<speak>")
        .and_then(|s| s.strip_suffix("</speak>"))
        .unwrap_or(t)
        .trim()
}

/// `playBehavior` of output speech.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PlayBehavior {
    /// `ENQUEUE`
    Enqueue,
    /// `REPLACE_ALL`
    ReplaceAll,
    /// `REPLACE_ENQUEUED`
    ReplaceEnqueued,
}

/// `reprompt`
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reprompt {
    /// `outputSpeech`
    pub output_speech: OutputSpeech,
}

/// `card`, shown in the Alexa app.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all_fields = "camelCase")]
pub enum Card {
    /// `{"type": "Simple", "title": ..., "content": ...}`
    Simple {
        /// `title`
        #[serde(default)]
        title: String,
        /// `content`
        #[serde(default)]
        content: String,
    },
    /// `{"type": "Standard", "title": ..., "text": ..., "image": {...}}`
    Standard {
        /// `title`
        #[serde(default)]
        title: String,
        /// `text`
        #[serde(default)]
        text: String,
        /// `image`
        #[serde(default, skip_serializing_if = "Option::is_none")]
        image: Option<Image>,
    },
    /// `{"type": "LinkAccount"}`: asks the user to link their account.
    LinkAccount,
    /// `{"type": "AskForPermissionsConsent", "permissions": [...]}`
    AskForPermissionsConsent {
        /// `permissions`, e.g. `alexa::profile:given_name:read`.
        #[serde(default)]
        permissions: Vec<String>,
    },
}

/// `card.image` of a standard card.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Image {
    /// `smallImageUrl` (720 × 480)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub small_image_url: Option<String>,
    /// `largeImageUrl` (1200 × 800)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub large_image_url: Option<String>,
}

/// Builds a [`Response`], as the ASK SDKs' `responseBuilder` does.
///
/// Methods chain on `&mut self`; [`get_response`](ResponseBuilder::get_response) takes the result
/// and leaves the builder empty. Speech given to [`speak`](ResponseBuilder::speak) and
/// [`reprompt`](ResponseBuilder::reprompt) is SSML: it may hold SSML tags, and is wrapped in
/// `<speak>` unless it already is. Text from users or data that may contain `&`, `<` or `>`
/// should go through [`escape_ssml`] first.
///
/// ```
/// # use alexa_skill_model::response::{Card, ResponseBuilder};
/// let mut rb = ResponseBuilder::new();
/// let r = rb.speak("Goodbye!").end_session().get_response();
/// assert_eq!(r.should_end_session, Some(true));
/// let r = rb.speak("Please link your account.").link_account_card().get_response();
/// assert_eq!(r.card, Some(Card::LinkAccount));
/// assert_eq!(r.should_end_session, None);
/// ```
#[derive(Clone, Debug, Default)]
pub struct ResponseBuilder {
    response: Response,
}

fn wrap_ssml(s: String) -> String {
    let t = s.trim();
    if t.starts_with("<speak>") && t.ends_with("</speak>") {
        t.to_owned()
    } else {
        format!("<speak>{t}</speak>")
    }
}

impl From<Response> for ResponseBuilder {
    /// A builder that goes on from `response`.
    fn from(response: Response) -> Self {
        Self { response }
    }
}

impl ResponseBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Says `ssml` (SSML speech, wrapped in `<speak>`).
    pub fn speak(&mut self, ssml: impl Into<String>) -> &mut Self {
        self.response.output_speech = Some(OutputSpeech::ssml(wrap_ssml(ssml.into())));
        self
    }

    /// Says `text` as plain text (no SSML interpretation).
    pub fn speak_plain(&mut self, text: impl Into<String>) -> &mut Self {
        self.response.output_speech = Some(OutputSpeech::plain(text));
        self
    }

    /// Says `ssml` if the user does not answer, and keeps the session open
    /// (`shouldEndSession: false`).
    pub fn reprompt(&mut self, ssml: impl Into<String>) -> &mut Self {
        self.response.reprompt = Some(Reprompt {
            output_speech: OutputSpeech::ssml(wrap_ssml(ssml.into())),
        });
        self.response.should_end_session = Some(false);
        self
    }

    /// The ASK Python SDK's name for [`reprompt`](ResponseBuilder::reprompt).
    pub fn ask(&mut self, ssml: impl Into<String>) -> &mut Self {
        self.reprompt(ssml)
    }

    /// Shows a simple card.
    pub fn simple_card(
        &mut self,
        title: impl Into<String>,
        content: impl Into<String>,
    ) -> &mut Self {
        self.response.card = Some(Card::Simple {
            title: title.into(),
            content: content.into(),
        });
        self
    }

    /// Shows a standard card, with an image when `image` is given.
    pub fn standard_card(
        &mut self,
        title: impl Into<String>,
        text: impl Into<String>,
        image: Option<Image>,
    ) -> &mut Self {
        self.response.card = Some(Card::Standard {
            title: title.into(),
            text: text.into(),
            image,
        });
        self
    }

    /// Shows the account-linking card.
    pub fn link_account_card(&mut self) -> &mut Self {
        self.response.card = Some(Card::LinkAccount);
        self
    }

    /// Shows the card asking for permission to `permissions`.
    pub fn ask_for_permissions_consent_card<I, S>(&mut self, permissions: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.response.card = Some(Card::AskForPermissionsConsent {
            permissions: permissions.into_iter().map(Into::into).collect(),
        });
        self
    }

    /// Ends the session after this response (`shouldEndSession: true`).
    pub fn end_session(&mut self) -> &mut Self {
        self.with_should_end_session(Some(true))
    }

    /// Sets `shouldEndSession` (`None` leaves it to the device).
    pub fn with_should_end_session(&mut self, end: Option<bool>) -> &mut Self {
        self.response.should_end_session = end;
        self
    }

    /// Adds a directive: a typed one ([`crate::directive`]) or any directive as JSON.
    ///
    /// ```
    /// # use alexa_skill_model::response::ResponseBuilder;
    /// use alexa_skill_model::directive::ElicitSlot;
    /// let r = ResponseBuilder::new()
    ///     .speak("What size?")
    ///     .add_directive(ElicitSlot::new("size"))
    ///     .add_directive(serde_json::json!({"type": "AudioPlayer.Stop"}))
    ///     .get_response();
    /// assert_eq!(r.directives.len(), 2);
    /// ```
    pub fn add_directive(&mut self, directive: impl Into<Directive>) -> &mut Self {
        self.response.directives.push(directive.into());
        self
    }

    /// Sets how the output speech plays relative to what the device is saying
    /// (`playBehavior`).
    pub fn play_behavior(&mut self, behavior: PlayBehavior) -> &mut Self {
        if let Some(
            OutputSpeech::PlainText { play_behavior, .. }
            | OutputSpeech::Ssml { play_behavior, .. },
        ) = &mut self.response.output_speech
        {
            *play_behavior = Some(behavior);
        }
        self
    }

    /// The response built so far, without taking it.
    pub fn peek(&self) -> &Response {
        &self.response
    }

    /// Takes the response built, leaving the builder empty.
    pub fn get_response(&mut self) -> Response {
        std::mem::take(&mut self.response)
    }
}

/// Escapes `&`, `<`, `>`, `"` and `'` so that `text` can be put inside SSML.
///
/// ```
/// # use alexa_skill_model::response::escape_ssml;
/// assert_eq!(escape_ssml("Tom & <Jerry>"), "Tom &amp; &lt;Jerry&gt;");
/// ```
pub fn escape_ssml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn response_json_matches_alexa_shape() {
        let mut rb = ResponseBuilder::new();
        let r = rb
            .speak("Hello")
            .reprompt("<speak>Still there?</speak>")
            .standard_card(
                "T",
                "Body",
                Some(Image {
                    small_image_url: Some("https://x/s.png".into()),
                    large_image_url: None,
                }),
            )
            .add_directive(json!({"type": "Dialog.Delegate"}))
            .get_response();
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(
            v,
            json!({
                "outputSpeech": {"type": "SSML", "ssml": "<speak>Hello</speak>"},
                "card": {"type": "Standard", "title": "T", "text": "Body",
                         "image": {"smallImageUrl": "https://x/s.png"}},
                "reprompt": {"outputSpeech": {"type": "SSML", "ssml": "<speak>Still there?</speak>"}},
                "shouldEndSession": false,
                "directives": [{"type": "Dialog.Delegate"}]
            })
        );
        // The builder is empty again.
        assert_eq!(rb.get_response(), Response::default());
    }

    #[test]
    fn cards_and_plain_text_serialize_as_alexa_expects() {
        let mut rb = ResponseBuilder::new();
        let r = rb
            .speak_plain("Hi")
            .link_account_card()
            .end_session()
            .get_response();
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(
            v["outputSpeech"],
            json!({"type": "PlainText", "text": "Hi"})
        );
        assert_eq!(v["card"], json!({"type": "LinkAccount"}));
        assert_eq!(v["shouldEndSession"], true);
        let simple = serde_json::to_value(Card::Simple {
            title: "a".into(),
            content: "b".into(),
        })
        .unwrap();
        assert_eq!(
            simple,
            json!({"type": "Simple", "title": "a", "content": "b"})
        );
        // Round trip.
        let back: Response = serde_json::from_value(v).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn envelope_omits_absent_parts() {
        let env = ResponseEnvelope {
            version: "1.0".into(),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&env).unwrap(),
            json!({"version": "1.0", "response": {}})
        );
    }
}
