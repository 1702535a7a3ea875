//! Picking the persistence backend from the environment, as Alexa-hosted skills and local runs
//! need.
//!
//! `SKILL_PERSISTENCE` names the backend: `memory`, `dynamodb`, `s3` or `sqlite`. When it is
//! unset (or empty): DynamoDB if `DYNAMODB_PERSISTENCE_TABLE_NAME` is set (the variable names of
//! Alexa-hosted skills, kept for compatibility), else S3 if `S3_PERSISTENCE_BUCKET` is set, else
//! SQLite if `SQLITE_PERSISTENCE_PATH` (the database file) is set, else memory, except inside
//! AWS Lambda (see [`in_lambda`]): there, a forgotten variable would silently keep every user's
//! attributes in one short-lived instance, so memory must be asked for with
//! `SKILL_PERSISTENCE=memory` and the choice is otherwise an [`Error::NotConfigured`] naming the
//! variables to set. Each backend is compiled in by the skill-builder feature of the same name
//! (`memory` is on by default); asking for one whose feature is off is an
//! [`Error::NotConfigured`] naming the feature.
//!
//! [`local_adapter_from_env`] is the same for a skill run on a developer's machine, except that
//! when nothing is set it keeps the data in a SQLite file at [`local_data_path`] (feature
//! `sqlite`), so the skill remembers its users from one run to the next.
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
/// The variable naming the SQLite database file.
pub const SQLITE_PATH_VAR: &str = "SQLITE_PERSISTENCE_PATH";

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
    /// A SQLite database file (`persistence-sqlite`).
    Sqlite,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Memory => "memory",
            Backend::DynamoDb => "dynamodb",
            Backend::S3 => "s3",
            Backend::Sqlite => "sqlite",
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
                "sqlite" => Ok(Backend::Sqlite),
                _ => Err(Error::NotConfigured {
                    what: format!(
                        "{SKILL_PERSISTENCE}={v:?} names no backend; use memory, dynamodb, s3 \
                         or sqlite"
                    ),
                }),
            },
            None if set(DYNAMODB_TABLE_VAR).is_some() => Ok(Backend::DynamoDb),
            None if set(S3_BUCKET_VAR).is_some() => Ok(Backend::S3),
            None if set(SQLITE_PATH_VAR).is_some() => Ok(Backend::Sqlite),
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
                let dynamodb = persistence_dynamodb::DynamoDbAdapter::from_env().await?;
                if create_table_requested(|name| std::env::var(name).ok()) {
                    // Creates the table when it is missing and waits until it is ACTIVE.
                    dynamodb.ensure_table().await?;
                }
                let adapter: Arc<dyn PersistenceAdapter> = Arc::new(dynamodb);
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
            #[cfg(feature = "sqlite")]
            Backend::Sqlite => {
                let path = std::env::var_os(SQLITE_PATH_VAR)
                    .filter(|p| !p.is_empty())
                    .ok_or_else(|| Error::NotConfigured {
                        what: format!(
                            "the sqlite persistence backend needs {SQLITE_PATH_VAR}, the path of \
                             the database file"
                        ),
                    })?;
                sqlite_adapter(std::path::PathBuf::from(path), false).await
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

/// The variable that asks [`adapter_from_env`] to create the DynamoDB table when it is missing
/// (`1`/`true`), as the official SDKs' `create_table` option does. For local runs and first
/// deployments; a production table is better made by the deployment (see `deploy/sam`).
pub const CREATE_TABLE_VAR: &str = "DYNAMODB_PERSISTENCE_CREATE_TABLE";

/// True when [`CREATE_TABLE_VAR`] asks for the table to be created.
pub fn create_table_requested(lookup: impl Fn(&str) -> Option<String>) -> bool {
    lookup(CREATE_TABLE_VAR).is_some_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "1" | "true" | "yes" | "on"
        )
    })
}

/// The persistence adapter the environment asks for (see the [module docs](self)), with the
/// DynamoDB table created first when [`CREATE_TABLE_VAR`] asks for it.
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

