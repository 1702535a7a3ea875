//! Alexa skill persistent attributes in an embedded SQLite database: a file on disk that keeps
//! every user's attributes across runs, safe to share between processes.
//!
//! [`SqliteAdapter`] behaves like the other backends (it passes the same conformance suite):
//! versions that never repeat, conditional saves and deletes, write tokens that recognise a
//! retried save, expiry on an injectable clock, listing page by page. It is what a skill run on
//! a developer's machine, a small self-hosted deployment or a test that must survive a restart
//! needs, without a cloud account.
//!
//! ```
//! use persistence_core::{PersistenceAdapter, PersistenceAdapterExt, SaveMode};
//! use persistence_sqlite::SqliteAdapter;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> persistence_core::Result<()> {
//! # let dir = std::env::temp_dir().join(format!("persistence-sqlite-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("skill.sqlite3");
//! let store = SqliteAdapter::open(&path).await?;
//! let visits = store
//!     .update("amzn1.ask.account.A", |attrs| {
//!         let n = attrs.get("visits").and_then(|v| v.as_u64()).unwrap_or(0) + 1;
//!         attrs.insert("visits".into(), n.into());
//!         n
//!     })
//!     .await?;
//! assert_eq!(visits, 1);
//! drop(store);
//!
//! // Another process (or a later run) opening the same file sees it.
//! let again = SqliteAdapter::open(&path).await?;
//! let stored = again.get("amzn1.ask.account.A").await?.expect("kept on disk");
//! assert_eq!(stored.attributes["visits"], 1);
//! # drop(again); std::fs::remove_dir_all(&dir).unwrap();
//! # Ok(()) }
//! ```
//!
//! ## Layout
//!
//! One table, `persistent_attributes` (`STRICT`): `key TEXT PRIMARY KEY` (the storage key, e.g.
//! the user ID), `attributes TEXT` (compact JSON; numbers keep their exact decimal text),
//! `version TEXT` (the write token of the save that wrote the row:
//! [`persistence_core::unique_token`], 32 hex digits, new for every write, so a version never
//! repeats, not even when a key is deleted and written again) and `expires_at INTEGER` (epoch
//! seconds, `NULL` for never), with an index on `expires_at`. The file is marked as this
//! crate's with `PRAGMA application_id` (`0x414c5850`, "ALXP") and its schema version is
//! `PRAGMA user_version` ([`SCHEMA_VERSION`]). Opening a file that is not a SQLite database, a
//! database of another application, or one written by a newer schema is refused with
//! [`Error::Incompatible`] naming the file; nothing in it is changed.
//!
//! ## Concurrency
//!
//! The database runs in write-ahead-log mode: readers never wait for writers. Every write is
//! one transaction begun with `BEGIN IMMEDIATE`, which takes the database's write lock before
//! reading what the condition needs, so a conditional save or delete decides on data nobody
//! can change before it commits, across threads and processes alike. A connection that finds
//! the lock taken waits for it up to the busy timeout (5 s by default); past it the call fails
//! with an [`Error::Backend`] saying the database stayed locked and that nothing was changed
//! (the transaction is rolled back), never with a silent success, so a caller may retry it.
//!
//! Connections: up to [`DEFAULT_MAX_CONNECTIONS`] per adapter (configurable), opened when
//! needed and kept with their prepared statements; every call runs on Tokio's blocking threads
//! (`spawn_blocking`), never on the async workers. Writes of one adapter queue behind each other
//! in the adapter (in order, without polling SQLite's lock) before they ask SQLite for it;
//! readers use the other connections at the same time.
//!
//! ## Crash safety
//!
//! A write is committed or not at all: a process killed at any point (tests kill a writer
//! with `SIGKILL` mid-loop) leaves a database that passes `PRAGMA integrity_check` and holds
//! every write that had returned. With [`Durability::ProcessCrash`] (the default,
//! `synchronous = NORMAL`) a crash of the operating system or a power cut may lose the last
//! writes before it, never the file's consistency; [`Durability::PowerLoss`]
//! (`synchronous = FULL`) syncs the log to disk at every commit.
//!
//! ## Why rusqlite (and not sqlx)
//!
//! `rusqlite` is the long-standing, well-kept SQLite binding; with its `bundled` feature SQLite
//! is compiled from source, so nothing needs to be installed on a fresh machine. It is
//! synchronous and small: this crate gives it Tokio's blocking threads, which is all an embedded
//! database needs. `sqlx` would run SQLite on worker threads of its own behind an async API,
//! bring a larger dependency tree and its own pool, and hide the pieces this adapter relies on
//! (`BEGIN IMMEDIATE`, the busy timeout, SQLite's exact error codes) behind its abstractions;
//! its compile-time checked queries would also need a database at build time.

