//! TLS as libpq sets it up (`initialize_SSL()` in fe-secure-openssl.c) and retries it
//! (`PQconnectPoll()` in fe-connect.c), on rustls.
//!
//! | sslmode | tries over one host | verifies |
//! |---|---|---|
//! | disable | without TLS | - |
//! | allow | without TLS; after the server refuses, once more with TLS | as prefer |
//! | prefer | TLS (without, if the server has none); after a TLS failure or a refusal over TLS, once more without | the chain, when a root certificate file exists |
//! | require | TLS | the chain, when a root certificate file exists |
//! | verify-ca | TLS | the chain; the root certificate file must exist |
//! | verify-full | TLS | the chain and the host name; the root certificate file must exist |
//!
//! The root certificate file is `sslrootcert`, else `~/.postgresql/root.crt`; the client
//! certificate `sslcert`, else `~/.postgresql/postgresql.crt`, used when it exists, with its key
//! `sslkey`, else `~/.postgresql/postgresql.key`. As in libpq, these files are read only when
//! TLS starts: a problem with them fails that try (and `prefer` goes on without TLS), not the
//! URL. Never over Unix sockets. `~` is the home directory of the user's passwd entry (libpq up to
//! 17), or `$HOME` first (18). `sslrootcert=system` is the system's roots with verify-full in libpq
//! 16+ (a weaker sslmode given explicitly is an error), a file named `system` before.
//!
//! asyncpg (`connect_utils.py`, 0.32) has its own rules, [`ClientRules::Asyncpg`]: its `ssl`
//! argument (else PGSSLMODE, else prefer) chooses the mode; allow and prefer never verify;
//! require verifies the chain when `PGSSLROOTCERT` or `~/.postgresql/root.crt` (`~` is `$HOME`)
//! exists; a root file verify-* needs, or a `PGSSLROOTCERT` that does not exist, fails before
//! connecting; `allow` retries with TLS and `prefer` without after an authentication error
//! (SQLSTATE class 28) only, never after a TLS failure, and allow's TLS retry does not take a
//! server without TLS.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Result;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::environment::Environment;
use crate::exit::invalid;

pub(crate) use crate::conn::target::SslMode;

/// The libpq major version whose rules apply (check-url's and ping's `--libpq-version`).
pub(crate) const LATEST_LIBPQ: u32 = 18;

/// Whose connection rules apply: libpq's of this major version (psycopg, psycopg2), or asyncpg's
/// with its `ssl` argument (`None`: not given).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientRules {
    Libpq(u32),
    Asyncpg { ssl: Option<SslMode> },
}

impl ClientRules {
    pub(crate) fn describe(self) -> String {
        match self {
            ClientRules::Libpq(major) => format!("libpq {major} rules"),
            ClientRules::Asyncpg { .. } => "asyncpg rules".into(),
        }
    }
}

/// The TLS files a connection names.
#[derive(Debug, Clone, Default)]
pub(crate) struct TlsFiles {
    pub(crate) sslrootcert: Option<String>,
    pub(crate) sslcert: Option<String>,
    pub(crate) sslkey: Option<String>,
}

/// What the server's certificate is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verification {
    Nothing,
    Chain,
    ChainAndHostName,
}

/// Whether one try runs over TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encryption {
    Plain,
    Tls,
}

/// How a try failed, as far as libpq's retry rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TryFailure {
    /// The server agreed to TLS, then the handshake or a local TLS file failed.
    Tls,
    /// The server answered the startup message with an error.
    Refused,
}

impl SslMode {
    /// The first try over a TCP connection.
    pub(crate) fn first_try(self) -> Encryption {
        match self {
            SslMode::Disable | SslMode::Allow => Encryption::Plain,
            _ => Encryption::Tls,
        }
    }

