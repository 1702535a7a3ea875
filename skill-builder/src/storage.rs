//! Picking the persistence backend from the environment, as Alexa-hosted skills and local runs
//! need.
//!
//! `SKILL_PERSISTENCE` names the backend: `memory`, `dynamodb` or `s3`. When it is unset (or
//! empty): DynamoDB if `DYNAMODB_PERSISTENCE_TABLE_NAME` is set (what Alexa-hosted skills get),
//! else S3 if `S3_PERSISTENCE_BUCKET` is set, else memory, except inside AWS Lambda (see
//! [`in_lambda`]): there, a forgotten variable would silently keep every user's attributes in
//! one short-lived instance, so memory must be asked for with `SKILL_PERSISTENCE=memory` and
//! the choice is otherwise an [`Error::NotConfigured`] naming the variables to set. Each backend
//! is compiled in by the skill-builder feature of the same name (`memory` is on by default);
//! asking for one whose feature is off is an [`Error::NotConfigured`] naming the feature.
//!
//! ```
//! use skill_builder::storage::Backend;
//!
//! let env = |name: &str| match name {
//!     "DYNAMODB_PERSISTENCE_TABLE_NAME" => Some("ask-12345".to_owned()),
//!     _ => None,
//! };
//! assert_eq!(Backend::choose(env)?, Backend::DynamoDb);
//! assert_eq!(Backend::choose(|_| None)?, Backend::Memory);
//!
//! // In Lambda, memory only when asked for.
//! let lambda = |name: &str| (name == "AWS_LAMBDA_RUNTIME_API").then(|| "127.0.0.1:9001".to_owned());
//! let err = Backend::choose(lambda).unwrap_err();
//! assert!(err.to_string().contains("DYNAMODB_PERSISTENCE_TABLE_NAME"));
//! let lambda_memory = |name: &str| match name {
//!     "AWS_LAMBDA_RUNTIME_API" => Some("127.0.0.1:9001".to_owned()),
//!     "SKILL_PERSISTENCE" => Some("memory".to_owned()),
//!     _ => None,
//! };
//! assert_eq!(Backend::choose(lambda_memory)?, Backend::Memory);
//! # Ok::<(), persistence_core::Error>(())
//! ```

use std::fmt;
use std::sync::Arc;

use persistence_core::{Error, PersistenceAdapter};

/// The variable naming the backend.
pub const SKILL_PERSISTENCE: &str = "SKILL_PERSISTENCE";
/// The variable Alexa-hosted skills get with their DynamoDB table's name.
pub const DYNAMODB_TABLE_VAR: &str = "DYNAMODB_PERSISTENCE_TABLE_NAME";
/// The variable Alexa-hosted skills get with their S3 bucket's name.
pub const S3_BUCKET_VAR: &str = "S3_PERSISTENCE_BUCKET";

/// The variable AWS Lambda sets to the address of its runtime API (and so does
/// `cargo lambda watch`): its presence is how a process knows it runs as a Lambda function.
pub const LAMBDA_RUNTIME_API_VAR: &str = "AWS_LAMBDA_RUNTIME_API";

/// True when the variables `lookup` returns say this process runs as an AWS Lambda function:
/// [`LAMBDA_RUNTIME_API_VAR`] (`AWS_LAMBDA_RUNTIME_API`) is set and not blank. Lambda passes no
/// command-line arguments, so this is how a binary decides to serve Lambda, and how
/// [`Backend::choose`] decides that memory must be asked for explicitly.
///
/// ```
/// use skill_builder::storage::in_lambda;
///
/// assert!(in_lambda(|name| (name == "AWS_LAMBDA_RUNTIME_API").then(|| "127.0.0.1:9001".into())));
/// assert!(!in_lambda(|_| None));
/// assert!(!in_lambda(|_| Some("  ".into())));
/// ```
pub fn in_lambda(lookup: impl Fn(&str) -> Option<String>) -> bool {
    lookup(LAMBDA_RUNTIME_API_VAR).is_some_and(|v| !v.trim().is_empty())
}

/// [`in_lambda`] on the process environment.
pub fn running_in_lambda() -> bool {
    in_lambda(|name| std::env::var(name).ok())
}

/// A persistence backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// In this process (lost when it exits).
    Memory,
    /// Amazon DynamoDB (`persistence-dynamodb`).
    DynamoDb,
    /// Amazon S3 (`persistence-s3`).
    S3,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Memory => "memory",
            Backend::DynamoDb => "dynamodb",
            Backend::S3 => "s3",
        })
    }
}

impl Backend {
    /// The backend the process environment asks for.
    ///
    /// # Errors
    /// [`Error::NotConfigured`] when `SKILL_PERSISTENCE` names no known backend.
    pub fn from_env() -> Result<Backend, Error> {
        Self::choose(|name| std::env::var(name).ok())
    }

