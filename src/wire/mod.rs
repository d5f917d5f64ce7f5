//! A PostgreSQL session at the protocol level, for ping, the pooler probes and pool-bench's
//! driver models: it sends exactly the frontend messages a driver model asks for — simple
//! queries, named or unnamed extended-protocol statements in the driver's batches, the startup
//! parameters the driver sets — so what the server sees is what the application's driver would
//! send, and it counts the round trips.
//!
//! Built on `postgres-protocol` (the message codec and SCRAM of the rust-postgres project, which
//! tokio-postgres uses too) over any stream `conn::transport` opened: TCP, TLS, Unix or abstract
//! sockets. Authentication: trust, cleartext, MD5 and SCRAM-SHA-256. What is not modelled: COPY
//! (`FROM STDIN` is answered with CopyFail), notifications (ignored), typed result values: rows
//! are dropped unless the caller asks for them as text ([`Session::rows`], for ping's server
//! facts and the pooler probes); pool-bench measures, it does not look at data.

use std::io;
use std::sync::Arc;

use bytes::BytesMut;
use postgres_protocol::authentication::sasl::{self, ChannelBinding, ScramSha256};
use postgres_protocol::message::backend::{ErrorResponseBody, Message};
use postgres_protocol::message::frontend;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::conn::plan::ConnectionPlan;
use crate::conn::target::{Endpoint, SessionAttrs};
use crate::conn::tcp::TcpSettings;
use crate::conn::transport::{self, Io, StageFailure};
use crate::secret::Secret;

/// Opens a session on the first of the target's endpoints that takes it, in libpq's order, with
/// the startup `parameters` the driver sends; each endpoint's stages are bounded by the target's
/// connect timeout.
/// `tcp`: the socket options, the plan's unless ping --idle-probe's keepalive set asks otherwise.
pub(crate) async fn open(
    target: &ConnectionPlan,
    tcp: &TcpSettings,
    parameters: &[(&str, &str)],
) -> Result<Session, WireError> {
    let mut failure = None;
    for &attrs in target.session_attrs.passes() {
        for endpoint in &target.endpoints {
            match open_endpoint(target, endpoint, tcp, parameters).await {
                Ok(session) if session.satisfies(attrs) => return Ok(session),
                Ok(session) => {
                    failure = Some(WireError::Unreachable(format!(
                        "{}: the server is not {attrs} (target_session_attrs)",
                        endpoint.describe()
                    )));
                    session.terminate().await;
                }
                // As libpq: the next host only after one that did not answer or was starting
                // up; a refusal (authentication, a missing database, TLS) ends the attempt.
                Err(error @ (WireError::Unreachable(_) | WireError::Io(_))) => {
                    failure = Some(error)
                }
                Err(error) if error.code() == Some("57P03") => failure = Some(error),
                Err(error) => return Err(error),
            }
        }
    }
    Err(failure.unwrap_or_else(|| WireError::Unreachable("no endpoint to connect to".into())))
}

/// `wire`'s startup over a stream [`transport::open_session`] opened.
struct WireStartup<'a> {
    parameters: &'a [(&'a str, &'a str)],
    target: &'a ConnectionPlan,
    place: String,
}

impl transport::Startup for WireStartup<'_> {
    type Session = Session;
    type Error = WireError;

    async fn start(&mut self, stream: Box<dyn Io>) -> Result<(Session, String), WireError> {
        let timeout = self.target.connect_timeout;
        let start = Session::start(
            stream,
            self.parameters,
            &self.target.user,
            self.target.password.as_ref(),
        );
        let session = tokio::time::timeout(timeout, start).await.map_err(|_| {
            WireError::Unreachable(format!(
                "{}: no answer to the startup message within {:.1} s",
                self.place,
                timeout.as_secs_f64()
            ))
        })??;
        Ok((session, String::new()))
    }

    fn refusal(&self, error: &WireError) -> (Option<String>, String) {
        (error.code().map(str::to_string), error.to_string())
    }
}

