//! A save: one transaction that checks the condition and writes.

use persistence_core::{Error, RedactedKey, Result, SaveMode, Version, remember_token};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::schema::ConnectionConfig;
use crate::{SQLITE_MAX_LENGTH, TABLE, conflict};

/// The body of a save: one `BEGIN IMMEDIATE` transaction that reads what the condition needs,
/// decides, and writes, so nobody can write in between (in this process or another).
#[allow(clippy::too_many_arguments)]
pub(crate) fn save_in_transaction(
    config: &ConnectionConfig,
    conn: &mut Connection,
    key: &str,
    json: &str,
    token: &str,
    mode: &SaveMode,
    expected: Option<String>,
    expires_at: Option<i64>,
    now: i64,
) -> Result<Version> {
    let fail = |e| config.fail("save", e);
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(fail)?;
    let current: Option<(String, Option<i64>, String)> = tx
        .prepare_cached(&format!(
            "SELECT version, expires_at, recent_tokens FROM {TABLE} WHERE key = ?1"
        ))
        .and_then(|mut s| {
            s.query_row([key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()
        })
        .map_err(fail)?;
    // Expired attributes count as absent.
    let current = current.filter(|(_, at, _)| at.is_none_or(|at| at > now));
    let recent: Vec<String> = current
        .as_ref()
        .map(|(_, _, r)| r.split_ascii_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    if recent.iter().any(|t| t == token) {
        // The same save made again after its answer was lost: it is one of the latest writes,
        // whatever was written on top of it since. Nothing more to write.
        tracing::debug!(key = %RedactedKey::new(key), "a retried save found its own write");
        return Ok(Version::new(token));
    }
    let refusal = match (mode, &current) {
        (SaveMode::Overwrite, _) | (SaveMode::CreateOnly, None) => None,
        (SaveMode::CreateOnly, Some(_)) => Some("the key already exists".to_owned()),
        (SaveMode::IfVersion(_), None) => Some("the key was deleted since it was read".to_owned()),
        (SaveMode::IfVersion(_), Some((v, _, _))) if Some(v) == expected.as_ref() => None,
        (SaveMode::IfVersion(v), Some((found, _, _))) => {
            Some(format!("expected version {v}, found {found}"))
        }
    };
    if let Some(reason) = refusal {
        return Err(conflict(config, "save", key, reason));
    }
    let recent = remember_token(recent, token.to_owned()).join(" ");
    let written = tx
        .prepare_cached(&format!(
            "INSERT INTO {TABLE} (key, attributes, version, expires_at, recent_tokens) \
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (key) DO UPDATE SET \
             attributes = excluded.attributes, version = excluded.version, \
             expires_at = excluded.expires_at, recent_tokens = excluded.recent_tokens"
        ))
        .and_then(|mut s| s.execute(rusqlite::params![key, json, token, expires_at, recent]));
    if let Err(e) = written {
        if e.sqlite_error_code() == Some(rusqlite::ErrorCode::TooBig) {
            return Err(Error::TooLarge {
                operation: "save",
                resource: config.resource.clone(),
                key: RedactedKey::new(key),
                size: Some(json.len()),
                limit: SQLITE_MAX_LENGTH,
                source: Some(Box::new(e)),
            });
        }
        return Err(fail(e));
    }
    tx.commit().map_err(fail)?;
    Ok(Version::new(token))
}
