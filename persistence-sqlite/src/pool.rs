//! A small set of connections, used one call at a time on Tokio's blocking threads.

use std::sync::{Arc, Mutex, MutexGuard};

use persistence_core::{Error, Result};
use rusqlite::Connection;
use tokio::sync::Semaphore;

use crate::schema::ConnectionConfig;

/// At most `size` connections in use at once (the others wait for a permit, asynchronously);
/// connections are opened when first needed and kept for the next call, with their cached
/// prepared statements.
#[derive(Debug)]
pub(crate) struct Pool {
    pub(crate) config: ConnectionConfig,
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
    /// Held by the adapter's writes, so that they queue here, in order, instead of polling
    /// SQLite's lock with its busy handler's sleeps (other processes still do).
    writer: tokio::sync::Mutex<()>,
}

impl Pool {
    /// A pool holding `first` (already prepared) and room for `size` connections in all.
    pub(crate) fn new(config: ConnectionConfig, first: Connection, size: usize) -> Self {
        Self {
            config,
            idle: Mutex::new(vec![first]),
            permits: Arc::new(Semaphore::new(size.max(1))),
            writer: tokio::sync::Mutex::new(()),
        }
    }

    fn idle(&self) -> MutexGuard<'_, Vec<Connection>> {
        // The vector is only pushed to and popped from: a panic elsewhere cannot leave it
        // half-changed.
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` with a connection on a blocking thread. `write` calls queue behind each other
    /// first. A connection whose call failed with a backend error is closed, not reused.
    pub(crate) async fn run<T, F>(
        self: &Arc<Self>,
        operation: &'static str,
        write: bool,
        f: F,
    ) -> Result<T>
    where
        F: FnOnce(&ConnectionConfig, &mut Connection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let _writer = if write {
            Some(self.writer.lock().await)
        } else {
            None
        };
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|e| {
                Error::backend(
                    operation,
                    self.config.resource.clone(),
                    "the connection pool is closed",
                    e,
                )
            })?;
        let pool = Arc::clone(self);
        let joined = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let popped = pool.idle().pop();
            let mut conn = match popped {
                Some(c) => c,
                None => pool.config.connect()?,
            };
            let result = f(&pool.config, &mut conn);
            let healthy = !matches!(
                result,
                Err(Error::Backend { .. } | Error::Incompatible { .. })
            );
            if healthy && conn.is_autocommit() {
                pool.idle().push(conn);
            }
            result
        })
        .await;
        match joined {
            Ok(result) => result,
            Err(e) => Err(Error::backend(
                operation,
                self.config.resource.clone(),
                "the database call panicked or was cancelled",
                e,
            )),
        }
    }
}
