//! The official SDKs as child processes: tests/differential/{python/driver.py,node/driver.js},
//! spoken to in JSON lines (the protocol is documented in driver.py).
//!
//! Where the SDKs are comes from the environment `scripts/official-sdks.sh env` prints
//! (`ASK_SDK_PYTHON`, `ASK_SDK_NODE_MODULES`; `scripts/test.sh` exports them). When they are
//! missing, a test fails under CI (`CI` set) and is skipped with a loud message elsewhere.
//!
//! Requests and answers cross as [`ExactValue`]s (JSON text written and parsed keeping every
//! number's digits), so that a 38-digit `Decimal` or an `int` past 2^64 reaches the SDK and
//! comes back exactly.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use persistence_core::exact::ExactValue;
use serde_json::json;

use super::tagged::{entry, set_entry};

/// An answer slower than this means the driver hangs (a generous bound, not a timing assert).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(120);

/// Which official SDK.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sdk {
    /// ask-sdk-core 1.19.0 with ask-sdk-dynamodb-persistence-adapter 1.19.0 and
    /// ask-sdk-s3-persistence-adapter 1.0.0 (boto3).
    Python,
    /// ask-sdk-core, ask-sdk-dynamodb-persistence-adapter and ask-sdk-s3-persistence-adapter
    /// 2.14.0 (aws-sdk v2).
    Node,
}

/// Where an official adapter keeps attributes, as it is configured.
#[derive(Clone, Debug)]
pub enum Store {
    /// `DynamoDbAdapter(table_name, partition_key_name, attribute_name)` /
    /// `DynamoDbPersistenceAdapter({tableName, partitionKeyName, attributesName})`.
    DynamoDb {
        /// The table.
        table: String,
        /// The hash key's name.
        partition_key_name: String,
        /// The map attribute's name.
        attributes_name: String,
    },
    /// `S3Adapter(bucket_name, path_prefix)` / `S3PersistenceAdapter({bucketName, pathPrefix})`.
    S3 {
        /// The bucket.
        bucket: String,
        /// The path prefix (`None`: not given).
        path_prefix: Option<String>,
    },
}

impl Store {
    fn to_exact(&self) -> ExactValue {
        ExactValue::from_json(&match self {
            Store::DynamoDb {
                table,
                partition_key_name,
                attributes_name,
            } => json!({"kind": "dynamodb", "table": table,
                "partition_key_name": partition_key_name, "attributes_name": attributes_name}),
            Store::S3 {
                bucket,
                path_prefix,
            } => json!({"kind": "s3", "bucket": bucket, "path_prefix": path_prefix}),
        })
    }
}

/// One running driver process.
pub struct Driver {
    sdk: Sdk,
    child: Child,
    stdin: ChildStdin,
    answers: mpsc::Receiver<std::io::Result<String>>,
    /// What the driver said it runs (SDK and package versions).
    pub banner: String,
    /// How long it took to start and answer `hello`.
    pub startup: Duration,
}

