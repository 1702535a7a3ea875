//! Cat Facts: ten facts about cats, one at a time, remembering where each user stopped.
//!
//! A port of the classic ASK Python tutorial skill. Persistent attributes (per user):
//! `facts_index`, the index (0-based) of the last fact heard, `-1` before the first, and
//! `visits`, the number of sessions. A returning user is greeted with their visit number and
//! offered the fact after the last one they heard. The session attribute `facts_heard` counts the
//! facts of this session for the goodbye.
//!
//! The skill shows both kinds of handlers (structs implementing [`RequestHandler`] and closures),
//! a request interceptor that counts visits, logging interceptors, and a catch-all exception
//! handler. It is built [`with_save_on_response`](SkillBuilder::with_save_on_response): the
//! persistent attributes are saved after each turn that changed them, and only then.
//!
//! Interaction model: the built-in `AMAZON.YesIntent`, `NoIntent`, `HelpIntent`, `StopIntent`,
//! `CancelIntent`, `StartOverIntent`, `FallbackIntent`, `NavigateHomeIntent` (every custom
//! skill's model has it), and `FactNumberIntent` with the `AMAZON.NUMBER` slot `fact_number`
//! ("tell me fact {fact_number}"). The model is
//! `skill-examples/skill-package/cat-facts/interactionModels/custom/en-US.json`; a test checks
//! it against the handlers.
//!
//! ```
//! use std::sync::Arc;
//! use persistence_memory::MemoryAdapter;
//! use skill_builder::testkit::Conversation;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let skill = skill_examples::cat_facts::skill(Arc::new(MemoryAdapter::new()));
//! let mut talk = Conversation::new(&skill);
//! talk.launch().await?;
//! let turn = talk.intent("FactNumberIntent").slot("fact_number", "2").send().await?;
//! assert!(turn.speech().starts_with("Fact number 2:"));
//! assert_eq!(talk.stored_attributes().await?.unwrap()["facts_index"], 1);
//! # Ok(()) }
//! ```

use std::sync::Arc;

use persistence_core::{Attributes, PersistenceAdapter};
use skill_builder::envelope::Request;
use skill_builder::{
    HandlerInput, HandlerResult, RequestHandler, RequestInterceptor, Response, ResponseInterceptor,
    Skill, SkillBuilder, SkillError, async_trait, is_intent_name, is_request_type,
};

use crate::demo::{App, ScriptedSession, Utterance, normalize, number_in};

/// The skill's name, as spoken.
pub const SKILL_NAME: &str = "Cat Facts";
/// The custom intent asking for one fact by number.
pub const FACT_NUMBER_INTENT: &str = "FactNumberIntent";
/// Its `AMAZON.NUMBER` slot.
pub const FACT_NUMBER_SLOT: &str = "fact_number";

/// The ten facts, in order.
pub const FACTS: [&str; 10] = [
    "Cats sleep for around thirteen to sixteen hours a day.",
    "A group of cats is called a clowder.",
    "Cats have five toes on each front paw, but only four on each back paw.",
    "A cat's nose print is unique, much like a human's fingerprint.",
    "Cats can rotate their ears about 180 degrees, using more than twenty muscles.",
    "Adult cats meow mostly to talk to people, rarely to other cats.",
    "Cats walk like camels and giraffes: both right feet, then both left feet.",
    "A cat can jump up to six times its own length.",
    "Many adult cats are lactose intolerant, so milk can upset their stomachs.",
    "The oldest cat on record, Creme Puff, lived to be 38 years old.",
];

/// The reprompt used when the skill waits for an answer.
pub const REPROMPT: &str =
    "Would you like to hear a cat fact? Say yes, or ask for a fact number between one and ten.";

const FACTS_INDEX: &str = "facts_index";
const VISITS: &str = "visits";
const FACTS_HEARD: &str = "facts_heard";

/// The skill, keeping persistent attributes in `adapter`.
pub fn skill(adapter: Arc<dyn PersistenceAdapter>) -> Skill {
    builder(adapter).build()
}