    /// The backend the variables `lookup` returns ask for (see the module docs for the rules).
    ///
    /// # Errors
    /// [`Error::NotConfigured`] when `SKILL_PERSISTENCE` names no known backend, or when running
    /// in AWS Lambda ([`in_lambda`]) with no backend configured (the message names
    /// `DYNAMODB_PERSISTENCE_TABLE_NAME`, `S3_PERSISTENCE_BUCKET` and `SKILL_PERSISTENCE`).
    pub fn choose(lookup: impl Fn(&str) -> Option<String>) -> Result<Backend, Error> {
        let set = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        match set(SKILL_PERSISTENCE) {
            Some(v) => match v.trim().to_ascii_lowercase().as_str() {
                "memory" => Ok(Backend::Memory),
                "dynamodb" => Ok(Backend::DynamoDb),
                "s3" => Ok(Backend::S3),
                _ => Err(Error::NotConfigured {
                    what: format!(
                        "{SKILL_PERSISTENCE}={v:?} names no backend; use memory, dynamodb or s3"
                    ),
                }),
            },
            None if set(DYNAMODB_TABLE_VAR).is_some() => Ok(Backend::DynamoDb),
            None if set(S3_BUCKET_VAR).is_some() => Ok(Backend::S3),
            None if in_lambda(&lookup) => Err(Error::NotConfigured {
                what: format!(
                    "running in AWS Lambda ({LAMBDA_RUNTIME_API_VAR} is set) with no persistence \
                     backend configured, so persistent attributes would be kept in memory and \
                     lost whenever Lambda recycles the instance: set {DYNAMODB_TABLE_VAR} \
                     (DynamoDB) or {S3_BUCKET_VAR} (S3), or {SKILL_PERSISTENCE}=memory to keep \
                     them in memory on purpose"
                ),
            }),
            None => Ok(Backend::Memory),
        }
    }

    /// Builds this backend's adapter from the environment (`from_env` of the backend crate).
    ///
    /// # Errors
    /// [`Error::NotConfigured`] when the backend's feature is off, or what the backend's
    /// `from_env` returns (e.g. a missing table or bucket name).
    pub async fn adapter(self) -> Result<Arc<dyn PersistenceAdapter>, Error> {
        match self {
            #[cfg(feature = "memory")]
            Backend::Memory => {
                tracing::info!("persistent attributes are kept in memory and lost on exit");
                let adapter: Arc<dyn PersistenceAdapter> =
                    Arc::new(persistence_memory::MemoryAdapter::new());
                Ok(adapter)
            }
            #[cfg(feature = "dynamodb")]
            Backend::DynamoDb => {
                let adapter: Arc<dyn PersistenceAdapter> =
                    Arc::new(persistence_dynamodb::DynamoDbAdapter::from_env().await?);
                tracing::info!(resource = %adapter.describe(), "persistent attributes in DynamoDB");
                Ok(adapter)
            }
            #[cfg(feature = "s3")]
            Backend::S3 => {
                let adapter: Arc<dyn PersistenceAdapter> =
                    Arc::new(persistence_s3::S3Adapter::from_env().await?);
                tracing::info!(resource = %adapter.describe(), "persistent attributes in S3");
                Ok(adapter)
            }
            #[allow(unreachable_patterns)]
            other => Err(Error::NotConfigured {
                what: format!(
                    "the {other} persistence backend was asked for, but skill-builder was built \
                     without its `{other}` feature (enable feature `{other}` of skill-builder)"
                ),
            }),
        }
    }
}

