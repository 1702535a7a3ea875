//! Backends named by URL, and opening them.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use aws_config::{BehaviorVersion, SdkConfig};
use persistence_core::{Error, PersistenceAdapter};
use persistence_dynamodb::{DynamoDbAdapter, DynamoDbUrl};
use persistence_file::FileAdapter;
use persistence_memory::MemoryAdapter;
use persistence_s3::{S3Adapter, S3Url};
use persistence_sqlite::SqliteAdapter;
use tokio::sync::OnceCell;

use crate::exit::CliError;

/// The schemes the tool knows, for messages.
pub const SCHEMES: &str =
    "dynamodb://TABLE, s3://BUCKET[/PREFIX], file://DIR, sqlite://PATH, memory:";

/// Where attributes are, as named on the command line.
///
/// ```
/// use persistence_cli::store::StoreUrl;
/// assert!(matches!(StoreUrl::parse("dynamodb://skill-table")?, StoreUrl::DynamoDb(_)));
/// assert!(matches!(StoreUrl::parse("s3://bucket/skills/cafe")?, StoreUrl::S3(_)));
/// assert!(matches!(StoreUrl::parse("file:///var/backups/skill")?, StoreUrl::File(_)));
/// assert!(matches!(StoreUrl::parse("memory:")?, StoreUrl::Memory));
/// assert!(StoreUrl::parse("postgres://x").is_err());
/// # Ok::<(), persistence_cli::exit::CliError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreUrl {
    /// `dynamodb://TABLE[?region=REGION]`: the ASK SDKs' table layout.
    DynamoDb(DynamoDbUrl),
    /// `s3://BUCKET[/PREFIX][?region=REGION]`: one JSON object per key under the prefix.
    S3(S3Url),
    /// `file://DIR`: one JSON file per key (`persistence-file`). `file:///abs` and
    /// `file://relative` both work.
    File(PathBuf),
    /// `sqlite://PATH`: a SQLite database file (`persistence-sqlite`).
    Sqlite(PathBuf),
    /// `memory:`: an empty store that lives as long as the process (for tests, or to read a
    /// whole source without writing it anywhere).
    Memory,
}

impl StoreUrl {
    /// Parses a backend URL; errors say what is wrong and which forms exist (exit 2).
    pub fn parse(url: &str) -> Result<Self, CliError> {
        let from_core = |e: persistence_core::Error| match e {
            persistence_core::Error::NotConfigured { what } => CliError::usage(what),
            other => CliError::usage(other.to_string()),
        };
        if url.starts_with("dynamodb:") {
            return DynamoDbUrl::parse(url)
                .map(Self::DynamoDb)
                .map_err(from_core);
        }
        if url.starts_with("s3:") {
            return S3Url::parse(url).map(Self::S3).map_err(from_core);
        }
        if let Some(rest) = url.strip_prefix("file:") {
            return local_path(url, rest, "file://DIR").map(Self::File);
        }
        if let Some(rest) = url.strip_prefix("sqlite:") {
            return local_path(url, rest, "sqlite://PATH").map(Self::Sqlite);
        }
        if url == "memory:" || url == "memory://" {
            return Ok(Self::Memory);
        }
        let hint = if url.contains("://") || url.ends_with(':') {
            "unknown scheme"
        } else {
            "not a URL"
        };
        Err(CliError::usage(format!(
            "invalid store `{url}`: {hint} (use one of {SCHEMES})"
        )))
    }

    /// Whether listing entries reads them in bulk (a scan, a directory walk), rather than
    /// listing keys and reading each (S3).
    pub fn lists_entries_in_bulk(&self) -> bool {
        !matches!(self, StoreUrl::S3(_))
    }

    /// Whether counting keys costs little next to reading them (not a DynamoDB scan, which
    /// costs as much read capacity as reading the items).
    pub fn counts_cheaply(&self) -> bool {
        !matches!(self, StoreUrl::DynamoDb(_))
    }
}

fn local_path(url: &str, rest: &str, form: &str) -> Result<PathBuf, CliError> {
    let path = rest.strip_prefix("//").unwrap_or(rest);
    if path.is_empty() {
        return Err(CliError::usage(format!(
            "invalid store `{url}`: no path (expected {form})"
        )));
    }
    Ok(PathBuf::from(path))
}

impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreUrl::DynamoDb(u) => u.fmt(f),
            StoreUrl::S3(u) => u.fmt(f),
            StoreUrl::File(p) => write!(f, "file://{}", p.display()),
            StoreUrl::Sqlite(p) => write!(f, "sqlite://{}", p.display()),
            StoreUrl::Memory => f.write_str("memory:"),
        }
    }
}

/// Whether a store is read or written: a `file://` source must exist, a destination is
/// created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Only read (and, for `rm`, `erase` and `purge-expired`, delete from).
    Read,
    /// Written to.
    Write,
}

/// An opened store.
#[derive(Clone, Debug)]
pub struct Store {
    /// How it was named.
    pub url: StoreUrl,
    /// The adapter.
    pub adapter: Arc<dyn PersistenceAdapter>,
}

/// The AWS configuration, loaded once per run (from `AWS_REGION`, `AWS_PROFILE`,
/// `AWS_ENDPOINT_URL`, the credential chain), with a tool's retries and timeouts: adaptive
/// retries (8 attempts, backing off under throttling) and 30 s per attempt, since a listing
/// page or a busy table takes longer than a skill's turn may.
#[derive(Debug, Default)]
pub struct Aws {
    config: OnceCell<SdkConfig>,
}

impl Aws {
    /// Not loaded yet.
    pub fn new() -> Self {
        Self::default()
    }

    async fn config(&self) -> &SdkConfig {
        self.config
            .get_or_init(|| async {
                use aws_config::retry::RetryConfig;
                use aws_config::timeout::TimeoutConfig;
                aws_config::defaults(BehaviorVersion::latest())
                    .retry_config(
                        RetryConfig::adaptive()
                            .with_max_attempts(8)
                            .with_initial_backoff(Duration::from_millis(100))
                            .with_max_backoff(Duration::from_secs(20)),
                    )
                    .timeout_config(
                        TimeoutConfig::builder()
                            .connect_timeout(Duration::from_secs(5))
                            .operation_attempt_timeout(Duration::from_secs(30))
                            .operation_timeout(Duration::from_secs(300))
                            .build(),
                    )
                    .load()
                    .await
            })
            .await
    }

    async fn config_for(&self, url_region: Option<&str>) -> Result<&SdkConfig, CliError> {
        let config = self.config().await;
        if config.region().is_none() && url_region.is_none() {
            return Err(CliError::usage(
                "no AWS region: set AWS_REGION (or a profile with a region, AWS_PROFILE), or add \
                 ?region=REGION to the URL",
            ));
        }
        Ok(config)
    }
}

/// Opens the store `url` names. `create_table` makes a missing DynamoDB table (on-demand, with
/// Time to Live on `ttl`) and waits until it is ACTIVE.
pub async fn open(
    url: &StoreUrl,
    access: Access,
    aws: &Aws,
    create_table: bool,
) -> Result<Store, CliError> {
    let adapter: Arc<dyn PersistenceAdapter> = match url {
        StoreUrl::DynamoDb(u) => {
            let config = aws.config_for(u.region.as_deref()).await?;
            let adapter = DynamoDbAdapter::builder_from_url(u, config).build();
            if create_table {
                adapter.ensure_table().await?;
            }
            Arc::new(adapter)
        }
        StoreUrl::S3(u) => {
            let config = aws.config_for(u.region.as_deref()).await?;
            Arc::new(S3Adapter::builder_from_url(u, config).build())
        }
        StoreUrl::File(dir) => Arc::new(match access {
            Access::Read => FileAdapter::open(dir.clone())?,
            Access::Write => FileAdapter::create(dir.clone())?,
        }),
        StoreUrl::Sqlite(path) => open_sqlite(path, access).await?,
        StoreUrl::Memory => Arc::new(MemoryAdapter::new()),
    };
    if create_table && !matches!(url, StoreUrl::DynamoDb(_)) {
        tracing::info!("--create-table only applies to dynamodb:// destinations");
    }
    Ok(Store {
        url: url.clone(),
        adapter,
    })
}

