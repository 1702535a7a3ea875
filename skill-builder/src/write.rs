//! Writing what a turn changed: conditionally on the version read, merging with another
//! device's changes to other attributes, and telling when the turn must run again.

use persistence_core::merge::three_way;
use persistence_core::{Attributes, Error, PersistenceAdapter, RedactedKey, SaveMode};

use crate::error::SkillError;
use crate::turn::state::{PendingWrite, TurnShared};

/// How many times a save merges with newer data before it gives up.
const MAX_MERGES: u32 = 5;

/// Why a write did not happen.
pub(crate) enum Outcome {
    /// Another device changed the same attributes (or deleted them) since they were read: the
    /// turn should run again on fresh data. Carries the conflict.
    Rerun(Error),
    /// Anything else.
    Failed(SkillError),
}

impl Outcome {
    pub(crate) fn into_error(self) -> SkillError {
        match self {
            Outcome::Rerun(e) => SkillError::Persistence(e),
            Outcome::Failed(e) => e,
        }
    }
}

fn failed(e: Error) -> Outcome {
    if e.is_conflict() {
        Outcome::Rerun(e)
    } else {
        Outcome::Failed(SkillError::Persistence(e))
    }
}

/// Writes `write`; on success the turn holds what was written, at its new version.
pub(crate) async fn perform(
    shared: &TurnShared,
    adapter: &dyn PersistenceAdapter,
    write: PendingWrite,
) -> Result<(), Outcome> {
    let merge = shared.config.merge_on_conflict;
    match write {
        PendingWrite::Delete { key, version } => {
            adapter.delete_if(&key, &version).await.map_err(failed)?;
            tracing::debug!(key = %RedactedKey::new(&key), "deleted persistent attributes");
            shared.committed(&key, None, Attributes::new());
            Ok(())
        }
        PendingWrite::Save {
            key,
            mut version,
            mut base,
            mut current,
        } => {
            let mut merges = 0;
            loop {
                let mode = SaveMode::expecting(version.as_ref());
                let conflict = match adapter.save(&key, &current, mode).await {
                    Ok(v) => {
                        tracing::debug!(key = %RedactedKey::new(&key), version = %v, merges, "saved persistent attributes");
                        shared.committed(&key, Some(v), current);
                        return Ok(());
                    }
                    Err(e) if e.is_conflict() && merge && merges < MAX_MERGES => e,
                    Err(e) => return Err(failed(e)),
                };
                merges += 1;
                let fresh = adapter.get(&key).await.map_err(failed)?;
                let (fresh_version, fresh_attrs) = match fresh {
                    Some(s) => (Some(s.version), s.attributes),
                    None => (None, Attributes::new()),
                };
                if fresh_version.is_none() && version.is_some() {
                    // Deleted meanwhile ("start over" on another device): merging would bring
                    // back part of what the user discarded. The turn runs again.
                    return Err(Outcome::Rerun(conflict));
                }
                match three_way(&base, &current, &fresh_attrs) {
                    Ok(merged) => {
                        tracing::debug!(key = %RedactedKey::new(&key), merges, "merging with another writer's changes");
                        version = fresh_version;
                        base = fresh_attrs;
                        current = merged;
                    }
                    Err(overlap) => {
                        let names: Vec<&str> = overlap.names.iter().map(String::as_str).collect();
                        return Err(Outcome::Rerun(Error::conflict(
                            "save",
                            adapter.describe(),
                            &key,
                            format!(
                                "another writer changed the same attributes since they were read: {}",
                                names.join(", ")
                            ),
                        )));
                    }
                }
            }
        }
    }
}
