//! The persistent cafe: order a drink, and next time just ask for "my usual".
//!
//! A port of the ASK SDK for Node.js S3 persistence sample. Persistent state (per user):
//! [`UsualOrder`], the last drink ordered and its size when one was given, as typed state saved
//! after the response when an order changed it; asking for the usual only reads it.
//!
//! Interaction model: `OrderIntent` with slots `drink` (custom type `DrinkType`: coffee, tea,
//! green tea, coke) and `size` (`SizeType`: small, medium, large), `MyUsualIntent` ("I'll have
//! my usual"), and the built-in `AMAZON.HelpIntent`, `StopIntent`, `CancelIntent`, `NoIntent`,
//! `FallbackIntent` and `NavigateHomeIntent` (every custom skill's model has it). The model is
//! `skill-examples/skill-package/cafe/interactionModels/custom/en-US.json`; a test checks it
//! against the handlers.
//!
//! ```
//! use std::sync::Arc;
//! use persistence_memory::MemoryAdapter;
//! use skill_testkit::Conversation;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let skill = skill_examples::cafe::skill(Arc::new(MemoryAdapter::new()))?;
//! let mut talk = Conversation::new(&skill);
//! talk.launch().await?;
//! let turn = talk.intent("OrderIntent").slot("drink", "tea").send().await?;
//! assert_eq!(turn.speech(), "Alright! Your tea will be served soon!");
//! talk.launch().await?;
//! assert_eq!(talk.intent("MyUsualIntent").send().await?.speech(), "Got it. I will make your usual tea!");
//! # Ok(()) }
//! ```

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use skill_builder::prelude::*;
use skill_builder::response::escape_ssml;

use crate::demo::{App, ScriptedSession, Utterance, normalize};

/// The order intent.
pub const ORDER_INTENT: &str = "OrderIntent";
/// The "I'll have my usual" intent.
pub const USUAL_INTENT: &str = "MyUsualIntent";
/// The drink slot of [`ORDER_INTENT`].
pub const DRINK_SLOT: &str = "drink";
/// The size slot of [`ORDER_INTENT`].
pub const SIZE_SLOT: &str = "size";

/// The drinks served.
pub const MENU: [&str; 4] = ["coffee", "tea", "green tea", "coke"];
/// The sizes.
pub const SIZES: [&str; 3] = ["small", "medium", "large"];

const MENU_SPEECH: &str = "I have coffee, tea, green tea, and coke.";
/// The greeting.
pub const WELCOME: &str =
    "Welcome! What would you like to drink? I have coffee, tea, green tea, and coke.";
/// The answer to "my usual" when there is no usual yet.
pub const FIRST_TIME: &str = "It seems like you are coming to this store for the first time! What \
                              would you like to order? I have coffee, tea, green tea, and coke.";
const ASK_DRINK: &str = "What would you like to drink?";

/// What the cafe remembers about a user: the last order. Stored as the official SDK samples
/// store it (`{"drink": "tea", "size": "large"}`), so their users' usual orders carry over.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct UsualOrder {
    /// The drink last ordered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drink: Option<String>,
    /// Its size, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
}

/// The skill, keeping the usual orders in `adapter`. For tests and local runs: it answers requests for any skill ID (a
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
        .on_launch(welcome)
        .on_intent(ORDER_INTENT, order)
        .on_intent(USUAL_INTENT, usual)
        .on_intent("AMAZON.HelpIntent", help)
        .on_intents(
            [
                "AMAZON.StopIntent",
                "AMAZON.CancelIntent",
                "AMAZON.NoIntent",
                "AMAZON.NavigateHomeIntent",
            ],
            goodbye,
        )
        .on_intent("AMAZON.FallbackIntent", did_not_get_it)
        .on_error(sorry)
}

async fn welcome(turn: Turn) -> TurnResult {
    Ok(turn.speak(WELCOME).reprompt(ASK_DRINK))
}

async fn help(turn: Turn) -> TurnResult {
    Ok(turn
        .speak(format!(
            "I can take your order. {MENU_SPEECH} You can also say: I'll have my usual. What \
             would you like?"
        ))
        .reprompt(ASK_DRINK))
}

async fn goodbye(turn: Turn) -> TurnResult {
    Ok(turn.speak("Goodbye! Come back soon.").end_session())
}

async fn did_not_get_it(turn: Turn) -> TurnResult {
    Ok(turn
        .speak(format!(
            "Sorry, I didn't get that. {MENU_SPEECH} What would you like?"
        ))
        .reprompt(ASK_DRINK))
}

async fn sorry(turn: Turn, error: SkillError) -> TurnResult {
    let speech = if error.is_conflict() {
        "Sorry, your usual order changed on another device just now. Please order again."
    } else {
        "Sorry, something went wrong with your order. Please try again."
    };
    Ok(turn.speak(speech).reprompt(ASK_DRINK))
}

/// "coffee", "large coffee", ...
fn describe(drink: &str, size: Option<&str>) -> String {
    match size {
        Some(size) => format!("{size} {drink}"),
        None => drink.to_owned(),
    }
}