    /// libpq's one retry on a new connection: `allow` with TLS after a refusal without it,
    /// `prefer` without TLS after a TLS failure or a refusal over TLS.
    pub(crate) fn retry(self, encrypted: bool, failure: TryFailure) -> Option<Encryption> {
        self.retry_as(ClientRules::Libpq(LATEST_LIBPQ), encrypted, failure, "")
    }

    /// [`SslMode::retry`] by these rules: asyncpg retries only after an authentication error
    /// (SQLSTATE class 28, `code`), never after a TLS failure.
    pub(crate) fn retry_as(
        self,
        rules: ClientRules,
        encrypted: bool,
        failure: TryFailure,
        code: &str,
    ) -> Option<Encryption> {
        if matches!(rules, ClientRules::Asyncpg { .. })
            && (failure == TryFailure::Tls || !code.starts_with("28"))
        {
            return None;
        }
        match (self, encrypted, failure) {
            (SslMode::Allow, false, TryFailure::Refused) => Some(Encryption::Tls),
            (SslMode::Allow, ..) => None,
            (SslMode::Prefer, true, _) => Some(Encryption::Plain),
            _ => None,
        }
    }
}

/// TLS for a target, as libpq will set it up when a server agrees to TLS.
#[derive(Debug, Clone)]
pub(crate) struct TlsSetup {
    pub(crate) mode: SslMode,
    pub(crate) verification: Verification,
    /// Whose rules were applied.
    pub(crate) rules: ClientRules,
    /// The rustls configuration, or the local problem libpq reports when TLS starts.
    pub(crate) config: Result<Arc<ClientConfig>, String>,
}

impl TlsSetup {
    /// What is verified, for the tls stage's detail.
    pub(crate) fn describe(&self) -> String {
        let verified = match self.verification {
            Verification::ChainAndHostName => "certificate and host name verified",
            Verification::Chain if self.mode == SslMode::VerifyCa => {
                "certificate chain verified, host name not checked"
            }
            Verification::Chain => {
                "certificate chain verified (a root certificate is configured), host name not checked"
            }
            Verification::Nothing => "certificate not verified",
        };
        format!(
            "{verified}, sslmode={}, {}",
            self.mode.name(),
            self.rules.describe()
        )
    }

    /// Whether a server without TLS is taken unencrypted on a TLS try: libpq's allow and prefer;
    /// asyncpg's prefer only (its allow retry fails with "rejected SSL upgrade").
    pub(crate) fn takes_a_server_without_tls(&self) -> bool {
        match self.rules {
            ClientRules::Libpq(_) => matches!(self.mode, SslMode::Allow | SslMode::Prefer),
            ClientRules::Asyncpg { .. } => self.mode == SslMode::Prefer,
        }
    }
}

/// Sets TLS up as libpq would: `explicit` says whether the URL or PGSSLMODE set the mode (libpq
/// 16+ rejects a weaker one with `sslrootcert=system`). Fails only where libpq fails before
/// connecting.
pub(crate) fn setup(
    mode: SslMode,
    explicit: bool,
    files: &TlsFiles,
    rules: ClientRules,
    env: &Environment,
) -> Result<TlsSetup> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let libpq = match rules {
        ClientRules::Libpq(major) => major,
        ClientRules::Asyncpg { ssl } => return asyncpg_setup(ssl, env),
    };
    let system = libpq >= 16 && files.sslrootcert.as_deref() == Some("system");
    let mode = match (system, explicit) {
        (true, false) => SslMode::VerifyFull,
        (true, true) if mode != SslMode::VerifyFull => {
            return Err(invalid(format!(
                "weaker sslmode \"{}\" may not be used with sslrootcert=system (use \"verify-full\"), as libpq {libpq} says",
                mode.name()
            )));
        }
        _ => mode,
    };
    let home = home_dir(env, libpq);
    let in_home = |name: &str| home.as_ref().map(|h| h.join(".postgresql").join(name));
    let roots = if system {
        Roots::System
    } else {
        let file = match &files.sslrootcert {
            Some(path) if !path.is_empty() => Some(PathBuf::from(path)),
            _ => in_home("root.crt"),
        };
        match file {
            Some(file) if file.exists() => Roots::File(file),
            file => Roots::Missing(file),
        }
    };
    let verification = match (&roots, mode) {
        (Roots::Missing(_), _) => Verification::Nothing,
        (_, SslMode::VerifyFull) => Verification::ChainAndHostName,
        _ => Verification::Chain,
    };
    let config = client_config(mode, verification, &roots, files, &in_home);
    Ok(TlsSetup {
        mode,
        verification,
        rules,
        config: config.map(Arc::new),
    })
}

