//! The command line: arguments ([`Cli`]) and what each command does ([`run`]).

use std::io::{BufWriter, IsTerminal, Read, Write};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use futures::StreamExt;
use persistence_core::clock::{epoch_seconds, from_epoch_seconds};
use persistence_core::{Attributes, Expiry, ListOptions, SaveMode, SaveOptions, Version};
use serde::Serialize;

use crate::checkpoint::Header;
use crate::copy::{self, Context, CopyOptions};
use crate::engine::Cancel;
use crate::exit::{CliError, Status};
use crate::maintain;
use crate::output::{self, Keys};
use crate::store::{self, Access, Aws, StoreUrl};
use crate::transfer::{self, ImportOptions, OnError};

const EXIT_CODES: &str = "\
Stores: dynamodb://TABLE  s3://BUCKET[/PREFIX]  sqlite://PATH  file://DIR  memory:
  Region, endpoint and credentials come from the usual AWS environment (AWS_REGION, AWS_PROFILE,
  AWS_ENDPOINT_URL, ...); a URL may add ?region=REGION. Logs: RUST_LOG (default warn), on stderr.

Exit codes:
  0    done
  1    done, but not everything: differences found, keys or lines failed or left alone
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
    /// List keys, one per line, as they are found (streaming)
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

fn print_json<T: Serialize>(value: &T) -> Result<(), CliError> {
    let text = serde_json::to_string(value)
        .map_err(|e| CliError::new(Status::Failed, format!("encoding JSON: {e}")))?;
    write_stdout(&format!("{text}\n"))
}

fn write_stdout(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        // The reader went away (`| head`): not an error of ours.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError::io("writing to standard output", &e)),
    }
}

fn report<T: Serialize>(
    json: bool,
    value: &T,
    human: impl FnOnce() -> String,
) -> Result<(), CliError> {
    if json {
        print_json(value)
    } else {
        write_stdout(&human())
    }
}

/// Refuses to copy a store onto itself (or a prefix onto one that contains it).
fn check_distinct(src: &StoreUrl, dst: &StoreUrl) -> Result<(), CliError> {
    let overlap = match (src, dst) {
        (StoreUrl::S3(a), StoreUrl::S3(b)) if a.bucket == b.bucket => {
            let nest = |x: &Option<String>, y: &Option<String>| match (x, y) {
                (None, _) => true,
                (Some(x), Some(y)) => *y == *x || y.starts_with(&format!("{x}/")),
                (Some(_), None) => false,
            };
            nest(&a.prefix, &b.prefix) || nest(&b.prefix, &a.prefix)
        }
        (StoreUrl::File(a), StoreUrl::File(b)) => {
            let canon = |p: &PathBuf| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
            canon(a) == canon(b)
        }
        (StoreUrl::DynamoDb(a), StoreUrl::DynamoDb(b)) => {
            a.table == b.table && a.region == b.region
        }
        _ => false,
    };
    if overlap {
        return Err(CliError::usage(format!(
            "{src} and {dst} overlap: copy between different tables, buckets, prefixes or directories"
        )));
    }
    Ok(())
}

fn read_input(file: Option<&PathBuf>) -> Result<Attributes, CliError> {
    const LIMIT: u64 = 64 * 1024 * 1024;
    let mut text = Vec::new();
    let what = file.map_or("standard input".to_owned(), |f| f.display().to_string());
    let read = match file {
        Some(f) => std::fs::File::open(f).and_then(|f| f.take(LIMIT + 1).read_to_end(&mut text)),
        None => {
            if std::io::stdin().is_terminal() {
                tracing::warn!(
                    "reading the attributes (a JSON object) from the terminal; end with Ctrl-D"
                );
            }
            std::io::stdin().take(LIMIT + 1).read_to_end(&mut text)
        }
    };
    read.map_err(|e| {
        let status = if e.kind() == std::io::ErrorKind::NotFound {
            Status::NotFound
        } else {
            Status::Failed
        };
        CliError::new(status, format!("cannot read {what}: {e}"))
    })?;
    if text.len() as u64 > LIMIT {
        return Err(CliError::usage(format!("{what} is over {LIMIT} bytes")));
    }
    let text = String::from_utf8(text)
        .map_err(|_| CliError::usage(format!("{what} is not UTF-8 text")))?;
    match persistence_core::exact::ExactValue::parse_json(&text) {
        Ok(persistence_core::exact::ExactValue::Map(map)) => Attributes::from_exact(map)
            .map_err(|e| CliError::usage(format!("{what}: {e}"))),
        Ok(_) => Err(CliError::usage(format!("{what} is not a JSON object"))),
        Err(e) => Err(CliError::usage(format!("{what} is not valid JSON: {e}"))),
    }
}