fn repo_file(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Under CI a missing prerequisite fails the test; elsewhere the test is skipped, loudly.
pub fn missing(what: &str) -> Option<Driver> {
    let msg = format!(
        "{what}. Run the tests with scripts/test.sh, which installs the official SDKs \
         (scripts/official-sdks.sh install) and exports their location."
    );
    if std::env::var_os("CI").is_some() {
        panic!("{msg}");
    }
    eprintln!("\n!!!!!!!! SKIPPING differential test: {msg}\n");
    None
}

impl Driver {
    /// Starts the driver for `sdk` against the emulator at `endpoint`; `None` (after a loud
    /// message) when the SDK is not installed and this is not CI.
    pub fn start(sdk: Sdk, endpoint: &str) -> Option<Driver> {
        let mut cmd = match sdk {
            Sdk::Python => {
                let Some(python) = std::env::var_os("ASK_SDK_PYTHON").filter(|p| !p.is_empty())
                else {
                    return missing("ASK_SDK_PYTHON is not set (the official Python SDK's venv)");
                };
                let mut c = Command::new(python);
                c.arg(repo_file("differential/python/driver.py"));
                c
            }
            Sdk::Node => {
                let Some(modules) =
                    std::env::var_os("ASK_SDK_NODE_MODULES").filter(|p| !p.is_empty())
                else {
                    return missing(
                        "ASK_SDK_NODE_MODULES is not set (the official Node SDK's node_modules)",
                    );
                };
                let node = std::env::var_os("ASK_SDK_NODE").unwrap_or_else(|| "node".into());
                let mut c = Command::new(node);
                c.arg(repo_file("differential/node/driver.js"))
                    .env("NODE_PATH", modules)
                    .env("AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE", "1");
                c
            }
        };
        cmd.env("AWS_ENDPOINT_URL", endpoint)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let t0 = Instant::now();
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => return missing(&format!("cannot start the {sdk:?} driver ({cmd:?}): {e}")),
        };
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        // A reader thread, so that a hung driver is reported instead of hanging the test.
        let (tx, answers) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut driver = Driver {
            sdk,
            child,
            stdin,
            answers,
            banner: String::new(),
            startup: Duration::ZERO,
        };
        let hello = driver
            .call(ExactValue::from_json(&json!({"op": "hello"})))
            .unwrap_or_else(|e| panic!("{sdk:?} driver did not start: {e}"));
        driver.banner = match entry(&hello, "sdk") {
            Some(ExactValue::String(s)) => s.clone(),
            _ => String::new(),
        };
        driver.startup = t0.elapsed();
        Some(driver)
    }

    /// Which SDK this drives.
    pub fn sdk(&self) -> Sdk {
        self.sdk
    }

    /// Sends one request; the answer, or the SDK's error text.
    pub fn call(&mut self, request: ExactValue) -> Result<ExactValue, String> {
        let mut line = request.to_json_text();
        line.push('\n');
        self.stdin
            .write_all(line.as_bytes())
            .and_then(|()| self.stdin.flush())
            .map_err(|e| format!("{:?} driver: writing the request: {e}", self.sdk))?;
        let answer = match self.answers.recv_timeout(ANSWER_TIMEOUT) {
            Ok(Ok(a)) => a,
            Ok(Err(e)) => return Err(format!("{:?} driver: reading: {e}", self.sdk)),
            Err(e) => {
                return Err(format!(
                    "{:?} driver: no answer ({e}); exit status {:?}",
                    self.sdk,
                    self.child.try_wait()
                ));
            }
        };
        let v = ExactValue::parse_json(&answer)
            .map_err(|e| format!("{:?} driver: bad answer {answer:?}: {e}", self.sdk))?;
        if entry(&v, "ok") == Some(&ExactValue::Bool(true)) {
            Ok(v)
        } else {
            Err(format!(
                "{:?} SDK: {}",
                self.sdk,
                entry(&v, "error").map_or_else(|| answer.clone(), ExactValue::to_json_text)
            ))
        }
    }

    fn keyed(
        &mut self,
        op: &str,
        store: &Store,
        user_id: &str,
        extra: Vec<(&str, ExactValue)>,
    ) -> Result<ExactValue, String> {
        let mut req = ExactValue::from_json(&json!({"op": op, "user_id": user_id}));
        set_entry(&mut req, "store", store.to_exact());
        for (k, v) in extra {
            set_entry(&mut req, k, v);
        }
        self.call(req)
    }

    /// The `attributes` of an answer.
    fn attributes(mut answer: ExactValue) -> ExactValue {
        match &mut answer {
            ExactValue::Map(m) => m.remove("attributes").unwrap_or(ExactValue::Null),
            _ => ExactValue::Null,
        }
    }

    /// `save_attributes` / `saveAttributes` with tagged attributes.
    pub fn save(
        &mut self,
        store: &Store,
        user_id: &str,
        attributes: &ExactValue,
    ) -> Result<(), String> {
        self.keyed(
            "save",
            store,
            user_id,
            vec![("attributes", attributes.clone())],
        )
        .map(drop)
    }

    /// `get_attributes` / `getAttributes`: what the SDK hands the skill, tagged.
    pub fn get(&mut self, store: &Store, user_id: &str) -> Result<ExactValue, String> {
        self.keyed("get", store, user_id, vec![])
            .map(Self::attributes)
    }

    /// `delete_attributes` / `deleteAttributes`.
    pub fn delete(&mut self, store: &Store, user_id: &str) -> Result<(), String> {
        self.keyed("delete", store, user_id, vec![]).map(drop)
    }

    /// A skill's turn: get, set attribute `name` to the tagged `value`, save. Returns what it
    /// read.
    pub fn update(
        &mut self,
        store: &Store,
        user_id: &str,
        name: &str,
        value: &ExactValue,
    ) -> Result<ExactValue, String> {
        let extra = vec![
            ("name", ExactValue::String(name.to_owned())),
            ("value", value.clone()),
        ];
        self.keyed("update", store, user_id, extra)
            .map(Self::attributes)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Closing stdin ends the driver's loop; kill it if it does not go.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
