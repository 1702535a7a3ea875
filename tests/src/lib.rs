//! The harness the cross-backend integration tests share: where the emulator is, and fresh
//! DynamoDB tables and S3 buckets for each test.
//!
//! The endpoint comes from `AWS_ENDPOINT_URL` (set by `scripts/test.sh`, which runs LocalStack on
//! loopback without Docker). When it is unset, LocalStack is started through `testcontainers`
//! (image tag pinned), once per test binary, and removed again when the test process exits
//! (normally or by a panic; a container left by a process that was killed is removed by the next
//! run). When neither works, tests fail under CI (`CI` set) and are skipped with a loud message
//! elsewhere.
#![allow(clippy::panic)]

use std::sync::Arc;

pub mod chaos;
pub mod proxy;

use aws_config::{BehaviorVersion, Region};
use aws_sdk_dynamodb::config::Credentials;
use persistence_core::PersistenceAdapter;
use persistence_core::conformance::Setup;
use persistence_dynamodb::DynamoDbAdapter;
use persistence_s3::S3Adapter;
use tokio::sync::OnceCell;

/// The LocalStack image tag used when the tests start it with testcontainers. Newer images ask
/// for an auth token.
pub const LOCALSTACK_IMAGE_TAG: &str = "4.5";

/// Where the emulator is.
#[derive(Debug)]
pub struct Emulator {
    /// Its endpoint URL, e.g. `http://127.0.0.1:4566`.
    pub endpoint: String,
    /// What serves it, for messages.
    pub description: String,
}

static EMULATOR: OnceCell<Option<Emulator>> = OnceCell::const_new();

/// The emulator for this test run, or `None` (after a loud message) when there is none and this
/// is not CI. Under CI a missing emulator fails the test.
pub async fn emulator() -> Option<&'static Emulator> {
    EMULATOR.get_or_init(find_emulator).await.as_ref()
}

async fn find_emulator() -> Option<Emulator> {
    if let Some(endpoint) = std::env::var("AWS_ENDPOINT_URL")
        .ok()
        .filter(|e| !e.is_empty())
    {
        let description = std::env::var("ALEXA_PERSISTENCE_EMULATOR_VERSION")
            .unwrap_or_else(|_| "an external emulator".into());
        eprintln!("integration tests: using {description} at {endpoint}");
        return Some(Emulator {
            endpoint,
            description,
        });
    }
    match start_container().await {
        Ok(e) => Some(e),
        Err(why) => {
            let msg = format!(
                "no emulator: AWS_ENDPOINT_URL is unset and LocalStack could not be started \
                 with testcontainers ({why}). Run the tests with scripts/test.sh, which starts \
                 LocalStack without Docker."
            );
            if std::env::var_os("CI").is_some() {
                panic!("{msg}");
            }
            eprintln!("\n!!!!!!!! SKIPPING integration test: {msg}\n");
            None
        }
    }
}

async fn start_container() -> Result<Emulator, String> {
    use testcontainers_modules::localstack::LocalStack;
    use testcontainers_modules::testcontainers::ImageExt;
    use testcontainers_modules::testcontainers::runners::AsyncRunner;

    remove_orphaned_containers().await;
    let container = LocalStack::default()
        .with_tag(LOCALSTACK_IMAGE_TAG)
        .with_env_var("SERVICES", "s3,dynamodb")
        .with_label(OWNER_LABEL, std::process::id().to_string())
        .start()
        .await
        .map_err(|e| e.to_string())?;
    // Removed at process exit by `remove_started_containers` (statics are never dropped, so
    // testcontainers' own removal on drop would never run; and dropping it here would stop it).
    started_containers().push(container.id().to_owned());
    let host = container.get_host().await.map_err(|e| e.to_string())?;
    let port = container
        .get_host_port_ipv4(4566)
        .await
        .map_err(|e| e.to_string())?;
    std::mem::forget(container);
    let endpoint = format!("http://{host}:{port}");
    eprintln!(
        "integration tests: started localstack/localstack:{LOCALSTACK_IMAGE_TAG} at {endpoint}"
    );
    Ok(Emulator {
        endpoint,
        description: format!("LocalStack container {LOCALSTACK_IMAGE_TAG}"),
    })
}

/// The label that names the process that started a test container.
const OWNER_LABEL: &str = "alexa-persistence.tests.owner-pid";

fn started_containers() -> std::sync::MutexGuard<'static, Vec<String>> {
    static STARTED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    STARTED.lock().unwrap_or_else(|p| p.into_inner())
}

