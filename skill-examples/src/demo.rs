//! Running an example skill in a terminal: a scripted conversation, an interactive one, or one
//! of skill-builder's fronts. The `cat-facts` and `cafe` binaries are thin wrappers of
//! [`run_cli`].

use std::fmt;
use std::io::{self, BufRead, Write};
use std::process::ExitCode;
use std::sync::Arc;

use persistence_core::PersistenceAdapter;
use skill_builder::envelope::SessionEndedReason;
use skill_builder::{Skill, SkillBuilder, SkillError};
use skill_testkit::{Conversation, Exchange};

mod serve;
use serve::{init_tracing, serve_http, serve_lambda};

/// What a typed line means to the skill: the request Alexa would send for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Utterance {
    /// "open …": a `LaunchRequest` in a new session.
    Open,
    /// An `IntentRequest`.
    Intent {
        /// The intent name.
        name: String,
        /// Filled slots, `(name, spoken value)`.
        slots: Vec<(String, String)>,
    },
    /// "exit": a `SessionEndedRequest` (`USER_INITIATED`).
    Exit,
    /// Leave the demo.
    Quit,
}

impl Utterance {
    /// An intent without slots.
    pub fn intent(name: impl Into<String>) -> Self {
        Utterance::Intent {
            name: name.into(),
            slots: Vec::new(),
        }
    }

    /// The same intent with slot `name` filled with `value` (no effect on other utterances).
    #[must_use]
    pub fn with_slot(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        if let Utterance::Intent { slots, .. } = &mut self {
            slots.push((name.into(), value.into()));
        }
        self
    }
}

/// Lower case, punctuation other than apostrophes turned to spaces, single spaces.
///
/// ```
/// assert_eq!(skill_examples::demo::normalize("  I'll have A Coffee, please! "), "i'll have a coffee please");
/// ```
pub fn normalize(line: &str) -> String {
    line.chars()
        .map(|c| if c == '\u{2019}' { '\'' } else { c })
        .map(|c| {
            if c.is_alphanumeric() || c == '\'' {
                c.to_ascii_lowercase()
            } else {
                ' '
            }
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The first number among `words`, in digits or as a word from "zero" to "twenty".
///
/// ```
/// assert_eq!(skill_examples::demo::number_in(&["fact", "seven"]), Some(7));
/// assert_eq!(skill_examples::demo::number_in(&["fact", "42"]), Some(42));
/// assert_eq!(skill_examples::demo::number_in(&["fact"]), None);
/// ```
pub fn number_in(words: &[&str]) -> Option<u64> {
    const WORDS: [&str; 21] = [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
    ];
    words.iter().find_map(|w| {
        w.parse::<u64>().ok().or_else(|| {
            WORDS
                .iter()
                .position(|n| n == w)
                .and_then(|p| u64::try_from(p).ok())
        })
    })
}

/// One scripted session: who talks, and what they say.
#[derive(Clone, Copy, Debug)]
pub struct ScriptedSession<'a> {
    /// The user ID.
    pub user: &'a str,
    /// What they say, one line per turn.
    pub lines: &'a [&'a str],
}

/// Why a demo stopped.
#[derive(Debug)]
pub enum DemoError {
    /// Reading input or writing output failed.
    Io(io::Error),
    /// The skill failed where the demo cannot go on.
    Skill(SkillError),
}

impl fmt::Display for DemoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DemoError::Io(e) => write!(f, "terminal I/O failed: {e}"),
            DemoError::Skill(e) => write!(f, "the skill failed: {e}"),
        }
    }
}

impl std::error::Error for DemoError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DemoError::Io(e) => Some(e),
            DemoError::Skill(e) => Some(e),
        }
    }
}

impl From<io::Error> for DemoError {
    fn from(e: io::Error) -> Self {
        DemoError::Io(e)
    }
}

impl From<SkillError> for DemoError {
    fn from(e: SkillError) -> Self {
        DemoError::Skill(e)
    }
}

