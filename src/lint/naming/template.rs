//! Naming convention templates: parsing `%(token)s` and expanding tokens.
//!
//! SQLAlchemy expands a template with Python's `%` operator against a
//! `ConventionDict` (`sqlalchemy/sql/naming.py`). Its `__getitem__` resolves
//! a token like this:
//!
//! 1. `table_name`, `constraint_name`, `referred_table_name` by name;
//! 2. otherwise `re.match(r".*_?column_(\d+)(_?N)?_.+", key)`: with `N` or
//!    `_N` the key must be the index-0 spelling (`key.replace("0" + N, "X")`
//!    must name a method), so only `column_0N_*` / `column_0_N_*` and
//!    `referred_column_0N_name` / `referred_column_0_N_name` exist, joining
//!    every column with nothing or with `_`; without it, every occurrence of
//!    the digits is replaced by `X`, so `column_<digits>_{name,key,label}`
//!    and `referred_column_<digits>_name` exist, leading zeros included;
//! 3. anything else raises `KeyError(key)`.
//!
//! Values (`ConventionDict._column_X` and friends):
//!
//! * `column_N_name` / `_key` / `_label`: the Nth column's `name`, `key`,
//!   or `_ddl_label` (`[<schema with . as _>_]<table>_<column name>`); an
//!   index past the end gives the empty string;
//! * for a foreign key the columns are the local ones (`fk.parent`);
//! * `referred_table_name`: the referred table, without schema;
//! * `referred_column_N_name`: past the end is an error (`IndexError`);
//! * `referred_*` on anything but a foreign key is an error
//!   (`AttributeError`), which dbtool reports when the template is parsed.
//!
//! Only `%(token)s` and `%%` are accepted; Python would also take flags,
//! widths and other conversions (`%(token)r`), which no sane convention uses.

use std::fmt;

use crate::lint::naming::model::ObjectRef;
use crate::lint::naming::{Kind, NamingError};

/// Which attribute of a column a token reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ColumnAttr {
    /// `Column.name`.
    Name,
    /// `Column.key`.
    Key,
    /// `Column._ddl_label`: `[<schema>_]<table>_<name>`.
    Label,
}

impl ColumnAttr {
    fn suffix(self) -> &'static str {
        match self {
            ColumnAttr::Name => "name",
            ColumnAttr::Key => "key",
            ColumnAttr::Label => "label",
        }
    }

    fn from_suffix(s: &str) -> Option<Self> {
        match s {
            "name" => Some(ColumnAttr::Name),
            "key" => Some(ColumnAttr::Key),
            "label" => Some(ColumnAttr::Label),
            _ => None,
        }
    }
}

/// How the multi-column forms join their values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Separator {
    /// `column_0N_name`: joined with nothing.
    Nothing,
    /// `column_0_N_name`: joined with `_`.
    Underscore,
}

impl Separator {
    fn as_str(self) -> &'static str {
        match self {
            Separator::Nothing => "",
            Separator::Underscore => "_",
        }
    }

    fn spelling(self) -> &'static str {
        match self {
            Separator::Nothing => "0N",
            Separator::Underscore => "0_N",
        }
    }
}

/// A token SQLAlchemy understands.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum TemplateToken {
    /// `%(table_name)s`.
    TableName,
    /// `%(constraint_name)s`: the name given in the model.
    ConstraintName,
    /// `%(referred_table_name)s` (fk only).
    ReferredTableName,
    /// `%(column_<index>_<attr>)s`; `digits` keeps the spelling
    /// (SQLAlchemy accepts leading zeros).
    Column {
        /// The column position.
        index: usize,
        /// The attribute.
        attr: ColumnAttr,
        /// The index as written.
        digits: String,
    },
    /// `%(column_0N_<attr>)s` or `%(column_0_N_<attr>)s`.
    Columns {
        /// The attribute.
        attr: ColumnAttr,
        /// The joiner.
        separator: Separator,
    },
    /// `%(referred_column_<index>_name)s` (fk only).
    ReferredColumn {
        /// The referred column position.
        index: usize,
        /// The index as written.
        digits: String,
    },
    /// `%(referred_column_0N_name)s` or `%(referred_column_0_N_name)s` (fk only).
    ReferredColumns {
        /// The joiner.
        separator: Separator,
    },
}

