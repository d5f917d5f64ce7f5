//! A Python value as the application holds it: a settings field's value, a literal, or what a
//! simple expression over them gives.

use serde_json::{Map, Value as Json, json};

use crate::python::{Expr, ExprKind, StrLiteral};
use crate::url::redact_url;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PyValue {
    None,
    Bool(bool),
    Int(i64),
    /// An int beyond `i64`, as decimal text.
    BigInt(String),
    Float(f64),
    Str(String),
    /// A `SecretStr`: its `str()` is `**********`, `.get_secret_value()` the text.
    Secret(String),
    /// A dict literal, with string keys.
    Dict(Vec<(String, PyValue)>),
    /// A nested settings model: its fields.
    Model(Vec<(String, PyValue)>),
    /// A class passed as a value (`poolclass=NullPool`), by its name.
    Class(String),
}

impl PyValue {
    /// Python's `str(value)`; `None` for what has no text dbtool can know.
    pub(crate) fn py_str(&self) -> Option<String> {
        Some(match self {
            PyValue::None => "None".to_string(),
            PyValue::Bool(true) => "True".to_string(),
            PyValue::Bool(false) => "False".to_string(),
            PyValue::Int(n) => n.to_string(),
            PyValue::BigInt(text) => text.clone(),
            PyValue::Float(f) => float_repr(*f),
            PyValue::Str(text) => text.clone(),
            PyValue::Secret(_) => "**********".to_string(),
            PyValue::Dict(_) | PyValue::Model(_) | PyValue::Class(_) => return None,
        })
    }

    /// The value as JSON, as `json.dumps` writes it; a URL-looking string with its password
    /// hidden when `redact`.
    pub(crate) fn to_json(&self, redact: bool) -> Json {
        match self {
            PyValue::None => Json::Null,
            PyValue::Bool(b) => json!(b),
            PyValue::Int(n) => json!(n),
            PyValue::BigInt(text) => Json::String(text.clone()),
            PyValue::Float(f) => serde_json::Number::from_f64(*f)
                .map_or_else(|| Json::String(float_repr(*f)), Json::Number),
            PyValue::Str(text) if redact && text.contains("://") => Json::String(redact_url(text)),
            PyValue::Str(text) => Json::String(text.clone()),
            PyValue::Secret(_) => Json::String("**********".to_string()),
            PyValue::Dict(entries) | PyValue::Model(entries) => Json::Object(
                entries
                    .iter()
                    .map(|(k, v)| {
                        let hidden = k.to_ascii_lowercase().contains("password");
                        let value = if hidden {
                            Json::String("***".to_string())
                        } else {
                            v.to_json(redact)
                        };
                        (k.clone(), value)
                    })
                    .collect::<Map<_, _>>(),
            ),
            PyValue::Class(name) => Json::String(name.clone()),
        }
    }

    /// `left op right` for numbers (and `+` for strings), as Python computes it.
    pub(crate) fn binary(&self, op: &str, right: &PyValue) -> Option<PyValue> {
        use PyValue::{Float, Int, Str};
        let as_float = |v: &PyValue| match v {
            Int(n) => Some(*n as f64),
            Float(f) => Some(*f),
            PyValue::Bool(b) => Some(f64::from(u8::from(*b))),
            _ => None,
        };
        let as_int = |v: &PyValue| match v {
            Int(n) => Some(*n),
            PyValue::Bool(b) => Some(i64::from(*b)),
            _ => None,
        };
        if let (Str(a), Str(b)) = (self, right) {
            return (op == "+").then(|| Str(format!("{a}{b}")));
        }
        if let (Some(a), Some(b)) = (as_int(self), as_int(right)) {
            return match op {
                "+" => a.checked_add(b).map(Int),
                "-" => a.checked_sub(b).map(Int),
                "*" => a.checked_mul(b).map(Int),
                "/" if b != 0 => Some(Float(a as f64 / b as f64)),
                "//" if b != 0 => Some(Int(
                    a.div_euclid(b) - i64::from(a.rem_euclid(b) != 0 && b < 0)
                )),
                "%" if b != 0 => {
                    Some(Int(a - b
                        * (a.div_euclid(b)
                            - i64::from(a.rem_euclid(b) != 0 && b < 0))))
                }
                _ => None,
            };
        }
        let (a, b) = (as_float(self)?, as_float(right)?);
        match op {
            "+" => Some(Float(a + b)),
            "-" => Some(Float(a - b)),
            "*" => Some(Float(a * b)),
            "/" if b != 0.0 => Some(Float(a / b)),
            "//" if b != 0.0 => Some(Float((a / b).floor())),
            "%" if b != 0.0 => Some(Float(a - b * (a / b).floor())),
            _ => None,
        }
    }
}