/// One endpoint, as libpq tries it (TLS retries included), each stage bounded by the target's
/// connect timeout.
pub(crate) async fn open_endpoint(
    target: &ConnectionPlan,
    endpoint: &Endpoint,
    tcp: &TcpSettings,
    parameters: &[(&str, &str)],
) -> Result<Session, WireError> {
    let timeout = target.connect_timeout;
    let place = endpoint.describe();
    let (addresses, _) = transport::resolve(endpoint, timeout)
        .await
        .map_err(|error| WireError::Unreachable(format!("{place}: {}", error.detail)))?;
    let mut startup = WireStartup {
        parameters,
        target,
        place: place.clone(),
    };
    let mut stages = Vec::new();
    let opened = transport::open_session(
        endpoint,
        &addresses,
        &target.tls,
        tcp,
        timeout,
        &mut stages,
        &mut startup,
    )
    .await;
    opened.map_err(|ended| match ended {
        transport::Ended::Startup(error) => error,
        transport::Ended::Transport(error) if error.failure == StageFailure::NoResponse => {
            WireError::Unreachable(format!("{place}: {}", error.detail))
        }
        transport::Ended::Transport(error) => {
            WireError::Refused(format!("{place}: {}; {}", error.detail, error.hint))
        }
    })
}

/// Why a session failed: the server's error, or the connection.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WireError {
    #[error("{message} (SQLSTATE {code})")]
    Server { code: String, message: String },
    #[error("the server asks for a password but none was given")]
    PasswordMissing,
    #[error("connection lost: {0}")]
    Io(#[from] io::Error),
    #[error("protocol: {0}")]
    Protocol(String),
    /// No endpoint could be reached (DNS, refused, timed out): what happened at the last.
    #[error("{0}")]
    Unreachable(String),
    /// The server refused TLS or its certificate, or a local TLS file is unusable: libpq stops
    /// there too.
    #[error("{0}")]
    Refused(String),
}

impl WireError {
    /// The SQLSTATE, when the server sent the error.
    pub(crate) fn code(&self) -> Option<&str> {
        match self {
            WireError::Server { code, .. } => Some(code),
            _ => None,
        }
    }

    fn from_server(body: &ErrorResponseBody) -> WireError {
        let (mut code, mut message) = (String::new(), String::new());
        let mut fields = body.fields();
        while let Ok(Some(field)) = fallible_iterator::FallibleIterator::next(&mut fields) {
            match field.type_() {
                b'C' => code = String::from_utf8_lossy(field.value_bytes()).into_owned(),
                b'M' => message = String::from_utf8_lossy(field.value_bytes()).into_owned(),
                _ => {}
            }
        }
        WireError::Server { code, message }
    }
}

/// One frontend message of the extended or simple protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Frontend<'a> {
    /// `Q`: a simple query, answered up to its ReadyForQuery.
    Query(&'a str),
    /// `P`: prepare `text` as the statement `name` (`""`: the unnamed statement), with these
    /// parameter type OIDs (0: let the server infer).
    Parse {
        name: &'a str,
        text: &'a str,
        param_types: &'a [u32],
    },
    /// `B`: bind the statement `name` to the unnamed portal with text parameters, the format
    /// codes as the driver sends them (0 text, 1 binary).
    Bind {
        name: &'a str,
        param_formats: &'a [i16],
        params: &'a [&'a str],
        result_formats: &'a [i16],
    },
    /// `D`: describe the statement `name` (`S`) or the unnamed portal (`P`).
    DescribeStatement {
        name: &'a str,
    },
    DescribePortal,
    /// `E`: run the unnamed portal, returning at most `max_rows` rows (0: all).
    Execute {
        max_rows: i32,
    },
    /// `C`: close the statement `name`.
    Close {
        name: &'a str,
    },
    /// `H`: ask for the answers so far without ending the batch (asyncpg waits on a prepare so).
    Flush,
    /// `S`: end of a batch; the server answers with ReadyForQuery.
    Sync,
}

impl Frontend<'_> {
    /// Whether the server answers this message with a ReadyForQuery (one round trip ends).
    fn ends_round_trip(self) -> bool {
        matches!(self, Frontend::Query(_) | Frontend::Sync)
    }

    fn encode(self, buf: &mut BytesMut) -> io::Result<()> {
        match self {
            Frontend::Query(text) => frontend::query(text, buf),
            Frontend::Parse {
                name,
                text,
                param_types,
            } => frontend::parse(name, text, param_types.iter().copied(), buf),
            Frontend::Bind {
                name,
                param_formats,
                params,
                result_formats,
            } => frontend::bind(
                "",
                name,
                param_formats.iter().copied(),
                params.iter(),
                |value, buf| {
                    buf.extend_from_slice(value.as_bytes());
                    Ok(postgres_protocol::IsNull::No)
                },
                result_formats.iter().copied(),
                buf,
            )
            .map_err(|error| match error {
                frontend::BindError::Serialization(error) => error,
                frontend::BindError::Conversion(error) => io::Error::other(error),
            }),
            Frontend::DescribeStatement { name } => frontend::describe(b'S', name, buf),
            Frontend::DescribePortal => frontend::describe(b'P', "", buf),
            Frontend::Execute { max_rows } => frontend::execute("", max_rows, buf),
            Frontend::Close { name } => frontend::close(b'S', name, buf),
            Frontend::Flush => {
                frontend::flush(buf);
                Ok(())
            }
            Frontend::Sync => {
                frontend::sync(buf);
                Ok(())
            }
        }
    }
}