/// asyncpg's `_parse_connect_dsn_and_args()`: the mode from `ssl`, else PGSSLMODE, else prefer;
/// root files checked before connecting.
fn asyncpg_setup(ssl: Option<SslMode>, env: &Environment) -> Result<TlsSetup> {
    // asyncpg's `sslmode or 'prefer'`: an empty PGSSLMODE is no mode, as libpq reads it.
    let mode = match ssl {
        Some(mode) => mode,
        None => match env.libpq("PGSSLMODE") {
            Some(text) => SslMode::parse_text(&text).map_err(invalid)?,
            None => SslMode::Prefer,
        },
    };
    let home = home_dir(env, LATEST_LIBPQ);
    let in_home = |name: &str| home.as_ref().map(|h| h.join(".postgresql").join(name));
    let roots = match (mode, env.libpq("PGSSLROOTCERT")) {
        (SslMode::Disable | SslMode::Allow | SslMode::Prefer, _) => Roots::Missing(None),
        (_, Some(path)) if Path::new(&path).exists() => Roots::File(PathBuf::from(path)),
        (_, Some(path)) => {
            return Err(invalid(format!(
                "asyncpg: PGSSLROOTCERT {path} does not exist (FileNotFoundError before connecting)"
            )));
        }
        (_, None) => match in_home("root.crt") {
            Some(file) if file.exists() => Roots::File(file),
            file => Roots::Missing(file),
        },
    };
    if let Roots::Missing(file) = &roots
        && matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull)
    {
        let shown = file
            .as_ref()
            .map_or("~/.postgresql/root.crt".into(), |f| f.display().to_string());
        return Err(invalid(format!(
            "asyncpg: root certificate file \"{shown}\" does not exist or cannot be accessed: put the server's CA there or in PGSSLROOTCERT"
        )));
    }
    let verification = match (&roots, mode) {
        (Roots::Missing(_), _) => Verification::Nothing,
        (_, SslMode::VerifyFull) => Verification::ChainAndHostName,
        _ => Verification::Chain,
    };
    let files = TlsFiles {
        sslrootcert: None,
        sslcert: env.asyncpg("PGSSLCERT"),
        sslkey: env.asyncpg("PGSSLKEY"),
    };
    let config = client_config(mode, verification, &roots, &files, &in_home).map_err(invalid)?;
    Ok(TlsSetup {
        mode,
        verification,
        rules: ClientRules::Asyncpg { ssl },
        config: Ok(Arc::new(config)),
    })
}

/// What asyncpg reads of the environment that makes it differ from libpq.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct AsyncpgFiles {
    /// `PGSSLROOTCERT` or `~/.postgresql/root.crt` exists.
    pub(crate) root_file: bool,
    /// `PGSSLROOTCERT` names a file that does not exist.
    pub(crate) missing_pgsslrootcert: bool,
}

impl AsyncpgFiles {
    /// The files this environment names, as asyncpg reads it.
    pub(crate) fn of(env: &Environment) -> AsyncpgFiles {
        let named = env.libpq("PGSSLROOTCERT");
        let home_root = home_dir(env, LATEST_LIBPQ).map(|h| h.join(".postgresql/root.crt"));
        AsyncpgFiles {
            root_file: named
                .as_ref()
                .map(PathBuf::from)
                .or(home_root)
                .is_some_and(|f| f.exists()),
            missing_pgsslrootcert: named.is_some_and(|f| !Path::new(&f).exists()),
        }
    }
}

