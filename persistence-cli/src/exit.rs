//! Exit codes that mean something, and the tool's error type.

use std::fmt;

use persistence_core::Error;

/// How a run ended: the process exit code.
///
/// | code | meaning |
/// |---|---|
/// | 0 | done |
/// | 1 | done, but not everything: differences found (`verify`, `copy --verify`), keys or lines that failed or were left alone (`copy`, `import`, `purge-expired`), listed entries skipped because they are not keys or cannot be read (`ls`, `export`, `copy`, `verify`, `purge-expired`; see [`crate::skip`]) |
/// | 2 | usage: bad arguments, URL, key, version or input (JSON given to `put`, a bad line under `import --on-error stop`: nothing was written) |
/// | 3 | not found: the key (`get`), or the table, bucket or directory |
/// | 4 | conflict: a conditional `put` or `rm` found another version (or an existing key for a create-only `put`) |
/// | 5 | failed: the backend or the local file system (network, credentials, access denied, throttling, corrupt stored data, I/O) |
/// | 130 | interrupted (Ctrl-C): a `copy` can be finished with `--resume` |
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// 0: done.
    Ok,
    /// 1: done, with differences or failures on some keys, or skipped entries.
    Partial,
    /// 2: bad usage or input; nothing was changed.
    Usage,
    /// 3: the key, table, bucket or directory does not exist.
    NotFound,
    /// 4: a conditional write or delete lost.
    Conflict,
    /// 5: the backend or file system failed.
    Failed,
    /// 130: interrupted.
    Interrupted,
}

impl Status {
    /// The status of a bulk run: interrupted wins, then whether every key or line was done.
    pub fn of_run(interrupted: bool, all_done: bool) -> Status {
        if interrupted {
            Status::Interrupted
        } else if all_done {
            Status::Ok
        } else {
            Status::Partial
        }
    }

    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Status::Ok => 0,
            Status::Partial => 1,
            Status::Usage => 2,
            Status::NotFound => 3,
            Status::Conflict => 4,
            Status::Failed => 5,
            Status::Interrupted => 130,
        }
    }

    /// The code for a core error.
    pub fn of(error: &Error) -> Self {
        match error {
            Error::NotFound { .. } => Status::NotFound,
            Error::Conflict { .. } => Status::Conflict,
            Error::InvalidKey { .. }
            | Error::InvalidVersion { .. }
            | Error::NotConfigured { .. }
            | Error::TooLarge { .. }
            | Error::UnsupportedValue { .. }
            | Error::AttributeType { .. }
            | Error::Unsupported { .. } => Status::Usage,
            _ => Status::Failed,
        }
    }
}

/// An error that ends a command, with the exit status it gives.
#[derive(Debug)]
pub struct CliError {
    /// The exit status.
    pub status: Status,
    /// What to tell the user (keys redacted unless `--show-keys`).
    pub message: String,
}

impl CliError {
    /// An error with this status and message.
    pub fn new(status: Status, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// A usage error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Status::Usage, message)
    }

    /// A local I/O failure (exit 5), saying what was being done.
    pub fn io(what: impl fmt::Display, e: &std::io::Error) -> Self {
        Self::new(Status::Failed, format!("{what}: {e}"))
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

impl From<Error> for CliError {
    fn from(e: Error) -> Self {
        let mut message = e.to_string();
        // The source chain says what the backend answered (already scrubbed of keys).
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            let text = s.to_string();
            if !message.contains(&text) {
                message.push_str(": ");
                message.push_str(&text);
            }
            source = s.source();
        }
        Self {
            status: Status::of(&e),
            message,
        }
    }
}

/// True for an error that concerns one key only (the run can go on with the others): a key or
/// value the destination refuses, a conflict, a corrupt item.
pub fn is_per_key(error: &Error) -> bool {
    matches!(
        error,
        Error::InvalidKey { .. }
            | Error::TooLarge { .. }
            | Error::UnsupportedValue { .. }
            | Error::Conflict { .. }
            | Error::CorruptData { .. }
            | Error::InvalidVersion { .. }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use persistence_core::RedactedKey;

    #[test]
    fn codes_are_distinct_and_documented() {
        let all = [
            Status::Ok,
            Status::Partial,
            Status::Usage,
            Status::NotFound,
            Status::Conflict,
            Status::Failed,
            Status::Interrupted,
        ];
        let codes: std::collections::HashSet<u8> = all.iter().map(|s| s.code()).collect();
        assert_eq!(codes.len(), all.len());
        assert_eq!(
            Status::Usage.code(),
            2,
            "clap's own usage errors exit with 2 too"
        );
    }

    #[test]
    fn core_errors_map_to_codes() {
        let conflict = Error::Conflict {
            operation: "save",
            resource: "memory".into(),
            key: RedactedKey::new("k"),
            reason: "exists".into(),
        };
        assert_eq!(CliError::from(conflict).status, Status::Conflict);
        let missing = Error::NotFound {
            operation: "get",
            resource: "DynamoDB table 't'".into(),
        };
        let e = CliError::from(missing);
        assert_eq!(e.status, Status::NotFound);
        assert!(e.message.contains("DynamoDB table 't' does not exist"));
        let backend = Error::backend(
            "get",
            "S3 bucket 'b'",
            "could not reach S3",
            std::io::Error::other("connection refused"),
        );
        let e = CliError::from(backend);
        assert_eq!(e.status, Status::Failed);
        assert!(e.message.contains("connection refused"), "{}", e.message);
    }
}