impl TemplateToken {
    /// Parses a token name with SQLAlchemy's rules (module docs); `None`
    /// where SQLAlchemy raises `KeyError`.
    pub(crate) fn parse(key: &str) -> Option<TemplateToken> {
        match key {
            "table_name" => return Some(TemplateToken::TableName),
            "constraint_name" => return Some(TemplateToken::ConstraintName),
            "referred_table_name" => return Some(TemplateToken::ReferredTableName),
            _ => {}
        }
        let (referred, rest) = match key.strip_prefix("referred_column_") {
            Some(rest) => (true, rest),
            None => (false, key.strip_prefix("column_")?),
        };
        for separator in [Separator::Nothing, Separator::Underscore] {
            if let Some(attr) = rest
                .strip_prefix(separator.spelling())
                .and_then(|r| r.strip_prefix('_'))
                .and_then(ColumnAttr::from_suffix)
            {
                return match (referred, attr) {
                    (false, attr) => Some(TemplateToken::Columns { attr, separator }),
                    (true, ColumnAttr::Name) => Some(TemplateToken::ReferredColumns { separator }),
                    (true, _) => None,
                };
            }
        }
        let digits_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits_len == 0 {
            return None;
        }
        let (digits, tail) = rest.split_at(digits_len);
        let attr = ColumnAttr::from_suffix(tail.strip_prefix('_')?)?;
        // Python's int() is unbounded; an index past usize is past any list.
        let index = digits.parse::<usize>().unwrap_or(usize::MAX);
        let digits = digits.to_owned();
        match (referred, attr) {
            (false, attr) => Some(TemplateToken::Column {
                index,
                attr,
                digits,
            }),
            (true, ColumnAttr::Name) => Some(TemplateToken::ReferredColumn { index, digits }),
            (true, _) => None,
        }
    }

    /// Whether the token reads a foreign key's referred side.
    pub(crate) fn is_fk_only(&self) -> bool {
        matches!(
            self,
            TemplateToken::ReferredTableName
                | TemplateToken::ReferredColumn { .. }
                | TemplateToken::ReferredColumns { .. }
        )
    }
}