mod errors;
mod listing;
mod pool;
mod schema;
mod write;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use persistence_core::clock::{epoch_seconds, from_epoch_seconds};
use persistence_core::exact::{ExactValue, map_to_json_text};
use persistence_core::limits::{MAX_JSON_DEPTH, check_depth};
use persistence_core::{
    Attributes, Clock, Entry, Error, ListOptions, MAX_KEY_BYTES, Pages, PersistenceAdapter,
    RedactedKey, Result, SaveMode, SaveOptions, Stored, SystemClock, Version, async_trait,
    is_unique_token, validate_key, write_token,
};
use rusqlite::{OptionalExtension, TransactionBehavior};

use crate::pool::Pool;
use crate::schema::ConnectionConfig;
use crate::write::save_in_transaction;

/// The schema version this crate writes and reads (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 2;

/// The `PRAGMA application_id` that marks a database file as this crate's: "ALXP".
pub const APPLICATION_ID: i32 = 0x414c_5850;

/// How long a call waits for another connection's or process's write lock by default.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections an adapter keeps by default.
pub const DEFAULT_MAX_CONNECTIONS: usize = 4;

/// The most keys a listing page holds.
pub const MAX_PAGE_SIZE: usize = 10_000;

const DEFAULT_PAGE_SIZE: usize = 1000;

/// SQLite's default limit on the length of a text value (`SQLITE_MAX_LENGTH`), in bytes.
const SQLITE_MAX_LENGTH: usize = 1_000_000_000;

pub(crate) const TABLE: &str = "persistent_attributes";

/// What a committed write survives (SQLite's `synchronous` setting in write-ahead-log mode).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Durability {
    /// Every committed write survives a crash or kill of the process; a crash of the operating
    /// system or a power cut may lose the last ones (never the file's consistency).
    /// `synchronous = NORMAL`: no disk sync per commit.
    #[default]
    ProcessCrash,
    /// Committed writes survive a power cut too: the log is synced to disk at every commit
    /// (`synchronous = FULL`; each write costs a disk flush).
    PowerLoss,
}

/// Persistent attributes in a SQLite database file. Cheap to clone: clones share the
/// connections.
///
/// Open one with [`SqliteAdapter::open`] or [`SqliteAdapter::builder`]. Several adapters,
/// in one process or many, may open the same file at once.
#[derive(Clone)]
pub struct SqliteAdapter {
    pool: Arc<Pool>,
    clock: Arc<dyn Clock>,
    default_expiry: Option<Duration>,
}

impl fmt::Debug for SqliteAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteAdapter")
            .field("path", &self.pool.config.path)
            .field("busy_timeout", &self.pool.config.busy_timeout)
            .field("durability", &self.pool.config.durability)
            .field("default_expiry", &self.default_expiry)
            .finish_non_exhaustive()
    }
}

/// Settings of a [`SqliteAdapter`], then [`open`](SqliteAdapterBuilder::open).
///
/// ```no_run
/// use std::sync::Arc;
/// use std::time::Duration;
/// use persistence_sqlite::{Durability, SqliteAdapter};
///
/// # async fn demo() -> persistence_core::Result<()> {
/// let store = SqliteAdapter::builder("/var/lib/my-skill/attributes.sqlite3")
///     .default_expiry(Duration::from_secs(180 * 86_400)) // forget users idle for 180 days
///     .busy_timeout(Duration::from_secs(2))
///     .max_connections(8)
///     .durability(Durability::PowerLoss)
///     .create_directories(true)
///     .open()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct SqliteAdapterBuilder {
    path: PathBuf,
    clock: Arc<dyn Clock>,
    default_expiry: Option<Duration>,
    busy_timeout: Duration,
    max_connections: usize,
    durability: Durability,
    create_directories: bool,
}