#[derive(Serialize)]
struct GetOut<'a> {
    key: &'a str,
    version: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<u64>,
    /// Exactly as stored (numbers with all their digits).
    attributes: Box<serde_json::value::RawValue>,
}

/// Runs a command; the status is the exit code of a run that did not fail.
pub async fn run(cli: Cli, cancel: Cancel) -> Result<Status, CliError> {
    let json = cli.global.json;
    let keys = Keys {
        show: cli.global.show_keys,
    };
    let ctx = Context {
        keys,
        bars: output::bars_enabled(cli.global.quiet),
        cancel,
    };
    let aws = Aws::new();
    match cli.command {
        Command::Get { key, src } => {
            let store = store::open(&src, Access::Read, &aws, false).await?;
            let Some(stored) = store.adapter.get(&key).await? else {
                return Err(CliError::new(
                    Status::NotFound,
                    format!("nothing is stored under {} in {src}", keys.show(&key)),
                ));
            };
            let exact = persistence_core::exact::map_to_json_text(&stored.attributes.to_exact());
            if json {
                let attributes = serde_json::value::RawValue::from_string(exact)
                    .map_err(|e| CliError::new(Status::Failed, format!("encoding JSON: {e}")))?;
                print_json(&GetOut {
                    key: &key,
                    version: stored.version.as_str(),
                    expires_at: stored.expires_at.map(epoch_seconds),
                    attributes,
                })?;
            } else {
                write_stdout(&format!("{exact}\n"))?;
            }
            Ok(Status::Ok)
        }
        Command::Put {
            key,
            dst,
            file,
            if_version,
            overwrite,
            expires_at,
            create_table,
        } => {
            let attributes = read_input(file.as_ref())?;
            let store = store::open(&dst, Access::Write, &aws, create_table).await?;
            let mode = match (if_version, overwrite) {
                (Some(v), _) => SaveMode::IfVersion(Version::new(v)),
                (None, true) => SaveMode::Overwrite,
                (None, false) => SaveMode::CreateOnly,
            };
            let create_only = mode == SaveMode::CreateOnly;
            let mut options = SaveOptions::new(mode);
            if let Some(at) = expires_at {
                options = options.expiry(Expiry::At(from_epoch_seconds(at)));
            }
            let version = store
                .adapter
                .save_with(&key, &attributes, &options)
                .await
                .map_err(|e| {
                    let conflict = e.is_conflict();
                    let mut err = CliError::from(e);
                    if conflict && create_only {
                        err.message.push_str(
                            " (put is create-only: pass --if-version V, from `get --json`, or \
                             --overwrite)",
                        );
                    }
                    err
                })?;
            #[derive(Serialize)]
            struct PutOut<'a> {
                key: &'a str,
                version: &'a str,
            }
            report(
                json,
                &PutOut {
                    key: &key,
                    version: version.as_str(),
                },
                || format!("{version}\n"),
            )?;
            Ok(Status::Ok)
        }
        Command::Rm {
            key,
            dst,
            if_version,
        } => {
            let store = store::open(&dst, Access::Read, &aws, false).await?;
            match if_version {
                Some(v) => store.adapter.delete_if(&key, &Version::new(v)).await?,
                None => store.adapter.delete(&key).await?,
            }
            #[derive(Serialize)]
            struct RmOut {
                deleted: bool,
            }
            report(json, &RmOut { deleted: true }, || {
                format!("deleted {} from {dst}\n", keys.show(&key))
            })?;
            Ok(Status::Ok)
        }
        Command::Ls { src, prefix } => {
            let store = store::open(&src, Access::Read, &aws, false).await?;
            let mut options = ListOptions::default().page_size(1000);
            if let Some(p) = prefix {
                options = options.prefix(p);
            }
            let mut pages = store.adapter.list_keys(&options);
            let mut out = BufWriter::new(std::io::stdout().lock());
            while let Some(page) = pages.next().await {
                for key in page? {
                    let line = if json {
                        serde_json::Value::String(key).to_string()
                    } else {
                        key
                    };
                    let written = out
                        .write_all(line.as_bytes())
                        .and_then(|()| out.write_all(b"\n"));
                    match written {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                            return Ok(Status::Ok);
                        }
                        Err(e) => return Err(CliError::io("writing to standard output", &e)),
                    }
                }
                // Stream: each page reaches the reader as soon as it is listed.
                if let Err(e) = out.flush() {
                    if e.kind() == std::io::ErrorKind::BrokenPipe {
                        return Ok(Status::Ok);
                    }
                    return Err(CliError::io("writing to standard output", &e));
                }
            }
            Ok(Status::Ok)
        }
        Command::Export {
            src,
            file,
            prefix,
            concurrency,
        } => {
            let store = store::open(&src, Access::Read, &aws, false).await?;
            let r = transfer::export(
                &store,
                &file,
                prefix.as_deref(),
                usize::from(concurrency.concurrency),
                &ctx,
            )
            .await?;
            if file.as_os_str() == "-" {
                tracing::info!("{}", r.render().trim_end());
            } else {
                report(json, &r, || r.render())?;
            }
            Ok(Status::Ok)
        }
        Command::Import {
            file,
            dst,
            overwrite,
            on_error,
            create_table,
            concurrency,
        } => {
            let store = store::open(&dst, Access::Write, &aws, create_table).await?;
            let options = ImportOptions {
                overwrite,
                on_error,
                concurrency: usize::from(concurrency.concurrency),
            };
            let r = transfer::import(&file, &store, &options, &ctx).await?;
            report(json, &r, || r.render())?;
            Ok(r.status())
        }
        Command::Copy {
            src,
            dst,
            prefix,
            dry_run,
            overwrite,
            checkpoint,
            no_checkpoint,
            resume,
            verify,
            create_table,
            concurrency,
        } => {
            check_distinct(&src, &dst)?;
            let header = Header::new(&src.to_string(), &dst.to_string(), prefix.as_deref());
            let checkpoint = (!no_checkpoint && !dry_run)
                .then(|| checkpoint.unwrap_or_else(|| header.default_path()));
            let source = store::open(&src, Access::Read, &aws, false).await?;
            let access = if dry_run { Access::Read } else { Access::Write };
            let destination = store::open(&dst, access, &aws, create_table && !dry_run).await?;
            let options = CopyOptions {
                prefix,
                concurrency: usize::from(concurrency.concurrency),
                dry_run,
                overwrite,
                checkpoint,
                resume,
                verify,
            };
            let r = copy::copy(&source, &destination, &options, &ctx).await?;
            report(json, &r, || r.render())?;
            Ok(r.status())
        }
        Command::Verify {
            src,
            dst,
            prefix,
            concurrency,
        } => {
            let source = store::open(&src, Access::Read, &aws, false).await?;
            let destination = store::open(&dst, Access::Read, &aws, false).await?;
            let r = copy::verify(
                &source,
                &destination,
                prefix.as_deref(),
                usize::from(concurrency.concurrency),
                &ctx,
            )
            .await?;
            report(json, &r, || r.render())?;
            Ok(r.status())
        }
        Command::PurgeExpired {
            src,
            prefix,
            dry_run,
            concurrency,
        } => {
            let store = store::open(&src, Access::Read, &aws, false).await?;
            let r = maintain::purge_expired(
                &store,
                prefix.as_deref(),
                dry_run,
                usize::from(concurrency.concurrency),
                &ctx,
            )
            .await?;
            report(json, &r, || r.render())?;
            Ok(r.status())
        }
        Command::Erase { user_id, src } => {
            let store = store::open(&src, Access::Read, &aws, false).await?;
            let r = maintain::erase(&store, &user_id, &ctx).await?;
            report(json, &r, || r.render())?;
            Ok(Status::Ok)
        }
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

    #[test]
    fn overlapping_stores_are_refused() {
        let u = |s: &str| StoreUrl::parse(s).unwrap();
        assert!(check_distinct(&u("s3://bkt/p"), &u("s3://bkt/p")).is_err());
        assert!(check_distinct(&u("s3://bkt"), &u("s3://bkt/p")).is_err());
        assert!(check_distinct(&u("s3://bkt/p/q"), &u("s3://bkt/p")).is_err());
        assert!(check_distinct(&u("s3://bkt/p"), &u("s3://bkt/pq")).is_ok());
        assert!(check_distinct(&u("s3://bkt/p"), &u("s3://ckt/p")).is_ok());
        assert!(check_distinct(&u("dynamodb://table"), &u("dynamodb://table")).is_err());
        assert!(check_distinct(&u("dynamodb://table"), &u("s3://table")).is_ok());
        assert!(check_distinct(&u("file:///tmp/x"), &u("file:///tmp/x/")).is_err());
    }
}