/// The application's own time around the session's traffic (pool-bench's application model):
/// called on the thread that drives the session, it may block that thread, as the application's
/// Python blocks its event loop.
pub(crate) trait Pace: Send + Sync + std::fmt::Debug {
    /// Before each round trip is sent: the application's work to build and handle it.
    fn round_trip(&self);
    /// The request handler's own work while it holds the connection.
    fn handler(&self);
    /// Opening a connection (and, later, closing it): the driver's handshake in Python.
    fn connect(&self);
}

/// An open, authenticated session.
pub(crate) struct Session {
    stream: Box<dyn Io>,
    read: BytesMut,
    write: BytesMut,
    /// The backend's process id (`pg_backend_pid()`).
    pub(crate) process_id: i32,
    /// What the server reported at startup about being writable (PostgreSQL 14+ reports both):
    /// `default_transaction_read_only` and `in_hot_standby`.
    pub(crate) default_read_only: Option<bool>,
    pub(crate) hot_standby: Option<bool>,
    /// Round trips so far: each simple query, each Sync, and each flushed prepare the driver
    /// waits on.
    pub(crate) round_trips: u64,
    /// Statements run so far: each simple query and each Execute.
    pub(crate) statements: u64,
    /// The transaction status of the last ReadyForQuery: `I` idle, `T` in a transaction, `E`
    /// in a failed transaction.
    pub(crate) transaction_status: u8,
    /// Where [`Session::rows`] collects the rows of its exchange; `None` (pool-bench's
    /// requests): rows are read and dropped.
    collected: Option<Vec<Row>>,
    closed: bool,
    /// The application's time per round trip, when pool-bench models the application.
    pub(crate) pacer: Option<Arc<dyn Pace>>,
}

/// A row's values in text format (`None`: SQL NULL).
pub(crate) type Row = Vec<Option<String>>;

impl Session {
    /// Sends the startup message with `parameters` (user, database, and whatever the driver
    /// sends: application_name, options, its server settings), authenticates, and reads up to
    /// the first ReadyForQuery.
    pub(crate) async fn start(
        stream: Box<dyn Io>,
        parameters: &[(&str, &str)],
        user: &str,
        password: Option<&Secret>,
    ) -> Result<Session, WireError> {
        let mut session = Session {
            stream,
            read: BytesMut::with_capacity(8 * 1024),
            write: BytesMut::with_capacity(1024),
            process_id: 0,
            default_read_only: None,
            hot_standby: None,
            round_trips: 0,
            statements: 0,
            transaction_status: b'I',
            collected: None,
            closed: false,
            pacer: None,
        };
        frontend::startup_message(parameters.iter().copied(), &mut session.write)?;
        session.flush().await?;
        session.authenticate(user, password).await?;
        loop {
            match session.next_message().await? {
                Message::BackendKeyData(body) => session.process_id = body.process_id(),
                Message::ParameterStatus(body) => {
                    let on = body.value().ok().map(|value| value == "on");
                    match body.name() {
                        Ok("default_transaction_read_only") => session.default_read_only = on,
                        Ok("in_hot_standby") => session.hot_standby = on,
                        _ => {}
                    }
                }
                Message::ReadyForQuery(body) => {
                    session.transaction_status = body.status();
                    return Ok(session);
                }
                Message::ErrorResponse(body) => return Err(WireError::from_server(&body)),
                _ => {}
            }
        }
    }

