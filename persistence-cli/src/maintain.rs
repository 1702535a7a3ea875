//! `purge-expired` and `erase`.

use std::sync::atomic::AtomicU64;
use std::time::{Instant, SystemTime};

use futures::StreamExt;
use persistence_core::{Error, ListOptions, is_expired};

use crate::copy::Context;
use crate::engine::{self, Listed, Problem, keep};
use crate::exit::{CliError, Status, is_per_key};
use crate::output::Progress;
use crate::skip::{Skip, Skipped};
use crate::store::Store;

/// What `purge-expired` did.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct PurgeReport {
    /// The store's URL.
    pub store: String,
    /// Whether nothing was deleted (dry run).
    pub dry_run: bool,
    /// Entries looked at (expired or not).
    pub scanned: u64,
    /// Expired entries found.
    pub expired: u64,
    /// Expired entries deleted (dry run: that would be).
    pub deleted: u64,
    /// Expired entries saved again since they were listed: kept.
    pub changed: u64,
    /// Deletes that failed.
    pub failed: u64,
    /// The first problems (keys redacted unless `--show-keys`).
    pub problems: Vec<Problem>,
    /// Entries skipped (names that are not keys, unreadable data): neither scanned nor
    /// deleted. JSON fields `skipped`, `skipped_not_a_key`, `skipped_unreadable`,
    /// `skipped_entries`.
    #[serde(flatten)]
    pub skips: Skipped,
    /// Stopped by Ctrl-C.
    pub interrupted: bool,
    /// Wall time, seconds.
    pub elapsed_s: f64,
}

impl PurgeReport {
    /// 0 done, 1 some deletes failed or entries were skipped, 130 interrupted. Entries saved
    /// again meanwhile were rightly kept: not a failure.
    pub fn status(&self) -> Status {
        Status::of_run(self.interrupted, self.failed == 0 && self.skips.is_empty())
    }

    /// Human-readable summary.
    pub fn render(&self) -> String {
        let mut out = format!(
            "{} {} of {} expired entries in {} ({} scanned, {} saved again since and kept, {} \
             failed) in {:.1} s\n",
            if self.dry_run {
                "would delete"
            } else {
                "deleted"
            },
            self.deleted,
            self.expired,
            self.store,
            self.scanned,
            self.changed,
            self.failed,
            self.elapsed_s
        );
        for p in &self.problems {
            out.push_str(&format!("  {}: {}\n", p.key, p.problem));
        }
        out.push_str(&self.skips.render());
        out
    }
}

/// What purging one listed entry did.
enum Purged {
    /// Not expired (`None`), or expired and deleted or not.
    Listed(String, Option<Result<(), Error>>),
    /// Not a key, or unreadable: left alone.
    Skipped(Skip),
}

/// Deletes every expired entry of `src` (under `prefix`) that is still stored, each on the
/// version listed (`delete_if`), so that one saved again meanwhile is kept. Entries that are
/// not keys or cannot be read are skipped, counted ([`PurgeReport::skips`]) and left alone.
pub async fn purge_expired(
    src: &Store,
    prefix: Option<&str>,
    dry_run: bool,
    concurrency: usize,
    ctx: &Context,
) -> Result<PurgeReport, CliError> {
    let started = Instant::now();
    let mut report = PurgeReport {
        store: src.url.to_string(),
        dry_run,
        ..PurgeReport::default()
    };
    let list = ListOptions::default()
        .page_size(engine::PAGE_SIZE)
        .include_expired(true);
    let list = match prefix {
        Some(p) => list.prefix(p),
        None => list,
    };
    let progress = Progress::new(ctx.bars, "purging", "entries");
    let adapter = src.adapter.as_ref();
    let resumed = AtomicU64::new(0);
    let mut results = engine::entries(src, &list, concurrency, None, &resumed)
        .take_until(ctx.cancel.cancelled())
        .map(|entry| async move {
            let e = match entry? {
                Listed::Entry(e) => e,
                Listed::Skipped(s) => return Ok::<_, Error>(Purged::Skipped(s)),
            };
            if !is_expired(e.stored.expires_at, SystemTime::now()) {
                return Ok(Purged::Listed(e.key, None));
            }
            if dry_run {
                return Ok(Purged::Listed(e.key, Some(Ok(()))));
            }
            let deleted = adapter.delete_if(&e.key, &e.stored.version).await;
            Ok(Purged::Listed(e.key, Some(deleted)))
        })
        .buffer_unordered(concurrency.max(1));
    while let Some(result) = results.next().await {
        let (key, outcome) = match result? {
            Purged::Listed(key, outcome) => (key, outcome),
            Purged::Skipped(s) => {
                report.skips.add(s, ctx.keys, None);
                continue;
            }
        };
        report.scanned += 1;
        progress.add(1, 0);
        match outcome {
            None => {}
            Some(Ok(())) => {
                report.expired += 1;
                report.deleted += 1;
            }
            Some(Err(e)) if e.is_conflict() => {
                report.expired += 1;
                report.changed += 1;
            }
            Some(Err(e)) if is_per_key(&e) => {
                report.expired += 1;
                report.failed += 1;
                keep(
                    &mut report.problems,
                    Problem {
                        key: ctx.keys.show(&key),
                        problem: e.to_string(),
                    },
                );
            }
            Some(Err(e)) => return Err(e.into()),
        }
    }
    drop(results);
    progress.finish();
    report.interrupted = ctx.cancel.is_cancelled();
    report.elapsed_s = started.elapsed().as_secs_f64();
    Ok(report)
}

/// What `erase` did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct EraseReport {
    /// The key (redacted unless `--show-keys`).
    pub key: String,
    /// The store's URL.
    pub store: String,
    /// Whether live attributes were stored under the key.
    pub existed: bool,
}

impl EraseReport {
    /// Human-readable summary.
    pub fn render(&self) -> String {
        if self.existed {
            format!(
                "erased {} from {}: its attributes were deleted\n",
                self.key, self.store
            )
        } else {
            format!(
                "erased {} from {}: nothing was stored under it (any expired remains were \
                 deleted too)\n",
                self.key, self.store
            )
        }
    }
}

/// A data-deletion request: deletes whatever is stored under `key` (expired remains included)
/// and says whether live attributes were there.
pub async fn erase(src: &Store, key: &str, ctx: &Context) -> Result<EraseReport, CliError> {
    let existed = src.adapter.get(key).await?.is_some();
    src.adapter.delete(key).await?;
    Ok(EraseReport {
        key: ctx.keys.show(key),
        store: src.url.to_string(),
        existed,
    })
}
