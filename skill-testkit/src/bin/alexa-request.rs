//! `alexa-request`: prints or writes Alexa request JSON for `cargo lambda invoke --data-file`
//! and `curl`.
//!
//! ```text
//! alexa-request launch > launch.json
//! alexa-request intent OrderIntent --slot drink=latte > order.json
//! alexa-request all requests/          # launch, help, stop, session end
//! ```
//!
//! The skill ID comes from `--skill-id` or `ALEXA_SKILL_ID`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use skill_testkit::requests::Requests;

/// Alexa request JSON for local invocations of a skill.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// The skill ID the requests are addressed to.
    #[arg(long, env = "ALEXA_SKILL_ID", default_value = skill_testkit::TEST_SKILL_ID)]
    skill_id: String,
    /// The user ID.
    #[arg(long, default_value = skill_testkit::TEST_USER_ID)]
    user: String,
    /// The locale.
    #[arg(long, default_value = "en-US")]
    locale: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// A LaunchRequest.
    Launch,
    /// An IntentRequest.
    Intent {
        /// The intent's name.
        name: String,
        /// A filled slot, `name=value` (repeatable).
        #[arg(long = "slot", value_parser = parse_slot)]
        slots: Vec<(String, String)>,
    },
    /// A SessionEndedRequest.
    SessionEnded,
    /// Writes launch.json, help.json, stop.json and session-ended.json into a directory.
    All {
        /// Where to write them.
        dir: PathBuf,
    },
}

fn parse_slot(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("a slot is name=value, not {text:?}"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let requests = Requests::new(cli.skill_id)
        .user(cli.user)
        .locale(cli.locale);
    let envelope = match cli.command {
        Command::Launch => requests.launch(),
        Command::Intent { name, slots } => {
            let slots: Vec<(&str, &str)> = slots
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            requests.intent(&name, &slots)
        }
        Command::SessionEnded => requests.session_ended(),
        Command::All { dir } => {
            return match requests.write_all(&dir) {
                Ok(paths) => {
                    for p in paths {
                        println!("{}", p.display());
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("alexa-request: cannot write into {}: {e}", dir.display());
                    ExitCode::FAILURE
                }
            };
        }
    };
    println!("{}", Requests::to_json(&envelope));
    ExitCode::SUCCESS
}