/// Removes (force, with volumes) the given containers through the Docker API testcontainers uses
/// (`DOCKER_HOST` or the default socket).
async fn remove_containers(ids: &[String]) {
    use testcontainers_modules::testcontainers::bollard::Docker;
    use testcontainers_modules::testcontainers::bollard::query_parameters::RemoveContainerOptions;
    let docker = match Docker::connect_with_defaults() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("integration tests: cannot reach Docker to remove containers {ids:?}: {e}");
            return;
        }
    };
    for id in ids {
        let options = RemoveContainerOptions {
            force: true,
            v: true,
            ..Default::default()
        };
        match docker.remove_container(id, Some(options)).await {
            Ok(()) => eprintln!("integration tests: removed LocalStack container {id:.12}"),
            Err(e) => eprintln!("integration tests: removing container {id:.12} failed: {e}"),
        }
    }
}

/// Removes containers an earlier test process started and could not remove (it was killed).
async fn remove_orphaned_containers() {
    use testcontainers_modules::testcontainers::bollard::Docker;
    use testcontainers_modules::testcontainers::bollard::query_parameters::ListContainersOptions;
    let Ok(docker) = Docker::connect_with_defaults() else {
        return;
    };
    let options = ListContainersOptions {
        all: true,
        filters: Some(std::collections::HashMap::from([(
            "label".to_string(),
            vec![OWNER_LABEL.to_string()],
        )])),
        ..Default::default()
    };
    let Ok(containers) = docker.list_containers(Some(options)).await else {
        return;
    };
    let orphans: Vec<String> = containers
        .into_iter()
        .filter(|c| {
            let pid = c.labels.as_ref().and_then(|l| l.get(OWNER_LABEL));
            pid.is_some_and(|p| !std::path::Path::new("/proc").join(p).exists())
        })
        .filter_map(|c| c.id)
        .collect();
    if !orphans.is_empty() {
        remove_containers(&orphans).await;
    }
}

/// At process exit: removes the containers this test process started, before the process is
/// gone, so that nothing is left running after `cargo test`. A fresh runtime, since the tests'
/// runtimes are gone by then.
#[dtor::dtor(unsafe)]
#[allow(unsafe_code)]
fn remove_started_containers() {
    let ids = std::mem::take(&mut *started_containers());
    if ids.is_empty() {
        return;
    }
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(async {
            let removal = remove_containers(&ids);
            if tokio::time::timeout(std::time::Duration::from_secs(30), removal)
                .await
                .is_err()
            {
                eprintln!("integration tests: removing containers {ids:?} timed out");
            }
        }),
        Err(e) => eprintln!("integration tests: cannot remove containers {ids:?}: {e}"),
    }
}

/// SDK config for the emulator: its endpoint, dummy credentials, `us-east-1`, the recommended
/// retries, and timeouts relaxed for an emulator on a loaded 2-core machine (an emulator answers
/// far slower than DynamoDB or S3, and the tests run in parallel against one instance).
pub async fn sdk_config(emulator: &Emulator) -> aws_config::SdkConfig {
    sdk_config_at(&emulator.endpoint).await
}

/// Like [`sdk_config`] for any endpoint.
pub async fn sdk_config_at(endpoint: &str) -> aws_config::SdkConfig {
    let timeout = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(std::time::Duration::from_secs(5))
        .operation_attempt_timeout(std::time::Duration::from_secs(10))
        .operation_timeout(std::time::Duration::from_secs(30))
        .build();
    config_at(endpoint, timeout).await
}

/// SDK config for any endpoint (e.g. a [`proxy::FaultProxy`] in front of the emulator) with the
/// production time budget the adapters recommend ([`persistence_core::budget`]).
pub async fn sdk_config_with_budget(endpoint: &str) -> aws_config::SdkConfig {
    config_at(endpoint, persistence_dynamodb::client_config().1).await
}

async fn config_at(
    endpoint: &str,
    timeout: aws_config::timeout::TimeoutConfig,
) -> aws_config::SdkConfig {
    let (retry, _) = persistence_dynamodb::client_config();
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "emulator"))
        .retry_config(retry)
        .timeout_config(timeout)
        .load()
        .await
}

/// A DynamoDB client for the emulator.
pub async fn dynamodb_client() -> Option<aws_sdk_dynamodb::Client> {
    let emulator = emulator().await?;
    Some(aws_sdk_dynamodb::Client::new(&sdk_config(emulator).await))
}

/// An S3 client for the emulator (path-style addressing, as LocalStack needs).
pub async fn s3_client() -> Option<aws_sdk_s3::Client> {
    let emulator = emulator().await?;
    Some(s3_client_at(&emulator.endpoint).await)
}

/// An S3 client for any endpoint, path-style, with the production time budget.
pub async fn s3_client_with_budget(endpoint: &str) -> aws_sdk_s3::Client {
    s3_from(&sdk_config_with_budget(endpoint).await)
}

