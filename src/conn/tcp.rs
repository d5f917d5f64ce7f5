//! The TCP socket options a driver sets on its connections: libpq's keepalives (on by default,
//! with the kernel's timings unless `keepalives_idle`, `keepalives_interval`, `keepalives_count`
//! say otherwise) and `tcp_user_timeout`; asyncpg sets none. What an idle connection survives
//! on a path that forgets idle flows depends on them, so `ping --idle-probe` opens its
//! connections with the same options.

use std::io;
use std::os::fd::AsRawFd;
use std::time::Duration;

use tokio::net::TcpStream;

use crate::url::libpq::ConnInfo;

/// TCP keepalives: `None` timings are the kernel's (`net.ipv4.tcp_keepalive_time`, 7200 s).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Keepalive {
    pub(crate) idle: Option<Duration>,
    pub(crate) interval: Option<Duration>,
    pub(crate) count: Option<u32>,
}

/// The socket options of one driver's TCP connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct TcpSettings {
    /// `None`: no keepalives (asyncpg, libpq's `keepalives=0`).
    pub(crate) keepalive: Option<Keepalive>,
    /// `TCP_USER_TIMEOUT`: how long sent data may stay unacknowledged before the kernel gives
    /// up (`None`: the kernel's retransmission limit, `net.ipv4.tcp_retries2`).
    pub(crate) user_timeout: Option<Duration>,
}

impl TcpSettings {
    /// libpq's reading of the URL's keywords (libpq has no environment variables for them). A
    /// value libpq would refuse is an error naming the keyword.
    pub(crate) fn libpq(info: &ConnInfo) -> Result<TcpSettings, String> {
        let number = |keyword: &str| -> Result<Option<u64>, String> {
            match info.get(keyword).filter(|value| !value.trim().is_empty()) {
                None => Ok(None),
                Some(value) => value.trim().parse::<u64>().map(Some).map_err(|_| {
                    format!("invalid integer value \"{value}\" for connection option \"{keyword}\"")
                }),
            }
        };
        let seconds = |keyword| {
            number(keyword).map(|value| value.filter(|s| *s > 0).map(Duration::from_secs))
        };
        let keepalive = match number("keepalives")? {
            Some(0) => None,
            _ => Some(Keepalive {
                idle: seconds("keepalives_idle")?,
                interval: seconds("keepalives_interval")?,
                count: number("keepalives_count")?
                    .filter(|c| *c > 0)
                    .map(|c| c.min(u64::from(u32::MAX)) as u32),
            }),
        };
        let user_timeout = number("tcp_user_timeout")?
            .filter(|ms| *ms > 0)
            .map(Duration::from_millis);
        Ok(TcpSettings {
            keepalive,
            user_timeout,
        })
    }

    /// Keepalives every `every` (idle and interval), three unanswered probes, as `ping
    /// --idle-probe`'s second set of connections.
    pub(crate) fn keepalive_every(every: Duration) -> TcpSettings {
        TcpSettings {
            keepalive: Some(Keepalive {
                idle: Some(every),
                interval: Some(every),
                count: Some(3),
            }),
            user_timeout: None,
        }
    }

    /// Sets the options on a connected socket.
    pub(crate) fn apply(&self, stream: &TcpStream) -> io::Result<()> {
        let fd = stream.as_raw_fd();
        let seconds = |d: Duration| d.as_secs().clamp(1, i32::MAX as u64) as libc::c_int;
        if let Some(keepalive) = self.keepalive {
            set(fd, libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1)?;
            if let Some(idle) = keepalive.idle {
                set(fd, libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, seconds(idle))?;
            }
            if let Some(interval) = keepalive.interval {
                set(
                    fd,
                    libc::IPPROTO_TCP,
                    libc::TCP_KEEPINTVL,
                    seconds(interval),
                )?;
            }
            if let Some(count) = keepalive.count {
                let count = count.min(i32::MAX as u32) as libc::c_int;
                set(fd, libc::IPPROTO_TCP, libc::TCP_KEEPCNT, count)?;
            }
        }
        if let Some(timeout) = self.user_timeout {
            let ms = timeout.as_millis().min(u128::from(u32::MAX >> 1)) as libc::c_int;
            set(fd, libc::IPPROTO_TCP, libc::TCP_USER_TIMEOUT, ms)?;
        }
        Ok(())
    }
}

fn set(
    fd: std::os::fd::RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: `fd` is an open socket owned by the caller's stream for the duration of the call,
    // and the value pointer and length describe one c_int on the stack.
    let result = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// How long a write on a connection whose path went silent goes unanswered before the kernel
/// gives up: `tcp_user_timeout` when set, else `net.ipv4.tcp_retries2` retransmissions with
/// the RTO doubling from its 200 ms floor to its 120 s ceiling (15: about 924.6 s). A lower
/// bound: the RTO starts from the measured round trip, at least 200 ms.
pub(crate) fn silent_write_gives_up_after(settings: &TcpSettings) -> Duration {
    if let Some(timeout) = settings.user_timeout {
        return timeout;
    }
    let retries = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_retries2")
        .ok()
        .and_then(|text| text.trim().parse::<u32>().ok())
        .unwrap_or(15);
    retransmission_limit(retries)
}

/// The kernel's `tcp_retries2` timeout for the minimum RTO (`retransmits_timed_out`).
fn retransmission_limit(retries: u32) -> Duration {
    let seconds: f64 = (0..=retries.min(64))
        .map(|i| (0.2 * 2f64.powi(i as i32)).min(120.0))
        .sum();
    Duration::from_secs_f64(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifteen_retries_give_up_after_about_fifteen_minutes() {
        let limit = retransmission_limit(15).as_secs_f64();
        assert!((limit - 924.6).abs() < 0.01, "{limit}");
        assert!((retransmission_limit(8).as_secs_f64() - 102.2).abs() < 0.01);
    }

    #[test]
    fn libpq_keywords_are_read_as_libpq_reads_them() {
        let info = |text: &str| crate::url::libpq::parse_conninfo(text).unwrap();
        let default = TcpSettings::libpq(&info("host=h")).unwrap();
        assert_eq!(default.keepalive, Some(Keepalive::default()));
        assert_eq!(default.user_timeout, None);
        let off = TcpSettings::libpq(&info("host=h keepalives=0")).unwrap();
        assert_eq!(off.keepalive, None);
        let set = TcpSettings::libpq(&info(
            "host=h keepalives_idle=30 keepalives_interval=10 keepalives_count=3 tcp_user_timeout=9000",
        ))
        .unwrap();
        assert_eq!(
            set.keepalive,
            Some(Keepalive {
                idle: Some(Duration::from_secs(30)),
                interval: Some(Duration::from_secs(10)),
                count: Some(3)
            })
        );
        assert_eq!(set.user_timeout, Some(Duration::from_secs(9)));
        let bad = TcpSettings::libpq(&info("host=h keepalives_idle=soon")).unwrap_err();
        assert!(bad.contains("keepalives_idle"), "{bad}");
    }
}