impl fmt::Display for TemplateToken {
    /// The token's name as written in a template.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateToken::TableName => f.write_str("table_name"),
            TemplateToken::ConstraintName => f.write_str("constraint_name"),
            TemplateToken::ReferredTableName => f.write_str("referred_table_name"),
            TemplateToken::Column { attr, digits, .. } => {
                write!(f, "column_{digits}_{}", attr.suffix())
            }
            TemplateToken::Columns { attr, separator } => {
                write!(f, "column_{}_{}", separator.spelling(), attr.suffix())
            }
            TemplateToken::ReferredColumn { digits, .. } => {
                write!(f, "referred_column_{digits}_name")
            }
            TemplateToken::ReferredColumns { separator } => {
                write!(f, "referred_column_{}_name", separator.spelling())
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum TemplatePart {
    Literal(String),
    Token(TemplateToken),
}

/// A parsed naming convention template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    parts: Vec<TemplatePart>,
}

impl Template {
    /// Parses a template, rejecting unknown tokens and unsupported `%`
    /// directives up front.
    pub fn parse(source: &str) -> Result<Template, NamingError> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = source;
        let mut offset = 0;
        while let Some(pos) = rest.find('%') {
            literal.push_str(&rest[..pos]);
            let directive = &rest[pos..];
            let unsupported = || NamingError::UnsupportedFormat {
                template: source.to_owned(),
                offset: offset + pos,
            };
            let consumed = if directive.starts_with("%%") {
                literal.push('%');
                2
            } else if directive.starts_with("%(") {
                // Python matches parentheses when reading the key.
                let mut depth = 0usize;
                let mut close = None;
                for (i, ch) in directive.char_indices().skip(1) {
                    match ch {
                        '(' => depth += 1,
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                close = Some(i);
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                let close = close.ok_or_else(unsupported)?;
                if directive.as_bytes().get(close + 1) != Some(&b's') {
                    return Err(unsupported());
                }
                let key = &directive[2..close];
                let token = TemplateToken::parse(key)
                    .ok_or_else(|| NamingError::UnknownToken(key.to_owned()))?;
                if !literal.is_empty() {
                    parts.push(TemplatePart::Literal(std::mem::take(&mut literal)));
                }
                parts.push(TemplatePart::Token(token));
                close + 2
            } else {
                return Err(unsupported());
            };
            offset += pos + consumed;
            rest = &rest[pos + consumed..];
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            parts.push(TemplatePart::Literal(literal));
        }
        Ok(Template {
            source: source.to_owned(),
            parts,
        })
    }

    /// The template as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The tokens, in order.
    pub(crate) fn tokens(&self) -> impl Iterator<Item = &TemplateToken> {
        self.parts.iter().filter_map(|p| match p {
            TemplatePart::Token(t) => Some(t),
            TemplatePart::Literal(_) => None,
        })
    }

    /// The text before the first token (`ck_` in `ck_%(table_name)s_%(constraint_name)s`).
    pub fn leading_literal(&self) -> &str {
        match self.parts.first() {
            Some(TemplatePart::Literal(text)) => text,
            _ => "",
        }
    }

    /// Whether `%(constraint_name)s` is used.
    pub(crate) fn uses_constraint_name(&self) -> bool {
        self.tokens().any(|t| *t == TemplateToken::ConstraintName)
    }

    /// SQLAlchemy's own test for applying a convention to an explicitly
    /// named constraint: the *text* `constraint_name` occurs anywhere in the
    /// template (`"constraint_name" in convention`, `_constraint_name_for_table`).
    pub(crate) fn mentions_constraint_name(&self) -> bool {
        self.source.contains("constraint_name")
    }

    /// Checks that every token is available for `kind`.
    pub(crate) fn validate_for(&self, kind: Kind) -> Result<(), NamingError> {
        match self.tokens().find(|t| t.is_fk_only()) {
            Some(token) if kind != Kind::Fk => Err(NamingError::TokenNotAvailable {
                kind,
                token: token.to_string(),
            }),
            _ => Ok(()),
        }
    }

    /// Expands every token except `constraint_name` and returns the text
    /// between its occurrences: `k` occurrences give `k + 1` segments, and
    /// the name is `segments.join(constraint_name)`.
    pub(crate) fn segments(&self, obj: &ObjectRef<'_>) -> Result<Vec<String>, NamingError> {
        let mut segments = vec![String::new()];
        for part in &self.parts {
            match part {
                TemplatePart::Literal(text) => push(&mut segments, text),
                TemplatePart::Token(TemplateToken::ConstraintName) => segments.push(String::new()),
                TemplatePart::Token(token) => push(&mut segments, &expand(token, obj)?),
            }
        }
        Ok(segments)
    }

    /// Expands the template. `constraint_name` is the name given in the
    /// model; it is required when the template uses it.
    pub(crate) fn render(
        &self,
        obj: &ObjectRef<'_>,
        constraint_name: Option<&str>,
    ) -> Result<String, NamingError> {
        let segments = self.segments(obj)?;
        if segments.len() > 1 && constraint_name.is_none() {
            return Err(NamingError::ConstraintNameRequired(obj.kind));
        }
        Ok(segments.join(constraint_name.unwrap_or_default()))
    }
}

fn push(segments: &mut [String], text: &str) {
    if let Some(last) = segments.last_mut() {
        last.push_str(text);
    }
}

fn column_value(obj: &ObjectRef<'_>, index: usize, attr: ColumnAttr) -> String {
    let Some(column) = obj.columns.get(index) else {
        return String::new();
    };
    match attr {
        ColumnAttr::Name => column.name.to_owned(),
        ColumnAttr::Key => column.key().to_owned(),
        ColumnAttr::Label => match obj.table.schema {
            Some(schema) if !schema.is_empty() => format!(
                "{}_{}_{}",
                schema.replace('.', "_"),
                obj.table.name,
                column.name
            ),
            _ => format!("{}_{}", obj.table.name, column.name),
        },
    }
}

fn referred_column<'a>(
    obj: &ObjectRef<'a>,
    index: usize,
    token: &TemplateToken,
) -> Result<&'a str, NamingError> {
    fk_only(obj, token)?;
    obj.referred_columns
        .get(index)
        .copied()
        .ok_or_else(|| NamingError::ReferredColumnOutOfRange {
            token: token.to_string(),
            available: obj.referred_columns.len(),
        })
}

