//! Unix-domain sockets as libpq reaches them: a socket file `DIR/.s.PGSQL.PORT`, or on Linux an
//! abstract name `@NAME` (libpq 14+), which libpq turns into `\0NAME/.s.PGSQL.PORT`.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::UnixStream;

use crate::conn::target::{Endpoint, EndpointKind};

/// Connects to a Unix or abstract endpoint's socket.
pub(crate) async fn connect(endpoint: &Endpoint) -> io::Result<UnixStream> {
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

/// A TCP stream registered with the reactor for readability only. tokio registers a socket for
/// reading and writing; every ACK of what was sent then marks it writable and can wake a thread
/// parked in `epoll_wait` for nothing. Requests are small: a send that would block (a full
/// socket buffer) is retried on the next poll.
pub(crate) struct ReadInterestTcp {
    fd: tokio::io::unix::AsyncFd<std::net::TcpStream>,
}

impl ReadInterestTcp {
    pub(crate) fn new(stream: tokio::net::TcpStream) -> io::Result<ReadInterestTcp> {
        let stream = stream.into_std()?;
        stream.set_nonblocking(true)?;
        // SAFETY: the std stream owns its descriptor, keeps it open for as long as it lives, and
        // `as_raw_fd` always returns that same descriptor; the AsyncFd owns the stream.
        let fd = unsafe {
            tokio::io::unix::AsyncFd::register_with_interest(stream, tokio::io::Interest::READABLE)
        }
        .map_err(|error| io::Error::other(error.to_string()))?;
        Ok(ReadInterestTcp { fd })
    }
}

impl AsyncRead for ReadInterestTcp {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        use std::io::Read;
        loop {
            let mut guard = match self.fd.poll_read_ready(cx) {
                Poll::Ready(Ok(guard)) => guard,
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Pending => return Poll::Pending,
            };
            let unfilled = buf.initialize_unfilled();
            match guard.try_io(|inner| inner.get_ref().read(unfilled)) {
                Ok(Ok(n)) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Ok(Err(error)) => return Poll::Ready(Err(error)),
                Err(_would_block) => continue,
            }
        }
    }
}

impl AsyncWrite for ReadInterestTcp {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        use std::io::Write;
        match self.fd.get_ref().write(buf) {
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            result => Poll::Ready(result),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.fd.get_ref().shutdown(std::net::Shutdown::Write))
    }
}