/// An S3 client for any endpoint, path-style, with the emulator's relaxed timeouts.
pub async fn s3_client_at(endpoint: &str) -> aws_sdk_s3::Client {
    s3_from(&sdk_config_at(endpoint).await)
}

fn s3_from(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Held by tests that load the emulator hard (many concurrent writers), so that they run one at
/// a time within a test binary and do not starve the others.
pub async fn heavy() -> tokio::sync::MutexGuard<'static, ()> {
    HEAVY.lock().await
}

/// A name no other test uses: lowercase, digits and dashes (valid for tables and buckets).
pub fn unique_name(case: &str) -> String {
    let case: String = case
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(30)
        .collect();
    format!("it-{case}-{:012x}", fastrand::u64(..) & 0xffff_ffff_ffff)
}

/// A DynamoDB adapter over a new table (created with `ensure_table`).
pub async fn dynamodb_adapter(case: &str) -> Option<DynamoDbAdapter> {
    dynamodb_adapter_with(case, &Setup::default()).await
}

/// A DynamoDB adapter over a new table, built with the conformance setup's clock and default
/// expiry.
pub async fn dynamodb_adapter_with(case: &str, setup: &Setup) -> Option<DynamoDbAdapter> {
    let client = dynamodb_client().await?;
    let mut builder =
        DynamoDbAdapter::builder(client, unique_name(case)).clock(Arc::new(setup.clock.clone()));
    if let Some(d) = setup.default_expiry {
        builder = builder.default_expiry(d);
    }
    let adapter = builder.build();
    if let Err(e) = adapter.ensure_table().await {
        panic!("creating table for {case}: {e}");
    }
    Some(adapter)
}

/// Creates a new bucket and returns its name.
pub async fn new_bucket(client: &aws_sdk_s3::Client, case: &str) -> String {
    let bucket = unique_name(case);
    if let Err(e) = client.create_bucket().bucket(&bucket).send().await {
        panic!(
            "creating bucket for {case}: {}",
            aws_sdk_s3::error::DisplayErrorContext(e)
        );
    }
    bucket
}

/// An S3 adapter over a new bucket, with an optional prefix, on the system clock.
pub async fn s3_adapter(case: &str, prefix: Option<&str>) -> Option<S3Adapter> {
    s3_adapter_built(case, prefix, None).await
}

/// An S3 adapter over a new bucket, built with the conformance setup's clock and default expiry.
pub async fn s3_adapter_with(case: &str, prefix: Option<&str>, setup: &Setup) -> Option<S3Adapter> {
    s3_adapter_built(case, prefix, Some(setup)).await
}

async fn s3_adapter_built(
    case: &str,
    prefix: Option<&str>,
    setup: Option<&Setup>,
) -> Option<S3Adapter> {
    let client = s3_client().await?;
    let bucket = new_bucket(&client, case).await;
    let mut builder = S3Adapter::builder(client, bucket);
    if let Some(p) = prefix {
        builder = builder.path_prefix(p);
    }
    if let Some(setup) = setup {
        builder = builder.clock(Arc::new(setup.clock.clone()));
        if let Some(d) = setup.default_expiry {
            builder = builder.default_expiry(d);
        }
    }
    Some(builder.build())
}

/// Type-erases an adapter for the conformance suite.
pub fn erased<A: PersistenceAdapter + 'static>(
    adapter: Option<A>,
    max_key_bytes: usize,
) -> Option<(Arc<dyn PersistenceAdapter>, usize)> {
    adapter.map(|a| (Arc::new(a) as Arc<dyn PersistenceAdapter>, max_key_bytes))
}

/// DynamoDB's low-level JSON (`{"S": "x"}`, `{"M": {...}}`) to an AttributeValue.
#[allow(clippy::unwrap_used, clippy::panic)]
pub fn av_from_json(v: &serde_json::Value) -> aws_sdk_dynamodb::types::AttributeValue {
    use aws_sdk_dynamodb::types::AttributeValue;
    use serde_json::Value;
    let Value::Object(m) = v else {
        panic!("not an attribute value: {v}")
    };
    let (ty, inner) = m.iter().next().unwrap();
    match ty.as_str() {
        "S" => AttributeValue::S(inner.as_str().unwrap().to_owned()),
        "N" => AttributeValue::N(inner.as_str().unwrap().to_owned()),
        "BOOL" => AttributeValue::Bool(inner.as_bool().unwrap()),
        "NULL" => AttributeValue::Null(true),
        "L" => AttributeValue::L(inner.as_array().unwrap().iter().map(av_from_json).collect()),
        "M" => AttributeValue::M(
            inner
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), av_from_json(v)))
                .collect(),
        ),
        other => panic!("fixture type {other} not handled"),
    }
}