/// The skill's builder, to add a skill ID or more before building.
pub fn builder(adapter: Arc<dyn PersistenceAdapter>) -> SkillBuilder {
    SkillBuilder::new()
        .with_persistence_adapter(adapter)
        .with_save_on_response(true)
        .add_request_interceptor(LogRequest)
        .add_request_interceptor(CountVisits)
        .add_request_handler(Launch)
        .add_request_handler(NextFact)
        .add_request_handler(FactNumber)
        .add_request_handler_fn(
            |i| is_intent_name(i, "AMAZON.StartOverIntent"),
            |i| {
                Box::pin(async move {
                    i.attributes_manager
                        .persistent_attributes_mut()
                        .await?
                        .set(FACTS_INDEX, &-1)?;
                    Ok(i.response_builder
                        .speak("Okay, let's start over from the first fact. Would you like to hear it?")
                        .reprompt(REPROMPT)
                        .get_response())
                })
            },
        )
        .add_request_handler_fn(
            |i| is_intent_name(i, "AMAZON.HelpIntent"),
            |i| {
                Box::pin(async move {
                    Ok(i.response_builder
                        .speak(
                            "I know ten facts about cats. Say yes to hear the next one, ask for a \
                             fact number between one and ten, like: tell me fact three, or say \
                             start over to begin again. What would you like?",
                        )
                        .reprompt(REPROMPT)
                        .get_response())
                })
            },
        )
        .add_request_handler_fn(
            |i| {
                is_intent_name(i, "AMAZON.StopIntent")
                    || is_intent_name(i, "AMAZON.CancelIntent")
                    || is_intent_name(i, "AMAZON.NavigateHomeIntent")
            },
            |i| {
                Box::pin(async move {
                    let heard = facts_heard(i)?;
                    let speech = match heard {
                        0 => "Goodbye!".to_owned(),
                        1 => "Goodbye! You heard 1 cat fact this time.".to_owned(),
                        n => format!("Goodbye! You heard {n} cat facts this time."),
                    };
                    Ok(i.response_builder.speak(speech).end_session().get_response())
                })
            },
        )
        .add_request_handler_fn(
            |i| is_intent_name(i, "AMAZON.NoIntent"),
            |i| {
                Box::pin(async move {
                    Ok(i.response_builder
                        .speak("Okay. Come back any time for more cat facts. Goodbye!")
                        .end_session()
                        .get_response())
                })
            },
        )
        .add_request_handler_fn(
            |i| is_intent_name(i, "AMAZON.FallbackIntent"),
            |i| {
                Box::pin(async move {
                    Ok(i.response_builder
                        .speak(
                            "Sorry, Cat Facts can't help with that. Say yes to hear a fact, or \
                             ask for a fact number between one and ten.",
                        )
                        .reprompt(REPROMPT)
                        .get_response())
                })
            },
        )
        .add_request_handler_fn(
            |i| is_request_type(i, "SessionEndedRequest"),
            |i| {
                Box::pin(async move {
                    if let Request::SessionEnded(r) = i.request() {
                        tracing::info!(reason = ?r.reason, error = ?r.error, "session ended");
                    }
                    // Alexa accepts no speech here; the progress is already saved.
                    Ok(i.response_builder.get_response())
                })
            },
        )
        .add_response_interceptor(LogResponse)
        .add_exception_handler_fn(
            |_i, _error| true,
            |i, error| {
                let speech = if error.is_conflict() {
                    "Sorry, your cat facts progress changed on another device just now. Please \
                     try again."
                } else {
                    "Sorry, I had trouble doing what you asked. Please try again."
                };
                Box::pin(async move {
                    Ok(i.response_builder.speak(speech).reprompt(REPROMPT).get_response())
                })
            },
        )
}

fn facts_index(attrs: &Attributes) -> Result<i64, SkillError> {
    Ok(attrs.get_as::<i64>(FACTS_INDEX)?.unwrap_or(-1))
}

fn facts_heard(input: &HandlerInput) -> Result<u64, SkillError> {
    Ok(input
        .attributes_manager
        .session_attributes()
        .get_as::<u64>(FACTS_HEARD)?
        .unwrap_or(0))
}

/// Tells fact `index` (0-based), remembers it as the last one heard, and asks for another.
async fn tell_fact(input: &mut HandlerInput, index: usize) -> HandlerResult {
    let Some(fact) = FACTS.get(index) else {
        return Err(SkillError::other(format!(
            "there is no fact at index {index}"
        )));
    };
    let stored = i64::try_from(index).map_err(SkillError::other)?;
    input
        .attributes_manager
        .persistent_attributes_mut()
        .await?
        .set(FACTS_INDEX, &stored)?;
    let heard = facts_heard(input)? + 1;
    input
        .attributes_manager
        .session_attributes_mut()
        .set(FACTS_HEARD, &heard)?;
    let number = index + 1;
    let rb = &mut input.response_builder;
    if number == FACTS.len() {
        rb.speak(format!(
            "Fact number {number}: {fact} That was my last fact. Say start over to hear them again."
        ))
        .reprompt("Say start over to hear the facts again, or stop to leave.");
    } else {
        rb.speak(format!(
            "Fact number {number}: {fact} Would you like another fact?"
        ))
        .reprompt("Would you like another cat fact?");
    }
    Ok(rb.get_response())
}