impl SqliteAdapterBuilder {
    /// Read the time from `clock` (a [`persistence_core::ManualClock`] in tests of expiry).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Keep each key's attributes for `ttl` after its last save, unless a save says otherwise
    /// ([`persistence_core::Expiry`]).
    pub fn default_expiry(mut self, ttl: Duration) -> Self {
        self.default_expiry = Some(ttl);
        self
    }

    /// How long a call waits for a lock another connection or process holds before it fails
    /// with [`Error::Backend`] ([`DEFAULT_BUSY_TIMEOUT`] by default).
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// Connections this adapter uses at most at once (at least 1; [`DEFAULT_MAX_CONNECTIONS`]
    /// by default). Reads run in parallel on them; writes take SQLite's one write lock in turn.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// What a committed write survives ([`Durability::ProcessCrash`] by default).
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// Create the file's directory (and its parents) when missing. Off by default: a
    /// mistyped path is an error, not a new directory.
    pub fn create_directories(mut self, on: bool) -> Self {
        self.create_directories = on;
        self
    }

    /// Opens (or creates) the database: checks the path, turns on write-ahead logging, creates
    /// the schema in a new file or checks the one found.
    ///
    /// # Errors
    /// - [`Error::NotConfigured`] naming the path when it cannot hold a database this process
    ///   can use: an empty path or `:memory:`, a directory, a missing directory, no permission.
    /// - [`Error::Incompatible`] naming the path when the file is not a SQLite database, is
    ///   another application's, or has a newer schema version (saying which).
    /// - [`Error::Backend`] when SQLite fails otherwise (e.g. the file stayed locked).
    pub async fn open(self) -> Result<SqliteAdapter> {
        let raw = self.path.to_string_lossy();
        if raw.is_empty() || raw.trim() == ":memory:" {
            return Err(Error::NotConfigured {
                what: format!(
                    "the SQLite database path is {:?}: give a file path (in-memory storage is \
                     persistence-memory's job)",
                    raw
                ),
            });
        }
        let path = std::path::absolute(&self.path).unwrap_or_else(|_| self.path.clone());
        let config = ConnectionConfig {
            resource: format!("SQLite database '{}'", path.display()),
            path,
            busy_timeout: self.busy_timeout,
            durability: self.durability,
        };
        let create_directories = self.create_directories;
        let opened = tokio::task::spawn_blocking(move || {
            config.check_path(create_directories)?;
            let mut conn = config.connect()?;
            config.prepare(&mut conn)?;
            Ok::<_, Error>((config, conn))
        })
        .await;
        let (config, conn) = match opened {
            Ok(r) => r?,
            Err(e) => {
                return Err(Error::backend(
                    "open",
                    format!("SQLite database '{}'", self.path.display()),
                    "opening the database panicked or was cancelled",
                    e,
                ));
            }
        };
        tracing::debug!(resource = %config.resource, "SQLite database open");
        Ok(SqliteAdapter {
            pool: Arc::new(Pool::new(config, conn, self.max_connections)),
            clock: self.clock,
            default_expiry: self.default_expiry,
        })
    }
}

/// A row as stored, before its attributes are parsed.
struct Row {
    attributes: String,
    version: String,
    expires_at: Option<i64>,
}

impl Row {
    fn expires_at(&self) -> Option<SystemTime> {
        self.expires_at
            .map(|s| from_epoch_seconds(u64::try_from(s).unwrap_or(0)))
    }

    fn is_expired(&self, now_secs: i64) -> bool {
        self.expires_at.is_some_and(|at| at <= now_secs)
    }
}

/// The columns a read selects, in order.
const ROW_COLUMNS: &str = "attributes, version, expires_at";

