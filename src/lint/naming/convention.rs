//! A naming convention and the names SQLAlchemy derives from it.
//!
//! [`NamingConvention::name_for`] reproduces, for one object, what
//! SQLAlchemy does between `TableRef(...)` and the emitted DDL:
//!
//! * `_constraint_name_for_table` (`sqlalchemy/sql/naming.py`): a `conv()`
//!   name is kept verbatim; otherwise, when the kind has a template and the
//!   object is unnamed *or the template text contains `constraint_name`*,
//!   the template is expanded (the declared name becoming
//!   `%(constraint_name)s`); otherwise a declared name is kept;
//! * `format_constraint` / `_truncate_and_render_maxlen_name`
//!   (`sqlalchemy/sql/compiler.py`): convention and `conv()` names longer
//!   than the maximum are md5-truncated, explicit names that are too long
//!   are an error ([`crate::lint::naming::truncate`]);
//! * PostgreSQL then stores at most 63 bytes of it.

use std::collections::BTreeMap;

use crate::lint::naming::model::ObjectRef;
use crate::lint::naming::template::Template;
use crate::lint::naming::truncate::{
    POSTGRES_MAX_IDENTIFIER_LENGTH, postgres_truncate, sqlalchemy_truncate,
};
use crate::lint::naming::{Kind, NamingError};

/// The name an object is declared with in the SQLAlchemy model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Declared<'a> {
    /// `name=None`: the convention (or PostgreSQL) names it.
    Unnamed,
    /// `name="..."`: used as `%(constraint_name)s`, or kept when the
    /// template does not mention `constraint_name`.
    Named(&'a str),
    /// `name=conv("...")`: an already-converted name, used verbatim.
    Conv(&'a str),
}

/// Where a computed name comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameOrigin {
    /// Expanded from the convention's template.
    Convention,
    /// The declared name, kept as is.
    Explicit,
    /// A `conv()` name, kept as is.
    Conv,
}

/// A name computed by [`NamingConvention::name_for`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    /// Before any truncation (SQLAlchemy's `constraint.name`).
    pub full: String,
    /// As SQLAlchemy renders it in DDL, after its own truncation.
    pub rendered: String,
    /// As PostgreSQL stores it: `rendered` cut to the maximum in bytes.
    pub database: String,
    /// Where it comes from.
    pub origin: NameOrigin,
}

/// A set of templates, one per kind at most, and the identifier limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamingConvention {
    templates: BTreeMap<Kind, Template>,
    max_identifier_length: usize,
}

impl Default for NamingConvention {
    /// [`NamingConvention::app_default`].
    fn default() -> Self {
        Self::app_default()
    }
}

impl NamingConvention {
    /// No templates at all.
    pub(crate) fn empty() -> Self {
        NamingConvention {
            templates: BTreeMap::new(),
            max_identifier_length: POSTGRES_MAX_IDENTIFIER_LENGTH,
        }
    }

    /// The convention the app's docs prescribe:
    ///
    /// ```text
    /// pk: pk_%(table_name)s
    /// fk: fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s
    /// uq: uq_%(table_name)s_%(column_0_name)s
    /// ck: ck_%(table_name)s_%(constraint_name)s
    /// ix: ix_%(column_0_label)s
    /// ```
    ///
    /// No `ex` template: exclusion constraints are not checked unless one
    /// is configured.
    pub fn app_default() -> Self {
        Self::from_pairs([
            ("pk", "pk_%(table_name)s"),
            (
                "fk",
                "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            ),
            ("uq", "uq_%(table_name)s_%(column_0_name)s"),
            ("ck", "ck_%(table_name)s_%(constraint_name)s"),
            ("ix", "ix_%(column_0_label)s"),
        ])
        .unwrap_or_else(|_| Self::empty())
    }

    /// What a bare `MetaData()` uses (`DEFAULT_NAMING_CONVENTION` in
    /// `sqlalchemy/sql/schema.py`): only `ix: ix_%(column_0_label)s`.
    pub fn sqlalchemy_builtin() -> Self {
        Self::from_pairs([("ix", "ix_%(column_0_label)s")]).unwrap_or_else(|_| Self::empty())
    }

    /// Builds a convention from `(key, template)` pairs as they appear in
    /// `MetaData(naming_convention=...)`. Keys are abbreviations or class
    /// names; when both name the same kind the abbreviation wins, as in
    /// SQLAlchemy's `_get_convention`.
    pub fn from_pairs<I, K, V>(pairs: I) -> Result<Self, NamingError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut convention = Self::empty();
        let mut from_abbreviation = Vec::new();
        for (key, template) in pairs {
            let key = key.as_ref();
            let kind = key.parse::<Kind>()?;
            let abbreviation = Kind::is_abbreviation(key);
            if !abbreviation && from_abbreviation.contains(&kind) {
                // still validate it, then let the abbreviation win
                Self::parse(key, template.as_ref())?;
                continue;
            }
            convention.set(key, template.as_ref())?;
            if abbreviation {
                from_abbreviation.push(kind);
            }
        }
        Ok(convention)
    }

