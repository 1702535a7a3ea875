//! A loopback TCP proxy in front of the emulator that tests can break on purpose: refuse
//! connections (the emulator "stops"), delay responses (a slow network), cut a request in the
//! middle of its body (a save interrupted between read and write), or let a request through and
//! drop its answer (a save that committed but whose client never heard so).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

const UNLIMITED: usize = usize::MAX;

/// What the proxy does with the next connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Forward everything.
    None,
    /// Accept and close at once without answering (a dead emulator behind a live port).
    Drop,
    /// Forward, but hold each response's first bytes back this long.
    Delay(Duration),
    /// Forward only this many bytes of each request, then close both sides.
    CutRequestAfter(usize),
    /// Accept, read, never answer (a hung emulator or a black-holed network).
    Hang,
    /// Forward the request, let the emulator answer, then close the client's connection without
    /// passing the answer on: the request took effect, the client cannot know.
    CutResponse,
}

/// A running proxy; dropping it stops it.
#[derive(Debug)]
pub struct FaultProxy {
    addr: SocketAddr,
    fault: watch::Sender<Fault>,
    /// Connections the fault still applies to, or `UNLIMITED`.
    limited: Arc<AtomicUsize>,
    connections: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// Starts a proxy on 127.0.0.1 (a free port) forwarding to `upstream` (an `http://host:port`
    /// endpoint).
    pub async fn start(upstream: &str) -> std::io::Result<Self> {
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (fault, rx) = watch::channel(Fault::None);
        let limited = Arc::new(AtomicUsize::new(UNLIMITED));
        let connections = Arc::new(AtomicU64::new(0));
        let (lim, conns) = (limited.clone(), connections.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                conns.fetch_add(1, Ordering::Relaxed);
                let mut fault = *rx.borrow();
                // A limited fault applies to the next N connections only. The accept loop is
                // the only reader, so load-then-store is not racy.
                let remaining = lim.load(Ordering::SeqCst);
                if fault != Fault::None && remaining != UNLIMITED {
                    if remaining == 0 {
                        fault = Fault::None;
                    } else {
                        lim.store(remaining - 1, Ordering::SeqCst);
                    }
                }
                let upstream = upstream.clone();
                let mut changes = rx.clone();
                changes.mark_unchanged();
                tokio::spawn(async move {
                    // Any change of fault ends the connections opened before it, so that the
                    // client's pooled connections see the new behaviour too.
                    tokio::select! {
                        _ = serve(client, &upstream, fault) => {}
                        _ = changes.changed() => {}
                    }
                });
            }
        });
        Ok(Self {
            addr,
            fault,
            limited,
            connections,
            task,
        })
    }

    /// The proxy's endpoint URL.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Applies `fault` to every new connection from now on.
    pub fn set(&self, fault: Fault) {
        self.limited.store(UNLIMITED, Ordering::SeqCst);
        let _ = self.fault.send(fault);
    }

    /// Applies `fault` to the next `n` new connections only, then forwards normally.
    pub fn set_for_next(&self, fault: Fault, n: usize) {
        self.limited.store(n, Ordering::SeqCst);
        let _ = self.fault.send(fault);
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(mut client: TcpStream, upstream: &str, fault: Fault) -> std::io::Result<()> {
    match fault {
        Fault::Drop => {
            client.shutdown().await?;
            return Ok(());
        }
        Fault::Hang => {
            let mut buf = vec![0u8; 16 * 1024];
            while client.read(&mut buf).await? > 0 {}
            return Ok(());
        }
        Fault::None | Fault::Delay(_) | Fault::CutRequestAfter(_) | Fault::CutResponse => {}
    }
    let mut server = TcpStream::connect(upstream).await?;
    let (mut cr, mut cw) = client.split();
    let (mut sr, mut sw) = server.split();
    let up = async {
        let mut buf = vec![0u8; 16 * 1024];
        let mut sent = 0usize;
        loop {
            let n = cr.read(&mut buf).await?;
            if n == 0 {
                return sw.shutdown().await;
            }
            if let Fault::CutRequestAfter(limit) = fault {
                let room = limit.saturating_sub(sent);
                sw.write_all(&buf[..n.min(room)]).await?;
                sent += n.min(room);
                if sent >= limit {
                    return Err(std::io::Error::other("cut"));
                }
            } else {
                sw.write_all(&buf[..n]).await?;
            }
        }
    };
    let down = async {
        let mut buf = vec![0u8; 16 * 1024];
        let mut first = true;
        loop {
            let n = sr.read(&mut buf).await?;
            if n == 0 {
                return cw.shutdown().await;
            }
            if fault == Fault::CutResponse {
                // The emulator answered, so the request was handled: drop the answer.
                return Err(std::io::Error::other("answer dropped"));
            }
            if first {
                if let Fault::Delay(d) = fault {
                    tokio::time::sleep(d).await;
                }
                first = false;
            }
            cw.write_all(&buf[..n]).await?;
        }
    };
    // Whichever side ends first (or fails, as a cut request does) ends the connection.
    tokio::select! {
        r = up => r,
        r = down => r,
    }
}
