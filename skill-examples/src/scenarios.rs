//! The example skills' conversations as checks that run on any persistence adapter.
//!
//! Each scenario builds its skill on the adapter it is given, talks to it through
//! [`Conversation`], and checks what Alexa says, whether the session ends, and what is stored
//! after each turn. They return a [`ScenarioError`] naming the step that went wrong rather than
//! panicking, so the same functions serve the memory tests here and the DynamoDB and S3
//! integration tests. Each run uses fresh user IDs (so runs against a shared table or bucket do
//! not see each other's data) and deletes what it stored when it succeeds.
//!
//! ```
//! use std::sync::Arc;
//! use persistence_memory::MemoryAdapter;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), skill_examples::scenarios::ScenarioError> {
//! skill_examples::scenarios::all(Arc::new(MemoryAdapter::new())).await?;
//! # Ok(()) }
//! ```

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use persistence_core::PersistenceAdapter;
use serde_json::{Value, json};
use skill_builder::envelope::SessionEndedReason;
use skill_builder::{BuildError, Skill, SkillError};
use skill_testkit::{Conversation, Exchange};

use crate::cat_facts::FACTS;
use crate::{cafe, cat_facts};

/// A scenario step that did not go as expected.
#[derive(Debug)]
pub struct ScenarioError {
    /// The scenario.
    pub scenario: &'static str,
    /// The step, e.g. `turn 3: "fact 11"`.
    pub step: String,
    /// What was expected and what happened.
    pub detail: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "scenario {}, {}: {}",
            self.scenario, self.step, self.detail
        )
    }
}

impl std::error::Error for ScenarioError {}

