//! The transport of one endpoint, stage by stage: resolve the host, open the socket, negotiate TLS
//! as the sslmode asks. Each stage says what happened, or why it failed and what to do (ping shows
//! both). The resulting stream carries a session: tokio-postgres's (lint, pool-bench's monitor)
//! or `wire`'s (ping, pool-bench). [`open_session`] runs libpq's tries over one host: a new
//! connection for `allow`'s and `prefer`'s one retry (see [`crate::conn::tls`]).

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};

use crate::conn::socket;
use crate::conn::target::{Endpoint, EndpointKind};
use crate::conn::tcp::TcpSettings;
use crate::conn::tls::{Encryption, SslMode, TlsSetup, TryFailure};

/// Any stream tokio-postgres can run a session over.
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// How a stage ended when it failed: the server did not answer, or answered and refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StageFailure {
    NoResponse,
    Rejecting,
    /// The server agreed to TLS and the handshake failed: a refusal `prefer` retries without TLS.
    Handshake,
    /// A local TLS file libpq reads when TLS starts is missing or unusable: nothing was tried
    /// with it (pg_isready's "no attempt").
    Unusable,
}

/// One timed stage of a connection, as ping shows it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Stage {
    pub(crate) name: &'static str,
    pub(crate) ok: bool,
    pub(crate) ms: f64,
    pub(crate) detail: String,
}

/// A failed stage: its kind, what happened and what to do.
#[derive(Debug, Clone)]
pub(crate) struct StageError {
    pub(crate) failure: StageFailure,
    pub(crate) detail: String,
    pub(crate) hint: String,
}

pub(crate) fn elapsed_ms(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}

