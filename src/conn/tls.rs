//! TLS as libpq's sslmode asks for it, on rustls.
//!
//! | sslmode | TLS | verifies |
//! |---|---|---|
//! | disable | never | - |
//! | allow, prefer | if the server offers it | nothing |
//! | require | always | the chain, only when `sslrootcert` is given (as libpq does) |
//! | verify-ca | always | the chain against `sslrootcert` |
//! | verify-full | always | the chain and the host name |
//!
//! `sslrootcert=system` uses the operating system's roots and implies verify-full.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::exit::invalid;

pub use crate::conn::target::SslMode;

/// The TLS files a connection names.
#[derive(Debug, Clone, Default)]
pub struct TlsFiles {
    pub sslrootcert: Option<String>,
    pub sslcert: Option<String>,
    pub sslkey: Option<String>,
}

/// Builds the rustls connector for a mode; returns the mode in force (system roots imply verify-full).
pub fn connector(
    mode: SslMode,
    files: &TlsFiles,
) -> Result<(MakeRustlsConnect, SslMode, Arc<ClientConfig>)> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let system = files.sslrootcert.as_deref() == Some("system");
    let mode = if system { SslMode::VerifyFull } else { mode };
    let root_file = files
        .sslrootcert
        .clone()
        .filter(|p| p != "system")
        .map(PathBuf::from)
        .or_else(|| {
            matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull)
                .then(|| {
                    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".postgresql/root.crt"))
                })
                .flatten()
        });
    let verify_chain = matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull)
        || (mode == SslMode::Require && files.sslrootcert.is_some());
    let builder = ClientConfig::builder();
    let builder = if verify_chain {
        let roots = if system {
            system_roots()?
        } else {
            file_roots(root_file.as_ref())?
        };
        let webpki = WebPkiServerVerifier::builder(Arc::new(roots))
            .build()
            .context("building the TLS verifier")?;
        let verifier: Arc<dyn ServerCertVerifier> = if mode == SslMode::VerifyFull {
            webpki
        } else {
            Arc::new(ChainOnly(webpki))
        };
        builder
            .dangerous()
            .with_custom_certificate_verifier(verifier)
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification))
    };
    let config = match (&files.sslcert, &files.sslkey) {
        (Some(cert), Some(key)) => {
            let certs = read_certs(cert)?;
            let key = rustls_pemfile::private_key(&mut read_file(key)?.as_slice())
                .with_context(|| format!("reading the client key {key}"))?
                .ok_or_else(|| invalid(format!("no private key in {key}")))?;
            builder
                .with_client_auth_cert(certs, key)
                .context("using the client certificate")?
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(invalid(
                "sslcert and sslkey go together: give both or neither",
            ));
        }
        (None, None) => builder.with_no_client_auth(),
    };
    Ok((
        MakeRustlsConnect::new(config.clone()),
        mode,
        Arc::new(config),
    ))
}

fn read_file(path: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        invalid(format!(
            "cannot read {path}: {e}; check the path in the URL"
        ))
    })
}

fn read_certs(path: &str) -> Result<Vec<CertificateDer<'static>>> {
    let bytes = read_file(path)?;
    let certs: Vec<_> = rustls_pemfile::certs(&mut bytes.as_slice())
        .collect::<Result<_, _>>()
        .map_err(|e| invalid(format!("cannot parse certificates in {path}: {e}")))?;
    if certs.is_empty() {
        return Err(invalid(format!("no PEM certificate in {path}")));
    }
    Ok(certs)
}

fn file_roots(path: Option<&PathBuf>) -> Result<RootCertStore> {
    let path = path.ok_or_else(|| {
        invalid("verify-ca and verify-full need sslrootcert (or ~/.postgresql/root.crt)")
    })?;
    let shown = path.display().to_string();
    if !path.exists() {
        return Err(invalid(format!(
            "root certificate file {shown} does not exist: give the server's CA as sslrootcert=PATH, or \
             sslrootcert=system"
        )));
    }
    let mut roots = RootCertStore::empty();
    for cert in read_certs(&shown)? {
        roots
            .add(cert)
            .map_err(|e| invalid(format!("bad root certificate in {shown}: {e}")))?;
    }
    Ok(roots)
}

fn system_roots() -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if roots.is_empty() {
        return Err(invalid(
            "sslrootcert=system but the system has no root certificates",
        ));
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
