//! What each command does ([`run`]), and the helpers they share to read input and write
//! results.

use std::io::{BufWriter, IsTerminal, Read, Write};
use std::path::PathBuf;

use persistence_core::clock::{epoch_seconds, from_epoch_seconds};
use persistence_core::{Attributes, Expiry, SaveMode, SaveOptions, Version};
use serde::Serialize;

use crate::checkpoint::Header;
use crate::copy::{self, Context, CopyOptions};
use crate::engine::Cancel;
use crate::exit::{CliError, Status};
use crate::maintain;
use crate::output::{self, Keys};
use crate::store::{self, Access, Aws, StoreUrl};
use crate::transfer::{self, ImportOptions};

use super::args::{Cli, Command};

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
        Ok(persistence_core::exact::ExactValue::Map(map)) => {
            Attributes::from_exact(map).map_err(|e| CliError::usage(format!("{what}: {e}")))
        }
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
            let mut out = BufWriter::new(std::io::stdout().lock());
            let r = crate::ls::ls(&store, prefix.as_deref(), json, &mut out, &ctx).await?;
            drop(out);
            // Standard output holds the keys only: the summary goes to stderr.
            if !r.skips.is_empty() {
                output::eprintln_above(r.skips.summary().trim_end());
            }
            Ok(r.status())
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
                // Standard output holds the export: the summary goes to the log, what was
                // skipped to stderr.
                tracing::info!("{}", r.render().trim_end());
                if !r.skips.is_empty() {
                    output::eprintln_above(r.skips.summary().trim_end());
                }
            } else {
                report(json, &r, || r.render())?;
            }
            Ok(r.status())
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