const ALL_HEARD: &str = "You have heard all ten facts. Say start over to hear them again, or ask \
                         for a fact number between one and ten.";

/// `LaunchRequest`: greets new and returning users.
#[derive(Debug)]
struct Launch;

#[async_trait]
impl RequestHandler for Launch {
    fn can_handle(&self, input: &HandlerInput) -> bool {
        is_request_type(input, "LaunchRequest")
    }

    async fn handle(&self, input: &mut HandlerInput) -> HandlerResult {
        let attrs = input.attributes_manager.persistent_attributes().await?;
        let index = facts_index(attrs)?;
        let visits = attrs.get_as::<u64>(VISITS)?.unwrap_or(0);
        let speech = if visits <= 1 && index < 0 {
            format!(
                "Welcome to {SKILL_NAME}! I know ten facts about cats. Would you like to hear one?"
            )
        } else {
            let greeting =
                format!("Welcome back to {SKILL_NAME}! This is your visit number {visits}.");
            match index {
                i if i < 0 => format!("{greeting} Would you like to hear a fact?"),
                i if i + 1 >= FACTS.len() as i64 => format!("{greeting} {ALL_HEARD}"),
                i => format!(
                    "{greeting} Last time you heard fact number {}. Would you like to hear fact \
                     number {}?",
                    i + 1,
                    i + 2
                ),
            }
        };
        Ok(input
            .response_builder
            .speak(speech)
            .reprompt(REPROMPT)
            .get_response())
    }
}

/// `AMAZON.YesIntent`: the fact after the last one heard.
#[derive(Debug)]
struct NextFact;

#[async_trait]
impl RequestHandler for NextFact {
    fn can_handle(&self, input: &HandlerInput) -> bool {
        is_intent_name(input, "AMAZON.YesIntent")
    }

    async fn handle(&self, input: &mut HandlerInput) -> HandlerResult {
        let index = facts_index(input.attributes_manager.persistent_attributes().await?)?;
        match usize::try_from(index + 1) {
            Ok(next) if next < FACTS.len() => tell_fact(input, next).await,
            _ => Ok(input
                .response_builder
                .speak(ALL_HEARD)
                .reprompt(REPROMPT)
                .get_response()),
        }
    }
}

/// `FactNumberIntent`: fact number 1 to 10.
#[derive(Debug)]
struct FactNumber;

#[async_trait]
impl RequestHandler for FactNumber {
    fn can_handle(&self, input: &HandlerInput) -> bool {
        is_intent_name(input, FACT_NUMBER_INTENT)
    }

    async fn handle(&self, input: &mut HandlerInput) -> HandlerResult {
        let asked = input
            .slot_value(FACT_NUMBER_SLOT)
            .and_then(|v| v.trim().parse::<i64>().ok());
        let ask_again = "Which fact would you like, from one to ten?";
        match asked {
            Some(n) if (1..=FACTS.len() as i64).contains(&n) => {
                let index = usize::try_from(n - 1).map_err(SkillError::other)?;
                tell_fact(input, index).await
            }
            Some(n) => Ok(input
                .response_builder
                .speak(format!(
                    "I only know ten facts, so there is no fact number {n}. Please pick a number \
                     between one and ten."
                ))
                .reprompt(ask_again)
                .get_response()),
            None => Ok(input
                .response_builder
                .speak(format!("Sorry, I didn't catch a number. {ask_again}"))
                .reprompt(ask_again)
                .get_response()),
        }
    }
}

/// Counts a visit on the first request of each session.
#[derive(Debug)]
struct CountVisits;

#[async_trait]
impl RequestInterceptor for CountVisits {
    async fn process(&self, input: &mut HandlerInput) -> HandlerResult<()> {
        if !input.request_envelope().is_new_session()
            || is_request_type(input, "SessionEndedRequest")
        {
            return Ok(());
        }
        let attrs = input.attributes_manager.persistent_attributes_mut().await?;
        let visits = attrs.get_as::<u64>(VISITS)?.unwrap_or(0) + 1;
        attrs.set(VISITS, &visits)?;
        if !attrs.contains_key(FACTS_INDEX) {
            attrs.set(FACTS_INDEX, &-1)?;
        }
        Ok(())
    }
}

