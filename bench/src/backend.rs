//! The persistence backends the benchmark measures.

use std::str::FromStr;

use serde::Serialize;

use crate::BoxError;

/// A persistence backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// `persistence-memory`.
    Memory,
    /// `persistence-sqlite`, on a file in a temporary directory.
    Sqlite,
    /// `persistence-dynamodb`.
    #[value(name = "dynamodb")]
    DynamoDb,
    /// `persistence-s3`.
    S3,
}

impl Backend {
    /// All four, in the order the tables show them.
    pub const ALL: [Backend; 4] = [
        Backend::Memory,
        Backend::Sqlite,
        Backend::DynamoDb,
        Backend::S3,
    ];

    /// `memory`, `sqlite`, `dynamodb`, `s3`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Memory => "memory",
            Backend::Sqlite => "sqlite",
            Backend::DynamoDb => "dynamodb",
            Backend::S3 => "s3",
        }
    }

    /// Whether it needs DynamoDB or S3.
    pub fn is_cloud(self) -> bool {
        matches!(self, Backend::DynamoDb | Backend::S3)
    }

    /// Whether what it stores outlives the process (a cold start then reads a stored user).
    pub fn persists(self) -> bool {
        self != Backend::Memory
    }
}

/// The cold-start child's `--cold-start BACKEND` (parsed by hand, see `cold::child`).
impl FromStr for Backend {
    type Err = BoxError;
    fn from_str(s: &str) -> Result<Self, BoxError> {
        Backend::ALL
            .into_iter()
            .find(|b| b.name() == s)
            .ok_or_else(|| format!("unknown backend `{s}` (memory, sqlite, dynamodb, s3)").into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn names_are_the_same_for_clap_serde_and_the_child() {
        for b in Backend::ALL {
            assert_eq!(b.to_possible_value().unwrap().get_name(), b.name());
            assert_eq!(serde_json::to_value(b).unwrap(), b.name());
            assert_eq!(b.name().parse::<Backend>().unwrap(), b);
        }
        assert!("dynamo-db".parse::<Backend>().is_err());
    }
}