/// The persistence adapter the environment asks for (see the [module docs](self)).
///
/// ```no_run
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), persistence_core::Error> {
/// let adapter = skill_builder::storage::adapter_from_env().await?;
/// println!("persistent attributes go to {}", adapter.describe());
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error::NotConfigured`] when the variables name an unknown backend or one whose feature is
/// off, or the backend's own configuration error.
pub async fn adapter_from_env() -> Result<Arc<dyn PersistenceAdapter>, Error> {
    let backend = Backend::from_env()?;
    tracing::debug!(%backend, "persistence backend chosen from the environment");
    backend.adapter().await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn explicit_choice_wins_and_is_case_insensitive() {
        let e = env(&[
            ("SKILL_PERSISTENCE", " S3 "),
            ("DYNAMODB_PERSISTENCE_TABLE_NAME", "t"),
        ]);
        assert_eq!(Backend::choose(e).unwrap(), Backend::S3);
        let e = env(&[
            ("SKILL_PERSISTENCE", "memory"),
            ("S3_PERSISTENCE_BUCKET", "b"),
        ]);
        assert_eq!(Backend::choose(e).unwrap(), Backend::Memory);
        let e = env(&[("SKILL_PERSISTENCE", "DynamoDB")]);
        assert_eq!(Backend::choose(e).unwrap(), Backend::DynamoDb);
    }

    #[test]
    fn alexa_hosted_variables_pick_the_backend_when_unset() {
        let both = env(&[
            ("DYNAMODB_PERSISTENCE_TABLE_NAME", "t"),
            ("S3_PERSISTENCE_BUCKET", "b"),
        ]);
        assert_eq!(Backend::choose(both).unwrap(), Backend::DynamoDb);
        let s3 = env(&[("S3_PERSISTENCE_BUCKET", "b"), ("SKILL_PERSISTENCE", "")]);
        assert_eq!(Backend::choose(s3).unwrap(), Backend::S3);
        assert_eq!(Backend::choose(env(&[])).unwrap(), Backend::Memory);
        let blank = env(&[("DYNAMODB_PERSISTENCE_TABLE_NAME", "  ")]);
        assert_eq!(Backend::choose(blank).unwrap(), Backend::Memory);
    }

    #[test]
    fn lambda_is_recognised_by_its_runtime_api_variable() {
        assert!(in_lambda(env(&[(
            "AWS_LAMBDA_RUNTIME_API",
            "127.0.0.1:9001"
        )])));
        assert!(!in_lambda(env(&[])));
        assert!(!in_lambda(env(&[("AWS_LAMBDA_RUNTIME_API", " ")])));
        // Other Lambda variables alone do not make a Lambda: the runtime API is what it serves.
        assert!(!in_lambda(env(&[("AWS_LAMBDA_FUNCTION_NAME", "cafe")])));
    }

    #[test]
    fn lambda_without_a_backend_refuses_memory_and_names_the_variables() {
        for blank in [None, Some(""), Some("  ")] {
            let mut vars = vec![("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")];
            if let Some(v) = blank {
                vars.push(("SKILL_PERSISTENCE", v));
            }
            match Backend::choose(env(&vars)) {
                Err(Error::NotConfigured { what }) => {
                    for name in [
                        "AWS_LAMBDA_RUNTIME_API",
                        "DYNAMODB_PERSISTENCE_TABLE_NAME",
                        "S3_PERSISTENCE_BUCKET",
                        "SKILL_PERSISTENCE=memory",
                    ] {
                        assert!(what.contains(name), "{name} missing from: {what}");
                    }
                }
                other => panic!("{blank:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn lambda_takes_memory_when_asked_and_the_hosted_variables_as_elsewhere() {
        let lambda = ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001");
        let explicit = env(&[lambda, ("SKILL_PERSISTENCE", "Memory")]);
        assert_eq!(Backend::choose(explicit).unwrap(), Backend::Memory);
        let table = env(&[lambda, ("DYNAMODB_PERSISTENCE_TABLE_NAME", "t")]);
        assert_eq!(Backend::choose(table).unwrap(), Backend::DynamoDb);
        let bucket = env(&[lambda, ("S3_PERSISTENCE_BUCKET", "b")]);
        assert_eq!(Backend::choose(bucket).unwrap(), Backend::S3);
        let named = env(&[lambda, ("SKILL_PERSISTENCE", "dynamodb")]);
        assert_eq!(Backend::choose(named).unwrap(), Backend::DynamoDb);
        // An unknown name is still that error, not the Lambda one.
        match Backend::choose(env(&[lambda, ("SKILL_PERSISTENCE", "redis")])) {
            Err(Error::NotConfigured { what }) => assert!(what.contains("redis"), "{what}"),
            other => panic!("{other:?}"),
        }
        // Outside Lambda the friendly default stays.
        assert_eq!(Backend::choose(env(&[])).unwrap(), Backend::Memory);
    }

    #[test]
    fn unknown_backend_is_a_clear_error() {
        let e = env(&[("SKILL_PERSISTENCE", "redis")]);
        match Backend::choose(e) {
            Err(Error::NotConfigured { what }) => {
                assert!(
                    what.contains("redis") && what.contains("dynamodb"),
                    "{what}"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[cfg(not(feature = "dynamodb"))]
    #[tokio::test]
    async fn backend_without_its_feature_names_the_feature() {
        match Backend::DynamoDb.adapter().await {
            Err(Error::NotConfigured { what }) => assert!(what.contains("`dynamodb`"), "{what}"),
            other => panic!("{other:?}"),
        }
    }

    #[cfg(not(feature = "s3"))]
    #[tokio::test]
    async fn s3_without_its_feature_names_the_feature() {
        match Backend::S3.adapter().await {
            Err(Error::NotConfigured { what }) => assert!(what.contains("`s3`"), "{what}"),
            other => panic!("{other:?}"),
        }
    }

    #[cfg(feature = "memory")]
    #[tokio::test]
    async fn memory_backend_works() {
        let a = Backend::Memory.adapter().await.unwrap();
        assert_eq!(a.describe(), "memory store");
        assert!(a.get("k").await.unwrap().is_none());
    }
}
