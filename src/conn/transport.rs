//! The transport of one endpoint, stage by stage: resolve the host, open the socket, negotiate TLS
//! as the sslmode asks. Each stage says what happened, or why it failed and what to do (ping shows
//! both). The resulting stream carries a session: tokio-postgres's (ping) or `wire`'s
//! (pool-bench).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};

use crate::conn::socket;
use crate::conn::target::{Endpoint, EndpointKind};
use crate::conn::tls::SslMode;

/// Any stream tokio-postgres can run a session over.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// How a stage ended when it failed: the server did not answer, or answered and refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    NoResponse,
    Rejecting,
}

/// A failed stage: its kind, what happened and what to do.
#[derive(Debug, Clone)]
pub struct StageError {
    pub failure: Failure,
    pub detail: String,
    pub hint: String,
}

pub fn elapsed_ms(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}

/// DNS: every address of the host, in the resolver's order (none for sockets).
pub async fn resolve(
    endpoint: &Endpoint,
    timeout: Duration,
) -> Result<(Vec<SocketAddr>, String), StageError> {
    let port = endpoint.port;
    match (endpoint.kind, endpoint.hostaddr) {
        (EndpointKind::Unix, _) => Ok((
            Vec::new(),
            format!("Unix socket {}", endpoint.socket_path().unwrap_or_default()),
        )),
        (EndpointKind::Abstract, _) => Ok((
            Vec::new(),
            format!(
                "abstract Unix socket {}",
                endpoint.socket_path().unwrap_or_default()
            ),
        )),
        (EndpointKind::Tcp, Some(ip)) => Ok((
            vec![SocketAddr::new(ip, port)],
            format!("hostaddr {ip}, no DNS lookup"),
        )),
        (EndpointKind::Tcp, None) => {
            let host = &endpoint.host;
            let lookup = tokio::net::lookup_host((host.as_str(), port));
            match tokio::time::timeout(timeout, lookup).await {
                Err(_) => Err(StageError {
                    failure: Failure::NoResponse,
                    detail: format!("DNS lookup of {host} timed out after {:.1} s", timeout.as_secs_f64()),
                    hint: "check the resolver (/etc/resolv.conf) and the host name".into(),
                }),
                Ok(Err(error)) => Err(StageError {
                    failure: Failure::NoResponse,
                    detail: format!("could not translate host name {host:?} to an address: {error}"),
                    hint: "check the host name in the URL (a typo, or a name that only resolves inside Docker?)".into(),
                }),
                Ok(Ok(addrs)) => {
                    let addrs: Vec<SocketAddr> = addrs.collect();
                    let shown: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
                    Ok((addrs, shown.join(", ")))
                }
            }
        }
    }
}

/// Opens the socket: each address in turn until one accepts, or the Unix socket file.
pub async fn connect(
    endpoint: &Endpoint,
    addrs: &[SocketAddr],
    timeout: Duration,
) -> Result<(Connected, String), StageError> {
    if let Some(path) = endpoint.socket_path() {
        return match tokio::time::timeout(timeout, socket::connect(endpoint)).await {
            Ok(Ok(stream)) => Ok((Connected::Unix(stream), format!("connected to {path}"))),
            Ok(Err(error)) => Err(StageError {
                failure: Failure::NoResponse,
                detail: format!("could not connect to {path}: {error}"),
                hint:
                    "is the server running locally and listening on this socket directory and port?"
                        .into(),
            }),
            Err(_) => Err(timed_out(&path, timeout)),
        };
    }
    let mut failures = Vec::new();
    for addr in addrs {
        match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => {
                let _ = stream.set_nodelay(true);
                let mut detail = format!("connected to {addr}");
                if !failures.is_empty() {
                    detail.push_str(&format!(" (after {})", failures.join("; ")));
                }
                return Ok((Connected::Tcp(stream), detail));
            }
            Ok(Err(error)) => failures.push(format!("{addr}: {error}")),
            Err(_) => failures.push(format!(
                "{addr}: timed out after {:.1} s",
                timeout.as_secs_f64()
            )),
        }
    }
    Err(StageError {
        failure: Failure::NoResponse,
        detail: failures.join("; "),
        hint: "is the server running, and are host and port right? (a firewall or security group can also drop connections)"
            .into(),
    })
}

/// A plain TCP session's stream, registered for readability only (see
/// [`socket::ReadInterestTcp`]): against pgbench on 10 connections, ~0.8x before and ~1.0x
/// after, without the wakeups every ACK caused.
fn read_interest(stream: TcpStream) -> Result<Box<dyn Io>, StageError> {
    match socket::ReadInterestTcp::new(stream) {
        Ok(stream) => Ok(Box::new(stream)),
        Err(error) => Err(StageError {
            failure: Failure::NoResponse,
            detail: format!("could not register the connection: {error}"),
            hint: "the process may be out of file descriptors or memory".into(),
        }),
    }
}