/// Sends `utterance` in `conversation`; `None` for [`Utterance::Quit`].
///
/// # Errors
/// The skill's error.
pub async fn say(
    conversation: &mut Conversation,
    utterance: &Utterance,
) -> Option<Result<Exchange, SkillError>> {
    Some(match utterance {
        Utterance::Open => conversation.launch().await,
        Utterance::Intent { name, slots } => {
            let mut turn = conversation.intent(name.clone());
            for (slot, value) in slots {
                turn = turn.slot(slot.clone(), value.clone());
            }
            turn.send().await
        }
        Utterance::Exit => {
            conversation
                .end_session(SessionEndedReason::UserInitiated)
                .await
        }
        Utterance::Quit => return None,
    })
}

async fn print_turn(
    out: &mut dyn Write,
    conversation: &Conversation,
    turn: &Result<Exchange, SkillError>,
) -> Result<(), DemoError> {
    match turn {
        Ok(turn) => {
            let speech = turn.speech();
            if speech.is_empty() {
                writeln!(out, "Alexa:  (says nothing)")?;
            } else {
                writeln!(out, "Alexa:  {speech}")?;
            }
        }
        Err(e) => writeln!(out, "Alexa:  (the skill failed: {e})")?,
    }
    if !conversation.in_session() {
        writeln!(out, "        (the session ends)")?;
    }
    match conversation.stored_attributes().await? {
        Some(attrs) => {
            // Sorted keys, whatever serde_json's map order is in this build (the AWS HTTP
            // client turns on `preserve_order`), so the transcript is the same everywhere.
            let sorted: std::collections::BTreeMap<_, _> = attrs.iter().collect();
            writeln!(
                out,
                "        stored: {}",
                serde_json::to_string(&sorted).map_err(io::Error::other)?
            )?
        }
        None => writeln!(out, "        stored: (nothing)")?,
    }
    Ok(())
}

