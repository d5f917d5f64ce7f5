//! Unix-domain sockets as libpq reaches them: a socket file `DIR/.s.PGSQL.PORT`, or on Linux an
//! abstract name `@NAME` (libpq 14+), which libpq turns into `\0NAME/.s.PGSQL.PORT`.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::UnixStream;

use crate::conn::target::{Endpoint, EndpointKind};

/// Connects to a Unix or abstract endpoint's socket.
pub async fn connect(endpoint: &Endpoint) -> io::Result<UnixStream> {
    let path = endpoint
        .socket_path()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a Unix-domain socket"))?;
    if endpoint.kind == EndpointKind::Unix {
        return UnixStream::connect(&path).await;
    }
    connect_abstract(path.strip_prefix('@').unwrap_or(&path))
}

#[cfg(target_os = "linux")]
fn connect_abstract(name: &str) -> io::Result<UnixStream> {
    use std::os::linux::net::SocketAddrExt;
    let address = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
    // A local connect: it completes or fails at once, so blocking here costs nothing.
    let stream = std::os::unix::net::UnixStream::connect_addr(&address)?;
    stream.set_nonblocking(true)?;
    UnixStream::from_std(stream)
}

#[cfg(not(target_os = "linux"))]
fn connect_abstract(_name: &str) -> io::Result<UnixStream> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "abstract Unix sockets exist only on Linux",
    ))
}

/// A stream whose first read or write fails with a socket's connect error, so that
/// tokio-postgres reports that error as its own (`error communicating with the server: ...`).
pub struct Failed(Option<io::Error>);

impl Failed {
    pub fn new(error: io::Error) -> Failed {
        Failed(Some(error))
    }

    fn error(&mut self) -> io::Error {
        self.0
            .take()
            .unwrap_or_else(|| io::Error::from(io::ErrorKind::NotConnected))
    }
}

impl AsyncRead for Failed {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Poll::Ready(Err(self.error()))
    }
}

impl AsyncWrite for Failed {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Err(self.error()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Err(self.error()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
