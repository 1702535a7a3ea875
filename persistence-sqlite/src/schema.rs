//! Opening connections, and the database's schema: created in a fresh file, checked in an
//! existing one.

use std::io::ErrorKind;
use std::path::Path;
use std::time::{Duration, Instant};

use persistence_core::{Error, Result};
use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use crate::errors;
use crate::{APPLICATION_ID, Durability, SCHEMA_VERSION, TABLE};

/// What every connection of one adapter is opened with.
#[derive(Clone, Debug)]
pub(crate) struct ConnectionConfig {
    pub(crate) path: std::path::PathBuf,
    pub(crate) resource: String,
    pub(crate) busy_timeout: Duration,
    pub(crate) durability: Durability,
}

impl ConnectionConfig {
    pub(crate) fn fail(&self, operation: &'static str, e: rusqlite::Error) -> Error {
        errors::map(operation, &self.resource, self.busy_timeout, e)
    }

    fn not_configured(&self, detail: impl std::fmt::Display) -> Error {
        Error::NotConfigured {
            what: format!("cannot open {}: {detail}", self.resource),
        }
    }

    /// Maps an error met while opening: a file SQLite cannot open or write is a configuration
    /// problem ([`Error::NotConfigured`] naming the path), the rest as [`errors::map`] does.
    fn fail_open(&self, e: rusqlite::Error) -> Error {
        use rusqlite::ErrorCode::{CannotOpen, PermissionDenied, ReadOnly};
        match e.sqlite_error_code() {
            Some(CannotOpen | PermissionDenied | ReadOnly) => self.not_configured(format_args!(
                "SQLite cannot open it for reading and writing ({e}); check that the file and \
                 its directory exist and are writable (SQLite also creates `-wal` and `-shm` \
                 files beside it)"
            )),
            _ => self.fail("open", e),
        }
    }