/// Logs each request (without IDs).
#[derive(Debug)]
struct LogRequest;

#[async_trait]
impl RequestInterceptor for LogRequest {
    async fn process(&self, input: &mut HandlerInput) -> HandlerResult<()> {
        tracing::debug!(
            request_type = input.request_type(),
            intent = input.intent_name().unwrap_or(""),
            new_session = input.request_envelope().is_new_session(),
            "cat facts request"
        );
        Ok(())
    }
}

/// Logs each response.
#[derive(Debug)]
struct LogResponse;

#[async_trait]
impl ResponseInterceptor for LogResponse {
    async fn process(
        &self,
        _input: &mut HandlerInput,
        response: &mut Response,
    ) -> HandlerResult<()> {
        tracing::debug!(
            speech = response.output_speech.as_ref().map_or("", |s| s.content()),
            end_session = ?response.should_end_session,
            "cat facts response"
        );
        Ok(())
    }
}

/// Typed words a person might say, as the intents Alexa would map them to: "yes", "no",
/// "fact 3", "tell me fact three", "help", "start over", "stop", "cancel", "open cat facts",
/// "exit" (ends the session), "quit" (leaves the demo). Anything else is the fallback intent.
///
/// ```
/// use skill_examples::{cat_facts::interpret, demo::Utterance};
/// assert_eq!(interpret("Tell me fact three!"),
///     Utterance::intent("FactNumberIntent").with_slot("fact_number", "3"));
/// assert_eq!(interpret("yes please"), Utterance::intent("AMAZON.YesIntent"));
/// ```
pub fn interpret(line: &str) -> Utterance {
    let text = normalize(line);
    let words: Vec<&str> = text.split(' ').filter(|w| !w.is_empty()).collect();
    let has = |w: &str| words.contains(&w);
    match text.as_str() {
        "quit" => return Utterance::Quit,
        "exit" => return Utterance::Exit,
        "open" | "launch" | "start" => return Utterance::Open,
        _ => {}
    }
    if words
        .first()
        .is_some_and(|w| *w == "open" || *w == "launch")
    {
        return Utterance::Open;
    }
    if text.contains("start over") || has("restart") || text.contains("start again") {
        return Utterance::intent("AMAZON.StartOverIntent");
    }
    if has("help") {
        return Utterance::intent("AMAZON.HelpIntent");
    }
    if has("stop") {
        return Utterance::intent("AMAZON.StopIntent");
    }
    if has("cancel") {
        return Utterance::intent("AMAZON.CancelIntent");
    }
    if let Some(n) = number_in(&words) {
        return Utterance::intent(FACT_NUMBER_INTENT).with_slot(FACT_NUMBER_SLOT, n.to_string());
    }
    if has("fact") || has("number") {
        // Alexa fills an AMAZON.NUMBER slot with "?" when it heard no number.
        return Utterance::intent(FACT_NUMBER_INTENT).with_slot(FACT_NUMBER_SLOT, "?");
    }
    match words.first().copied() {
        Some("yes" | "yeah" | "yep" | "sure" | "ok" | "okay") => {
            Utterance::intent("AMAZON.YesIntent")
        }
        Some("no" | "nope" | "nah") => Utterance::intent("AMAZON.NoIntent"),
        _ => Utterance::intent("AMAZON.FallbackIntent"),
    }
}

/// The user of the scripted demo.
pub const DEMO_USER: &str = "amzn1.ask.account.CATFACTSDEMO";

/// The scripted demo: a first visit, then a returning one.
pub const DEMO_SCRIPT: &[ScriptedSession<'static>] = &[
    ScriptedSession {
        user: DEMO_USER,
        lines: &[
            "open cat facts",
            "yes",
            "yes",
            "tell me fact 7",
            "fact 42",
            "fact banana",
            "help",
            "stop",
        ],
    },
    ScriptedSession {
        user: DEMO_USER,
        lines: &["open cat facts", "yes", "no"],
    },
];

/// Phrases to try in the interactive demo.
pub const EXAMPLE_PHRASES: &[&str] = &[
    "yes",
    "no",
    "fact 3",
    "help",
    "start over",
    "stop",
    "open cat facts",
    "quit",
];

/// What the `cat-facts` binary runs.
pub const APP: App = App {
    name: "cat-facts",
    builder,
    interpret,
    script: DEMO_SCRIPT,
    examples: EXAMPLE_PHRASES,
};