fn row_at(r: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Row> {
    Ok(Row {
        attributes: r.get(first)?,
        version: r.get(first + 1)?,
        expires_at: r.get(first + 2)?,
    })
}

fn to_secs(t: SystemTime) -> i64 {
    i64::try_from(epoch_seconds(t)).unwrap_or(i64::MAX)
}

fn conflict(
    config: &ConnectionConfig,
    operation: &'static str,
    key: &str,
    reason: String,
) -> Error {
    Error::conflict(operation, config.resource.clone(), key, reason)
}

/// Parses a stored row: the attributes must be a JSON object (numbers keep their exact text);
/// the version must be a write token.
fn parse_row(config: &ConnectionConfig, key: &str, row: Row) -> Result<Stored> {
    let corrupt = |detail: String| Error::CorruptData {
        resource: config.resource.clone(),
        key: RedactedKey::new(key),
        detail,
    };
    let exact = match ExactValue::parse_json(&row.attributes) {
        Ok(ExactValue::Map(map)) => map,
        Ok(_) => return Err(corrupt("the attributes are not a JSON object".into())),
        Err(e) => {
            return Err(corrupt(format!(
                "the attributes are not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            )));
        }
    };
    let attributes = Attributes::from_exact(exact).map_err(|e| corrupt(e.to_string()))?;
    if !is_unique_token(&row.version) {
        return Err(corrupt(format!(
            "the version column holds {:?}, not a write token",
            row.version.chars().take(40).collect::<String>()
        )));
    }
    let expires_at = row.expires_at();
    Ok(Stored::new(attributes, Version::new(row.version)).expiring(expires_at))
}

impl SqliteAdapter {
    /// Opens (or creates) the database at `path` with the default settings: no default expiry,
    /// the system clock, a 5-second busy timeout, [`Durability::ProcessCrash`]. The directory
    /// must exist. See [`SqliteAdapterBuilder::open`] for the errors.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::builder(path).open().await
    }

    /// Settings for the database at `path`, to [`open`](SqliteAdapterBuilder::open).
    pub fn builder(path: impl AsRef<Path>) -> SqliteAdapterBuilder {
        SqliteAdapterBuilder {
            path: path.as_ref().to_path_buf(),
            clock: Arc::new(SystemClock),
            default_expiry: None,
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            durability: Durability::default(),
            create_directories: false,
        }
    }

    /// The database file (absolute).
    pub fn path(&self) -> &Path {
        &self.pool.config.path
    }

    /// Removes every row whose attributes have expired (they already read as absent) and
    /// returns how many. Expired rows otherwise stay in the file until overwritten or deleted.
    ///
    /// ```
    /// # use std::sync::Arc; use std::time::Duration;
    /// # use persistence_core::{Attributes, Expiry, ManualClock, PersistenceAdapter, SaveMode, SaveOptions};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> persistence_core::Result<()> {
    /// # let dir = std::env::temp_dir().join(format!("persistence-sqlite-purge-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// let clock = ManualClock::new();
    /// let store = persistence_sqlite::SqliteAdapter::builder(dir.join("a.sqlite3"))
    ///     .clock(Arc::new(clock.clone()))
    ///     .open()
    ///     .await?;
    /// let hour = SaveOptions::new(SaveMode::Overwrite).expiry(Expiry::After(Duration::from_secs(3600)));
    /// store.save_with("amzn1.ask.account.A", &Attributes::new(), &hour).await?;
    /// clock.advance(Duration::from_secs(7200));
    /// assert_eq!(store.purge_expired().await?, 1);
    /// # drop(store); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Backend`] when SQLite fails (e.g. the database stayed locked).
    pub async fn purge_expired(&self) -> Result<u64> {
        let now = to_secs(self.clock.now());
        self.pool
            .run("purge_expired", true, move |config, conn| {
                let n = conn
                    .prepare_cached(&format!("DELETE FROM {TABLE} WHERE expires_at <= ?1"))
                    .and_then(|mut s| s.execute([now]))
                    .map_err(|e| config.fail("purge_expired", e))?;
                tracing::debug!(resource = %config.resource, purged = n, "expired rows removed");
                Ok(u64::try_from(n).unwrap_or(u64::MAX))
            })
            .await
    }

    fn invalid_version(
        &self,
        operation: &'static str,
        key: &str,
        v: &str,
        reason: &'static str,
    ) -> Error {
        Error::InvalidVersion {
            operation,
            resource: self.pool.config.resource.clone(),
            key: RedactedKey::new(key),
            version: v.chars().take(40).collect(),
            reason,
        }
    }

    fn expected_version(&self, operation: &'static str, key: &str, v: &Version) -> Result<String> {
        if is_unique_token(v.as_str()) {
            Ok(v.as_str().to_owned())
        } else {
            Err(self.invalid_version(
                operation,
                key,
                v.as_str(),
                "versions of a SQLite store are write tokens (32 hex digits)",
            ))
        }
    }
}

#[async_trait]
impl PersistenceAdapter for SqliteAdapter {
    async fn get(&self, key: &str) -> Result<Option<Stored>> {
        validate_key(key, MAX_KEY_BYTES)?;
        let now = to_secs(self.clock.now());
        let owned = key.to_owned();
        let row = self
            .pool
            .run("get", false, move |config, conn| {
                conn.prepare_cached(&format!("SELECT {ROW_COLUMNS} FROM {TABLE} WHERE key = ?1"))
                    .and_then(|mut s| s.query_row([&owned], |r| row_at(r, 0)).optional())
                    .map_err(|e| config.fail("get", e))
            })
            .await?;
        match row {
            Some(row) if !row.is_expired(now) => parse_row(&self.pool.config, key, row).map(Some),
            _ => Ok(None),
        }
    }

    async fn save_with(
        &self,
        key: &str,
        attributes: &Attributes,
        options: &SaveOptions,
    ) -> Result<Version> {
        validate_key(key, MAX_KEY_BYTES)?;
        let resource = &self.pool.config.resource;
        let token = write_token(options, "save", resource, key)?;
        let expected = match &options.mode {
            SaveMode::IfVersion(v) => Some(self.expected_version("save", key, v)?),
            _ => None,
        };
        let exact = attributes.to_exact();
        check_depth(&exact, MAX_JSON_DEPTH, "save", resource, key)?;
        let json = map_to_json_text(&exact);
        if json.len() > SQLITE_MAX_LENGTH {
            return Err(Error::TooLarge {
                operation: "save",
                resource: self.pool.config.resource.clone(),
                key: RedactedKey::new(key),
                size: Some(json.len()),
                limit: SQLITE_MAX_LENGTH,
                source: None,
            });
        }
        let now = self.clock.now();
        let expires_at = options
            .expiry
            .resolve(self.default_expiry, now)
            .map(to_secs);
        let now = to_secs(now);
        let mode = options.mode.clone();
        let owned = key.to_owned();
        let version = self
            .pool
            .run("save", true, move |config, conn| {
                save_in_transaction(
                    config, conn, &owned, &json, &token, &mode, expected, expires_at, now,
                )
            })
            .await?;
        tracing::trace!(key = %RedactedKey::new(key), version = %version, "sqlite save");
        Ok(version)
    }

    async fn delete(&self, key: &str) -> Result<()> {
        validate_key(key, MAX_KEY_BYTES)?;
        let owned = key.to_owned();
        self.pool
            .run("delete", true, move |config, conn| {
                conn.prepare_cached(&format!("DELETE FROM {TABLE} WHERE key = ?1"))
                    .and_then(|mut s| s.execute([&owned]))
                    .map_err(|e| config.fail("delete", e))?;
                Ok(())
            })
            .await
    }

    async fn delete_if(&self, key: &str, expected: &Version) -> Result<()> {
        validate_key(key, MAX_KEY_BYTES)?;
        let expected = self.expected_version("delete", key, expected)?;
        let owned = key.to_owned();
        self.pool
            .run("delete", true, move |config, conn| {
                let fail = |e| config.fail("delete", e);
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(fail)?;
                let found: Option<String> = tx
                    .prepare_cached(&format!("SELECT version FROM {TABLE} WHERE key = ?1"))
                    .and_then(|mut s| s.query_row([&owned], |r| r.get(0)).optional())
                    .map_err(fail)?;
                match found {
                    None => Ok(()),
                    Some(v) if v == expected => {
                        tx.prepare_cached(&format!("DELETE FROM {TABLE} WHERE key = ?1"))
                            .and_then(|mut s| s.execute([&owned]))
                            .map_err(fail)?;
                        tx.commit().map_err(fail)
                    }
                    Some(v) => Err(conflict(
                        config,
                        "delete",
                        &owned,
                        format!("expected version {expected}, found {v}"),
                    )),
                }
            })
            .await
    }

    fn list_keys<'a>(&'a self, options: &ListOptions) -> Pages<'a, String> {
        self.pages(options, |_, key, _| Ok(key.to_owned()))
    }

    fn entries<'a>(&'a self, options: &ListOptions) -> Pages<'a, Entry> {
        self.pages(options, |config, key, row| {
            Ok(Entry {
                key: key.to_owned(),
                stored: parse_row(config, key, row)?,
            })
        })
    }

    fn describe(&self) -> String {
        self.pool.config.resource.clone()
    }
}
