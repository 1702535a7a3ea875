//! `alexa-persistence`: see `alexa-persistence --help` and the crate docs of `persistence_cli`.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use persistence_cli::cli::{self, Cli};
use persistence_cli::engine::Cancel;
use persistence_cli::exit::{CliError, Status};
use persistence_cli::output::{LogWriter, eprintln_above};
use tracing::Level;
use tracing_subscriber::filter::{EnvFilter, filter_fn};
use tracing_subscriber::prelude::*;

/// Logs on stderr, as `RUST_LOG` says (default `warn`). The AWS SDK's own debug and trace events
/// name S3 object keys (user IDs): they are dropped unless `--show-keys`.
fn init_logging(show_keys: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let no_sdk_detail = filter_fn(move |meta| {
        let sdk = ["aws_", "hyper", "h2", "rustls"]
            .iter()
            .any(|p| meta.target().starts_with(p));
        show_keys || !sdk || *meta.level() <= Level::INFO
    });
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(LogWriter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .with_filter(filter)
        .with_filter(no_sdk_detail);
    let _ = tracing_subscriber::registry().with(layer).try_init();
}

/// Waits for Ctrl-C or SIGTERM; false when signals cannot be watched.
async fn interrupt(term: &mut Option<tokio::signal::unix::Signal>) -> bool {
    match term {
        Some(t) => {
            tokio::select! {
                r = tokio::signal::ctrl_c() => r.is_ok(),
                r = t.recv() => r.is_some(),
            }
        }
        None => tokio::signal::ctrl_c().await.is_ok(),
    }
}

/// Ctrl-C (or SIGTERM) during bulk work: stop reading, finish the keys in flight, keep the
/// checkpoint; a second one quits at once.
fn watch_signals(cancel: Cancel) {
    tokio::spawn(async move {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        if interrupt(&mut term).await {
            cancel.cancel();
            eprintln_above(
                "interrupted: finishing the keys in flight (press Ctrl-C again to quit at once)",
            );
            if interrupt(&mut term).await {
                std::process::exit(i32::from(Status::Interrupted.code()));
            }
        }
    });
}

fn fail(json: bool, e: &CliError) -> ExitCode {
    eprintln_above(&format!("error: {}", e.message));
    if json {
        let v = serde_json::json!({
            "error": e.message,
            "status": e.status,
            "exit_code": e.status.code(),
        });
        println!("{v}");
    }
    ExitCode::from(e.status.code())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.global.json;
    init_logging(cli.global.show_keys);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(json, &CliError::io("cannot start the async runtime", &e)),
    };
    let bulk = cli.command.is_bulk();
    let result = runtime.block_on(async move {
        let cancel = Cancel::new();
        if bulk {
            watch_signals(cancel.clone());
        }
        cli::run(cli, cancel).await
    });
    // Do not wait for requests still in flight after a fatal error.
    runtime.shutdown_background();
    match result {
        Ok(status) => ExitCode::from(status.code()),
        Err(e) => fail(json, &e),
    }
}