fn timed_out(place: &str, timeout: Duration) -> StageError {
    StageError {
        failure: Failure::NoResponse,
        detail: format!("{place}: no answer within {:.1} s", timeout.as_secs_f64()),
        hint: "the server may be overloaded, frozen or behind a firewall that drops packets".into(),
    }
}

/// An open socket before TLS.
pub enum Connected {
    Tcp(TcpStream),
    Unix(UnixStream),
}

/// The SSLRequest code from the protocol (1234.5679).
const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

/// Negotiates TLS as the sslmode asks; returns the stream for the session and what happened.
pub async fn negotiate_tls(
    connected: Connected,
    sslmode: SslMode,
    tls: &Arc<rustls::ClientConfig>,
    server_name: &str,
    timeout: Duration,
) -> Result<(Box<dyn Io>, String), StageError> {
    let mut stream = match connected {
        Connected::Unix(stream) => {
            return Ok((
                Box::new(stream),
                "not used over a Unix socket (as libpq)".into(),
            ));
        }
        Connected::Tcp(stream) => stream,
    };
    if matches!(sslmode, SslMode::Disable | SslMode::Allow) {
        return Ok((
            read_interest(stream)?,
            format!("not requested (sslmode={})", sslmode.name()),
        ));
    }
    let answer = tokio::time::timeout(timeout, async {
        stream.write_all(&SSL_REQUEST).await?;
        let mut byte = [0u8; 1];
        stream.read_exact(&mut byte).await?;
        Ok::<u8, std::io::Error>(byte[0])
    })
    .await;
    let answer = match answer {
        Err(_) => return Err(timed_out("TLS negotiation", timeout)),
        Ok(Err(error)) => {
            return Err(StageError {
                failure: Failure::NoResponse,
                detail: format!("the server closed the connection during TLS negotiation: {error}"),
                hint: "is this a PostgreSQL server (and not, say, a proxy on the same port)?"
                    .into(),
            });
        }
        Ok(Ok(byte)) => byte,
    };
    match answer {
        b'S' => {}
        b'N' if sslmode == SslMode::Prefer => {
            return Ok((
                read_interest(stream)?,
                "the server does not offer TLS; unencrypted (sslmode=prefer)".into(),
            ));
        }
        b'N' => {
            return Err(StageError {
                failure: Failure::Rejecting,
                detail: format!("the server does not support TLS, but sslmode={} requires it", sslmode.name()),
                hint: "turn on ssl in the server's postgresql.conf, or lower sslmode if the network is trusted".into(),
            });
        }
        other => {
            return Err(StageError {
                failure: Failure::Rejecting,
                detail: format!("unexpected answer {other:#04x} to the TLS request"),
                hint: "is this a PostgreSQL server?".into(),
            });
        }
    }
    let name = match server_name.parse::<IpAddr>() {
        Ok(ip) => ServerName::IpAddress(ip.into()),
        Err(_) => ServerName::try_from(server_name.to_string()).map_err(|_| StageError {
            failure: Failure::Rejecting,
            detail: format!("{server_name:?} is not a valid TLS server name"),
            hint: "use a DNS name or an IP address as host".into(),
        })?,
    };
    let connector = tokio_rustls::TlsConnector::from(tls.clone());
    match tokio::time::timeout(timeout, connector.connect(name, stream)).await {
        Err(_) => Err(timed_out("TLS handshake", timeout)),
        Ok(Err(error)) => Err(StageError {
            failure: Failure::Rejecting,
            detail: format!("TLS handshake failed: {error}"),
            hint: match sslmode {
                SslMode::VerifyFull => {
                    "the certificate must be signed by sslrootcert's CA and name this host; check both, or connect by the name on the certificate".into()
                }
                SslMode::VerifyCa | SslMode::Require => "the certificate must be signed by the CA in sslrootcert".into(),
                _ => "check the server's TLS configuration".into(),
            },
        }),
        Ok(Ok(tls_stream)) => {
            let (_, session) = tls_stream.get_ref();
            let version = session.protocol_version().map(|v| format!("{v:?}")).unwrap_or_default();
            let cipher = session.negotiated_cipher_suite().map(|c| format!("{:?}", c.suite())).unwrap_or_default();
            let verified = match sslmode {
                SslMode::VerifyFull => "certificate and host name verified",
                SslMode::VerifyCa => "certificate chain verified, host name not checked",
                _ => "certificate not verified",
            };
            Ok((Box::new(tls_stream), format!("{version}, {cipher} ({verified}, sslmode={})", sslmode.name())))
        }
    }
}
