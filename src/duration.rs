//! Durations typed at the edge: every seconds- or milliseconds-valued flag and setting is parsed
//! here into a [`Duration`], through checked conversion. Non-finite, negative or out-of-range
//! text is an error that names the accepted range, never a panic (`Duration::from_secs_f64`
//! panics on `inf` or `1e20`). clap's value parsers and the settings loader share these
//! functions, so a flag and its `DB_*` variable accept exactly the same text.

use std::time::Duration;

/// The longest duration dbtool accepts anywhere: PostgreSQL's own bound for its millisecond
/// settings (`statement_timeout` is an `int` of milliseconds: 2,147,483,647 ms, about 24.8 days).
pub(crate) const MAX: Duration = Duration::from_millis(i32::MAX as u64);

/// The unit a number is given in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    Seconds,
    Milliseconds,
    Microseconds,
}

impl Unit {
    fn name(self) -> &'static str {
        match self {
            Unit::Seconds => "seconds",
            Unit::Milliseconds => "milliseconds",
            Unit::Microseconds => "microseconds",
        }
    }

    /// [`MAX`] in this unit.
    fn max(self) -> f64 {
        match self {
            Unit::Seconds => MAX.as_secs_f64(),
            Unit::Milliseconds => MAX.as_millis() as f64,
            Unit::Microseconds => MAX.as_micros() as f64,
        }
    }

    /// What a value in this unit must be, for error messages.
    pub(crate) fn expected(self) -> String {
        format!(
            "expected {} from 0 to {} (fractions allowed)",
            self.name(),
            format_number(self.max())
        )
    }
}

/// Parses a non-negative number of `unit`s no larger than [`MAX`]. The error is what was
/// expected, to be put after the flag or variable and its value.
pub(crate) fn parse(text: &str, unit: Unit) -> Result<Duration, String> {
    let number: f64 = text.trim().parse().map_err(|_| unit.expected())?;
    if !number.is_finite() || number < 0.0 || number > unit.max() {
        return Err(unit.expected());
    }
    let seconds = match unit {
        Unit::Seconds => number,
        Unit::Milliseconds => number / 1000.0,
        Unit::Microseconds => number / 1e6,
    };
    Duration::try_from_secs_f64(seconds).map_err(|_| unit.expected())
}

/// clap value parser for a flag in seconds.
pub(crate) fn seconds_arg(text: &str) -> Result<Duration, String> {
    parse(text, Unit::Seconds)
}

/// clap value parser for `ping --idle-probe`: seconds, or a number with `s`, `m` or `h`; from
/// 1 s to a day (a path's idle cutoffs are seconds to hours, and the pass takes this long).
pub(crate) fn idle_probe_arg(text: &str) -> Result<Duration, String> {
    let expected = || {
        "expected an idle time from 1 s to a day: seconds (600) or with a unit (90s, 10m, 1h)"
            .to_string()
    };
    let text = text.trim();
    let (number, unit) = match text.char_indices().last() {
        Some((at, 's')) => (&text[..at], 1.0),
        Some((at, 'm')) => (&text[..at], 60.0),
        Some((at, 'h')) => (&text[..at], 3600.0),
        _ => (text, 1.0),
    };
    let number: f64 = number.trim().parse().map_err(|_| expected())?;
    let seconds = number * unit;
    if !seconds.is_finite() || !(1.0..=86_400.0).contains(&seconds) {
        return Err(expected());
    }
    Duration::try_from_secs_f64(seconds).map_err(|_| expected())
}

/// clap value parser for a flag in milliseconds.
pub(crate) fn milliseconds_arg(text: &str) -> Result<Duration, String> {
    parse(text, Unit::Milliseconds)
}

/// clap value parser for a flag in microseconds.
pub(crate) fn microseconds_arg(text: &str) -> Result<Duration, String> {
    parse(text, Unit::Microseconds)
}

/// clap value parser for a lock timeout in seconds: at least a millisecond, since PostgreSQL
/// counts `lock_timeout` in whole milliseconds and reads 0 as "wait forever".
pub(crate) fn lock_timeout_arg(text: &str) -> Result<Duration, String> {
    let expected = || {
        format!(
            "expected seconds from 0.001 to {} (fractions allowed; 0 would wait forever)",
            format_number(Unit::Seconds.max())
        )
    };
    match parse(text, Unit::Seconds) {
        Ok(duration) if duration >= Duration::from_millis(1) => Ok(duration),
        _ => Err(expected()),
    }
}

