//! The five backends, each with its faults: in-process ones through `FaultyAdapter`, DynamoDB
//! and S3 on LocalStack through the chaos proxy.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use persistence_core::{ManualClock, PersistenceAdapter};
use persistence_dynamodb::DynamoDbAdapter;
use persistence_integration_tests::chaos::{ChaosConfig, ChaosProxy};
use persistence_integration_tests::{
    dynamodb_adapter, dynamodb_client, emulator, new_bucket, s3_client, s3_client_with_budget,
    sdk_config_with_budget,
};
use persistence_s3::S3Adapter;

use super::faulty::{FaultStats, FaultyAdapter, Rates};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Memory,
    Sqlite,
    Files,
    DynamoDb,
    S3,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Memory => "memory",
            Backend::Sqlite => "sqlite",
            Backend::Files => "files",
            Backend::DynamoDb => "dynamodb",
            Backend::S3 => "s3",
        }
    }

    pub fn on_emulator(self) -> bool {
        matches!(self, Backend::DynamoDb | Backend::S3)
    }
}

/// What the histories of one backend share: the emulator's table or bucket.
pub enum Prepared {
    Local,
    DynamoDb { table: String, endpoint: String },
    S3 { bucket: String, endpoint: String },
}

/// Prepares `backend`; `None` when it needs the emulator and there is none (outside CI: the
/// emulator helpers have said so loudly; under CI they fail the test).
pub async fn prepare(backend: Backend) -> Option<Prepared> {
    match backend {
        Backend::DynamoDb => {
            let endpoint = emulator().await?.endpoint.clone();
            let table = dynamodb_adapter("checker").await?.table_name().to_owned();
            Some(Prepared::DynamoDb { table, endpoint })
        }
        Backend::S3 => {
            let endpoint = emulator().await?.endpoint.clone();
            let bucket = new_bucket(&s3_client().await?, "checker").await;
            Some(Prepared::S3 { bucket, endpoint })
        }
        _ => Some(Prepared::Local),
    }
}

enum Faults {
    Local(Arc<FaultStats>),
    Chaos(ChaosProxy),
}

/// One history's store: the adapter clients use (with faults), and a fault-free one.
pub struct Store {
    /// Fault-free: for the final reads.
    pub raw: Arc<dyn PersistenceAdapter>,
    pub clock: ManualClock,
    faults: Faults,
    backend: Backend,
    prepared_name: String,
    _dir: Option<tempfile::TempDir>,
}

/// A clock a year ahead of the real one, so that no expiry the workload sets is ever reached in
/// real time (LocalStack's own TTL sweep must not delete what the injected clock keeps).
fn clock() -> ManualClock {
    ManualClock::at(SystemTime::now() + Duration::from_secs(365 * 86_400))
}

impl Store {
    pub async fn new(backend: Backend, prepared: &Prepared, seed: u64) -> Result<Self, String> {
        let clock = clock();
        let c: Arc<dyn persistence_core::Clock> = Arc::new(clock.clone());
        let mut dir = None;
        let (raw, faults, name): (Arc<dyn PersistenceAdapter>, Faults, String) =
            match (backend, prepared) {
                (Backend::Memory, _) => (
                    Arc::new(persistence_memory::MemoryAdapter::new().with_clock(c)),
                    Faults::Local(Arc::default()),
                    String::new(),
                ),
                (Backend::Sqlite, _) => {
                    let d = tempfile::tempdir().map_err(|e| e.to_string())?;
                    let a = persistence_sqlite::SqliteAdapter::builder(d.path().join("c.db"))
                        .clock(c)
                        .open()
                        .await
                        .map_err(|e| e.to_string())?;
                    dir = Some(d);
                    (Arc::new(a), Faults::Local(Arc::default()), String::new())
                }
                (Backend::Files, _) => {
                    let d = tempfile::tempdir().map_err(|e| e.to_string())?;
                    let a = persistence_file::FileAdapter::create(d.path().join("store"))
                        .map_err(|e| e.to_string())?
                        .with_clock(c);
                    dir = Some(d);
                    (Arc::new(a), Faults::Local(Arc::default()), String::new())
                }
                (Backend::DynamoDb, Prepared::DynamoDb { table, endpoint }) => {
                    let proxy = ChaosProxy::start(endpoint, ChaosConfig::moderate(seed))
                        .await
                        .map_err(|e| e.to_string())?;
                    let client = dynamodb_client().await.ok_or("no emulator")?;
                    let a = DynamoDbAdapter::builder(client, table).clock(c).build();
                    (Arc::new(a), Faults::Chaos(proxy), table.clone())
                }
                (Backend::S3, Prepared::S3 { bucket, endpoint }) => {
                    let proxy = ChaosProxy::start(endpoint, ChaosConfig::moderate(seed))
                        .await
                        .map_err(|e| e.to_string())?;
                    let client = s3_client().await.ok_or("no emulator")?;
                    let a = S3Adapter::builder(client, bucket).clock(c).build();
                    (Arc::new(a), Faults::Chaos(proxy), bucket.clone())
                }
                _ => return Err(format!("{} was not prepared", backend.name())),
            };
        Ok(Self {
            raw,
            clock,
            faults,
            backend,
            prepared_name: name,
            _dir: dir,
        })
    }

    /// An adapter for one client: its own fault generator (in-process backends) or its own SDK
    /// client through the chaos proxy, with the production time budget.
    pub async fn client_adapter(&self, seed: u64) -> Arc<dyn PersistenceAdapter> {
        let c: Arc<dyn persistence_core::Clock> = Arc::new(self.clock.clone());
        match &self.faults {
            Faults::Local(stats) => Arc::new(FaultyAdapter::new(
                self.raw.clone(),
                seed,
                Rates::moderate(),
                stats.clone(),
            )),
            Faults::Chaos(proxy) if self.backend == Backend::DynamoDb => {
                let config = sdk_config_with_budget(&proxy.endpoint()).await;
                Arc::new(
                    DynamoDbAdapter::builder(
                        aws_sdk_dynamodb::Client::new(&config),
                        &self.prepared_name,
                    )
                    .clock(c)
                    .build(),
                )
            }
            Faults::Chaos(proxy) => Arc::new(
                S3Adapter::builder(
                    s3_client_with_budget(&proxy.endpoint()).await,
                    &self.prepared_name,
                )
                .clock(c)
                .build(),
            ),
        }
    }

    /// Faults injected so far: how many, and by kind.
    pub fn faults(&self) -> (u64, String) {
        match &self.faults {
            Faults::Local(s) => (s.faulted(), s.to_string()),
            Faults::Chaos(p) => (p.stats().faulted(), p.stats().to_string()),
        }
    }

    /// Stops injecting faults (for the final reads through the clients' path).
    pub fn calm(&self) {
        if let Faults::Chaos(p) = &self.faults {
            p.set_enabled(false);
        }
    }
}