/// DNS: every address of the host, in the resolver's order (none for sockets).
pub(crate) async fn resolve(
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
                    failure: StageFailure::NoResponse,
                    detail: format!("DNS lookup of {host} timed out after {:.1} s", timeout.as_secs_f64()),
                    hint: "check the resolver (/etc/resolv.conf) and the host name".into(),
                }),
                Ok(Err(error)) => Err(StageError {
                    failure: StageFailure::NoResponse,
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
pub(crate) async fn connect(
    endpoint: &Endpoint,
    addrs: &[SocketAddr],
    tcp: &TcpSettings,
    timeout: Duration,
) -> Result<(Connected, String), StageError> {
    if let Some(path) = endpoint.socket_path() {
        return match tokio::time::timeout(timeout, socket::connect(endpoint)).await {
            Ok(Ok(stream)) => Ok((Connected::Unix(stream), format!("connected to {path}"))),
            Ok(Err(error)) => Err(StageError {
                failure: StageFailure::NoResponse,
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
                if let Err(error) = tcp.apply(&stream) {
                    failures.push(format!("{addr}: setting the socket options: {error}"));
                    continue;
                }
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
        failure: StageFailure::NoResponse,
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
            failure: StageFailure::NoResponse,
            detail: format!("could not register the connection: {error}"),
            hint: "the process may be out of file descriptors or memory".into(),
        }),
    }
}

fn timed_out(place: &str, timeout: Duration) -> StageError {
    StageError {
        failure: StageFailure::NoResponse,
        detail: format!("{place}: no answer within {:.1} s", timeout.as_secs_f64()),
        hint: "the server may be overloaded, frozen or behind a firewall that drops packets".into(),
    }
}

/// An open socket before TLS.
pub(crate) enum Connected {
    Tcp(TcpStream),
    Unix(UnixStream),
}

/// The SSLRequest code from the protocol (1234.5679).
const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

/// Negotiates TLS for one try; returns the stream for the session, whether it is encrypted, and
/// what happened. A server without TLS is taken unencrypted by `allow` and `prefer`.
pub(crate) async fn negotiate_tls(
    connected: Connected,
    encryption: Encryption,
    tls: &TlsSetup,
    server_name: &str,
    timeout: Duration,
) -> Result<((Box<dyn Io>, bool), String), StageError> {
    let sslmode = tls.mode;
    let mut stream = match connected {
        Connected::Unix(stream) => {
            return Ok((
                (Box::new(stream), false),
                "not used over a Unix socket (as libpq)".into(),
            ));
        }
        Connected::Tcp(stream) => stream,
    };
    if encryption == Encryption::Plain {
        let detail = match sslmode {
            SslMode::Prefer => format!(
                "not requested: retrying without TLS (sslmode=prefer, {})",
                tls.rules.describe()
            ),
            _ => format!(
                "not requested (sslmode={}, {})",
                sslmode.name(),
                tls.rules.describe()
            ),
        };
        return Ok(((read_interest(stream)?, false), detail));
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
                failure: StageFailure::NoResponse,
                detail: format!("the server closed the connection during TLS negotiation: {error}"),
                hint: "is this a PostgreSQL server (and not, say, a proxy on the same port)?"
                    .into(),
            });
        }
        Ok(Ok(byte)) => byte,
    };
    match answer {
        b'S' => {}
        b'N' if tls.takes_a_server_without_tls() => {
            return Ok((
                (read_interest(stream)?, false),
                format!(
                    "the server does not offer TLS; unencrypted (sslmode={})",
                    sslmode.name()
                ),
            ));
        }
        b'N' => {
            return Err(StageError {
                failure: StageFailure::Rejecting,
                detail: format!("the server does not support TLS, but sslmode={} requires it", sslmode.name()),
                hint: "turn on ssl in the server's postgresql.conf, or lower sslmode if the network is trusted".into(),
            });
        }
        other => {
            return Err(StageError {
                failure: StageFailure::Rejecting,
                detail: format!("unexpected answer {other:#04x} to the TLS request"),
                hint: "is this a PostgreSQL server?".into(),
            });
        }
    }
    let config = tls.config.clone().map_err(|problem| StageError {
        failure: StageFailure::Unusable,
        detail: problem,
        hint: "fix the TLS file in the URL (sslrootcert, sslcert, sslkey) or under ~/.postgresql"
            .into(),
    })?;
    let name = match server_name.parse::<IpAddr>() {
        Ok(ip) => ServerName::IpAddress(ip.into()),
        Err(_) => ServerName::try_from(server_name.to_string()).map_err(|_| StageError {
            failure: StageFailure::Rejecting,
            detail: format!("{server_name:?} is not a valid TLS server name"),
            hint: "use a DNS name or an IP address as host".into(),
        })?,
    };
    let connector = tokio_rustls::TlsConnector::from(config);
    match tokio::time::timeout(timeout, connector.connect(name, stream)).await {
        Err(_) => Err(timed_out("TLS handshake", timeout)),
        Ok(Err(error)) => Err(StageError {
            failure: StageFailure::Handshake,
            detail: format!("TLS handshake failed: {error}"),
            hint: match sslmode {
                SslMode::VerifyFull => {
                    "the certificate must be signed by sslrootcert's CA and name this host; check both, or connect by the name on the certificate".into()
                }
                _ if tls.verification != crate::conn::tls::Verification::Nothing => "the certificate must be signed by the CA in the root certificate file (sslrootcert, else ~/.postgresql/root.crt)".into(),
                _ => "check the server's TLS configuration".into(),
            },
        }),
        Ok(Ok(tls_stream)) => {
            let (_, session) = tls_stream.get_ref();
            let version = session.protocol_version().map(|v| format!("{v:?}")).unwrap_or_default();
            let cipher = session.negotiated_cipher_suite().map(|c| format!("{:?}", c.suite())).unwrap_or_default();
            Ok(((Box::new(tls_stream), true), format!("{version}, {cipher} ({})", tls.describe())))
        }
    }
}

/// How one host's tries ended, when no session opened.
pub(crate) enum Ended<E> {
    /// A transport stage failed: connect or TLS.
    Transport(StageError),
    /// The session's startup failed: the server's error, or the client's.
    Startup(E),
}

