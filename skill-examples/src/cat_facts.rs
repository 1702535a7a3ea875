//! Cat Facts: ten facts about cats, one at a time, remembering where each user stopped.
//!
//! A port of the classic ASK Python tutorial skill, with plain async handlers and typed state.
//! Persistent state (per user, [`Progress`]): `facts_index`, the index (0-based) of the last
//! fact heard, `-1` before the first, and `visits`, the number of sessions. A returning user is
//! greeted with their visit number and offered the fact after the last one they heard. Session
//! state ([`ThisSession`]): `facts_heard` counts the facts of this session for the goodbye.
//!
//! A `before` interceptor counts visits; the state is saved after each turn that changed it, and
//! only then.
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
//! use skill_testkit::Conversation;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let skill = skill_examples::cat_facts::skill(Arc::new(MemoryAdapter::new()))?;
//! let mut talk = Conversation::new(&skill);
//! talk.launch().await?;
//! let turn = talk.intent("FactNumberIntent").slot("fact_number", "2").send().await?;
//! assert!(turn.speech().starts_with("Fact number 2:"));
//! assert_eq!(talk.stored_attributes().await?.unwrap()["facts_index"], 1);
//! # Ok(()) }
//! ```

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use skill_builder::prelude::*;

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

/// What the skill remembers per user, in the layout of the Python tutorial skill
/// (`{"facts_index": 2, "visits": 3}`), so its users' progress carries over.
#[derive(Debug, Serialize, Deserialize)]
pub struct Progress {
    /// The index (0-based) of the last fact heard; -1 before the first.
    pub facts_index: i64,
    /// Sessions so far.
    pub visits: u64,
}

impl Default for Progress {
    fn default() -> Self {
        Self {
            facts_index: -1,
            visits: 0,
        }
    }
}

/// What the skill keeps for the session: the facts heard in it, for the goodbye.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ThisSession {
    /// Facts heard this session.
    pub facts_heard: u64,
}

/// The skill, keeping persistent attributes in `adapter`. For tests and local runs: it answers requests for any skill ID (a
/// deployed skill builds [`builder`] with its ID).
pub fn skill(adapter: Arc<dyn PersistenceAdapter>) -> Result<Skill, BuildError> {
    builder(adapter)
        .skip_skill_id_check_for_local_testing()
        .build()
}

/// The skill's builder, to add a skill ID or more before building.
pub fn builder(adapter: Arc<dyn PersistenceAdapter>) -> SkillBuilder {
    SkillBuilder::new()
        .with_persistence_adapter(adapter)
        .before(count_visits)
        .on_launch(launch)
        .on_intent("AMAZON.YesIntent", next_fact)
        .on_intent(FACT_NUMBER_INTENT, fact_number)
        .on_intent("AMAZON.StartOverIntent", start_over)
        .on_intent("AMAZON.HelpIntent", help)
        .on_intents(
            [
                "AMAZON.StopIntent",
                "AMAZON.CancelIntent",
                "AMAZON.NavigateHomeIntent",
            ],
            goodbye,
        )
        .on_intent("AMAZON.NoIntent", no)
        .on_intent("AMAZON.FallbackIntent", fallback)
        .on_session_ended(session_ended)
        .on_error(sorry)
}

/// Counts a visit on the first request of each session (saved after the response).
async fn count_visits(turn: Turn) -> Result<(), HandlerError> {
    tracing::debug!(
        request_type = turn.request_type(),
        intent = turn.intent_name().unwrap_or(""),
        new_session = turn.is_new_session(),
        "cat facts request"
    );
    if turn.is_new_session() && !matches!(turn.request(), Request::SessionEnded(_)) {
        turn.state::<Progress>().await?.visits += 1;
    }
    Ok(())
}

const ALL_HEARD: &str = "You have heard all ten facts. Say start over to hear them again, or ask \
                         for a fact number between one and ten.";

