//! Helpers shared by the integration tests.

#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;

/// A directory of its own under Cargo's scratch directory for integration tests.
pub fn fresh_dir(what: &str) -> PathBuf {
    let token = persistence_core::unique_token();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("sqlite-tests")
        .join(format!("{what}-{}", &token[12..]));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A database path that does not exist yet, in a directory of its own.
pub fn fresh_path(what: &str) -> PathBuf {
    fresh_dir(what).join("attributes.sqlite3")
}

/// Attributes from JSON.
pub fn attrs(v: serde_json::Value) -> persistence_core::Attributes {
    persistence_core::Attributes::try_from(v).unwrap()
}
