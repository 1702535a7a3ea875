//! The `ha-relay` binary: arguments, logging, and the Lambda runtime loop.

use std::io::{self, IsTerminal, Read};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{CommandFactory, FromArgMatches, Parser};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::value::RawValue;

use crate::config::{
    API_PATH, BASE_URL_VAR, DEBUG_VAR, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT,
    NOT_VERIFY_SSL_VAR, RelayConfig, SKILL_ID_VAR, SKIP_SKILL_ID_CHECK_VAR, TOKEN_VAR,
};
use crate::error_chain;
use crate::relay::Relay;

/// The variables the Lambda environment sets and `lambda_runtime` needs (it panics without
/// them, so they are checked first).
const LAMBDA_VARS: [&str; 4] = [
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
];

/// `lambda_runtime`'s target that logs each raw event (the user's access token and IDs
/// included) at TRACE; never logged.
const RAW_EVENT_TARGET: &str = "lambda_runtime::layers::api_response";

/// Relays each Alexa request to Home Assistant's /api/alexa as an AWS Lambda function.
#[derive(Debug, Parser)]
#[command(name = "ha-relay", version)]
struct Args {
    /// Serve Lambda (the default: Lambda starts the binary without arguments).
    #[arg(long, conflicts_with = "invoke")]
    lambda: bool,
    /// Relay the Alexa request in FILE (- for standard input) once, print the answer and
    /// exit: to try a Home Assistant without Lambda.
    #[arg(long, value_name = "FILE")]
    invoke: Option<String>,
}

/// What `--help` says after the options: the environment and the time budget.
fn environment_help() -> String {
    format!(
        "Environment:\n  \
         {BASE_URL_VAR}                   required: Home Assistant as the internet reaches it, e.g.\n  \
         \x20                          https://ha.example.com (requests go to BASE_URL{API_PATH})\n  \
         {SKILL_ID_VAR}             required: your skill's ID (amzn1.ask.skill.…); requests\n  \
         \x20                          for any other skill, or none, are refused, not relayed\n  \
         {SKIP_SKILL_ID_CHECK_VAR}=1 local testing only, instead of {SKILL_ID_VAR}: relay\n  \
         \x20                          requests for any skill (warns at start-up)\n  \
         {NOT_VERIFY_SSL_VAR}             true/1/yes: accept any TLS certificate (self-signed)\n  \
         {DEBUG_VAR}                      true/1/yes: debug logs (RUST_LOG, when set, wins), and\n  \
         \x20                          {TOKEN_VAR} used\n  \
         {TOKEN_VAR}    testing only, with {DEBUG_VAR}: the token for requests that\n  \
         \x20                          carry none (ignored without {DEBUG_VAR})\n\
         \n\
         Each request may take {}s (connecting: {}s) and never past the invocation's deadline;\n\
         failures are answered with a spoken apology.",
        DEFAULT_TIMEOUT.as_secs(),
        DEFAULT_CONNECT_TIMEOUT.as_secs(),
    )
}

/// The `ha-relay` binary's `main`: reads the environment, then serves Lambda (or, with
/// `--invoke FILE`, relays one request and prints the answer).
pub async fn run_cli() -> ExitCode {
    let command = Args::command().after_help(environment_help());
    let args = match command
        .try_get_matches()
        .and_then(|matches| Args::from_arg_matches(&matches))
    {
        Ok(args) => args,
        Err(e) => {
            // --help and --version print to standard output and succeed; usage errors exit 2.
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    let config = match RelayConfig::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("ha-relay: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    init_tracing(config.debug);
    let relay = match Relay::new(config) {
        Ok(relay) => Arc::new(relay),
        Err(e) => {
            eprintln!("ha-relay: cannot start: {}", error_chain(&e));
            return ExitCode::FAILURE;
        }
    };
    match args.invoke {
        Some(path) => invoke_once(&relay, &path).await,
        None => match serve_lambda(relay).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!(
                    "ha-relay: {e}\n(to relay one request without Lambda: ha-relay --invoke FILE)"
                );
                ExitCode::FAILURE
            }
        },
    }
}

/// The Lambda runtime loop with `relay` as the handler, on the events' exact JSON text.
async fn serve_lambda(relay: Arc<Relay>) -> Result<(), lambda_runtime::Error> {
    check_lambda_environment(|name| std::env::var(name).ok())?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Box<RawValue>>| {
        let relay = Arc::clone(&relay);
        async move { relay.handle_event(event).await }
    }))
    .await
}