/// `LaunchRequest`: greets new and returning users.
async fn launch(turn: Turn) -> TurnResult {
    let progress = turn.state::<Progress>().await?;
    let (index, visits) = (progress.facts_index, progress.visits);
    let speech = if visits <= 1 && index < 0 {
        format!("Welcome to {SKILL_NAME}! I know ten facts about cats. Would you like to hear one?")
    } else {
        let greeting = format!("Welcome back to {SKILL_NAME}! This is your visit number {visits}.");
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
    Ok(turn.speak(speech).reprompt(REPROMPT))
}

/// Tells fact `index` (0-based), remembers it as the last one heard, and asks for another.
async fn tell_fact(turn: &Turn, index: usize) -> TurnResult {
    let fact = FACTS
        .get(index)
        .ok_or_else(|| HandlerError::msg(format!("there is no fact at index {index}")))?;
    turn.state::<Progress>().await?.facts_index = i64::try_from(index)?;
    turn.session::<ThisSession>()?.facts_heard += 1;
    let number = index + 1;
    Ok(if number == FACTS.len() {
        turn.speak(format!(
            "Fact number {number}: {fact} That was my last fact. Say start over to hear them again."
        ))
        .reprompt("Say start over to hear the facts again, or stop to leave.")
    } else {
        turn.speak(format!(
            "Fact number {number}: {fact} Would you like another fact?"
        ))
        .reprompt("Would you like another cat fact?")
    })
}

/// `AMAZON.YesIntent`: the fact after the last one heard.
async fn next_fact(turn: Turn) -> TurnResult {
    let last = turn.state::<Progress>().await?.facts_index;
    match usize::try_from(last + 1) {
        Ok(next) if next < FACTS.len() => tell_fact(&turn, next).await,
        _ => Ok(turn.speak(ALL_HEARD).reprompt(REPROMPT)),
    }
}

/// `FactNumberIntent`: fact number 1 to 10.
async fn fact_number(turn: Turn) -> TurnResult {
    let asked = turn
        .slot_value(FACT_NUMBER_SLOT)
        .and_then(|v| v.trim().parse::<i64>().ok());
    let ask_again = "Which fact would you like, from one to ten?";
    match asked {
        Some(n) if (1..=FACTS.len() as i64).contains(&n) => {
            tell_fact(&turn, usize::try_from(n - 1)?).await
        }
        Some(n) => Ok(turn
            .speak(format!(
                "I only know ten facts, so there is no fact number {n}. Please pick a number \
                 between one and ten."
            ))
            .reprompt(ask_again)),
        None => Ok(turn
            .speak(format!("Sorry, I didn't catch a number. {ask_again}"))
            .reprompt(ask_again)),
    }
}

async fn start_over(turn: Turn) -> TurnResult {
    turn.state::<Progress>().await?.facts_index = -1;
    Ok(turn
        .speak("Okay, let's start over from the first fact. Would you like to hear it?")
        .reprompt(REPROMPT))
}

async fn help(turn: Turn) -> TurnResult {
    Ok(turn
        .speak(
            "I know ten facts about cats. Say yes to hear the next one, ask for a fact number \
             between one and ten, like: tell me fact three, or say start over to begin again. \
             What would you like?",
        )
        .reprompt(REPROMPT))
}

async fn goodbye(turn: Turn) -> TurnResult {
    let heard = turn.session::<ThisSession>()?.facts_heard;
    let speech = match heard {
        0 => "Goodbye!".to_owned(),
        1 => "Goodbye! You heard 1 cat fact this time.".to_owned(),
        n => format!("Goodbye! You heard {n} cat facts this time."),
    };
    Ok(turn.speak(speech).end_session())
}

async fn no(turn: Turn) -> TurnResult {
    Ok(turn
        .speak("Okay. Come back any time for more cat facts. Goodbye!")
        .end_session())
}

async fn fallback(turn: Turn) -> TurnResult {
    Ok(turn
        .speak(
            "Sorry, Cat Facts can't help with that. Say yes to hear a fact, or ask for a fact \
             number between one and ten.",
        )
        .reprompt(REPROMPT))
}

/// `SessionEndedRequest`: Alexa accepts no speech here; the progress is already saved.
async fn session_ended(turn: Turn) -> TurnResult<()> {
    if let Request::SessionEnded(r) = turn.request() {
        tracing::info!(reason = ?r.reason, error = ?r.error, "session ended");
    }
    Ok(())
}

async fn sorry(turn: Turn, error: SkillError) -> TurnResult {
    let speech = if error.is_conflict() {
        "Sorry, your cat facts progress changed on another device just now. Please try again."
    } else {
        "Sorry, I had trouble doing what you asked. Please try again."
    };
    Ok(turn.speak(speech).reprompt(REPROMPT))
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