#[cfg(feature = "sqlite")]
async fn sqlite_adapter(
    path: std::path::PathBuf,
    create_directories: bool,
) -> Result<Arc<dyn PersistenceAdapter>, Error> {
    let adapter: Arc<dyn PersistenceAdapter> = Arc::new(
        persistence_sqlite::SqliteAdapter::builder(path)
            .create_directories(create_directories)
            .open()
            .await?,
    );
    tracing::info!(resource = %adapter.describe(), "persistent attributes in SQLite");
    Ok(adapter)
}

/// Whether any of the variables that pick a backend is set (not blank).
fn configured(lookup: &impl Fn(&str) -> Option<String>) -> bool {
    [
        SKILL_PERSISTENCE,
        DYNAMODB_TABLE_VAR,
        S3_BUCKET_VAR,
        SQLITE_PATH_VAR,
    ]
    .iter()
    .any(|name| lookup(name).is_some_and(|v| !v.trim().is_empty()))
}

/// Where a local run of the skill `app` keeps its data when nothing is configured:
/// `$XDG_DATA_HOME/alexa-persistence/<app>.sqlite3`, or
/// `$HOME/.local/share/alexa-persistence/<app>.sqlite3` when `XDG_DATA_HOME` is unset (or not
/// absolute, as the XDG specification says). Characters other than letters, digits, `-`, `_`
/// and `.` in `app` become `_`.
///
/// ```
/// use std::path::Path;
/// let env = |name: &str| (name == "HOME").then(|| "/home/ada".to_owned());
/// let path = skill_builder::storage::local_data_path_with("cat-facts", env)?;
/// assert_eq!(path, Path::new("/home/ada/.local/share/alexa-persistence/cat-facts.sqlite3"));
/// # Ok::<(), persistence_core::Error>(())
/// ```
///
/// # Errors
/// [`Error::NotConfigured`] when neither `XDG_DATA_HOME` nor `HOME` is set.
pub fn local_data_path_with(
    app: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<std::path::PathBuf, Error> {
    use std::path::PathBuf;
    let absolute = |name: &str| lookup(name).map(PathBuf::from).filter(|p| p.is_absolute());
    let base = match (absolute("XDG_DATA_HOME"), absolute("HOME")) {
        (Some(xdg), _) => xdg,
        (None, Some(home)) => home.join(".local").join("share"),
        (None, None) => {
            return Err(Error::NotConfigured {
                what: format!(
                    "neither XDG_DATA_HOME nor HOME is set, so there is no place for a local \
                     database; set {SQLITE_PATH_VAR} (or {SKILL_PERSISTENCE}=memory)"
                ),
            });
        }
    };
    let name: String = app
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok(base
        .join("alexa-persistence")
        .join(format!("{name}.sqlite3")))
}

/// [`local_data_path_with`] from the process environment.
///
/// # Errors
/// [`Error::NotConfigured`] when neither `XDG_DATA_HOME` nor `HOME` is set.
pub fn local_data_path(app: &str) -> Result<std::path::PathBuf, Error> {
    local_data_path_with(app, |name| std::env::var(name).ok())
}

/// The persistence adapter for a local run of the skill `app` (a developer's machine, a demo):
/// what the environment asks for, as [`adapter_from_env`]; when it asks for nothing, a SQLite
/// database at [`local_data_path`] (its directory created if missing), so the skill remembers
/// its users from one run to the next. Without the `sqlite` feature, memory.
///
/// ```no_run
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), persistence_core::Error> {
/// let adapter = skill_builder::storage::local_adapter_from_env("my-skill").await?;
/// println!("persistent attributes in {}", adapter.describe());
/// # Ok(()) }
/// ```
///
/// # Errors
/// As [`adapter_from_env`]; also [`Error::NotConfigured`] when the local database cannot be
/// placed or created (no `HOME`, a directory without permission).
pub async fn local_adapter_from_env(app: &str) -> Result<Arc<dyn PersistenceAdapter>, Error> {
    if configured(&|name: &str| std::env::var(name).ok()) {
        return adapter_from_env().await;
    }
    #[cfg(feature = "sqlite")]
    {
        sqlite_adapter(local_data_path(app)?, true).await
    }
    #[cfg(not(feature = "sqlite"))]
    {
        let _ = app;
        Backend::Memory.adapter().await
    }
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
    fn sqlite_is_chosen_by_name_or_by_its_path_variable() {
        let e = env(&[("SKILL_PERSISTENCE", "SQLite")]);
        assert_eq!(Backend::choose(e).unwrap(), Backend::Sqlite);
        let e = env(&[("SQLITE_PERSISTENCE_PATH", "/tmp/a.sqlite3")]);
        assert_eq!(Backend::choose(e).unwrap(), Backend::Sqlite);
        // The Alexa-hosted variables come first; an explicit choice wins over all.
        let e = env(&[
            ("SQLITE_PERSISTENCE_PATH", "/tmp/a.sqlite3"),
            ("S3_PERSISTENCE_BUCKET", "b"),
        ]);
        assert_eq!(Backend::choose(e).unwrap(), Backend::S3);
        let e = env(&[
            ("SQLITE_PERSISTENCE_PATH", "/tmp/a.sqlite3"),
            ("SKILL_PERSISTENCE", "memory"),
        ]);
        assert_eq!(Backend::choose(e).unwrap(), Backend::Memory);
        assert_eq!(Backend::Sqlite.to_string(), "sqlite");
    }

    #[test]
    fn local_data_path_follows_xdg_then_home() {
        let p = local_data_path_with(
            "cafe",
            env(&[("XDG_DATA_HOME", "/data/x"), ("HOME", "/home/h")]),
        )
        .unwrap();
        assert_eq!(
            p,
            std::path::Path::new("/data/x/alexa-persistence/cafe.sqlite3")
        );
        // A relative XDG_DATA_HOME is ignored, as the XDG specification says.
        let p = local_data_path_with(
            "my skill/../x",
            env(&[("XDG_DATA_HOME", "rel"), ("HOME", "/home/h")]),
        )
        .unwrap();
        assert_eq!(
            p,
            std::path::Path::new("/home/h/.local/share/alexa-persistence/my_skill_.._x.sqlite3")
        );
        match local_data_path_with("cafe", env(&[])) {
            Err(Error::NotConfigured { what }) => {
                assert!(what.contains("SQLITE_PERSISTENCE_PATH"), "{what}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn any_backend_variable_counts_as_configured() {
        assert!(!configured(&env(&[])));
        assert!(!configured(&env(&[("SKILL_PERSISTENCE", " ")])));
        for var in [
            SKILL_PERSISTENCE,
            DYNAMODB_TABLE_VAR,
            S3_BUCKET_VAR,
            SQLITE_PATH_VAR,
        ] {
            assert!(configured(&env(&[(var, "x")])), "{var}");
        }
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

    #[cfg(not(feature = "sqlite"))]
    #[tokio::test]
    async fn sqlite_without_its_feature_names_the_feature() {
        match Backend::Sqlite.adapter().await {
            Err(Error::NotConfigured { what }) => assert!(what.contains("`sqlite`"), "{what}"),
            other => panic!("{other:?}"),
        }
    }

    #[cfg(feature = "sqlite")]
    #[tokio::test]
    async fn sqlite_adapter_opens_the_file_and_names_it() {
        let dir = std::env::temp_dir().join(format!(
            "skill-builder-sqlite-{}",
            persistence_core::unique_token()
        ));
        let path = dir.join("nested").join("skill.sqlite3");
        // Missing directory: an error naming the path, unless asked to create it.
        match sqlite_adapter(path.clone(), false).await {
            Err(Error::NotConfigured { what }) => {
                assert!(what.contains(&path.display().to_string()), "{what}");
            }
            other => panic!("{other:?}"),
        }
        let a = sqlite_adapter(path.clone(), true).await.unwrap();
        assert!(a.describe().contains(&path.display().to_string()));
        a.save(
            "k",
            &persistence_core::Attributes::new(),
            persistence_core::SaveMode::CreateOnly,
        )
        .await
        .unwrap();
        drop(a);
        let again = sqlite_adapter(path, false).await.unwrap();
        assert!(again.get("k").await.unwrap().is_some());
        drop(again);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[cfg(feature = "memory")]
    #[tokio::test]
    async fn memory_backend_works() {
        let a = Backend::Memory.adapter().await.unwrap();
        assert_eq!(a.describe(), "memory store");
        assert!(a.get("k").await.unwrap().is_none());
    }
}