/// Opens `sqlite://PATH` with `persistence-sqlite`: an existing database for [`Access::Read`]
/// ([`Error::NotFound`] when there is no file, so a mistyped path is not created empty), created
/// (with its directories) for [`Access::Write`].
async fn open_sqlite(
    path: &std::path::Path,
    access: Access,
) -> Result<Arc<dyn PersistenceAdapter>, CliError> {
    if access == Access::Read && !path.exists() {
        return Err(Error::NotFound {
            operation: "open",
            resource: format!("SQLite database '{}'", path.display()),
        }
        .into());
    }
    let adapter = SqliteAdapter::builder(path)
        .create_directories(access == Access::Write)
        .open()
        .await?;
    Ok(Arc::new(adapter))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::Status;

    fn ok(url: &str) -> StoreUrl {
        StoreUrl::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    fn err(url: &str) -> String {
        let e = StoreUrl::parse(url).expect_err(url);
        assert_eq!(e.status, Status::Usage, "{url}");
        e.message
    }

    #[test]
    fn every_scheme_parses_and_prints_back() {
        for (url, shown) in [
            ("dynamodb://skill-table", "dynamodb://skill-table"),
            (
                "dynamodb://skill-table?region=eu-west-1",
                "dynamodb://skill-table?region=eu-west-1",
            ),
            ("s3://bucket", "s3://bucket"),
            // The prefix is kept as written: the official adapters join it to a key as a path
            // of object names, where `skills/cafe/` and `skills/cafe` are the same directory.
            ("s3://bucket/skills/cafe/", "s3://bucket/skills/cafe/"),
            ("file:///var/backups/skill", "file:///var/backups/skill"),
            ("file://backups/skill", "file://backups/skill"),
            ("file:relative", "file://relative"),
            ("sqlite:///var/skill.db", "sqlite:///var/skill.db"),
            ("memory:", "memory:"),
            ("memory://", "memory:"),
        ] {
            assert_eq!(ok(url).to_string(), shown, "{url}");
        }
        match ok("s3://bucket/skills/cafe") {
            StoreUrl::S3(u) => {
                assert_eq!(u.bucket, "bucket");
                assert_eq!(u.prefix.as_deref(), Some("skills/cafe"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(ok("file:///a/b"), StoreUrl::File(PathBuf::from("/a/b")));
    }

    #[test]
    fn bad_urls_say_what_is_wrong() {
        assert!(err("postgres://db").contains("unknown scheme"));
        assert!(err("my-table").contains("not a URL"));
        assert!(
            err("my-table").contains("dynamodb://TABLE"),
            "lists the forms"
        );
        assert!(err("dynamodb://x").contains("3 to 255 characters"));
        assert!(err("dynamodb://table/extra").contains("no '/'"));
        assert!(err("s3://").contains("invalid S3 URL"));
        assert!(err("file://").contains("no path"));
        assert!(err("sqlite:").contains("no path"));
        assert!(err("dynamodb://table?regin=x").contains("unknown setting"));
    }

    #[test]
    fn listing_strategies() {
        assert!(!ok("s3://bucket").lists_entries_in_bulk());
        assert!(ok("dynamodb://table").lists_entries_in_bulk());
        assert!(!ok("dynamodb://table").counts_cheaply());
        assert!(ok("file://x").counts_cheaply());
    }

    #[tokio::test]
    async fn sqlite_source_must_exist_and_a_destination_is_created_and_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("dir/skill.sqlite3");
        let url = ok(&format!("sqlite://{}", path.display()));
        let e = open(&url, Access::Read, &Aws::new(), false)
            .await
            .expect_err("missing");
        assert_eq!(e.status, Status::NotFound);
        assert!(!path.exists(), "reading must not create the file");

        let dst = open(&url, Access::Write, &Aws::new(), false).await.unwrap();
        let attrs = persistence_core::Attributes::try_from(serde_json::json!({"n": 0.1})).unwrap();
        dst.adapter
            .save(
                "amzn1.ask.account.A",
                &attrs,
                persistence_core::SaveMode::CreateOnly,
            )
            .await
            .unwrap();
        drop(dst);
        let src = open(&url, Access::Read, &Aws::new(), false).await.unwrap();
        let got = src
            .adapter
            .get("amzn1.ask.account.A")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.attributes, attrs);
    }

    #[tokio::test]
    async fn a_missing_source_directory_is_not_found_and_a_destination_is_created() {
        let tmp = tempfile::tempdir().unwrap();
        let url = StoreUrl::File(tmp.path().join("new"));
        let e = open(&url, Access::Read, &Aws::new(), false)
            .await
            .expect_err("missing");
        assert_eq!(e.status, Status::NotFound);
        open(&url, Access::Write, &Aws::new(), false).await.unwrap();
        assert!(tmp.path().join("new").is_dir());
    }
}