    async fn authenticate(
        &mut self,
        user: &str,
        password: Option<&Secret>,
    ) -> Result<(), WireError> {
        loop {
            match self.next_message().await? {
                Message::AuthenticationOk => return Ok(()),
                Message::AuthenticationCleartextPassword => {
                    let password = password.ok_or(WireError::PasswordMissing)?;
                    frontend::password_message(password.expose().as_bytes(), &mut self.write)?;
                    self.flush().await?;
                }
                Message::AuthenticationMd5Password(body) => {
                    let password = password.ok_or(WireError::PasswordMissing)?;
                    let hash = postgres_protocol::authentication::md5_hash(
                        user.as_bytes(),
                        password.expose().as_bytes(),
                        body.salt(),
                    );
                    frontend::password_message(hash.as_bytes(), &mut self.write)?;
                    self.flush().await?;
                }
                Message::AuthenticationSasl(body) => {
                    let password = password.ok_or(WireError::PasswordMissing)?;
                    let mut mechanisms = body.mechanisms();
                    let mut scram = false;
                    while let Some(mechanism) =
                        fallible_iterator::FallibleIterator::next(&mut mechanisms)?
                    {
                        scram |= mechanism == sasl::SCRAM_SHA_256;
                    }
                    if !scram {
                        return Err(WireError::Protocol(
                            "the server offers no SASL mechanism dbtool knows (SCRAM-SHA-256)"
                                .into(),
                        ));
                    }
                    self.scram(password).await?;
                }
                Message::ErrorResponse(body) => return Err(WireError::from_server(&body)),
                _ => {
                    return Err(WireError::Protocol(
                        "unexpected message during authentication".into(),
                    ));
                }
            }
        }
    }

    /// SCRAM-SHA-256 without channel binding (libpq's `channel_binding=prefer` falls back to it).
    async fn scram(&mut self, password: &Secret) -> Result<(), WireError> {
        let mut scram =
            ScramSha256::new(password.expose().as_bytes(), ChannelBinding::unsupported());
        frontend::sasl_initial_response(sasl::SCRAM_SHA_256, scram.message(), &mut self.write)?;
        self.flush().await?;
        match self.next_message().await? {
            Message::AuthenticationSaslContinue(body) => scram.update(body.data())?,
            Message::ErrorResponse(body) => return Err(WireError::from_server(&body)),
            _ => {
                return Err(WireError::Protocol(
                    "unexpected message during SCRAM".into(),
                ));
            }
        }
        frontend::sasl_response(scram.message(), &mut self.write)?;
        self.flush().await?;
        match self.next_message().await? {
            Message::AuthenticationSaslFinal(body) => scram.finish(body.data())?,
            Message::ErrorResponse(body) => return Err(WireError::from_server(&body)),
            _ => {
                return Err(WireError::Protocol(
                    "unexpected message during SCRAM".into(),
                ));
            }
        }
        Ok(())
    }