/// A session's startup over an opened stream, as [`open_session`] runs it.
pub(crate) trait Startup {
    type Session;
    type Error;
    /// Starts the session; the detail says who logged in.
    fn start(
        &mut self,
        stream: Box<dyn Io>,
    ) -> impl std::future::Future<Output = Result<(Self::Session, String), Self::Error>> + Send;
    /// The SQLSTATE when the server answered the startup with an error (what `allow` and
    /// `prefer` retry on), and the failed stage's detail.
    fn refusal(&self, error: &Self::Error) -> (Option<String>, String);
}

/// libpq's tries over one host: connect, TLS as the try asks, the session's startup; then, for
/// `allow` and `prefer`, once more on a new connection after the failures libpq retries. Every
/// stage is recorded in `stages`, the retried ones too.
pub(crate) async fn open_session<S: Startup>(
    endpoint: &Endpoint,
    addrs: &[SocketAddr],
    tls: &TlsSetup,
    tcp: &TcpSettings,
    timeout: Duration,
    stages: &mut Vec<Stage>,
    startup: &mut S,
) -> Result<S::Session, Ended<S::Error>> {
    let mut encryption = tls.mode.first_try();
    let mut retried = false;
    loop {
        let started = Instant::now();
        let connected = connect(endpoint, addrs, tcp, timeout).await;
        let connected = record(stages, "connect", started, connected).map_err(Ended::Transport)?;
        let started = Instant::now();
        let negotiated = negotiate_tls(connected, encryption, tls, &endpoint.name(), timeout).await;
        let (stream, encrypted) = match record(stages, "tls", started, negotiated) {
            Ok(opened) => opened,
            Err(error) => {
                let failure = matches!(
                    error.failure,
                    StageFailure::Handshake | StageFailure::Unusable
                )
                .then_some(TryFailure::Tls);
                match failure
                    .and_then(|f| tls.mode.retry(true, f))
                    .filter(|_| !retried)
                {
                    Some(next) => {
                        if let Some(stage) = stages.last_mut() {
                            stage
                                .detail
                                .push_str("; retrying without TLS (sslmode=prefer)");
                        }
                        (encryption, retried) = (next, true);
                        continue;
                    }
                    None => return Err(Ended::Transport(error)),
                }
            }
        };
        let started = Instant::now();
        match startup.start(stream).await {
            Ok((session, detail)) => {
                stages.push(Stage {
                    name: "auth",
                    ok: true,
                    ms: elapsed_ms(started),
                    detail,
                });
                return Ok(session);
            }
            Err(error) => {
                let (code, detail) = startup.refusal(&error);
                let next = code
                    .and_then(|code| {
                        tls.mode
                            .retry_as(tls.rules, encrypted, TryFailure::Refused, &code)
                    })
                    .filter(|_| !retried);
                let retrying = match next {
                    Some(Encryption::Tls) => "; retrying with TLS (sslmode=allow)",
                    Some(Encryption::Plain) => "; retrying without TLS (sslmode=prefer)",
                    None => "",
                };
                stages.push(Stage {
                    name: "auth",
                    ok: false,
                    ms: elapsed_ms(started),
                    detail: format!("{detail}{retrying}"),
                });
                match next {
                    Some(next) => (encryption, retried) = (next, true),
                    None => return Err(Ended::Startup(error)),
                }
            }
        }
    }
}

/// Records a transport stage's outcome.
fn record<T>(
    stages: &mut Vec<Stage>,
    name: &'static str,
    started: Instant,
    result: Result<(T, String), StageError>,
) -> Result<T, StageError> {
    let ms = elapsed_ms(started);
    match result {
        Ok((value, detail)) => {
            stages.push(Stage {
                name,
                ok: true,
                ms,
                detail,
            });
            Ok(value)
        }
        Err(error) => {
            stages.push(Stage {
                name,
                ok: false,
                ms,
                detail: error.detail.clone(),
            });
            Err(error)
        }
    }
}