fn fk_only(obj: &ObjectRef<'_>, token: &TemplateToken) -> Result<(), NamingError> {
    if obj.kind == Kind::Fk {
        Ok(())
    } else {
        Err(NamingError::TokenNotAvailable {
            kind: obj.kind,
            token: token.to_string(),
        })
    }
}

fn expand(token: &TemplateToken, obj: &ObjectRef<'_>) -> Result<String, NamingError> {
    Ok(match token {
        TemplateToken::TableName => obj.table.name.to_owned(),
        // handled by the caller
        TemplateToken::ConstraintName => String::new(),
        TemplateToken::ReferredTableName => {
            fk_only(obj, token)?;
            obj.referred_table
                .ok_or(NamingError::MissingReferredTable)?
                .to_owned()
        }
        TemplateToken::Column { index, attr, .. } => column_value(obj, *index, *attr),
        TemplateToken::Columns { attr, separator } => (0..obj.columns.len())
            .map(|i| column_value(obj, i, *attr))
            .collect::<Vec<_>>()
            .join(separator.as_str()),
        TemplateToken::ReferredColumn { index, .. } => {
            referred_column(obj, *index, token)?.to_owned()
        }
        // SQLAlchemy iterates the foreign key's elements, one per local column.
        TemplateToken::ReferredColumns { separator } => (0..obj.columns.len())
            .map(|i| referred_column(obj, i, token))
            .collect::<Result<Vec<_>, _>>()?
            .join(separator.as_str()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::naming::model::{Column, TableRef};

    fn tok(key: &str) -> Option<TemplateToken> {
        TemplateToken::parse(key)
    }

    #[test]
    fn parses_every_sqlalchemy_token() {
        let ok = [
            "table_name",
            "constraint_name",
            "referred_table_name",
            "column_0_name",
            "column_0_key",
            "column_0_label",
            "column_12_name",
            "column_00_name",
            "column_0N_name",
            "column_0_N_name",
            "column_0N_key",
            "column_0_N_label",
            "referred_column_0_name",
            "referred_column_3_name",
            "referred_column_0N_name",
            "referred_column_0_N_name",
        ];
        for key in ok {
            let token = tok(key).unwrap_or_else(|| panic!("{key} should parse"));
            assert_eq!(token.to_string(), key);
        }
    }

    #[test]
    fn rejects_what_sqlalchemy_rejects() {
        let bad = [
            "foo",
            "column_name",
            "column_X_name",
            "column_0_nam",
            "column_0_keys",
            "xcolumn_0_name",
            "column_1N_name",
            "column_00N_name",
            "column_10N_name",
            "column__name",
            "referred_column_0_key",
            "referred_column_0N_label",
            "referred_column_name",
            "column_0",
            "column_0_",
            "Column_0_name",
        ];
        for key in bad {
            assert_eq!(tok(key), None, "{key} should be rejected");
        }
    }

    #[test]
    fn index_values() {
        assert_eq!(
            tok("column_07_key"),
            Some(TemplateToken::Column {
                index: 7,
                attr: ColumnAttr::Key,
                digits: "07".into()
            })
        );
        let huge = tok("column_99999999999999999999999_name");
        assert!(matches!(
            huge,
            Some(TemplateToken::Column {
                index: usize::MAX,
                ..
            })
        ));
    }

    #[test]
    fn parse_errors() {
        assert_eq!(
            Template::parse("uq_%(foo)s"),
            Err(NamingError::UnknownToken("foo".into()))
        );
        for bad in [
            "uq_%(table_name)r",
            "uq_%s",
            "uq_%",
            "uq_%(table_name",
            "uq_%(table_name)",
            "%(table_name)-5s",
        ] {
            assert!(
                matches!(
                    Template::parse(bad),
                    Err(NamingError::UnsupportedFormat { .. })
                ),
                "{bad}"
            );
        }
        // nested parentheses are part of the key, as in Python
        assert_eq!(
            Template::parse("%(a(b)c)s"),
            Err(NamingError::UnknownToken("a(b)c".into()))
        );
    }

    #[test]
    fn literal_percent_and_constants() {
        let t = Template::parse("uq_100%%_%(table_name)s%%").unwrap();
        let obj = ObjectRef::new(Kind::Uq, TableRef::new("t"));
        assert_eq!(t.render(&obj, None).unwrap(), "uq_100%_t%");
        let constant = Template::parse("pk").unwrap();
        assert_eq!(constant.render(&obj, None).unwrap(), "pk");
        assert_eq!(Template::parse("").unwrap().render(&obj, None).unwrap(), "");
    }

    #[test]
    fn renders_columns_keys_labels() {
        let cols = [
            Column::with_key("user_name", "uname"),
            Column::new("org_id"),
        ];
        let obj =
            ObjectRef::new(Kind::Ix, TableRef::in_schema("tenant.a", "users")).with_columns(&cols);
        let render = |s: &str| Template::parse(s).unwrap().render(&obj, None).unwrap();
        assert_eq!(render("%(column_0_name)s"), "user_name");
        assert_eq!(render("%(column_0_key)s"), "uname");
        assert_eq!(render("%(column_1_label)s"), "tenant_a_users_org_id");
        assert_eq!(render("%(column_0N_key)s"), "unameorg_id");
        assert_eq!(render("%(column_0_N_name)s"), "user_name_org_id");
        assert_eq!(render("x%(column_5_name)sy"), "xy");
        let plain = ObjectRef::new(Kind::Ix, TableRef::new("users")).with_columns(&cols);
        let t = Template::parse("%(column_0_label)s").unwrap();
        assert_eq!(t.render(&plain, None).unwrap(), "users_user_name");
    }

    #[test]
    fn foreign_key_tokens() {
        let cols = [Column::new("a"), Column::with_key("b", "bk")];
        let fk = ObjectRef::new(Kind::Fk, TableRef::new("t"))
            .with_columns(&cols)
            .referring_to("p", &["id", "id2"]);
        let t = Template::parse(
            "fk_%(column_0N_name)s_%(referred_table_name)s_%(referred_column_0_N_name)s_%(referred_column_1_name)s",
        )
        .unwrap();
        assert_eq!(t.render(&fk, None).unwrap(), "fk_ab_p_id_id2_id2");
        let out = Template::parse("%(referred_column_2_name)s").unwrap();
        assert!(matches!(
            out.render(&fk, None),
            Err(NamingError::ReferredColumnOutOfRange { available: 2, .. })
        ));
        let uq = ObjectRef::new(Kind::Uq, TableRef::new("t")).with_columns(&cols);
        assert!(matches!(
            Template::parse("%(referred_table_name)s")
                .unwrap()
                .render(&uq, None),
            Err(NamingError::TokenNotAvailable { .. })
        ));
        assert!(
            Template::parse("%(referred_table_name)s")
                .unwrap()
                .validate_for(Kind::Uq)
                .is_err()
        );
        assert!(
            Template::parse("%(referred_table_name)s")
                .unwrap()
                .validate_for(Kind::Fk)
                .is_ok()
        );
    }

    #[test]
    fn constraint_name_segments() {
        let obj = ObjectRef::new(Kind::Ck, TableRef::new("t"));
        let t =
            Template::parse("ck_%(table_name)s_%(constraint_name)s_%(constraint_name)s").unwrap();
        assert_eq!(t.segments(&obj).unwrap(), ["ck_t_", "_", ""]);
        assert_eq!(t.render(&obj, Some("x")).unwrap(), "ck_t_x_x");
        assert_eq!(
            t.render(&obj, None),
            Err(NamingError::ConstraintNameRequired(Kind::Ck))
        );
        assert!(t.uses_constraint_name() && t.mentions_constraint_name());
        assert_eq!(t.leading_literal(), "ck_");
        assert_eq!(
            Template::parse("%(table_name)s_x")
                .unwrap()
                .leading_literal(),
            ""
        );
        let literal = Template::parse("ck_constraint_name_%(table_name)s").unwrap();
        assert!(!literal.uses_constraint_name() && literal.mentions_constraint_name());
    }
}