/// Where asyncpg with `ssl` (`None`: not given, prefer) connects differently from libpq with the
/// same sslmode, here: one sentence each, for check-url's and ping's findings.
pub(crate) fn asyncpg_differences(ssl: Option<SslMode>, files: AsyncpgFiles) -> Vec<String> {
    let mode = ssl.unwrap_or(SslMode::Prefer);
    let name = mode.name();
    let mut differences = Vec::new();
    if matches!(mode, SslMode::Allow | SslMode::Prefer) && files.root_file {
        differences.push(format!(
            "a root certificate is configured, so libpq (psycopg) verifies the server's certificate even with sslmode={name}, but asyncpg's ssl={name} never does"
        ));
    }
    if mode == SslMode::Allow {
        differences.push(
            "asyncpg's ssl=allow retries with TLS only after an authentication error (SQLSTATE 28xxx), and that retry fails on a server without TLS; libpq retries after any refusal and takes a server without TLS"
                .into(),
        );
    }
    if matches!(
        mode,
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull
    ) && files.missing_pgsslrootcert
    {
        differences.push(format!(
            "PGSSLROOTCERT names a file that does not exist: asyncpg fails before connecting{}",
            if mode == SslMode::Require {
                ", libpq with sslmode=require goes on without verifying"
            } else {
                ""
            }
        ));
    }
    if matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull) && !files.root_file {
        differences.push(
            "without a root certificate asyncpg fails before connecting, even over a Unix socket or to a server without TLS; libpq fails only when TLS starts"
                .into(),
        );
    }
    differences
}

/// Where the trusted roots come from.
enum Roots {
    System,
    File(PathBuf),
    /// No file (or no home directory to look in).
    Missing(Option<PathBuf>),
}

/// libpq's `pqGetHomeDirectory()`: the passwd entry's home, `$HOME` first from libpq 18.
fn home_dir(env: &Environment, libpq: u32) -> Option<PathBuf> {
    let env_home = || env.home().filter(|h| !h.as_os_str().is_empty());
    if libpq >= 18
        && let Some(home) = env_home()
    {
        return Some(home);
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let uid = unsafe { libc::geteuid() };
    passwd_home(uid).or_else(env_home)
}

fn passwd_home(uid: u32) -> Option<PathBuf> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        let id: u32 = fields.get(2)?.parse().ok()?;
        (id == uid)
            .then(|| fields.get(5).map(PathBuf::from))
            .flatten()
    })
}

