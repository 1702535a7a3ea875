//! What the skill-builder tests share: a counting adapter and skills over memory.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use persistence_core::{
    Attributes, Entry, ListOptions, Pages, PersistenceAdapter, Result, SaveOptions, Stored,
    Version, async_trait,
};
use persistence_memory::MemoryAdapter;

/// Counts reads and writes of an adapter; reads can be made slow.
#[derive(Debug, Default)]
pub struct Counting {
    pub inner: MemoryAdapter,
    pub gets: AtomicUsize,
    pub gets_done: AtomicUsize,
    pub saves: AtomicUsize,
    pub deletes: AtomicUsize,
    pub get_delay: std::sync::Mutex<Duration>,
}

impl Counting {
    pub fn new(inner: MemoryAdapter) -> Arc<Self> {
        Arc::new(Self {
            inner,
            ..Self::default()
        })
    }
    pub fn gets(&self) -> usize {
        self.gets.load(Ordering::SeqCst)
    }
    pub fn gets_done(&self) -> usize {
        self.gets_done.load(Ordering::SeqCst)
    }
    pub fn saves(&self) -> usize {
        self.saves.load(Ordering::SeqCst)
    }
    pub fn deletes(&self) -> usize {
        self.deletes.load(Ordering::SeqCst)
    }
    pub fn slow_reads(&self, d: Duration) {
        *self.get_delay.lock().unwrap() = d;
    }
}

#[async_trait]
impl PersistenceAdapter for Counting {
    async fn get(&self, key: &str) -> Result<Option<Stored>> {
        self.gets.fetch_add(1, Ordering::SeqCst);
        let delay = *self.get_delay.lock().unwrap();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let r = self.inner.get(key).await;
        self.gets_done.fetch_add(1, Ordering::SeqCst);
        r
    }
    async fn save_with(
        &self,
        key: &str,
        attributes: &Attributes,
        options: &SaveOptions,
    ) -> Result<Version> {
        self.saves.fetch_add(1, Ordering::SeqCst);
        self.inner.save_with(key, attributes, options).await
    }
    async fn delete(&self, key: &str) -> Result<()> {
        self.deletes.fetch_add(1, Ordering::SeqCst);
        self.inner.delete(key).await
    }
    async fn delete_if(&self, key: &str, expected: &Version) -> Result<()> {
        self.deletes.fetch_add(1, Ordering::SeqCst);
        self.inner.delete_if(key, expected).await
    }
    fn list_keys<'a>(&'a self, options: &ListOptions) -> Pages<'a, String> {
        self.inner.list_keys(options)
    }
    fn entries<'a>(&'a self, options: &ListOptions) -> Pages<'a, Entry> {
        self.inner.entries(options)
    }
    fn describe(&self) -> String {
        "counting memory store".into()
    }
}

pub const USER: &str = "amzn1.ask.account.TESTUSER";

pub fn attrs(v: serde_json::Value) -> Attributes {
    Attributes::try_from(v).unwrap()
}