    /// Parses and validates one `key: template` entry: the key must be
    /// known, every token must exist, and `referred_*` tokens are only
    /// allowed for `fk`.
    pub(crate) fn parse(key: &str, template: &str) -> Result<(Kind, Template), NamingError> {
        let kind = key.parse::<Kind>()?;
        let template = Template::parse(template)?;
        template.validate_for(kind)?;
        Ok((kind, template))
    }

    /// Sets (or replaces) one entry; see [`NamingConvention::parse`].
    pub fn set(&mut self, key: &str, template: &str) -> Result<Kind, NamingError> {
        let (kind, template) = Self::parse(key, template)?;
        self.templates.insert(kind, template);
        Ok(kind)
    }

    /// Sets the maximum identifier length (PostgreSQL's
    /// `max_identifier_length`, 63 by default): characters for SQLAlchemy's
    /// truncation, bytes for PostgreSQL's.
    pub fn with_max_identifier_length(mut self, max: usize) -> Self {
        self.max_identifier_length = max;
        self
    }

    /// The maximum identifier length.
    pub fn max_identifier_length(&self) -> usize {
        self.max_identifier_length
    }

    /// The template for `kind`, if any.
    pub fn template(&self, kind: Kind) -> Option<&Template> {
        self.templates.get(&kind)
    }

    /// The configured entries, in kind order.
    #[cfg(test)]
    fn templates(&self) -> impl Iterator<Item = (Kind, &Template)> {
        self.templates.iter().map(|(k, t)| (*k, t))
    }

    /// The name SQLAlchemy gives `obj` when the model declares it as
    /// `declared` (module docs). `Ok(None)` means SQLAlchemy sends no name
    /// and PostgreSQL chooses one (see [`crate::lint::naming::postgres_names`]).
    pub fn name_for(
        &self,
        obj: &ObjectRef<'_>,
        declared: Declared<'_>,
    ) -> Result<Option<Name>, NamingError> {
        let template = self.templates.get(&obj.kind);
        let (full, origin) = match (declared, template) {
            (Declared::Conv(name), _) => (name.to_owned(), NameOrigin::Conv),
            (Declared::Unnamed, Some(t)) => (t.render(obj, None)?, NameOrigin::Convention),
            (Declared::Named(name), Some(t)) if t.mentions_constraint_name() => {
                (t.render(obj, Some(name))?, NameOrigin::Convention)
            }
            (Declared::Named(name), _) => {
                if name.chars().count() > self.max_identifier_length {
                    return Err(NamingError::IdentifierTooLong {
                        name: name.to_owned(),
                        max: self.max_identifier_length,
                    });
                }
                (name.to_owned(), NameOrigin::Explicit)
            }
            (Declared::Unnamed, None) => return Ok(None),
        };
        Ok(Some(self.finish(full, origin)))
    }