/// The rustls configuration, or libpq's complaint about a TLS file.
fn client_config(
    mode: SslMode,
    verification: Verification,
    roots: &Roots,
    files: &TlsFiles,
    in_home: &dyn Fn(&str) -> Option<PathBuf>,
) -> Result<ClientConfig, String> {
    let builder = ClientConfig::builder();
    let builder = match roots {
        Roots::Missing(file) if matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull) => {
            return Err(match file {
                Some(file) => format!(
                    "root certificate file \"{}\" does not exist: give the server's CA as sslrootcert=PATH, or lower sslmode",
                    file.display()
                ),
                None => "could not get home directory to locate root certificate file: give sslrootcert=PATH".into(),
            });
        }
        Roots::Missing(_) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification)),
        Roots::System | Roots::File(_) => {
            let store = match roots {
                Roots::File(file) => file_roots(file)?,
                _ => system_roots()?,
            };
            let webpki = WebPkiServerVerifier::builder(Arc::new(store))
                .build()
                .map_err(|e| format!("building the TLS verifier: {e}"))?;
            let verifier: Arc<dyn ServerCertVerifier> =
                if verification == Verification::ChainAndHostName {
                    webpki
                } else {
                    Arc::new(ChainOnly(webpki))
                };
            builder
                .dangerous()
                .with_custom_certificate_verifier(verifier)
        }
    };
    let cert_file = match &files.sslcert {
        Some(path) if !path.is_empty() => Some(PathBuf::from(path)),
        _ => in_home("postgresql.crt"),
    };
    let Some(cert_file) = cert_file.filter(|f| f.exists()) else {
        return Ok(builder.with_no_client_auth());
    };
    let key_file = match &files.sslkey {
        Some(path) if !path.is_empty() => Some(PathBuf::from(path)),
        _ => in_home("postgresql.key"),
    }
    .filter(|f| f.exists())
    .ok_or_else(|| {
        format!(
            "certificate present, but not private key file (sslcert {}): give sslkey=PATH",
            cert_file.display()
        )
    })?;
    check_key_mode(&key_file)?;
    let certs = read_certs(&cert_file)?;
    let key_text = read_file(&key_file)?;
    let key = rustls_pemfile::private_key(&mut key_text.as_slice())
        .map_err(|e| {
            format!(
                "could not load private key file {}: {e}",
                key_file.display()
            )
        })?
        .ok_or_else(|| {
            format!(
                "could not load private key file {}: no key in it",
                key_file.display()
            )
        })?;
    builder
        .with_client_auth_cert(certs, key)
        .map_err(|e| format!("using the client certificate {}: {e}", cert_file.display()))
}

/// libpq refuses a key others can read: 0600 for the owner, 0640 when root owns it.
fn check_key_mode(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path)
        .map_err(|e| format!("could not open private key file {}: {e}", path.display()))?;
    let allowed = if meta.uid() == 0 { 0o640 } else { 0o600 };
    if meta.mode() & 0o777 & !allowed != 0 {
        return Err(format!(
            "private key file {} has group or world access (mode {:o}); run chmod 600 {}",
            path.display(),
            meta.mode() & 0o777,
            path.display()
        ));
    }
    Ok(())
}

fn read_file(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| {
        format!(
            "cannot read {}: {e}; check the path in the URL",
            path.display()
        )
    })
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let bytes = read_file(path)?;
    let certs: Vec<_> = rustls_pemfile::certs(&mut bytes.as_slice())
        .collect::<Result<_, _>>()
        .map_err(|e| format!("could not read certificate file {}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "could not read certificate file {}: no PEM certificate in it",
            path.display()
        ));
    }
    Ok(certs)
}

fn file_roots(path: &Path) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    for cert in read_certs(path)? {
        roots.add(cert).map_err(|e| {
            format!(
                "could not read root certificate file {}: {e}",
                path.display()
            )
        })?;
    }
    Ok(roots)
}

fn system_roots() -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if roots.is_empty() {
        return Err("sslrootcert=system but the system has no root certificates".into());
    }
    Ok(roots)
}

/// libpq's verify-ca: the chain must be valid, the host name is not checked.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName))
            | Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// libpq's prefer and require without a root certificate: encryption without authentication.
