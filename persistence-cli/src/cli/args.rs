//! The command line's arguments: [`Cli`], its global options and its [`Command`]s, as clap
//! parses them (`--help` text included).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::exit::CliError;
use crate::store::StoreUrl;
use crate::transfer::OnError;

const EXIT_CODES: &str = "\
Stores: dynamodb://TABLE  s3://BUCKET[/PREFIX]  sqlite://PATH  file://DIR  memory:
  Region, endpoint and credentials come from the usual AWS environment (AWS_REGION, AWS_PROFILE,
  AWS_ENDPOINT_URL, ...); a URL may add ?region=REGION. Logs: RUST_LOG (default warn), on stderr.

Skipped entries: ls, export, copy, verify and purge-expired go on past a listed entry that is not a
  key (an S3 \"folder\" marker PREFIX/a/, a name like PREFIX/x//y) or whose data cannot be read (a
  body that is not a JSON object): they leave it as it is, name it on stderr (redacted), count it
  (--json: \"skipped\", \"skipped_not_a_key\", \"skipped_unreadable\", \"skipped_entries\"; the report
  says \"skipped N objects that are not keys / unreadable\") and exit 1. Any other error (bucket or
  table gone, access denied, network) still stops the command, and so does such an entry in a
  file, SQLite or DynamoDB source, whose listing cannot go on past it yet (exit 5 or 2).

Exit codes:
  0    done
  1    done, but not everything: differences found, keys or lines failed or left alone, entries
       skipped (not keys, unreadable)
  2    usage: bad arguments, URL, key, version or input (nothing was changed)
  3    not found: the key (get), or the table, bucket or directory
  4    conflict: a conditional put or rm found another version or an existing key
  5    failed: backend or file system (network, credentials, access, throttling, corrupt data)
  130  interrupted (Ctrl-C): finish a copy with --resume";