/// Whether Lambda started the binary: the runtime's variables are set.
fn check_lambda_environment(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<(), lambda_runtime::Error> {
    for var in LAMBDA_VARS {
        if lookup(var).is_none_or(|v| v.trim().is_empty()) {
            return Err(format!("not running inside AWS Lambda: {var} is not set").into());
        }
    }
    let memory = lookup("AWS_LAMBDA_FUNCTION_MEMORY_SIZE").unwrap_or_default();
    if memory.trim().parse::<i32>().is_err() {
        return Err(format!("AWS_LAMBDA_FUNCTION_MEMORY_SIZE={memory:?} is not a number").into());
    }
    Ok(())
}

async fn invoke_once(relay: &Relay, path: &str) -> ExitCode {
    let read = if path == "-" {
        let mut text = String::new();
        io::stdin().read_to_string(&mut text).map(|_| text)
    } else {
        std::fs::read_to_string(path)
    };
    let text = match read {
        Ok(text) => text,
        Err(e) => {
            eprintln!("ha-relay: cannot read {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = serde_json::from_str::<&RawValue>(&text) {
        eprintln!("ha-relay: {path} is not JSON: {e}");
        return ExitCode::FAILURE;
    }
    let answer = match relay.handle(&text).await {
        Ok(answer) => answer,
        Err(refused) => {
            eprintln!("ha-relay: {refused}, the one {SKILL_ID_VAR} names; nothing was relayed");
            return ExitCode::FAILURE;
        }
    };
    match serde_json::to_string_pretty(&answer) {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ha-relay: cannot print the answer: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to standard error: `RUST_LOG` when set, else `DEBUG`'s choice. `lambda_runtime` logs
/// each raw event (the user's access token and IDs included) at TRACE: that target is dropped at
/// every level by a filter of its own, which no `RUST_LOG` can undo. (A target directive in the
/// `EnvFilter` would not be enough: a span directive such as `[{requestId}]=trace` enables
/// every event inside the matching span, the raw-event line included.)
fn init_tracing(debug: bool) {
    use tracing_subscriber::filter::{EnvFilter, FilterExt, filter_fn};
    use tracing_subscriber::layer::{Layer, SubscriberExt};
    use tracing_subscriber::util::SubscriberInitExt;

    let default = if debug {
        "info,ha_relay=debug"
    } else {
        "warn,ha_relay=info"
    };
    let env_filter = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .and_then(|v| EnvFilter::try_new(v).ok())
        .unwrap_or_else(|| EnvFilter::new(default));
    let no_raw_event = filter_fn(|metadata| !metadata.target().starts_with(RAW_EVENT_TARGET));
    // No colour codes where nobody reads a terminal (CloudWatch keeps them verbatim).
    let layer = tracing_subscriber::fmt::layer()
        .with_ansi(io::stderr().is_terminal())
        .with_writer(io::stderr)
        .with_filter(env_filter.and(no_raw_event));
    let _ = tracing_subscriber::registry().with(layer).try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_lambda_is_a_clear_error_not_a_panic() {
        let err = check_lambda_environment(|_| None).unwrap_err();
        assert!(err.to_string().contains("AWS_LAMBDA_RUNTIME_API"), "{err}");
        let lambda_like = |name: &str| {
            Some(match name {
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE" => "128".to_owned(),
                _ => "x".to_owned(),
            })
        };
        assert!(check_lambda_environment(lambda_like).is_ok());
        let bad_memory =
            |name: &str| Some(if name.ends_with("SIZE") { "lots" } else { "x" }.into());
        assert!(check_lambda_environment(bad_memory).is_err());
    }

    #[test]
    fn the_arguments_parse_as_documented() {
        Args::command().debug_assert();
        let parse = |args: &[&str]| Args::try_parse_from(args);
        assert!(parse(&["ha-relay"]).unwrap().invoke.is_none());
        assert!(parse(&["ha-relay", "--lambda"]).unwrap().invoke.is_none());
        let invoke = parse(&["ha-relay", "--invoke", "-"]).unwrap();
        assert_eq!(invoke.invoke.as_deref(), Some("-"));
        assert!(parse(&["ha-relay", "--invoke"]).is_err());
        assert!(parse(&["ha-relay", "--lambda", "--invoke", "x.json"]).is_err());
        assert!(parse(&["ha-relay", "--bogus"]).is_err());
    }
}
