//! An emulated network: a loopback TCP proxy in front of the emulator that holds every chunk of
//! bytes a fixed time in each direction, so a round trip costs twice that on top of the
//! emulator's own time (5 ms each way: a 10 ms RTT, like a skill's Lambda and DynamoDB in
//! nearby zones). Bandwidth is not limited and order is kept: each chunk is passed on at the
//! time it arrived plus the delay. The idea of `tests/src/proxy.rs`'s `Fault::Delay`, applied
//! to both directions and every chunk.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::BoxError;

/// A running proxy on 127.0.0.1; dropping it stops accepting (open connections end with
/// their peers).
#[derive(Debug)]
pub struct DelayProxy {
    addr: SocketAddr,
    delay: Duration,
    task: tokio::task::JoinHandle<()>,
}

impl DelayProxy {
    /// Starts a proxy on a free loopback port forwarding to `upstream` (`http://host:port`),
    /// delaying each direction by `one_way`.
    pub async fn start(upstream: &str, one_way: Duration) -> Result<Self, BoxError> {
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        if upstream.contains('/') {
            return Err(format!(
                "the delay proxy needs an http://host:port endpoint, not {upstream}"
            )
            .into());
        }
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(&upstream).await {
                        let _ = client.set_nodelay(true);
                        let _ = server.set_nodelay(true);
                        let (cr, cw) = client.into_split();
                        let (sr, sw) = server.into_split();
                        tokio::join!(pipe(cr, sw, one_way), pipe(sr, cw, one_way));
                    }
                });
            }
        });
        Ok(Self {
            addr,
            delay: one_way,
            task,
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The round-trip time it adds.
    pub fn rtt(&self) -> Duration {
        self.delay * 2
    }
}

impl Drop for DelayProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Copies `from` to `to`, each chunk `delay` after it was read; shuts `to`'s write side down
/// (after the delay too) when `from` ends.
async fn pipe(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, delay: Duration) {
    // Bounded: a reader more than 256 chunks ahead of the writer waits.
    let (tx, mut rx) = mpsc::channel::<(Instant, Vec<u8>)>(256);
    let reader = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match from.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx
                        .send((Instant::now() + delay, buf[..n].to_vec()))
                        .await
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
        // The end of the stream travels with the same delay.
        let _ = tx.send((Instant::now() + delay, Vec::new())).await;
    };
    let writer = async move {
        while let Some((due, chunk)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            if chunk.is_empty() {
                break;
            }
            if to.write_all(&chunk).await.is_err() {
                return;
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(reader, writer);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn forwards_both_ways_with_the_delay() {
        let echo = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let upstream = format!("http://{}", echo.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut s, _) = echo.accept().await.unwrap();
            let mut buf = [0u8; 5];
            s.read_exact(&mut buf).await.unwrap();
            s.write_all(&buf).await.unwrap();
        });
        let proxy = DelayProxy::start(&upstream, Duration::from_millis(20))
            .await
            .unwrap();
        assert_eq!(proxy.rtt(), Duration::from_millis(40));
        let addr = proxy.endpoint().trim_start_matches("http://").to_owned();
        let mut c = TcpStream::connect(addr).await.unwrap();
        let started = std::time::Instant::now();
        c.write_all(b"hello").await.unwrap();
        let mut back = [0u8; 5];
        c.read_exact(&mut back).await.unwrap();
        assert_eq!(&back, b"hello");
        // At least the two delays (a lower bound cannot flake; no upper bound is asserted).
        assert!(started.elapsed() >= Duration::from_millis(40));
        let mut rest = Vec::new();
        c.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty(), "the upstream's close is passed on");
    }
}
