//! `verify` (and `copy --verify`): every key of one store compared with another.

use std::sync::atomic::AtomicU64;

use futures::StreamExt;
use persistence_core::{Error, ListOptions, Stored};

use crate::compare::same_stored;
use crate::copy::Context;
use crate::engine::{self, Listed, Problem, keep};
use crate::exit::{CliError, Status};
use crate::output::Progress;
use crate::skip::{Skip, Skipped};
use crate::store::Store;

/// What comparing two stores found.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct VerifyReport {
    /// Live keys in the source.
    pub source_keys: u64,
    /// Keys the destination lists (expired ones the backend cannot tell from live ones
    /// included).
    pub destination_keys: u64,
    /// Source keys the destination does not hold.
    pub missing: u64,
    /// Keys both hold, with other attributes or expiry.
    pub different: u64,
    /// Keys only the destination holds.
    pub extra: u64,
    /// The first differences (keys redacted unless `--show-keys`).
    pub problems: Vec<Problem>,
    /// Entries of either store that are not keys or cannot be read, so were not compared (each
    /// named with the side it is in): JSON fields `skipped`, `skipped_not_a_key`,
    /// `skipped_unreadable`, `skipped_entries`.
    #[serde(flatten)]
    pub skips: Skipped,
    /// Stopped by Ctrl-C.
    pub interrupted: bool,
}

impl VerifyReport {
    /// True when every entry was compared and both hold exactly the same keys with the same
    /// content (nothing skipped, nothing missing, different or extra).
    pub fn equal(&self) -> bool {
        !self.interrupted
            && self.missing == 0
            && self.different == 0
            && self.extra == 0
            && self.skips.is_empty()
    }

    /// Exit status: 0 equal, 1 differences or skipped entries, 130 interrupted.
    pub fn status(&self) -> Status {
        Status::of_run(self.interrupted, self.equal())
    }

    /// Human-readable summary lines.
    pub fn render(&self) -> String {
        let mut out = format!(
            "verify: {} keys in the source, {} listed in the destination: {} missing, {} \
             different, {} extra{}\n",
            self.source_keys,
            self.destination_keys,
            self.missing,
            self.different,
            self.extra,
            if self.equal() { " (identical)" } else { "" }
        );
        for p in &self.problems {
            out.push_str(&format!("  {}: {}\n", p.key, p.problem));
        }
        out.push_str(&self.skips.render());
        out
    }
}

/// A source entry and what the destination holds under its key, or a skipped entry.
enum Check {
    Compared(String, Stored, Result<Option<Stored>, Error>),
    Skipped(Skip),
}

/// A destination key that the source does not hold, or one that could not be read.
enum Extra {
    Key(String),
    Skipped(Skip),
}

/// Compares every live key (under `prefix`) of `src` with `dst`: each source key must be in the
/// destination with the same attributes and expiry ([`same_stored`]), and the destination must
/// hold no other key. Memory stays flat: the source is streamed and each key read from the
/// destination; extra keys are looked for (a second listing) only when the counts say there may
/// be some. Entries of either side that are not keys or cannot be read are skipped and counted
/// ([`VerifyReport::skips`]); a key the destination cannot hold is missing there.
pub async fn verify(
    src: &Store,
    dst: &Store,
    prefix: Option<&str>,
    concurrency: usize,
    ctx: &Context,
) -> Result<VerifyReport, CliError> {
    let mut report = VerifyReport::default();
    let list = ListOptions::default().page_size(engine::PAGE_SIZE);
    let list = match prefix {
        Some(p) => list.prefix(p),
        None => list,
    };
    let progress = Progress::new(ctx.bars, "verifying", "keys");
    let resumed = AtomicU64::new(0);
    let dst_adapter = dst.adapter.as_ref();
    let mut checks = engine::entries(src, &list, concurrency, None, &resumed)
        .take_until(ctx.cancel.cancelled())
        .map(|entry| async move {
            Ok::<_, Error>(match entry? {
                Listed::Entry(e) => {
                    let there = dst_adapter.get(&e.key).await;
                    Check::Compared(e.key, e.stored, there)
                }
                Listed::Skipped(s) => Check::Skipped(s),
            })
        })
        .buffer_unordered(concurrency.max(1));
    while let Some(checked) = checks.next().await {
        let (key, stored, there) = match checked? {
            Check::Compared(key, stored, there) => (key, stored, there),
            Check::Skipped(s) => {
                report.skips.add(s, ctx.keys, Some("source"));
                continue;
            }
        };
        report.source_keys += 1;
        progress.add(1, 0);
        let problem = match there {
            Ok(None) => {
                report.missing += 1;
                "missing in the destination".to_owned()
            }
            Err(Error::InvalidKey { reason, .. }) => {
                report.missing += 1;
                format!("missing in the destination, which cannot hold this key ({reason})")
            }
            Ok(Some(d)) if !same_stored(&stored, &d) => {
                report.different += 1;
                "different in the destination".to_owned()
            }
            Ok(Some(_)) => continue,
            Err(e) => {
                let skip = Skip::from_error(e, Some(&key))?;
                report.skips.add(skip, ctx.keys, Some("destination"));
                continue;
            }
        };
        keep(
            &mut report.problems,
            Problem {
                key: ctx.keys.show(&key),
                problem,
            },
        );
    }
    drop(checks);
    if ctx.cancel.is_cancelled() {
        report.interrupted = true;
        progress.finish();
        return Ok(report);
    }
    let mut pages = dst.adapter.list_keys(&list);
    while let Some(page) = pages.next().await {
        match page {
            Ok(keys) => report.destination_keys += keys.len() as u64,
            Err(e) => {
                let skip = Skip::from_listing(e)?;
                report.skips.add(skip, ctx.keys, Some("destination"));
            }
        }
    }
    drop(pages);
    let present = report.source_keys - report.missing;
    if report.destination_keys != present {
        // Some destination keys are not in the source (or are expired there).
        let src_adapter = src.adapter.as_ref();
        let mut extras = dst
            .adapter
            .list_keys(&list)
            .flat_map(engine::flatten)
            .take_until(ctx.cancel.cancelled())
            .map(|k| async move {
                let key = match k {
                    Ok(key) => key,
                    // Counted by the listing above.
                    Err(e) => return Skip::from_listing(e).map(|_| None),
                };
                match src_adapter.get(&key).await {
                    Ok(Some(_)) => return Ok(None),
                    Ok(None) | Err(Error::InvalidKey { .. }) => {}
                    // In the source but unreadable: skipped when the source was listed.
                    Err(e) => return Skip::from_error(e, Some(&key)).map(|_| None),
                }
                match dst_adapter.get(&key).await {
                    Ok(got) => Ok(got.map(|_| Extra::Key(key))),
                    Err(e) => Skip::from_error(e, Some(&key)).map(|s| Some(Extra::Skipped(s))),
                }
            })
            .buffer_unordered(concurrency.max(1));
        while let Some(extra) = extras.next().await {
            match extra? {
                None => {}
                Some(Extra::Key(key)) => {
                    report.extra += 1;
                    keep(
                        &mut report.problems,
                        Problem {
                            key: ctx.keys.show(&key),
                            problem: "only in the destination".into(),
                        },
                    );
                }
                Some(Extra::Skipped(s)) => report.skips.add(s, ctx.keys, Some("destination")),
            }
        }
        report.interrupted = ctx.cancel.is_cancelled();
    }
    progress.finish();
    Ok(report)
}