/// Plays `sessions` one after the other and prints each line said, what Alexa answers, and
/// the persistent attributes stored after each turn.
///
/// # Errors
/// Output failures, or the skill's failure to read what it stored.
pub async fn run_script(
    skill: &Skill,
    sessions: &[ScriptedSession<'_>],
    interpret: fn(&str) -> Utterance,
    out: &mut dyn Write,
) -> Result<(), DemoError> {
    remembered(skill, sessions, out).await?;
    let mut users: Vec<&str> = Vec::new();
    for (n, session) in sessions.iter().enumerate() {
        // Users are named by order of appearance: A, B, ...
        let index = users
            .iter()
            .position(|u| *u == session.user)
            .unwrap_or_else(|| {
                users.push(session.user);
                users.len() - 1
            });
        let label = user_label(index);
        writeln!(out, "=== Session {} (user {label}) ===", n + 1)?;
        let mut conversation = Conversation::new(skill).user(session.user);
        for line in session.lines {
            writeln!(out, "User:   {line}")?;
            let Some(turn) = say(&mut conversation, &interpret(line)).await else {
                break;
            };
            print_turn(out, &conversation, &turn).await?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// Users named by order of appearance in `sessions`: A, B, ...
fn user_label(index: usize) -> String {
    u8::try_from(index)
        .ok()
        .and_then(|i| b'A'.checked_add(i))
        .filter(u8::is_ascii_uppercase)
        .map_or_else(|| format!("#{}", index + 1), |c| char::from(c).to_string())
}

/// Prints what is already stored for the script's users (from an earlier run, when the storage
/// outlives the process), or nothing when nothing is.
async fn remembered(
    skill: &Skill,
    sessions: &[ScriptedSession<'_>],
    out: &mut dyn Write,
) -> Result<(), DemoError> {
    let mut users: Vec<&str> = Vec::new();
    for session in sessions {
        if !users.contains(&session.user) {
            users.push(session.user);
        }
    }
    let mut lines = Vec::new();
    for (index, user) in users.iter().enumerate() {
        let stored = Conversation::new(skill)
            .user(*user)
            .stored_attributes()
            .await?;
        if let Some(attrs) = stored {
            let sorted: std::collections::BTreeMap<_, _> = attrs.iter().collect();
            lines.push(format!(
                "        user {}: {}",
                user_label(index),
                serde_json::to_string(&sorted).map_err(io::Error::other)?
            ));
        }
    }
    if !lines.is_empty() {
        writeln!(out, "Remembered from an earlier run:")?;
        for line in lines {
            writeln!(out, "{line}")?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// Reads lines from `input` and plays them as `user` until "quit" or the end of input. Opens
/// the skill first. A session the skill ended is followed by a new one on the next line. With
/// `echo_input`, each line read is printed too (for piped input, which the terminal does not
/// show).
///
/// # Errors
/// Input or output failures, or the skill's failure to read what it stored.
pub async fn run_interactive(
    skill: &Skill,
    user: &str,
    interpret: fn(&str) -> Utterance,
    examples: &[&str],
    echo_input: bool,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<(), DemoError> {
    writeln!(
        out,
        "Talking to the skill as {}. Try: {}.",
        persistence_core::RedactedKey::new(user),
        examples
            .iter()
            .map(|e| format!("\"{e}\""))
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    let mut conversation = Conversation::new(skill).user(user);
    writeln!(out, "User:   (opens the skill)")?;
    let turn = conversation.launch().await;
    print_turn(out, &conversation, &turn).await?;
    let mut line = String::new();
    loop {
        if !echo_input {
            write!(out, "> ")?;
            out.flush()?;
        }
        line.clear();
        if input.read_line(&mut line)? == 0 {
            if !echo_input {
                writeln!(out)?;
            }
            break;
        }
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        let utterance = interpret(text);
        if echo_input && utterance != Utterance::Quit {
            writeln!(out, "User:   {text}")?;
        }
        match say(&mut conversation, &utterance).await {
            Some(turn) => print_turn(out, &conversation, &turn).await?,
            None => break,
        }
    }
    if conversation.in_session() {
        // Like leaving the room: Alexa tells the skill the session ended.
        let _ = conversation
            .end_session(SessionEndedReason::UserInitiated)
            .await;
    }
    writeln!(out, "Bye.")?;
    Ok(())
}

/// What a binary needs to know about its skill.
#[derive(Clone, Copy, Debug)]
pub struct App {
    /// The binary's name.
    pub name: &'static str,
    /// Builds the skill on an adapter.
    pub builder: fn(Arc<dyn PersistenceAdapter>) -> SkillBuilder,
    /// Maps typed lines to requests.
    pub interpret: fn(&str) -> Utterance,
    /// The scripted demo.
    pub script: &'static [ScriptedSession<'static>],
    /// Phrases suggested in the interactive demo.
    pub examples: &'static [&'static str],
}

enum Mode {
    Script,
    Interactive,
    Http(Option<String>),
    Lambda,
}

fn usage(name: &str) -> String {
    format!(
        "usage: {name} [--interactive] [--user USER_ID] [--http [ADDR] [--no-verify]] [--lambda]\n\
         \n\
         Without options, plays a scripted demo conversation and exits.\n\
         --interactive   talk to the skill: type what you would say to Alexa\n\
         --user ID       the Alexa user ID to talk as (default amzn1.ask.account.DEMO)\n\
         --http [ADDR]   serve the skill over HTTP (default 127.0.0.1:3000; feature `http`);\n\
         \x20               every request must carry Alexa's signature\n\
         --no-verify     with --http: accept unsigned requests (local development with curl)\n\
         --lambda        run as an AWS Lambda function (feature `lambda`); the default when\n\
         \x20               AWS_LAMBDA_RUNTIME_API is set, as it is in Lambda\n\
         \n\
         Storage: SKILL_PERSISTENCE=memory|dynamodb|s3|sqlite, or DYNAMODB_PERSISTENCE_TABLE_NAME /\n\
         S3_PERSISTENCE_BUCKET / SQLITE_PERSISTENCE_PATH. When none is set, a SQLite file at\n\
         $XDG_DATA_HOME/alexa-persistence/{name}.sqlite3 (~/.local/share/... without\n\
         XDG_DATA_HOME), so a second run remembers (memory without the `sqlite` feature); in\n\
         Lambda a backend must be set (SKILL_PERSISTENCE=memory to keep memory on purpose).\n\
         ALEXA_SKILL_ID, when set, makes the skill refuse requests for other skills. Logs:\n\
         RUST_LOG (default warn)."
    )
}

/// The binaries' `main`: parses the arguments, builds the adapter from the environment, and
/// runs the chosen mode. Without a mode option it plays the scripted demo, or serves Lambda
/// when [`running_in_lambda`](skill_builder::storage::running_in_lambda) (Lambda starts the
/// binary without arguments).
pub async fn run_cli(app: App) -> ExitCode {
    init_tracing();
    let mut mode = if skill_builder::storage::running_in_lambda() {
        Mode::Lambda
    } else {
        Mode::Script
    };
    let mut user = "amzn1.ask.account.DEMO".to_owned();
    let mut verify = true;
    let mut args = std::env::args().skip(1).peekable();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--interactive" | "-i" => mode = Mode::Interactive,
            "--lambda" => mode = Mode::Lambda,
            "--no-verify" => verify = false,
            "--http" => {
                let addr = args.next_if(|a| !a.starts_with("--"));
                mode = Mode::Http(addr);
            }
            "--user" => match args.next() {
                Some(u) => user = u,
                None => {
                    eprintln!("--user needs a user ID\n\n{}", usage(app.name));
                    return ExitCode::from(2);
                }
            },
            "--help" | "-h" => {
                println!("{}", usage(app.name));
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("unknown argument {other:?}\n\n{}", usage(app.name));
                return ExitCode::from(2);
            }
        }
    }

    // Local runs remember their users in a file; a Lambda function gets what it is configured
    // with (memory when nothing is).
    let adapter = match &mode {
        Mode::Lambda => skill_builder::storage::adapter_from_env().await,
        _ => skill_builder::storage::local_adapter_from_env(app.name).await,
    };
    let adapter = match adapter {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{}: cannot set up persistence: {e}", app.name);
            return ExitCode::FAILURE;
        }
    };
    let mut builder = (app.builder)(adapter.clone());
    let skill_id_set =
        std::env::var(skill_builder::skill::SKILL_ID_VAR).is_ok_and(|v| !v.trim().is_empty());
    if matches!(mode, Mode::Script | Mode::Interactive) && !skill_id_set {
        // Scripted and typed conversations stay on this machine: no other skill can reach
        // them. Served over HTTP or Lambda, the skill ID is required (ALEXA_SKILL_ID).
        builder = builder.skip_skill_id_check_for_local_testing();
    }
    let skill = match builder.build() {
        Ok(skill) => skill,
        Err(e) => {
            eprintln!("{}: {e}", app.name);
            return ExitCode::FAILURE;
        }
    };
    if !matches!(mode, Mode::Script) {
        eprintln!(
            "{}: persistent attributes in {}",
            app.name,
            adapter.describe()
        );
    }

    let result: Result<(), Box<dyn std::error::Error>> = match mode {
        Mode::Script => {
            println!(
                "{}: scripted demo; persistent attributes in {}\n",
                app.name,
                adapter.describe()
            );
            let stdout = io::stdout();
            run_script(&skill, app.script, app.interpret, &mut stdout.lock())
                .await
                .map_err(Into::into)
        }
        Mode::Interactive => {
            use std::io::IsTerminal;
            let stdin = io::stdin();
            let stdout = io::stdout();
            // A terminal shows what is typed; piped input is echoed so the transcript reads well.
            let echo = !stdin.is_terminal();
            run_interactive(
                &skill,
                &user,
                app.interpret,
                app.examples,
                echo,
                &mut stdin.lock(),
                &mut stdout.lock(),
            )
            .await
            .map_err(Into::into)
        }
        Mode::Http(addr) => serve_http(skill, addr, verify).await,
        Mode::Lambda => serve_lambda(skill).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}: {e}", app.name);
            ExitCode::FAILURE
        }
    }
}