    /// Checks, before SQLite sees it, that the path can hold a database this process can read
    /// and write: a clear error naming the path instead of SQLite's "unable to open database
    /// file". Creates the directory first when `create_directories`.
    pub(crate) fn check_path(&self, create_directories: bool) -> Result<()> {
        let path = self.path.as_path();
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => Err(self.not_configured("it is a directory")),
            Ok(_) => match std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(path)
            {
                Ok(_) => Ok(()),
                Err(e) => Err(self.not_configured(format_args!(
                    "the file cannot be opened for reading and writing ({})",
                    describe_io(&e)
                ))),
            },
            Err(e) if e.kind() == ErrorKind::NotFound => {
                let parent = match path.parent() {
                    Some(p) if !p.as_os_str().is_empty() => p,
                    _ => Path::new("."),
                };
                if create_directories && let Err(e) = std::fs::create_dir_all(parent) {
                    return Err(self.not_configured(format_args!(
                        "its directory '{}' cannot be created ({})",
                        parent.display(),
                        describe_io(&e)
                    )));
                }
                match std::fs::metadata(parent) {
                    Ok(meta) if meta.is_dir() => {}
                    Ok(_) => {
                        return Err(self.not_configured(format_args!(
                            "'{}' is not a directory",
                            parent.display()
                        )));
                    }
                    Err(e) if e.kind() == ErrorKind::NotFound => {
                        return Err(self.not_configured(format_args!(
                            "its directory '{}' does not exist (create it, or let the adapter \
                             create it with `create_directories(true)`)",
                            parent.display()
                        )));
                    }
                    Err(e) => {
                        return Err(self.not_configured(format_args!(
                            "its directory '{}' cannot be read ({})",
                            parent.display(),
                            describe_io(&e)
                        )));
                    }
                }
                // An empty file is an empty SQLite database: creating it here tells a
                // permission problem apart from anything SQLite could say.
                match std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(path)
                {
                    Ok(_) => Ok(()),
                    Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
                    Err(e) => Err(self.not_configured(format_args!(
                        "the file cannot be created in '{}' ({})",
                        parent.display(),
                        describe_io(&e)
                    ))),
                }
            }
            Err(e) => Err(self.not_configured(format_args!(
                "the path cannot be read ({})",
                describe_io(&e)
            ))),
        }
    }

    /// Opens one connection: read-write, no URI file names (a path is a path), the busy
    /// timeout and the durability setting. Reads nothing yet.
    pub(crate) fn connect(&self) -> Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags).map_err(|e| self.fail_open(e))?;
        conn.busy_timeout(self.busy_timeout)
            .map_err(|e| self.fail_open(e))?;
        let synchronous = match self.durability {
            Durability::ProcessCrash => "NORMAL",
            Durability::PowerLoss => "FULL",
        };
        conn.pragma_update(None, "synchronous", synchronous)
            .map_err(|e| self.fail_open(e))?;
        Ok(conn)
    }

    /// Turns on write-ahead logging (kept in the file, so once is enough), then creates the
    /// schema in a fresh database or checks the one found. Runs in an immediate transaction, so
    /// that two processes opening a new file at once create the schema once.
    pub(crate) fn prepare(&self, conn: &mut Connection) -> Result<()> {
        // The first statement reads the file's header: a file that is not a database fails here.
        let mode: String = retry_busy(self.busy_timeout, || {
            conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        })
        .map_err(|e| self.fail_open(e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(
                resource = %self.resource,
                journal_mode = %mode,
                "SQLite could not turn on write-ahead logging (a file system without shared \
                 memory?); readers and writers will block each other"
            );
        }
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.fail_open(e))?;
        let application_id: i64 = tx
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .map_err(|e| self.fail_open(e))?;
        let version: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.fail_open(e))?;
        let tables: Vec<String> = {
            let mut stmt = tx
                .prepare(
                    "SELECT name FROM sqlite_schema WHERE type = 'table' \
                     AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
                )
                .map_err(|e| self.fail_open(e))?;
            stmt.query_map([], |r| r.get(0))
                .and_then(Iterator::collect)
                .map_err(|e| self.fail_open(e))?
        };
        let incompatible = |detail: String| Error::Incompatible {
            resource: self.resource.clone(),
            detail,
        };
        if application_id == i64::from(APPLICATION_ID) {
            if version > SCHEMA_VERSION {
                return Err(incompatible(format!(
                    "the database has schema version {version}, written by a newer \
                     persistence-sqlite; this version ({}) supports schema version \
                     {SCHEMA_VERSION} only: upgrade persistence-sqlite",
                    env!("CARGO_PKG_VERSION")
                )));
            }
            if version < 1 || !tables.iter().any(|t| t == TABLE) {
                return Err(incompatible(format!(
                    "the database is marked as persistence-sqlite's but has schema version \
                     {version} and tables [{}]; it was changed by something else",
                    tables.join(", ")
                )));
            }
            if version == 1 {
                // Schema 1 kept only the latest write token (in `version`); schema 2 keeps the
                // latest few, so that a retried save recognises its own write after others.
                tx.execute_batch(&format!(
                    "ALTER TABLE {TABLE} ADD COLUMN recent_tokens TEXT NOT NULL DEFAULT '';
                     PRAGMA user_version = {SCHEMA_VERSION};"
                ))
                .map_err(|e| self.fail_open(e))?;
                tracing::info!(resource = %self.resource, from = version, to = SCHEMA_VERSION, "SQLite schema upgraded");
            }
            self.check_columns(&tx)?;
            tracing::debug!(resource = %self.resource, version, "SQLite schema checked");
        } else if application_id == 0 && tables.is_empty() {
            tx.execute_batch(&format!(
                "CREATE TABLE {TABLE} (
                     key        TEXT PRIMARY KEY NOT NULL,
                     attributes TEXT NOT NULL,
                     version    TEXT NOT NULL,
                     expires_at INTEGER,
                     recent_tokens TEXT NOT NULL DEFAULT ''
                 ) STRICT;
                 CREATE INDEX {TABLE}_expiry ON {TABLE} (expires_at)
                     WHERE expires_at IS NOT NULL;
                 PRAGMA application_id = {APPLICATION_ID};
                 PRAGMA user_version = {SCHEMA_VERSION};"
            ))
            .map_err(|e| self.fail_open(e))?;
            tracing::info!(resource = %self.resource, version = SCHEMA_VERSION, "SQLite schema created");
        } else if application_id == 0 {
            let shown: Vec<&str> = tables.iter().take(5).map(String::as_str).collect();
            return Err(incompatible(format!(
                "the file is a SQLite database of something else (tables: {}{}) without \
                 persistence-sqlite's schema; give the adapter a file of its own",
                shown.join(", "),
                if tables.len() > shown.len() {
                    ", ..."
                } else {
                    ""
                }
            )));
        } else {
            return Err(incompatible(format!(
                "the file is a SQLite database of another application (application_id \
                 {application_id:#x}, persistence-sqlite's is {APPLICATION_ID:#x})"
            )));
        }
        tx.commit().map_err(|e| self.fail_open(e))
    }

    fn check_columns(&self, conn: &Connection) -> Result<()> {
        let mut stmt = conn
            .prepare(&format!("SELECT name FROM pragma_table_info('{TABLE}')"))
            .map_err(|e| self.fail_open(e))?;
        let columns: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .and_then(Iterator::collect)
            .map_err(|e| self.fail_open(e))?;
        let missing: Vec<&str> = [
            "key",
            "attributes",
            "version",
            "expires_at",
            "recent_tokens",
        ]
        .into_iter()
        .filter(|c| !columns.iter().any(|have| have == c))
        .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(Error::Incompatible {
                resource: self.resource.clone(),
                detail: format!(
                    "table `{TABLE}` lacks the column(s) {}; it was changed by something else",
                    missing.join(", ")
                ),
            })
        }
    }
}

/// Runs `f` again while it fails with "database is locked", until `timeout` has passed. For the
/// few statements SQLite does not apply its busy handler to (changing the journal mode while
/// another connection opens the same new file).
fn retry_busy<T>(
    timeout: Duration,
    mut f: impl FnMut() -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    let start = Instant::now();
    loop {
        match f() {
            Err(e) if errors::is_busy(&e) && start.elapsed() < timeout => {
                std::thread::sleep(Duration::from_millis(5));
            }
            other => return other,
        }
    }
}

fn describe_io(e: &std::io::Error) -> String {
    match e.kind() {
        ErrorKind::PermissionDenied => "permission denied".into(),
        ErrorKind::NotFound => "not found".into(),
        ErrorKind::ReadOnlyFilesystem => "read-only file system".into(),
        _ => e.to_string(),
    }
}
