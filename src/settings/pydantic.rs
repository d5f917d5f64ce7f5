//! How pydantic (v2, lax mode) turns the text of an environment variable into a field's value:
//! a port of pydantic-core's `str_as_bool`, `str_as_int` (with `clean_int_str`,
//! `strip_leading_zeros`, `strip_underscores`) and `str_as_float` in `src/input/shared.rs`.
//!
//! Owns: text → the value the application gets, or the application's refusal. Not modelled:
//! the bounds dbtool itself needs (a pool size that fits a `u32`, seconds that fit a
//! `Duration`); `settings` checks those after, so it can say which side refuses a value.

/// An `int` as the application has it: Python ints have no size limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Int {
    Small(i64),
    /// Beyond `i64`, as decimal text (sign and digits only).
    Big(String),
}

/// `str_as_bool`: exactly these words, any ASCII case, no surrounding whitespace.
pub fn parse_bool(text: &str) -> Option<bool> {
    const FALSE: [&str; 6] = ["0", "f", "n", "no", "off", "false"];
    const TRUE: [&str; 6] = ["1", "t", "y", "on", "yes", "true"];
    if FALSE.iter().any(|word| text.eq_ignore_ascii_case(word)) {
        Some(false)
    } else if TRUE.iter().any(|word| text.eq_ignore_ascii_case(word)) {
        Some(true)
    } else {
        None
    }
}

/// Python refuses to convert ints longer than this many digits (`sys.int_info`'s default
/// `str_digits_check_threshold`), and pydantic-core checks the same bound.
const MAX_INT_DIGITS: usize = 4300;

/// A JSON integer, `-?(0|[1-9][0-9]*)`, as jiter's `NumberInt::try_from` reads one.
fn json_int(text: &str) -> Option<Int> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let well_formed = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    if !well_formed || digits.len() > MAX_INT_DIGITS {
        return None;
    }
    Some(match text.parse::<i64>() {
        Ok(n) => Int::Small(n),
        Err(_) => Int::Big(text.to_string()),
    })
}

/// `str_as_int`: a JSON integer as it is, else the text cleaned by `clean_int_str` and read again.
pub fn parse_int(text: &str) -> Option<Int> {
    json_int(text).or_else(|| json_int(&clean_int_text(text)?))
}

/// `clean_int_str`: surrounding whitespace, one `+`, leading zeros, a `.0…` fraction and
/// underscores between digits go; `None` when nothing changed or the text cannot be an int.
fn clean_int_text(text: &str) -> Option<String> {
    let len_before = text.len();
    let mut s = text.trim();
    if let Some(rest) = s.strip_prefix('+') {
        if rest.starts_with('-') {
            return None;
        }
        s = rest;
    }
    let mut negative = false;
    if let Some(rest) = s.strip_prefix('-') {
        if rest.starts_with('-') || rest.starts_with('+') {
            return None;
        }
        negative = true;
        s = rest;
    }
    s = strip_leading_zeros(s)?;
    if let Some(dot) = s.find('.') {
        let fraction = &s[dot + 1..];
        if !fraction.is_empty() && fraction.chars().all(|c| c == '0') {
            s = &s[..dot];
        }
    }
    let sign = if negative { "-" } else { "" };
    if let Some(stripped) = strip_underscores(s) {
        return Some(format!("{sign}{stripped}"));
    }
    if len_before == s.len() {
        return None;
    }
    Some(format!("{sign}{s}"))
}

/// `strip_leading_zeros`: keeps one zero before a `.` or when only zeros (and underscores) are
/// left; `None` when the text does not start with a digit or `-`.
fn strip_leading_zeros(s: &str) -> Option<&str> {
    let mut chars = s.char_indices();
    match chars.next() {
        Some((_, '0')) => {}
        Some((_, c)) if c.is_ascii_digit() || c == '-' => return Some(s),
        _ => return None,
    }
    for (i, c) in chars {
        match c {
            '0' | '_' => {}
            '1'..='9' | '-' => return Some(&s[i..]),
            '.' => return Some(&s[i - 1..]),
            _ => return None,
        }
    }
    Some(&s[s.len() - 1..])
}

/// `strip_underscores`: `1_000` → `1000`; `None` without underscores or with one at either end
/// or two in a row (as Python's `int()` refuses them).
fn strip_underscores(s: &str) -> Option<String> {
    if s.starts_with('_') || s.ends_with('_') || !s.contains('_') || s.contains("__") {
        None
    } else {
        Some(s.replace('_', ""))
    }
}

/// `str_as_float`: Rust's own `f64` parsing (pydantic-core is Rust) of the trimmed text, else of
/// the untrimmed text without its underscores. `inf`, `nan` and `1e400` (infinite) are floats
/// to the application.
pub fn parse_float(text: &str) -> Option<f64> {
    text.trim()
        .parse()
        .ok()
        .or_else(|| strip_underscores(text)?.parse().ok())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn ints_as_pydantic_reads_them() {
        for (text, value) in [
            ("5", 5),
            (" 7 ", 7),
            ("+3", 3),
            ("007", 7),
            ("7_000", 7000),
            ("5.00", 5),
            ("1_0.0", 10),
            ("-0", 0),
            ("-05", -5),
            ("0_0", 0),
            ("\u{a0}5", 5),
        ] {
            assert_eq!(parse_int(text), Some(Int::Small(value)), "{text:?}");
        }
        for text in [
            "", "5.5", "5.", "1e3", "1__0", "_1", "1_", "0x10", "+-1", "--1", "5\u{1c}", "4_2.0_0",
        ] {
            assert_eq!(parse_int(text), None, "{text:?}");
        }
        assert_eq!(
            parse_int("99999999999999999999"),
            Some(Int::Big("99999999999999999999".into()))
        );
    }

    #[test]
    fn floats_and_bools_as_pydantic_reads_them() {
        assert_eq!(parse_float(" 2.5 "), Some(2.5));
        assert_eq!(parse_float("1_000.5"), Some(1000.5));
        assert_eq!(parse_float("1e400"), Some(f64::INFINITY));
        assert!(parse_float("NaN").is_some_and(f64::is_nan));
        assert_eq!(parse_float(" 1_000"), None);
        assert_eq!(parse_float("0x10"), None);
        assert_eq!(parse_bool("tRuE"), Some(true));
        assert_eq!(parse_bool("Off"), Some(false));
        assert_eq!(parse_bool(" true"), None);
        assert_eq!(parse_bool("2"), None);
    }

    proptest! {
        #[test]
        fn any_text_converts_without_a_panic(text in "(?s).{0,24}") {
            let _ = (parse_int(&text), parse_float(&text), parse_bool(&text));
        }

        /// Every i64, written plainly, with a `+`, leading zeros, `.0` or thousands separated
        /// by `_`, is itself.
        #[test]
        fn every_i64_reads_back(n in any::<i64>()) {
            let digits = n.unsigned_abs().to_string();
            let sign = if n < 0 { "-" } else { "" };
            let grouped: Vec<String> = digits
                .as_bytes()
                .rchunks(3)
                .rev()
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect();
            for text in [
                n.to_string(),
                format!("{sign}00{digits}"),
                format!("{sign}{digits}.0"),
                format!(" {sign}{} ", grouped.join("_")),
            ] {
                prop_assert_eq!(parse_int(&text), Some(Int::Small(n)), "{:?}", text);
            }
        }
    }
}