/// The value of a literal: a number, a string, `True`, `False`, `None`, a dict of literals.
pub(crate) fn literal(expr: &Expr) -> Option<PyValue> {
    match &expr.kind {
        ExprKind::Number(text) => number(text),
        ExprKind::Str(StrLiteral::Text(text)) => Some(PyValue::Str(text.clone())),
        ExprKind::Name(parts) => match parts.as_slice() {
            [one] if one == "True" => Some(PyValue::Bool(true)),
            [one] if one == "False" => Some(PyValue::Bool(false)),
            [one] if one == "None" => Some(PyValue::None),
            _ => None,
        },
        _ => None,
    }
}

/// A Python number literal's value (`1_000`, `2.5e3`, `0x1F`, `-1`); `None` for a complex one.
pub(crate) fn number(text: &str) -> Option<PyValue> {
    let clean = text.replace('_', "");
    let (negative, digits) = match clean.strip_prefix('-') {
        Some(rest) => (true, rest.to_string()),
        None => (false, clean.clone()),
    };
    let lower = digits.to_ascii_lowercase();
    let radix = match lower.get(..2) {
        Some("0x") => Some(16),
        Some("0o") => Some(8),
        Some("0b") => Some(2),
        _ => None,
    };
    if let Some(radix) = radix {
        let n = i64::from_str_radix(&lower[2..], radix).ok()?;
        return Some(PyValue::Int(if negative { -n } else { n }));
    }
    if lower.ends_with('j') {
        return None;
    }
    if lower.contains(['.', 'e']) {
        return clean.parse::<f64>().ok().map(PyValue::Float);
    }
    match clean.parse::<i64>() {
        Ok(n) => Some(PyValue::Int(n)),
        Err(_) => Some(PyValue::BigInt(clean.trim_start_matches('0').to_string())),
    }
}

/// Python's `repr(float)`: the shortest text that reads back, in fixed notation for exponents
/// from -4 to 15, else scientific with a signed two-digit exponent.
pub(crate) fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    let scientific = format!("{f:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if (-4..16).contains(&exponent) {
        let text = format!("{f}");
        if text.contains('.') {
            text
        } else {
            format!("{text}.0")
        }
    } else {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_read_as_python_writes_them() {
        for (f, text) in [
            (30.0, "30.0"),
            (2.5, "2.5"),
            (1e16, "1e+16"),
            (1.5e-5, "1.5e-05"),
            (0.0001, "0.0001"),
            (-0.5, "-0.5"),
            (123456789012345.6, "123456789012345.6"),
        ] {
            assert_eq!(float_repr(f), text);
        }
    }

    #[test]
    fn arithmetic_is_pythons() {
        let int = PyValue::Int;
        assert_eq!(int(30).binary("*", &int(1000)), Some(int(30000)));
        assert_eq!(int(7).binary("//", &int(-2)), Some(int(-4)));
        assert_eq!(int(7).binary("%", &int(-2)), Some(int(-1)));
        assert_eq!(int(3).binary("/", &int(2)), Some(PyValue::Float(1.5)));
        assert_eq!(
            PyValue::Float(2.5).binary("*", &int(1000)),
            Some(PyValue::Float(2500.0))
        );
        assert_eq!(int(1).binary("/", &int(0)), None);
        assert_eq!(PyValue::Float(30.0).py_str().unwrap(), "30.0");
    }
}