/// `OrderIntent`: takes the order and remembers it as the usual (saved after the response).
async fn order(turn: Turn) -> TurnResult {
    let Some(asked) = turn
        .resolved_slot_value(DRINK_SLOT)
        .map(normalize)
        .filter(|d| !d.is_empty())
    else {
        return Ok(turn
            .speak(format!("{ASK_DRINK} {MENU_SPEECH}"))
            .reprompt(ASK_DRINK));
    };
    let Some(drink) = MENU.iter().find(|d| **d == asked) else {
        let asked = escape_ssml(&asked);
        return Ok(turn
            .speak(format!(
                "Sorry, I don't have {asked}. {MENU_SPEECH} What would you like?"
            ))
            .reprompt(ASK_DRINK));
    };
    let size = turn
        .resolved_slot_value(SIZE_SLOT)
        .map(normalize)
        .and_then(|s| SIZES.iter().find(|known| **known == s).copied());

    let mut usual = turn.state::<UsualOrder>().await?;
    usual.drink = Some((*drink).to_owned());
    usual.size = size.map(str::to_owned);
    Ok(turn
        .speak(format!(
            "Alright! Your {} will be served soon!",
            describe(drink, size)
        ))
        .end_session())
}

/// `MyUsualIntent`: the last order again, or the first-visit answer.
async fn usual(turn: Turn) -> TurnResult {
    let usual = turn.state::<UsualOrder>().await?;
    Ok(match &usual.drink {
        Some(drink) => {
            let order = escape_ssml(&describe(drink, usual.size.as_deref()));
            turn.speak(format!("Got it. I will make your usual {order}!"))
                .end_session()
        }
        None => turn
            .speak(FIRST_TIME)
            .reprompt("What would you like to order?"),
    })
}

/// Typed words as the intents Alexa would map them to: "I'll have my usual", "a large latte",
/// "a coffee, please", "help", "stop", "no", "open persistent cafe", "exit", "quit".
///
/// ```
/// use skill_examples::{cafe::interpret, demo::Utterance};
/// assert_eq!(interpret("I'll have my usual."), Utterance::intent("MyUsualIntent"));
/// assert_eq!(interpret("a large latte"),
///     Utterance::intent("OrderIntent").with_slot("drink", "latte").with_slot("size", "large"));
/// ```
pub fn interpret(line: &str) -> Utterance {
    let text = normalize(line);
    let words: Vec<&str> = text.split(' ').filter(|w| !w.is_empty()).collect();
    match text.as_str() {
        "quit" => return Utterance::Quit,
        "exit" => return Utterance::Exit,
        "open" | "launch" | "start" => return Utterance::Open,
        "help" => return Utterance::intent("AMAZON.HelpIntent"),
        "stop" => return Utterance::intent("AMAZON.StopIntent"),
        "cancel" => return Utterance::intent("AMAZON.CancelIntent"),
        "no" | "no thanks" | "nothing" => return Utterance::intent("AMAZON.NoIntent"),
        _ => {}
    }
    if words
        .first()
        .is_some_and(|w| *w == "open" || *w == "launch")
    {
        return Utterance::Open;
    }
    if words.contains(&"usual") {
        return Utterance::intent(USUAL_INTENT);
    }
    const LEADS: [&str; 16] = [
        "i'll have",
        "i will have",
        "i'd like",
        "i would like",
        "can i have",
        "can i get",
        "could i have",
        "could i get",
        "may i have",
        "give me",
        "i want",
        "let me have",
        "let me get",
        "i'll take",
        "i will take",
        "order",
    ];
    const FILLER: [&str; 9] = [
        "a", "an", "one", "some", "the", "please", "thanks", "thank", "you",
    ];
    let rest = LEADS
        .iter()
        .find_map(|lead| {
            text.strip_prefix(lead)
                .filter(|r| r.is_empty() || r.starts_with(' '))
        })
        .unwrap_or(&text);
    let mut size = None;
    let mut drink = Vec::new();
    for word in rest.split(' ').filter(|w| !w.is_empty()) {
        if SIZES.contains(&word) {
            size = Some(word);
        } else if !FILLER.contains(&word) {
            drink.push(word);
        }
    }
    if drink.is_empty() {
        return Utterance::intent("AMAZON.FallbackIntent");
    }
    let order = Utterance::intent(ORDER_INTENT).with_slot(DRINK_SLOT, drink.join(" "));
    match size {
        Some(size) => order.with_slot(SIZE_SLOT, size),
        None => order,
    }
}

/// The user of the first two demo sessions.
pub const DEMO_USER: &str = "amzn1.ask.account.CAFEDEMO";
/// The newcomer of the third.
pub const DEMO_NEWCOMER: &str = "amzn1.ask.account.CAFENEWCOMER";

/// The scripted demo: the three conversations of the original sample.
pub const DEMO_SCRIPT: &[ScriptedSession<'static>] = &[
    ScriptedSession {
        user: DEMO_USER,
        lines: &["open persistent cafe", "a coffee, please"],
    },
    ScriptedSession {
        user: DEMO_USER,
        lines: &["open persistent cafe", "I'll have my usual"],
    },
    ScriptedSession {
        user: DEMO_NEWCOMER,
        lines: &[
            "open persistent cafe",
            "I'll have my usual",
            "a large latte",
            "a large green tea",
        ],
    },
];

/// Phrases to try in the interactive demo.
pub const EXAMPLE_PHRASES: &[&str] = &[
    "I'll have my usual",
    "a large latte",
    "a coffee, please",
    "help",
    "stop",
    "open persistent cafe",
    "quit",
];

/// What the `cafe` binary runs.
pub const APP: App = App {
    name: "cafe",
    builder,
    interpret,
    script: DEMO_SCRIPT,
    examples: EXAMPLE_PHRASES,
};