/// `alexa-persistence`: inspect, back up, migrate, purge and erase an Alexa skill's persistent
/// attributes in DynamoDB, S3 or files.
#[derive(Debug, Parser)]
#[command(
    name = "alexa-persistence",
    version,
    about = "Inspect, back up, migrate, purge and erase an Alexa skill's persistent attributes",
    after_help = EXIT_CODES
)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: Global,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Clone, Args)]
pub struct Global {
    /// Print one JSON object on stdout for scripts (ls: one JSON string per line; errors too)
    #[arg(long, global = true)]
    pub json: bool,
    /// Show keys (user IDs) in full in messages and logs; by default they are redacted
    #[arg(long, global = true)]
    pub show_keys: bool,
    /// No progress bars (they are only drawn when stderr is a terminal)
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

/// How many keys bulk commands handle at once.
#[derive(Debug, Clone, Args)]
pub struct Concurrency {
    /// Keys read and written at once
    #[arg(long, short = 'c', value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub concurrency: u16,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the attributes stored under KEY (exit 3 when none); --json adds version and expiry
    Get {
        /// The key (usually a user ID)
        key: String,
        /// The store
        #[arg(value_name = "SRC")]
        src: StoreUrl,
    },
    /// Store a JSON object under KEY: create-only unless --if-version or --overwrite
    Put {
        /// The key (usually a user ID)
        key: String,
        /// The store
        #[arg(value_name = "DST")]
        dst: StoreUrl,
        /// Read the JSON object from this file (default: standard input)
        #[arg(long, short = 'f', value_name = "FILE")]
        file: Option<PathBuf>,
        /// Replace only if the stored version is still V (from `get --json`)
        #[arg(long, value_name = "V", conflicts_with = "overwrite")]
        if_version: Option<String>,
        /// Replace whatever is stored
        #[arg(long)]
        overwrite: bool,
        /// Expire the attributes at this time (seconds since 1970)
        #[arg(long, value_name = "EPOCH_SECONDS")]
        expires_at: Option<u64>,
        /// Create a missing DynamoDB table (on-demand, Time to Live on `ttl`) first
        #[arg(long)]
        create_table: bool,
    },
    /// Delete what is stored under KEY (only at version V with --if-version)
    Rm {
        /// The key
        key: String,
        /// The store
        #[arg(value_name = "DST")]
        dst: StoreUrl,
        /// Delete only if the stored version is still V
        #[arg(long, value_name = "V")]
        if_version: Option<String>,
    },
    /// List keys, one per line, as they are found (streaming); names that are not keys are
    /// skipped and named on stderr (exit 1)
    Ls {
        /// The store
        #[arg(value_name = "SRC")]
        src: StoreUrl,
        /// Only keys starting with P
        #[arg(long, value_name = "P")]
        prefix: Option<String>,
    },
    /// Write every live key to a JSON Lines file (`-`: stdout), complete or not at all
    Export {
        /// The store
        #[arg(value_name = "SRC")]
        src: StoreUrl,
        /// The file: {"key": ..., "attributes": {...}, "expires_at": <epoch seconds>} per line
        #[arg(value_name = "FILE.jsonl")]
        file: PathBuf,
        /// Only keys starting with P
        #[arg(long, value_name = "P")]
        prefix: Option<String>,
        /// Keys handled at once.
        #[command(flatten)]
        concurrency: Concurrency,
    },
    /// Store every line of a JSON Lines file (`-`: stdin); create-only unless --overwrite
    Import {
        /// The file, as `export` writes it
        #[arg(value_name = "FILE.jsonl")]
        file: PathBuf,
        /// The store
        #[arg(value_name = "DST")]
        dst: StoreUrl,
        /// Replace keys the destination holds with other attributes
        #[arg(long)]
        overwrite: bool,
        /// On a bad line or a key that cannot be written: stop (a file is checked whole first,
        /// so a bad line writes nothing; standard input stops at the bad line), or skip it,
        /// report its line number and go on
        #[arg(long, value_enum, default_value_t = OnError::Stop)]
        on_error: OnError,
        /// Create a missing DynamoDB table (on-demand, Time to Live on `ttl`) first
        #[arg(long)]
        create_table: bool,
        /// Keys handled at once.
        #[command(flatten)]
        concurrency: Concurrency,
    },
    /// Copy every live key from SRC to DST: create-only, concurrent, resumable
    #[command(long_about = "Copy every live key from SRC to DST.\n\n\
        Create-only: keys DST already holds identically count as done, keys it holds with other \
        attributes are left alone and reported (exit 1) unless --overwrite. Expired keys are not \
        copied; expiry times are. Progress is recorded in a checkpoint file (default: \
        alexa-persistence-copy-<id>.checkpoint in the current directory, removed when the copy is \
        complete); after a crash or Ctrl-C, run the same command with --resume to finish without \
        losing or repeating a key.")]
    Copy {
        /// Where keys are read
        #[arg(value_name = "SRC")]
        src: StoreUrl,
        /// Where keys are written
        #[arg(value_name = "DST")]
        dst: StoreUrl,
        /// Only keys starting with P
        #[arg(long, value_name = "P")]
        prefix: Option<String>,
        /// Write nothing: say what would be copied, replaced or left alone
        #[arg(long)]
        dry_run: bool,
        /// Replace keys DST holds with other attributes (conditionally on their version)
        #[arg(long)]
        overwrite: bool,
        /// Record progress in FILE
        #[arg(long, value_name = "FILE", conflicts_with = "no_checkpoint")]
        checkpoint: Option<PathBuf>,
        /// Record no progress (a rerun reads everything again; still nothing is written twice)
        #[arg(long)]
        no_checkpoint: bool,
        /// Finish the copy an earlier, interrupted run recorded in the checkpoint
        #[arg(long, conflicts_with = "no_checkpoint")]
        resume: bool,
        /// Afterwards, compare every key of SRC and DST (count and content); exit 1 on any
        /// difference
        #[arg(long)]
        verify: bool,
        /// Create a missing DynamoDB table (on-demand, Time to Live on `ttl`) first
        #[arg(long)]
        create_table: bool,
        /// Keys handled at once.
        #[command(flatten)]
        concurrency: Concurrency,
    },
    /// Compare every key of SRC and DST (count and content); exit 1 on any difference
    Verify {
        /// The reference
        #[arg(value_name = "SRC")]
        src: StoreUrl,
        /// The store compared with it
        #[arg(value_name = "DST")]
        dst: StoreUrl,
        /// Only keys starting with P
        #[arg(long, value_name = "P")]
        prefix: Option<String>,
        /// Keys handled at once.
        #[command(flatten)]
        concurrency: Concurrency,
    },
    /// Delete the entries whose expiry has passed (each only at the version listed)
    PurgeExpired {
        /// The store
        #[arg(value_name = "SRC")]
        src: StoreUrl,
        /// Only keys starting with P
        #[arg(long, value_name = "P")]
        prefix: Option<String>,
        /// Delete nothing: count what would be deleted
        #[arg(long)]
        dry_run: bool,
        /// Keys handled at once.
        #[command(flatten)]
        concurrency: Concurrency,
    },
    /// Data-deletion request: delete everything stored under USER_ID and say whether there was
    /// anything
    Erase {
        /// The key to erase (a user, device or person ID)
        #[arg(value_name = "USER_ID")]
        user_id: String,
        /// The store
        #[arg(value_name = "SRC")]
        src: StoreUrl,
    },
}

impl std::str::FromStr for StoreUrl {
    type Err = CliError;
    fn from_str(s: &str) -> Result<Self, CliError> {
        StoreUrl::parse(s)
    }
}

impl Command {
    /// Whether the command works through many keys (Ctrl-C then finishes the keys in flight
    /// instead of quitting at once).
    pub fn is_bulk(&self) -> bool {
        matches!(
            self,
            Command::Export { .. }
                | Command::Import { .. }
                | Command::Copy { .. }
                | Command::Verify { .. }
                | Command::PurgeExpired { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_subcommand_has_help() {
        let cmd = Cli::command();
        for sub in cmd.get_subcommands() {
            assert!(sub.get_about().is_some(), "{} has no help", sub.get_name());
        }
        assert_eq!(cmd.get_subcommands().count(), 10);
    }

    #[test]
    fn urls_are_checked_when_parsing_arguments() {
        let e = Cli::try_parse_from(["alexa-persistence", "ls", "postgres://x"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("unknown scheme"), "{e}");
        let ok = Cli::try_parse_from([
            "alexa-persistence",
            "copy",
            "dynamodb://table",
            "s3://bkt/p",
            "--resume",
            "-c",
            "8",
        ])
        .unwrap();
        assert!(ok.command.is_bulk());
        let e = Cli::try_parse_from([
            "alexa-persistence",
            "put",
            "k",
            "memory:",
            "--overwrite",
            "--if-version",
            "v",
        ])
        .unwrap_err();
        assert_eq!(e.exit_code(), 2);
        let e = Cli::try_parse_from(["alexa-persistence", "copy", "memory:", "memory:", "-c", "0"])
            .unwrap_err();
        assert_eq!(e.exit_code(), 2);
    }
}