/// A user ID no other run uses: `amzn1.ask.account.SCENARIO-<tag>-<time>-<pid>-<n>`.
pub fn unique_user(tag: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "amzn1.ask.account.SCENARIO-{tag}-{nanos:x}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Where a scenario is, for error messages.
struct Ctx {
    scenario: &'static str,
    step: String,
}

impl Ctx {
    fn new(scenario: &'static str) -> Self {
        Self {
            scenario,
            step: "setup".into(),
        }
    }

    fn at(&mut self, step: impl Into<String>) {
        self.step = step.into();
    }

    fn fail(&self, detail: impl Into<String>) -> ScenarioError {
        ScenarioError {
            scenario: self.scenario,
            step: self.step.clone(),
            detail: detail.into(),
        }
    }

    fn eq<T: PartialEq + fmt::Debug + ?Sized>(
        &self,
        what: &str,
        got: &T,
        want: &T,
    ) -> Result<(), ScenarioError> {
        if got == want {
            Ok(())
        } else {
            Err(self.fail(format!("{what}: got {got:?}, expected {want:?}")))
        }
    }

    fn built(&self, skill: Result<Skill, BuildError>) -> Result<Skill, ScenarioError> {
        skill.map_err(|e| self.fail(format!("the skill could not be built: {e}")))
    }

    fn ok<T>(&self, result: Result<T, SkillError>) -> Result<T, ScenarioError> {
        result.map_err(|e| self.fail(format!("the skill failed: {e}")))
    }

    /// Checks a turn's speech and whether it ends the session.
    fn said(&self, turn: &Exchange, speech: &str, ends_session: bool) -> Result<(), ScenarioError> {
        self.eq("speech", turn.speech(), speech)?;
        self.eq("ends the session", &turn.ends_session(), &ends_session)?;
        if !ends_session && !turn.keeps_session_open() {
            return Err(self.fail("the response neither ends the session nor listens"));
        }
        Ok(())
    }

    async fn stored(&self, c: &Conversation, want: Option<Value>) -> Result<(), ScenarioError> {
        let got = self.ok(c.stored_attributes().await)?.map(Value::from);
        self.eq("stored attributes", &got, &want)
    }
}

async fn clean_up(
    ctx: &mut Ctx,
    adapter: &Arc<dyn PersistenceAdapter>,
    users: &[&str],
) -> Result<(), ScenarioError> {
    ctx.at("clean-up");
    for user in users {
        adapter
            .delete(user)
            .await
            .map_err(|e| ctx.fail(format!("deleting the test user's data failed: {e}")))?;
    }
    Ok(())
}

fn fact(n: usize, tail: &str) -> String {
    let text = n
        .checked_sub(1)
        .and_then(|i| FACTS.get(i))
        .copied()
        .unwrap_or_default();
    format!("Fact number {n}: {text} {tail}")
}

const ANOTHER: &str = "Would you like another fact?";

/// Cat facts, a first visit then a returning one: launch, yes, fact 3, out-of-range and
/// non-number fact requests, help (no write), stop; then the returning greeting, yes, no.
///
/// # Errors
/// The first step that did not go as expected.
pub async fn cat_facts_conversation(
    adapter: Arc<dyn PersistenceAdapter>,
) -> Result<(), ScenarioError> {
    let mut ctx = Ctx::new("cat_facts_conversation");
    let user = unique_user("catfacts");
    let skill = ctx.built(cat_facts::skill(adapter.clone()))?;
    let mut c = Conversation::new(&skill).user(&user);

    ctx.at("before the first visit");
    ctx.stored(&c, None).await?;

    ctx.at("turn 1: \"open cat facts\"");
    let t = ctx.ok(c.launch().await)?;
    ctx.said(
        &t,
        "Welcome to Cat Facts! I know ten facts about cats. Would you like to hear one?",
        false,
    )?;
    ctx.eq("reprompt", t.reprompt(), cat_facts::REPROMPT)?;
    ctx.stored(&c, Some(json!({"visits": 1}))).await?;

    ctx.at("turn 2: \"yes\"");
    let t = ctx.ok(c.intent("AMAZON.YesIntent").send().await)?;
    ctx.said(&t, &fact(1, ANOTHER), false)?;
    ctx.stored(&c, Some(json!({"facts_index": 0, "visits": 1})))
        .await?;

    ctx.at("turn 3: \"tell me fact 3\"");
    let t = ctx.ok(c
        .intent("FactNumberIntent")
        .slot("fact_number", "3")
        .send()
        .await)?;
    ctx.said(&t, &fact(3, ANOTHER), false)?;
    ctx.eq(
        "session attributes",
        &t.session_attributes().map(Value::Object),
        &Some(json!({"facts_heard": 2})),
    )?;
    ctx.stored(&c, Some(json!({"facts_index": 2, "visits": 1})))
        .await?;

    ctx.at("turn 4: \"fact 11\"");
    let t = ctx.ok(c
        .intent("FactNumberIntent")
        .slot("fact_number", "11")
        .send()
        .await)?;
    ctx.said(
        &t,
        "I only know ten facts, so there is no fact number 11. Please pick a number between one \
         and ten.",
        false,
    )?;
    ctx.eq(
        "reprompt",
        t.reprompt(),
        "Which fact would you like, from one to ten?",
    )?;
    ctx.stored(&c, Some(json!({"facts_index": 2, "visits": 1})))
        .await?;

    ctx.at("turn 5: \"fact banana\" (Alexa sends \"?\")");
    let t = ctx.ok(c
        .intent("FactNumberIntent")
        .slot("fact_number", "?")
        .send()
        .await)?;
    ctx.said(
        &t,
        "Sorry, I didn't catch a number. Which fact would you like, from one to ten?",
        false,
    )?;

    ctx.at("turn 6: \"help\"");
    let t = ctx.ok(c.intent("AMAZON.HelpIntent").send().await)?;
    if !t.speech().starts_with("I know ten facts about cats.") || !t.keeps_session_open() {
        return Err(ctx.fail(format!("unexpected help: {:?}", t.speech())));
    }
    ctx.stored(&c, Some(json!({"facts_index": 2, "visits": 1})))
        .await?;

    ctx.at("turn 7: \"stop\"");
    let t = ctx.ok(c.intent("AMAZON.StopIntent").send().await)?;
    ctx.said(&t, "Goodbye! You heard 2 cat facts this time.", true)?;
    ctx.eq("still in session", &c.in_session(), &false)?;

    ctx.at("second visit, turn 1: \"open cat facts\"");
    let t = ctx.ok(c.launch().await)?;
    ctx.said(
        &t,
        "Welcome back to Cat Facts! This is your visit number 2. Last time you heard fact number \
         3. Would you like to hear fact number 4?",
        false,
    )?;
    ctx.stored(&c, Some(json!({"facts_index": 2, "visits": 2})))
        .await?;

    ctx.at("second visit, turn 2: \"yes\"");
    let t = ctx.ok(c.intent("AMAZON.YesIntent").send().await)?;
    ctx.said(&t, &fact(4, ANOTHER), false)?;

    ctx.at("second visit, turn 3: \"no\"");
    let t = ctx.ok(c.intent("AMAZON.NoIntent").send().await)?;
    ctx.said(
        &t,
        "Okay. Come back any time for more cat facts. Goodbye!",
        true,
    )?;
    ctx.stored(&c, Some(json!({"facts_index": 3, "visits": 2})))
        .await?;

    clean_up(&mut ctx, &adapter, &[&user]).await
}

/// Cat facts to the end and back: the last fact, yes after it, fallback, start over, an exit
/// (`SessionEndedRequest`), the returning greeting after a start over, and after hearing all.
///
/// # Errors
/// The first step that did not go as expected.
pub async fn cat_facts_last_fact_and_start_over(
    adapter: Arc<dyn PersistenceAdapter>,
) -> Result<(), ScenarioError> {
    let mut ctx = Ctx::new("cat_facts_last_fact_and_start_over");
    let user = unique_user("catfacts-end");
    let skill = ctx.built(cat_facts::skill(adapter.clone()))?;
    let mut c = Conversation::new(&skill).user(&user);
    let all_heard = "You have heard all ten facts. Say start over to hear them again, or ask for \
                     a fact number between one and ten.";

    ctx.at("turn 1: \"open cat facts\"");
    ctx.ok(c.launch().await)?;

    ctx.at("turn 2: \"fact ten\"");
    let t = ctx.ok(c
        .intent("FactNumberIntent")
        .slot("fact_number", "10")
        .send()
        .await)?;
    ctx.said(
        &t,
        &fact(
            10,
            "That was my last fact. Say start over to hear them again.",
        ),
        false,
    )?;

    ctx.at("turn 3: \"yes\" after the last fact");
    let t = ctx.ok(c.intent("AMAZON.YesIntent").send().await)?;
    ctx.said(&t, all_heard, false)?;
    ctx.stored(&c, Some(json!({"facts_index": 9, "visits": 1})))
        .await?;

    ctx.at("turn 4: \"what's the weather\" (fallback)");
    let t = ctx.ok(c.intent("AMAZON.FallbackIntent").send().await)?;
    ctx.said(
        &t,
        "Sorry, Cat Facts can't help with that. Say yes to hear a fact, or ask for a fact number \
         between one and ten.",
        false,
    )?;

    ctx.at("turn 5: \"start over\"");
    let t = ctx.ok(c.intent("AMAZON.StartOverIntent").send().await)?;
    ctx.said(
        &t,
        "Okay, let's start over from the first fact. Would you like to hear it?",
        false,
    )?;
    ctx.stored(&c, Some(json!({"facts_index": -1, "visits": 1})))
        .await?;

    ctx.at("turn 6: \"yes\"");
    let t = ctx.ok(c.intent("AMAZON.YesIntent").send().await)?;
    ctx.said(&t, &fact(1, ANOTHER), false)?;

    ctx.at("turn 7: \"exit\"");
    let t = ctx.ok(c.end_session(SessionEndedReason::UserInitiated).await)?;
    ctx.eq("speech", t.speech(), "")?;
    ctx.stored(&c, Some(json!({"facts_index": 0, "visits": 1})))
        .await?;

    ctx.at("second visit: \"open cat facts\"");
    let t = ctx.ok(c.launch().await)?;
    ctx.said(
        &t,
        "Welcome back to Cat Facts! This is your visit number 2. Last time you heard fact number \
         1. Would you like to hear fact number 2?",
        false,
    )?;

    ctx.at("second visit: \"fact 10\", then \"cancel\"");
    ctx.ok(c
        .intent("FactNumberIntent")
        .slot("fact_number", "10")
        .send()
        .await)?;
    let t = ctx.ok(c.intent("AMAZON.CancelIntent").send().await)?;
    ctx.said(&t, "Goodbye! You heard 1 cat fact this time.", true)?;

    ctx.at("third visit: \"open cat facts\" having heard all");
    let t = ctx.ok(c.launch().await)?;
    ctx.said(
        &t,
        &format!("Welcome back to Cat Facts! This is your visit number 3. {all_heard}"),
        false,
    )?;

    clean_up(&mut ctx, &adapter, &[&user]).await
}

/// Cat facts as a one-shot request ("ask cat facts for fact five"), and two users kept apart.
///
/// # Errors
/// The first step that did not go as expected.
pub async fn cat_facts_one_shot_and_separate_users(
    adapter: Arc<dyn PersistenceAdapter>,
) -> Result<(), ScenarioError> {
    let mut ctx = Ctx::new("cat_facts_one_shot_and_separate_users");
    let (ann, bob) = (unique_user("catfacts-ann"), unique_user("catfacts-bob"));
    let skill = ctx.built(cat_facts::skill(adapter.clone()))?;
    let mut a = Conversation::new(&skill).user(&ann);
    let mut b = Conversation::new(&skill).user(&bob);

    ctx.at("ann: \"ask cat facts for fact five\"");
    let t = ctx.ok(a
        .intent("FactNumberIntent")
        .slot("fact_number", "5")
        .send()
        .await)?;
    ctx.said(&t, &fact(5, ANOTHER), false)?;
    ctx.stored(&a, Some(json!({"facts_index": 4, "visits": 1})))
        .await?;

    ctx.at("bob: \"open cat facts\"");
    let t = ctx.ok(b.launch().await)?;
    ctx.said(
        &t,
        "Welcome to Cat Facts! I know ten facts about cats. Would you like to hear one?",
        false,
    )?;
    ctx.stored(&b, Some(json!({"visits": 1}))).await?;
    ctx.stored(&a, Some(json!({"facts_index": 4, "visits": 1})))
        .await?;

    clean_up(&mut ctx, &adapter, &[&ann, &bob]).await
}

/// The persistent cafe's first two conversations: a first order, then "I'll have my usual" in
/// a later session; and another user's usual is not this one's.
///
/// # Errors
/// The first step that did not go as expected.
pub async fn cafe_order_then_usual(
    adapter: Arc<dyn PersistenceAdapter>,
) -> Result<(), ScenarioError> {
    let mut ctx = Ctx::new("cafe_order_then_usual");
    let user = unique_user("cafe");
    let skill = ctx.built(cafe::skill(adapter.clone()))?;
    let mut c = Conversation::new(&skill).user(&user);
    let welcome = "Welcome! What would you like to drink? I have coffee, tea, green tea, and coke.";

    ctx.at("first invocation: \"Alexa, open persistent cafe\"");
    let t = ctx.ok(c.launch().await)?;
    ctx.said(&t, welcome, false)?;
    ctx.stored(&c, None).await?;

    ctx.at("first invocation: \"a coffee, please\"");
    let t = ctx.ok(c
        .intent("OrderIntent")
        .slot_resolved("drink", "coffee", "coffee", "COFFEE")
        .empty_slot("size")
        .send()
        .await)?;
    ctx.said(&t, "Alright! Your coffee will be served soon!", true)?;
    ctx.stored(&c, Some(json!({"drink": "coffee"}))).await?;

    ctx.at("second invocation: \"Alexa, open persistent cafe\"");
    let t = ctx.ok(c.launch().await)?;
    ctx.said(&t, welcome, false)?;

    ctx.at("second invocation: \"I'll have my usual\"");
    let t = ctx.ok(c.intent("MyUsualIntent").send().await)?;
    ctx.said(&t, "Got it. I will make your usual coffee!", true)?;
    ctx.stored(&c, Some(json!({"drink": "coffee"}))).await?;

    ctx.at("another user: \"I'll have my usual\"");
    let other = unique_user("cafe-other");
    let mut o = Conversation::new(&skill).user(&other);
    ctx.ok(o.launch().await)?;
    let t = ctx.ok(o.intent("MyUsualIntent").send().await)?;
    ctx.said(&t, cafe::FIRST_TIME, false)?;

    clean_up(&mut ctx, &adapter, &[&user, &other]).await
}

/// The persistent cafe's third conversation: "I'll have my usual" on a first visit gets the
/// first-time answer and stores nothing; ordering then makes a usual.
///
/// # Errors
/// The first step that did not go as expected.
pub async fn cafe_usual_on_first_visit(
    adapter: Arc<dyn PersistenceAdapter>,
) -> Result<(), ScenarioError> {
    let mut ctx = Ctx::new("cafe_usual_on_first_visit");
    let user = unique_user("cafe-new");
    let skill = ctx.built(cafe::skill(adapter.clone()))?;
    let mut c = Conversation::new(&skill).user(&user);

    ctx.at("\"Alexa, open persistent cafe\"");
    let t = ctx.ok(c.launch().await)?;
    ctx.said(
        &t,
        "Welcome! What would you like to drink? I have coffee, tea, green tea, and coke.",
        false,
    )?;

    ctx.at("\"I'll have my usual\" with no usual yet");
    let t = ctx.ok(c.intent("MyUsualIntent").send().await)?;
    ctx.said(
        &t,
        "It seems like you are coming to this store for the first time! What would you like to \
         order? I have coffee, tea, green tea, and coke.",
        false,
    )?;
    ctx.stored(&c, None).await?;

    ctx.at("\"tea\"");
    let t = ctx.ok(c.intent("OrderIntent").slot("drink", "tea").send().await)?;
    ctx.said(&t, "Alright! Your tea will be served soon!", true)?;
    ctx.stored(&c, Some(json!({"drink": "tea"}))).await?;

    clean_up(&mut ctx, &adapter, &[&user]).await
}

/// The cafe with sizes and a drink it does not serve: "a large latte" is refused and stores
/// nothing; "a large green tea" is the usual next time, size included; a plain order then
/// forgets the size.
///
/// # Errors
/// The first step that did not go as expected.
pub async fn cafe_sizes_and_unknown_drinks(
    adapter: Arc<dyn PersistenceAdapter>,
) -> Result<(), ScenarioError> {
    let mut ctx = Ctx::new("cafe_sizes_and_unknown_drinks");
    let user = unique_user("cafe-sizes");
    let skill = ctx.built(cafe::skill(adapter.clone()))?;
    let mut c = Conversation::new(&skill).user(&user);

    ctx.at("\"a large latte\"");
    ctx.ok(c.launch().await)?;
    let t = ctx.ok(c
        .intent("OrderIntent")
        .slot("drink", "latte")
        .slot("size", "large")
        .send()
        .await)?;
    ctx.said(
        &t,
        "Sorry, I don't have latte. I have coffee, tea, green tea, and coke. What would you like?",
        false,
    )?;
    ctx.stored(&c, None).await?;

    ctx.at("\"a large green tea\"");
    let t = ctx.ok(c
        .intent("OrderIntent")
        .slot("drink", "Green Tea")
        .slot("size", "large")
        .send()
        .await)?;
    ctx.said(
        &t,
        "Alright! Your large green tea will be served soon!",
        true,
    )?;
    ctx.stored(&c, Some(json!({"drink": "green tea", "size": "large"})))
        .await?;

    ctx.at("next visit: \"I'll have my usual\"");
    ctx.ok(c.launch().await)?;
    let t = ctx.ok(c.intent("MyUsualIntent").send().await)?;
    ctx.said(&t, "Got it. I will make your usual large green tea!", true)?;

    ctx.at("next visit: \"a coke\"");
    ctx.ok(c.launch().await)?;
    let t = ctx.ok(c.intent("OrderIntent").slot("drink", "coke").send().await)?;
    ctx.said(&t, "Alright! Your coke will be served soon!", true)?;
    ctx.stored(&c, Some(json!({"drink": "coke"}))).await?;

    clean_up(&mut ctx, &adapter, &[&user]).await
}

/// Every scenario, one after the other, on `adapter`.
///
/// # Errors
/// The first scenario step that did not go as expected.
pub async fn all(adapter: Arc<dyn PersistenceAdapter>) -> Result<(), ScenarioError> {
    cat_facts_conversation(adapter.clone()).await?;
    cat_facts_last_fact_and_start_over(adapter.clone()).await?;
    cat_facts_one_shot_and_separate_users(adapter.clone()).await?;
    cafe_order_then_usual(adapter.clone()).await?;
    cafe_usual_on_first_visit(adapter.clone()).await?;
    cafe_sizes_and_unknown_drinks(adapter).await
}
