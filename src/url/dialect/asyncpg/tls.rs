//! asyncpg's TLS mode: `ssl`, else `PGSSLMODE`, else prefer with a TCP host (disable with only
//! sockets); the root certificate asyncpg needs before connecting for verify-ca and verify-full;
//! `direct_tls`/`PGSSLNEGOTIATION` and the TLS protocol versions it parses.

use super::{AsyncpgAddr, given, truthy};
use crate::environment::Environment;
use crate::url::Origin;
use crate::url::dialect::{Kwargs, PyValue};

pub(in crate::url::dialect) const SSL_MODES: [&str; 6] = [
    "disable",
    "allow",
    "prefer",
    "require",
    "verify-ca",
    "verify-full",
];

/// The mode asyncpg settles on, and where it came from.
pub(super) fn mode(
    kwargs: &Kwargs,
    env: &Environment,
    addrs: &[AsyncpgAddr],
) -> Result<(&'static str, Origin), String> {
    let get = |key: &str| given(kwargs, key);
    let have_tcp = addrs.iter().any(|a| matches!(a, AsyncpgAddr::Tcp(..)));
    let (ssl, sslmode_origin) = match get("ssl") {
        Some(PyValue::Str(text)) => (Some(text.clone()), Origin::Url),
        // Not a str (a repeated key's tuple): asyncpg takes it for "no TLS" here.
        Some(_) => (None, Origin::Url),
        None => match env.asyncpg("PGSSLMODE") {
            Some(mode) => (Some(mode), Origin::Env("PGSSLMODE")),
            None => (have_tcp.then(|| "prefer".to_string()), Origin::Default),
        },
    };
    // `direct_tls` (any truthy value), else PGSSLNEGOTIATION.
    let direct = match get("direct_tls") {
        Some(value) => truthy(value),
        None => match env.asyncpg("PGSSLNEGOTIATION").as_deref() {
            None | Some("postgres") => false,
            Some("direct") => true,
            Some(_) => {
                return Err(
                    "ClientConfigurationError: `sslnegotiation` parameter must be one of: postgres, direct"
                        .into(),
                );
            }
        },
    };
    let sslmode = match ssl {
        None => "disable",
        Some(text) => {
            // `SSLMode.parse`: `getattr(SSLMode, text.replace("-", "_"))`.
            let wanted = text.replace('-', "_");
            let mode = SSL_MODES
                .into_iter()
                .find(|m| m.replace('-', "_") == wanted)
                .ok_or_else(|| {
                    format!(
                        "ClientConfigurationError: `sslmode` parameter must be one of: {}",
                        SSL_MODES.join(", ")
                    )
                })?;
            if mode == "verify-ca" || mode == "verify-full" {
                let configured = env.asyncpg("PGSSLROOTCERT").filter(|c| !c.is_empty());
                if configured.is_none() {
                    // `pathlib.Path.home()`: `$HOME` as set.
                    let file = env.home().unwrap_or_default().join(".postgresql/root.crt");
                    if !file.is_file() {
                        let path = file.display();
                        return Err(format!(
                            "ClientConfigurationError: root certificate file \"{path}\" does not exist or cannot be accessed"
                        ));
                    }
                }
            }
            if mode != "disable" {
                for variable in ["PGSSLMINPROTOCOLVERSION", "PGSSLMAXPROTOCOLVERSION"] {
                    if let Some(version) = env.asyncpg(variable).filter(|v| !v.is_empty()) {
                        tls_version(&version)?;
                    }
                }
            }
            mode
        }
    };
    if direct && SSL_MODES.iter().position(|m| *m == sslmode) < Some(3) {
        return Err(
            "ClientConfigurationError: direct TLS requires sslmode=require, verify-ca, or verify-full"
                .into(),
        );
    }
    Ok((sslmode, sslmode_origin))
}

/// `_parse_tls_version`: a name of Python's `ssl.TLSVersion`, dots for underscores.
fn tls_version(version: &str) -> Result<(), String> {
    const VERSIONS: [&str; 7] = [
        "MINIMUM_SUPPORTED",
        "SSLv3",
        "TLSv1",
        "TLSv1_1",
        "TLSv1_2",
        "TLSv1_3",
        "MAXIMUM_SUPPORTED",
    ];
    if version.starts_with("SSL") {
        return Err(format!(
            "ClientConfigurationError: Unsupported TLS version: {version}"
        ));
    }
    if !VERSIONS.contains(&version.replace('.', "_").as_str()) {
        return Err(format!(
            "ClientConfigurationError: No such TLS version: {version}"
        ));
    }
    Ok(())
}