#[derive(Debug)]
struct NoVerification;

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &provider().signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &provider().signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libpq_retries_once_allow_with_tls_and_prefer_without() {
        use Encryption::{Plain, Tls};
        use TryFailure::Refused;
        let handshake = TryFailure::Tls;
        assert_eq!(SslMode::Allow.first_try(), Plain);
        assert_eq!(SslMode::Prefer.first_try(), Tls);
        assert_eq!(SslMode::Allow.retry(false, Refused), Some(Tls));
        assert_eq!(SslMode::Allow.retry(true, Refused), None);
        assert_eq!(SslMode::Prefer.retry(true, handshake), Some(Plain));
        assert_eq!(SslMode::Prefer.retry(true, Refused), Some(Plain));
        assert_eq!(SslMode::Prefer.retry(false, Refused), None);
        for mode in [
            SslMode::Disable,
            SslMode::Require,
            SslMode::VerifyCa,
            SslMode::VerifyFull,
        ] {
            assert_eq!(mode.retry(true, handshake), None);
            assert_eq!(mode.retry(false, Refused), None);
        }
        let asyncpg = ClientRules::Asyncpg { ssl: None };
        assert_eq!(SslMode::Prefer.retry_as(asyncpg, true, handshake, ""), None);
        assert_eq!(
            SslMode::Prefer.retry_as(asyncpg, true, Refused, "3D000"),
            None
        );
        assert_eq!(
            SslMode::Prefer.retry_as(asyncpg, true, Refused, "28000"),
            Some(Plain)
        );
        assert_eq!(
            SslMode::Allow.retry_as(asyncpg, false, Refused, "28P01"),
            Some(Tls)
        );
    }

    fn files(root: &str) -> TlsFiles {
        TlsFiles {
            sslrootcert: Some(root.into()),
            ..Default::default()
        }
    }

    #[test]
    fn asyncpg_differences_name_what_asyncpg_does_otherwise() {
        let root = AsyncpgFiles {
            root_file: true,
            missing_pgsslrootcert: false,
        };
        let prefer = asyncpg_differences(None, root);
        assert!(prefer[0].contains("never does"), "{prefer:?}");
        assert!(asyncpg_differences(None, AsyncpgFiles::default()).is_empty());
        assert!(asyncpg_differences(Some(SslMode::Disable), root).is_empty());
        let strict = asyncpg_differences(Some(SslMode::VerifyFull), AsyncpgFiles::default());
        assert!(strict[0].contains("before connecting"), "{strict:?}");
        assert!(asyncpg_differences(Some(SslMode::Require), root).is_empty());
    }

    #[test]
    fn sslrootcert_system_depends_on_the_libpq_version() {
        let newer = setup(
            SslMode::Prefer,
            false,
            &files("system"),
            ClientRules::Libpq(16),
            &Environment::empty(),
        )
        .unwrap();
        assert_eq!(newer.mode, SslMode::VerifyFull);
        assert!(
            setup(
                SslMode::Require,
                true,
                &files("system"),
                ClientRules::Libpq(16),
                &Environment::empty(),
            )
            .is_err()
        );
        let older = setup(
            SslMode::Prefer,
            false,
            &files("system"),
            ClientRules::Libpq(15),
            &Environment::empty(),
        )
        .unwrap();
        assert_eq!(
            (older.mode, older.verification),
            (SslMode::Prefer, Verification::Nothing)
        );
        let strict = setup(
            SslMode::VerifyCa,
            true,
            &files("system"),
            ClientRules::Libpq(15),
            &Environment::empty(),
        )
        .unwrap();
        assert!(
            strict
                .config
                .unwrap_err()
                .contains("\"system\" does not exist")
        );
    }

    #[test]
    fn a_root_certificate_file_that_exists_turns_verification_on_in_every_mode() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("none.crt").display().to_string();
        let lax = setup(
            SslMode::Require,
            true,
            &files(&missing),
            ClientRules::Libpq(15),
            &Environment::empty(),
        )
        .unwrap();
        assert_eq!(lax.verification, Verification::Nothing);
        assert!(
            lax.config.is_ok(),
            "a missing root file is no error below verify-ca"
        );
        let ca = rcgen::generate_simple_self_signed(vec!["ca".to_string()]).unwrap();
        let path = dir.path().join("ca.crt");
        std::fs::write(&path, ca.cert.pem()).unwrap();
        for mode in [
            SslMode::Allow,
            SslMode::Prefer,
            SslMode::Require,
            SslMode::VerifyCa,
        ] {
            let set = setup(
                mode,
                true,
                &files(&path.display().to_string()),
                ClientRules::Libpq(15),
                &Environment::empty(),
            )
            .unwrap();
            assert_eq!(set.verification, Verification::Chain, "{mode:?}");
        }
    }
}
