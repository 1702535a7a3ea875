//! Habit tracker: "I did it" counts today once; opening the skill tells how many days so far.
//!
//! In AWS Lambda it serves Lambda (the attributes in DynamoDB); anywhere else it answers one
//! request read from standard input: `alexa-request launch | cargo run`.

use serde::{Deserialize, Serialize};
use skill_builder::prelude::*;
use skill_builder::{logging, storage};

/// What the skill remembers about each user (their persistent attributes).
#[derive(Default, Serialize, Deserialize)]
struct Habit {
    days: u32,
    last_day: Option<String>,
}

/// "1 day", "2 days".
fn days(n: u32) -> String {
    if n == 1 {
        "1 day".to_owned()
    } else {
        format!("{n} days")
    }
}

/// The day of the request, from its timestamp (UTC).
fn today(turn: &Turn) -> Option<String> {
    let (y, m, d) = turn.timestamp()?.date_utc();
    Some(format!("{y:04}-{m:02}-{d:02}"))
}

async fn launch(turn: Turn) -> TurnResult {
    let habit = turn.state::<Habit>().await?;
    let speech = match habit.days {
        0 => "Welcome to Habit Tracker! Say: I did it, when you have done your habit today."
            .to_owned(),
        n => format!(
            "Welcome back! You did your habit on {} so far. Did you do it today?",
            days(n)
        ),
    };
    Ok(turn.speak(speech).reprompt("Did you do your habit today?"))
}

async fn did_it(turn: Turn) -> TurnResult {
    let today = today(&turn);
    let mut habit = turn.state::<Habit>().await?;
    if today.is_some() && habit.last_day == today {
        return Ok(turn
            .speak("You already told me today. See you tomorrow!")
            .end_session());
    }
    habit.days += 1;
    habit.last_day = today;
    tracing::info!(days = habit.days, "habit done");
    let speech = format!("Well done! That makes {}.", days(habit.days));
    Ok(turn.speak(speech).end_session())
}

async fn stop(turn: Turn) -> TurnResult {
    Ok(turn.speak("Goodbye!").end_session())
}

/// The skill's routes, on a builder that has its skill ID and storage.
fn routes(builder: SkillBuilder) -> SkillBuilder {
    builder
        .on_launch(launch)
        .on_intent("HabitDoneIntent", did_it)
        .on_intents(["AMAZON.StopIntent", "AMAZON.CancelIntent"], stop)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    // Log lines as Lambda asks (AWS_LAMBDA_LOG_LEVEL, AWS_LAMBDA_LOG_FORMAT), or RUST_LOG.
    logging::init();
    // DynamoDB when DYNAMODB_PERSISTENCE_TABLE_NAME is set (DYNAMODB_PERSISTENCE_CREATE_TABLE=1
    // creates the table when it is missing), S3 when S3_PERSISTENCE_BUCKET is, else memory
    // (which Lambda only gets with SKILL_PERSISTENCE=memory).
    let adapter = storage::adapter_from_env().await?;
    // The skill ID comes from ALEXA_SKILL_ID: requests for any other skill are refused.
    let skill = routes(SkillBuilder::new().with_persistence_adapter(adapter)).build()?;

    if storage::running_in_lambda() {
        return skill_builder::lambda::run(skill).await;
    }
    let request = std::io::read_to_string(std::io::stdin())?;
    let response = skill.invoke_json(&request).await?;
    println!("{}", serde_json::to_string_pretty(&response)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use skill_testkit::Conversation;
    use std::sync::Arc;

    #[tokio::test]
    async fn counts_a_day_once_and_remembers_it() {
        let skill = routes(
            SkillBuilder::new()
                .skip_skill_id_check_for_local_testing()
                .with_persistence_adapter(Arc::new(MemoryAdapter::new())),
        )
        .build()
        .unwrap();
        let mut talk = Conversation::new(&skill);

        assert!(
            talk.launch()
                .await
                .unwrap()
                .speech()
                .starts_with("Welcome to Habit Tracker!")
        );
        let done = talk.intent("HabitDoneIntent").send().await.unwrap();
        assert_eq!(done.speech(), "Well done! That makes 1 day.");
        assert!(done.ends_session());
        assert_eq!(talk.stored_attributes().await.unwrap().unwrap()["days"], 1);

        talk.new_session();
        assert_eq!(
            talk.launch().await.unwrap().speech(),
            "Welcome back! You did your habit on 1 day so far. Did you do it today?"
        );
        let again = talk.intent("HabitDoneIntent").send().await.unwrap();
        assert_eq!(
            again.speech(),
            "You already told me today. See you tomorrow!"
        );
    }
}
