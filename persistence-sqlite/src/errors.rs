//! SQLite's errors as `persistence_core::Error`s: which variant, and a message naming the
//! database and the operation (never a key: every statement binds its values).

use std::time::Duration;

use persistence_core::Error;
use rusqlite::ErrorCode;

/// True for "database is locked" / "database table is locked": another connection or process
/// held the lock for longer than the busy timeout.
pub(crate) fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

/// Maps an error of `operation` on the database described by `resource`.
///
/// A lock held past the busy timeout is an [`Error::Backend`] that says the call changed
/// nothing (every write runs in one transaction, rolled back when it fails), so the caller may
/// retry it; a file that is not a SQLite database is [`Error::Incompatible`]; anything else is
/// an [`Error::Backend`] with SQLite's error kept as the source.
pub(crate) fn map(
    operation: &'static str,
    resource: &str,
    busy_timeout: Duration,
    e: rusqlite::Error,
) -> Error {
    let code = e.sqlite_error_code();
    let message = match code {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            tracing::warn!(
                operation,
                resource,
                "SQLite database locked past the busy timeout"
            );
            format!(
                "the database stayed locked by another connection or process for longer than \
                 the busy timeout ({} ms); this call changed nothing and can be retried",
                busy_timeout.as_millis()
            )
        }
        Some(ErrorCode::NotADatabase) => {
            return Error::Incompatible {
                resource: resource.to_owned(),
                detail: format!("the file is not a SQLite database ({e})"),
            };
        }
        Some(ErrorCode::DatabaseCorrupt) => format!(
            "the database file is damaged ({e}); check it with `PRAGMA integrity_check` and \
             restore it from a copy"
        ),
        Some(ErrorCode::DiskFull) => format!("the disk is full ({e})"),
        Some(ErrorCode::ReadOnly) => format!(
            "the database cannot be written ({e}): check the permissions of the file, of its \
             directory and of its `-wal` and `-shm` files"
        ),
        Some(ErrorCode::CannotOpen | ErrorCode::PermissionDenied) => format!(
            "the database file cannot be opened ({e}): check that it and its directory exist \
             and are readable and writable"
        ),
        Some(ErrorCode::SystemIoFailure) => format!("an I/O error occurred ({e})"),
        _ => format!("SQLite failed ({e})"),
    };
    Error::backend(operation, resource, message, e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(code: i32) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None)
    }

    #[test]
    fn busy_and_locked_are_retryable_backend_errors() {
        for code in [rusqlite::ffi::SQLITE_BUSY, rusqlite::ffi::SQLITE_LOCKED] {
            let e = failure(code);
            assert!(is_busy(&e));
            match map("save", "SQLite database 'x'", Duration::from_secs(5), e) {
                Error::Backend { message, .. } => {
                    assert!(message.contains("locked"), "{message}");
                    assert!(message.contains("5000 ms"), "{message}");
                    assert!(message.contains("can be retried"), "{message}");
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn not_a_database_is_incompatible() {
        let e = failure(rusqlite::ffi::SQLITE_NOTADB);
        assert!(!is_busy(&e));
        match map(
            "open",
            "SQLite database '/tmp/x'",
            Duration::from_secs(5),
            e,
        ) {
            Error::Incompatible { resource, detail } => {
                assert_eq!(resource, "SQLite database '/tmp/x'");
                assert!(detail.contains("not a SQLite database"), "{detail}");
            }
            other => panic!("{other:?}"),
        }
    }
}