    /// Sends `messages` as one write and reads every answer up to the ReadyForQuery of each
    /// round trip they end, or, for a batch that ends with a Flush (a prepare the driver waits
    /// on), up to the statement's description. The first server error is returned once the
    /// exchange is complete, so the session stays usable, as a driver's would after an error
    /// (after a failed flushed prepare the caller sends the Sync that ends the failed batch).
    pub(crate) async fn exchange(&mut self, messages: &[Frontend<'_>]) -> Result<(), WireError> {
        let start = self.write.len();
        for message in messages {
            if let Err(error) = message.encode(&mut self.write) {
                // Nothing half-encoded may reach the server: it would end the connection.
                self.write.truncate(start);
                return Err(WireError::Protocol(format!(
                    "cannot send this statement: {error}"
                )));
            }
        }
        let mut pending = messages.iter().filter(|m| m.ends_round_trip()).count();
        let extended = messages.contains(&Frontend::Sync);
        let flushed = pending == 0 && messages.last() == Some(&Frontend::Flush);
        self.statements += messages
            .iter()
            .filter(|m| matches!(m, Frontend::Query(_) | Frontend::Execute { .. }))
            .count() as u64;
        if let Some(pacer) = &self.pacer {
            pacer.round_trip();
        }
        self.flush().await?;
        if flushed {
            self.round_trips += 1;
            return loop {
                match self.next_message().await? {
                    Message::RowDescription(_) | Message::NoData => break Ok(()),
                    Message::ErrorResponse(body) => break Err(WireError::from_server(&body)),
                    _ => {}
                }
            };
        }
        let mut failure = None;
        while pending > 0 {
            match self.next_message().await? {
                Message::ReadyForQuery(body) => {
                    pending -= 1;
                    self.round_trips += 1;
                    self.transaction_status = body.status();
                }
                Message::ErrorResponse(body) if failure.is_none() => {
                    failure = Some(WireError::from_server(&body));
                }
                Message::DataRow(body) if self.collected.is_some() => {
                    let row = text_values(&body)?;
                    self.collected.get_or_insert_with(Vec::new).push(row);
                }
                // COPY ... FROM STDIN waits for data a benchmark does not have: refuse it, as a
                // driver without data would, and the server answers with an error.
                Message::CopyInResponse(_) => {
                    frontend::copy_fail("pool-bench sends no COPY data", &mut self.write)?;
                    // In the extended protocol the batch's Sync was ignored during COPY: the
                    // server discards until the next one.
                    if extended {
                        frontend::sync(&mut self.write);
                    }
                    self.flush().await?;
                }
                _ => {}
            }
        }
        failure.map_or(Ok(()), Err)
    }

    /// Whether this server satisfies `target_session_attrs`, from what it reported at startup,
    /// as libpq 14+ decides it (a server that reports neither is taken as writable primary).
    fn satisfies(&self, attrs: SessionAttrs) -> bool {
        let hot_standby = self.hot_standby.unwrap_or(false);
        let read_only = self.default_read_only.unwrap_or(false) || hot_standby;
        attrs.accepts(read_only, hot_standby)
    }

    /// The request handler's own work on the application's loop (nothing without a pacer).
    pub(crate) fn handler_work(&self) {
        if let Some(pacer) = &self.pacer {
            pacer.handler();
        }
    }

    /// A simple query, answered up to its ReadyForQuery.
    pub(crate) async fn simple(&mut self, text: &str) -> Result<(), WireError> {
        self.exchange(&[Frontend::Query(text)]).await
    }

    /// [`Session::exchange`], keeping the rows the server sends (in text format: the caller
    /// binds with text result formats).
    pub(crate) async fn rows(&mut self, messages: &[Frontend<'_>]) -> Result<Vec<Row>, WireError> {
        self.collected = Some(Vec::new());
        let result = self.exchange(messages).await;
        let rows = self.collected.take().unwrap_or_default();
        result.map(|()| rows)
    }

    /// Whether the connection has been lost.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed
    }

    /// What the other end sent while the session sat idle, read without sending anything: the
    /// error a server or pooler sends before it closes an idle session (PostgreSQL's 57P05 for
    /// `idle_session_timeout`), or the end of the stream or a reset; `None` when nothing came.
    pub(crate) async fn closed_while_idle(&mut self) -> Option<WireError> {
        let mut error = None;
        loop {
            let next =
                tokio::time::timeout(std::time::Duration::from_millis(5), self.next_message());
            match next.await {
                Err(_) => return error,
                Ok(Ok(Message::ErrorResponse(body))) => {
                    error.get_or_insert(WireError::from_server(&body));
                }
                Ok(Ok(_)) => {}
                Ok(Err(lost)) => return Some(error.unwrap_or(lost)),
            }
        }
    }

    /// Says goodbye (`X`) and shuts the stream down, keeping the session (for a caller that
    /// holds it by reference).
    pub(crate) async fn close(&mut self) {
        frontend::terminate(&mut self.write);
        let _ = self.flush().await;
        let _ = self.stream.shutdown().await;
        self.closed = true;
    }

    /// Says goodbye (`X`) and closes the stream.
    pub(crate) async fn terminate(mut self) {
        frontend::terminate(&mut self.write);
        let _ = self.flush().await;
        let _ = self.stream.shutdown().await;
    }

    async fn flush(&mut self) -> Result<(), WireError> {
        let result = self.stream.write_all(&self.write).await;
        self.write.clear();
        result.map_err(|error| self.lost(error))
    }

    /// The next backend message, reading more from the stream as needed.
    async fn next_message(&mut self) -> Result<Message, WireError> {
        loop {
            match Message::parse(&mut self.read) {
                Ok(Some(message)) => return Ok(message),
                Ok(None) => {}
                // A message that cannot be read leaves the stream out of step: the session is lost.
                Err(error) => return Err(self.lost(error)),
            }
            if self.read.capacity() - self.read.len() < 4096 {
                self.read.reserve(8 * 1024);
            }
            match self.stream.read_buf(&mut self.read).await {
                Ok(0) => {
                    return Err(self.lost(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the server closed the connection",
                    )));
                }
                Ok(_) => {}
                Err(error) => return Err(self.lost(error)),
            }
        }
    }

    fn lost(&mut self, error: io::Error) -> WireError {
        self.closed = true;
        WireError::Io(error)
    }
}

/// A DataRow's values as text.
fn text_values(body: &postgres_protocol::message::backend::DataRowBody) -> Result<Row, WireError> {
    let buffer = body.buffer();
    let mut values = Vec::new();
    let mut ranges = body.ranges();
    while let Some(range) = fallible_iterator::FallibleIterator::next(&mut ranges)? {
        values.push(range.map(|range| String::from_utf8_lossy(&buffer[range]).into_owned()));
    }
    Ok(values)
}