/// A rate of transactions per second, from one in a million seconds to a million a second, so
/// that the interval between two (`1 / rate`) is a representable, non-zero [`Duration`].
pub(crate) fn rate_arg(text: &str) -> Result<f64, String> {
    const RANGE: std::ops::RangeInclusive<f64> = 1e-6..=1e6;
    let expected = || "expected transactions per second from 0.000001 to 1000000".to_string();
    let rate: f64 = text.trim().parse().map_err(|_| expected())?;
    if RANGE.contains(&rate) {
        Ok(rate)
    } else {
        Err(expected())
    }
}

/// Seconds as a user wrote them: `30`, `0.5`.
pub(crate) fn format_seconds(duration: Duration) -> String {
    format_number(duration.as_secs_f64())
}

/// A number without a needless fraction: `30`, `0.5`.
pub(crate) fn format_number(number: f64) -> String {
    if number.fract() == 0.0 && number.abs() < 1e15 {
        format!("{}", number as i64)
    } else {
        format!("{number}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_probe_times_take_a_unit_and_stay_within_a_day() {
        assert_eq!(idle_probe_arg("600"), Ok(Duration::from_secs(600)));
        assert_eq!(idle_probe_arg("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(idle_probe_arg("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(idle_probe_arg("24h"), Ok(Duration::from_secs(86_400)));
        for bad in [
            "0", "0.5", "25h", "86401", "-5", "nan", "inf", "10x", "", "m", "1e400",
        ] {
            assert!(idle_probe_arg(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn seconds_accept_fractions_up_to_the_maximum() {
        assert_eq!(parse("2.5", Unit::Seconds), Ok(Duration::from_millis(2500)));
        assert_eq!(parse(" 0 ", Unit::Seconds), Ok(Duration::ZERO));
        assert_eq!(parse("2147483.647", Unit::Seconds), Ok(MAX));
        assert_eq!(
            parse("250", Unit::Milliseconds),
            Ok(Duration::from_millis(250))
        );
    }

    #[test]
    fn hostile_numbers_are_errors_naming_the_range() {
        for text in [
            "",
            "-1",
            "-0.5",
            "nan",
            "NaN",
            "inf",
            "-inf",
            "1e20",
            "18446744073709551616",
            "2147483.648",
            "word",
            "1e-400x",
        ] {
            let error = parse(text, Unit::Seconds).unwrap_err();
            assert_eq!(
                error, "expected seconds from 0 to 2147483.647 (fractions allowed)",
                "{text}"
            );
        }
        assert!(parse("2147483648", Unit::Milliseconds).is_err());
        assert!(parse(&"9".repeat(5000), Unit::Milliseconds).is_err());
    }

    #[test]
    fn minus_one_is_not_a_duration() {
        assert!(parse("-1", Unit::Seconds).is_err());
    }

    #[test]
    fn a_lock_timeout_is_at_least_a_millisecond() {
        assert_eq!(lock_timeout_arg("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(lock_timeout_arg("0.001"), Ok(Duration::from_millis(1)));
        for text in ["0", "0.0009", "-1", "nan", "inf", "2147483.648", ""] {
            assert_eq!(
                lock_timeout_arg(text).unwrap_err(),
                "expected seconds from 0.001 to 2147483.647 (fractions allowed; 0 would wait forever)",
                "{text}"
            );
        }
    }

    #[test]
    fn rates_stay_within_a_representable_interval() {
        assert_eq!(rate_arg("200"), Ok(200.0));
        for text in ["0", "-5", "nan", "inf", "1e-20", "1e300", "word", ""] {
            assert!(rate_arg(text).is_err(), "{text}");
        }
        for text in ["0.000001", "1000000"] {
            let interval = Duration::try_from_secs_f64(1.0 / rate_arg(text).unwrap()).unwrap();
            assert!(!interval.is_zero() && interval <= MAX, "{text}");
        }
    }

    #[test]
    fn numbers_display_without_needless_fraction() {
        assert_eq!(format_seconds(Duration::from_secs(30)), "30");
        assert_eq!(format_seconds(Duration::from_millis(250)), "0.25");
    }
}