    /// Applies both truncations to a full name.
    pub(crate) fn finish(&self, full: String, origin: NameOrigin) -> Name {
        let rendered = match origin {
            NameOrigin::Explicit => full.clone(),
            NameOrigin::Convention | NameOrigin::Conv => {
                sqlalchemy_truncate(&full, self.max_identifier_length).into_owned()
            }
        };
        let database = postgres_truncate(&rendered, self.max_identifier_length).to_owned();
        Name {
            full,
            rendered,
            database,
            origin,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::naming::model::{Column, TableRef};

    #[test]
    fn app_default_names() {
        let conv = NamingConvention::app_default();
        let email = [Column::new("email")];
        let table = TableRef::new("users");
        let name = |obj: ObjectRef<'_>, d| conv.name_for(&obj, d).unwrap().unwrap().database;
        assert_eq!(
            name(ObjectRef::new(Kind::Pk, table), Declared::Unnamed),
            "pk_users"
        );
        assert_eq!(
            name(
                ObjectRef::new(Kind::Uq, table).with_columns(&email),
                Declared::Unnamed
            ),
            "uq_users_email"
        );
        assert_eq!(
            name(
                ObjectRef::new(Kind::Ix, TableRef::in_schema("app", "users")).with_columns(&email),
                Declared::Unnamed
            ),
            "ix_app_users_email"
        );
        let org = [Column::new("org_id")];
        assert_eq!(
            name(
                ObjectRef::new(Kind::Fk, TableRef::in_schema("app", "users"))
                    .with_columns(&org)
                    .referring_to("orgs", &["id"]),
                Declared::Unnamed
            ),
            "fk_users_org_id_orgs"
        );
        assert_eq!(
            name(ObjectRef::new(Kind::Ck, table), Declared::Named("positive")),
            "ck_users_positive"
        );
        // the classic double application
        assert_eq!(
            name(
                ObjectRef::new(Kind::Ck, table),
                Declared::Named("ck_users_positive")
            ),
            "ck_users_ck_users_positive"
        );
        assert_eq!(
            name(
                ObjectRef::new(Kind::Ck, table),
                Declared::Conv("ck_users_positive")
            ),
            "ck_users_positive"
        );
        assert_eq!(
            conv.name_for(&ObjectRef::new(Kind::Ck, table), Declared::Unnamed),
            Err(NamingError::ConstraintNameRequired(Kind::Ck))
        );
        // no ex template: PostgreSQL names it
        assert_eq!(
            conv.name_for(&ObjectRef::new(Kind::Ex, table), Declared::Unnamed),
            Ok(None)
        );
    }

    #[test]
    fn explicit_names_are_kept_unless_the_template_mentions_constraint_name() {
        let conv = NamingConvention::app_default();
        let obj = ObjectRef::new(Kind::Uq, TableRef::new("orgs"));
        let n = conv
            .name_for(&obj, Declared::Named("org_name"))
            .unwrap()
            .unwrap();
        assert_eq!(
            (n.database.as_str(), n.origin),
            ("org_name", NameOrigin::Explicit)
        );
        let long = "e".repeat(64);
        assert!(matches!(
            conv.name_for(&obj, Declared::Named(&long)),
            Err(NamingError::IdentifierTooLong { max: 63, .. })
        ));
        // conv() names are truncated like convention names
        let n = conv.name_for(&obj, Declared::Conv(&long)).unwrap().unwrap();
        assert_eq!(n.rendered.chars().count(), 60);
    }

    #[test]
    fn truncation_layers() {
        let conv = NamingConvention::app_default();
        let table = "顧客テーブル";
        let col = [Column::new("電子メールアドレスの確認済みフラグ")];
        let obj = ObjectRef::new(Kind::Ix, TableRef::new(table)).with_columns(&col);
        let n = conv.name_for(&obj, Declared::Unnamed).unwrap().unwrap();
        assert_eq!(n.full, n.rendered, "fits 63 characters");
        assert!(n.rendered.len() > 63 && n.database.len() <= 63);
        assert!(n.rendered.starts_with(&n.database));
    }

    #[test]
    fn keys_and_validation() {
        let conv = NamingConvention::from_pairs([
            ("UniqueConstraint", "class_%(table_name)s"),
            ("uq", "abbr_%(table_name)s"),
            ("Index", "i_%(column_0_name)s"),
        ])
        .unwrap();
        assert_eq!(
            conv.template(Kind::Uq).unwrap().source(),
            "abbr_%(table_name)s"
        );
        assert_eq!(
            conv.template(Kind::Ix).unwrap().source(),
            "i_%(column_0_name)s"
        );
        assert_eq!(conv.templates().count(), 2);
        assert!(matches!(
            NamingConvention::from_pairs([("uq", "%(referred_table_name)s")]),
            Err(NamingError::TokenNotAvailable { kind: Kind::Uq, .. })
        ));
        assert!(matches!(
            NamingConvention::from_pairs([("zz", "x")]),
            Err(NamingError::UnknownKey(_))
        ));
        assert_eq!(
            NamingConvention::sqlalchemy_builtin().templates().count(),
            1
        );
        assert_eq!(NamingConvention::default(), NamingConvention::app_default());
    }
}
