//! Checking a database name against a convention.
//!
//! For a template without `%(constraint_name)s` the expected name is fully
//! determined by the object; the database name must equal SQLAlchemy's
//! rendered name or its PostgreSQL-truncated form.
//!
//! For a template with it (the default `ck`), the database name is all there
//! is to go on, so it is read the way `conv()` is meant to be used
//! (`sqlalchemy/sql/elements.py`, `class conv`): a name that already has the
//! convention's shape, say `ck_<table>_<x>`, is an already-converted name and
//! is accepted as is; a name without that shape is taken as the
//! `constraint_name` the model should have declared, and the expected name is
//! the convention applied to it (`users_age_check` → `ck_users_users_age_check`).
//! Two special cases:
//!
//! * a name whose `<x>` itself has the convention's shape (`ck_t_ck_t_x`) is
//!   the classic mistake of passing an already-converted name without
//!   `conv()`: SQLAlchemy applied the convention twice. It is reported as
//!   [`Rule::DoubledConvention`], expecting `ck_t_x`;
//! * a name cut by SQLAlchemy (`<first max-8 characters>_<4 hex digits>`) or
//!   by PostgreSQL (63 bytes; only a name with multi-byte characters, since
//!   SQLAlchemy's own cut keeps ASCII names within 63 bytes) cannot be
//!   recomputed, since the md5 covers the lost part; it is accepted when its
//!   beginning matches the convention. A doubled name that was cut is still
//!   recognised wherever the cut fell: after the second prefix
//!   (`ck_t__ck_t__amo_332a`) or inside it
//!   (`ck_subscription_renewal_attempts__ck_subscription_renew_5849`), as
//!   long as what is left of the second prefix goes past the template's
//!   opening literal and is at least four characters (`ck_s`): a shorter
//!   remnant (`c`, `ck_`) is also how ordinary names begin. Its expected name
//!   is `None`: the name the model meant is lost with the cut, and the md5 of
//!   the doubled name says nothing about it.
//!
//! A unique index (not backing a UNIQUE constraint) is right when it has the
//! `ix` name: `Column(unique=True, index=True)` and `Index(..., unique=True)`
//! both produce one. By default it is also accepted under the `uq` name
//! ([`CheckOptions::unique_index_accepts_uq`]): PostgreSQL enforces a unique
//! index exactly like a UNIQUE constraint, partial unique indexes cannot be
//! constraints at all, and a `uq_` index is the first step of
//! `ADD CONSTRAINT ... UNIQUE USING INDEX`. Messages still cite the `ix` name.

use std::fmt;

use crate::lint::naming::convention::{NameOrigin, NamingConvention};
use crate::lint::naming::model::ObjectRef;
use crate::lint::naming::postgres_names::recognise_postgres_default;
use crate::lint::naming::quote::quote_ident;
use crate::lint::naming::template::Template;
use crate::lint::naming::truncate::sqlalchemy_truncated_head;
use crate::lint::naming::{Kind, NamingError};

/// Which rule a name breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// The name is not the one the convention gives.
    NameMismatch,
    /// The convention was applied to an already-converted name
    /// (`ck_t_ck_t_x`).
    DoubledConvention,
}

impl Rule {
    /// A stable identifier for reports.
    pub(crate) fn id(self) -> &'static str {
        match self {
            Rule::NameMismatch => "naming/mismatch",
            Rule::DoubledConvention => "naming/doubled-convention",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A name that does not follow the convention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameViolation {
    /// The rule broken.
    pub rule: Rule,
    /// The object's kind.
    pub(crate) kind: Kind,
    /// The name found in the database.
    pub(crate) actual: String,
    /// The name it should have, as PostgreSQL would store it; `None` when
    /// it cannot be computed (a doubled name that was also truncated: the
    /// message says why and what to do).
    pub expected: Option<String>,
    /// Whether `actual` is (or looks like) a name PostgreSQL chose itself.
    pub postgres_default: bool,
    /// A one-line explanation.
    pub message: String,
}

/// Policy knobs for [`check_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CheckOptions {
    /// Accept a unique index named by the `uq` template as well as by `ix`
    /// (module docs). Default: true.
    pub(crate) unique_index_accepts_uq: bool,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            unique_index_accepts_uq: true,
        }
    }
}

/// [`check_with`] with the default options.
pub fn check(
    convention: &NamingConvention,
    obj: &ObjectRef<'_>,
    actual: &str,
) -> Result<Option<NameViolation>, NamingError> {
    check_with(convention, obj, actual, &CheckOptions::default())
}

/// Checks the database name `actual` of `obj`. `Ok(None)` when it is right
/// or when the convention has no template for the kind.
pub(crate) fn check_with(
    convention: &NamingConvention,
    obj: &ObjectRef<'_>,
    actual: &str,
    options: &CheckOptions,
) -> Result<Option<NameViolation>, NamingError> {
    Ok(failure(convention, obj, actual, options)?
        .map(|failure| violation(obj, actual, failure, convention.max_identifier_length())))
}

/// The rule a name breaks and the name it should have, without the message [`check_with`]
/// writes: what a linter of many objects needs first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// The rule broken.
    pub(crate) rule: Rule,
    /// As in [`NameViolation::expected`].
    pub(crate) expected: Option<String>,
}

/// [`check_with`]'s verdict alone.
pub(crate) fn verdict(
    convention: &NamingConvention,
    obj: &ObjectRef<'_>,
    actual: &str,
    options: &CheckOptions,
) -> Result<Option<Verdict>, NamingError> {
    Ok(
        failure(convention, obj, actual, options)?.map(|failure| match failure {
            Misnaming::Mismatch(expected) => Verdict {
                rule: Rule::NameMismatch,
                expected: Some(expected),
            },
            Misnaming::Doubled(expected) => Verdict {
                rule: Rule::DoubledConvention,
                expected,
            },
        }),
    )
}

/// Whether `actual` is (or looks like) the name PostgreSQL would give `obj`
/// ([`NameViolation::postgres_default`]).
pub(crate) fn is_postgres_default(obj: &ObjectRef<'_>, actual: &str) -> bool {
    let columns: Vec<&str> = obj.columns.iter().map(|c| c.name).collect();
    recognise_postgres_default(obj.kind, obj.table.name, &columns, actual).is_some()
}

fn failure(
    convention: &NamingConvention,
    obj: &ObjectRef<'_>,
    actual: &str,
    options: &CheckOptions,
) -> Result<Option<Misnaming>, NamingError> {
    let Some(template) = convention.template(obj.kind) else {
        return Ok(None);
    };
    let Some(failure) = judge(convention, template, obj, actual)? else {
        return Ok(None);
    };
    if obj.kind == Kind::Ix && obj.unique && options.unique_index_accepts_uq {
        if let Some(uq) = convention.template(Kind::Uq) {
            let as_uq = ObjectRef {
                kind: Kind::Uq,
                ..*obj
            };
            if judge(convention, uq, &as_uq, actual)?.is_none() {
                return Ok(None);
            }
        }
    }
    Ok(Some(failure))
}

/// Why a name is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Misnaming {
    /// Carries the expected (database) name.
    Mismatch(String),
    /// Carries the singly-converted name, when it can be known.
    Doubled(Option<String>),
}

/// `None` when `actual` is acceptable for `template` (module docs).
fn judge(
    convention: &NamingConvention,
    template: &Template,
    obj: &ObjectRef<'_>,
    actual: &str,
) -> Result<Option<Misnaming>, NamingError> {
    if !template.uses_constraint_name() {
        let name = convention.finish(template.render(obj, None)?, NameOrigin::Convention);
        return Ok((actual != name.database && actual != name.rendered)
            .then_some(Misnaming::Mismatch(name.database)));
    }
    let segments = template.segments(obj)?;
    let has_shape = segments.iter().any(|s| !s.is_empty());
    let head = cut_head(actual, convention.max_identifier_length());
    if let Some(inner) = recover(&segments, actual) {
        if has_shape && recover(&segments, inner).is_some() {
            // What the model declared is `inner`, unless a cut took its end (and put a hash there).
            let expected = head.is_none().then(|| inner.to_owned());
            return Ok(Some(Misnaming::Doubled(expected)));
        }
        if head.is_none() {
            return Ok(None);
        }
    }
    let prefix = segments.first().map(String::as_str).unwrap_or_default();
    if let Some(head) = head {
        if let Some(rest) = head.strip_prefix(prefix) {
            let doubled = !prefix.is_empty() && doubled_remnant(template, prefix, rest);
            return Ok(doubled.then_some(Misnaming::Doubled(None)));
        }
        if prefix.starts_with(head) {
            return Ok(None);
        }
    }
    let name = convention.finish(segments.join(actual), NameOrigin::Convention);
    Ok(Some(Misnaming::Mismatch(name.database)))
}

/// The start of the full name that a cut `actual` still holds: SQLAlchemy's kept head, or, for a
/// name PostgreSQL may have cut (multi-byte characters, within 3 bytes of the limit), the name
/// itself. `None` when `actual` was not cut.
fn cut_head(actual: &str, max: usize) -> Option<&str> {
    sqlalchemy_truncated_head(actual, max).or_else(|| {
        (!actual.is_ascii() && actual.len() + 3 >= max && actual.len() <= max).then_some(actual)
    })
}

/// Whether `rest`, what follows the first `prefix` in a cut name, is a second prefix, whole or
/// cut (module docs): whole, or a beginning of it that goes past the template's opening literal
/// and has at least four characters.
fn doubled_remnant(template: &Template, prefix: &str, rest: &str) -> bool {
    if rest.starts_with(prefix) {
        return true;
    }
    let minimum = template.leading_literal().chars().count().max(3) + 1;
    prefix.starts_with(rest) && rest.chars().count() >= minimum
}

/// The `constraint_name` that makes `segments` produce `name`, if any.
fn recover<'n>(segments: &[String], name: &'n str) -> Option<&'n str> {
    let occurrences = segments.len().checked_sub(1).filter(|k| *k > 0)?;
    let fixed: usize = segments.iter().map(String::len).sum();
    let variable = name.len().checked_sub(fixed)?;
    if variable % occurrences != 0 {
        return None;
    }
    let start = segments[0].len();
    let inner = name.get(start..start + variable / occurrences)?;
    (segments.join(inner) == name).then_some(inner)
}

fn violation(obj: &ObjectRef<'_>, actual: &str, failure: Misnaming, max: usize) -> NameViolation {
    let postgres_default = is_postgres_default(obj, actual);
    let what = describe(obj);
    let default_note = if postgres_default {
        " (a PostgreSQL default name)"
    } else {
        ""
    };
    let (rule, expected, message) = match failure {
        Misnaming::Mismatch(expected) => {
            let message = format!(
                "{what} is named {}{default_note}; the naming convention gives {}",
                quote_ident(actual),
                quote_ident(&expected)
            );
            (Rule::NameMismatch, Some(expected), message)
        }
        Misnaming::Doubled(expected) => {
            let message = match &expected {
                Some(e) => format!(
                    "{what} is named {}: the naming convention was applied twice (declare the name with conv() or without the prefix); it should be {}",
                    quote_ident(actual),
                    quote_ident(e)
                ),
                None => format!(
                    "{what} is named {}: the naming convention was applied twice, and the name was truncated to the identifier limit ({max}), so the name the model meant cannot be recovered; declare it with conv() or without the prefix in the model, then rename the constraint to the name that gives",
                    quote_ident(actual)
                ),
            };
            (Rule::DoubledConvention, expected, message)
        }
    };
    NameViolation {
        rule,
        kind: obj.kind,
        actual: actual.to_owned(),
        expected,
        postgres_default,
        message,
    }
}

fn describe(obj: &ObjectRef<'_>) -> String {
    let what = match obj.kind {
        Kind::Pk => "primary key",
        Kind::Fk => "foreign key",
        Kind::Uq => "unique constraint",
        Kind::Ck => "check constraint",
        Kind::Ix if obj.unique => "unique index",
        Kind::Ix => "index",
        Kind::Ex => "exclusion constraint",
    };
    let table = match obj.table.schema {
        Some(schema) => format!("{}.{}", quote_ident(schema), quote_ident(obj.table.name)),
        None => quote_ident(obj.table.name),
    };
    format!("{what} on {table}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::naming::model::{Column, TableRef};
    use crate::lint::naming::truncate::clip_bytes;

    fn conv() -> NamingConvention {
        NamingConvention::app_default()
    }

    #[test]
    fn accepts_convention_names() {
        let email = [Column::new("email")];
        let t = TableRef::new("users");
        let c = conv();
        assert_eq!(
            check(&c, &ObjectRef::new(Kind::Pk, t), "pk_users"),
            Ok(None)
        );
        assert_eq!(
            check(
                &c,
                &ObjectRef::new(Kind::Uq, t).with_columns(&email),
                "uq_users_email"
            ),
            Ok(None)
        );
        assert_eq!(
            check(
                &c,
                &ObjectRef::new(Kind::Ix, t).with_columns(&email),
                "ix_users_email"
            ),
            Ok(None)
        );
        assert_eq!(
            check(&c, &ObjectRef::new(Kind::Ck, t), "ck_users_positive"),
            Ok(None)
        );
        // no ex template: not checked
        assert_eq!(
            check(&c, &ObjectRef::new(Kind::Ex, t), "whatever"),
            Ok(None)
        );
    }

    #[test]
    fn reports_postgres_defaults() {
        let email = [Column::new("email")];
        let obj = ObjectRef::new(Kind::Uq, TableRef::new("users")).with_columns(&email);
        let v = check(&conv(), &obj, "users_email_key1").unwrap().unwrap();
        assert_eq!(v.rule, Rule::NameMismatch);
        assert_eq!(v.expected.as_deref(), Some("uq_users_email"));
        assert!(v.postgres_default);
        assert!(v.message.contains("PostgreSQL default"), "{}", v.message);
        let v = check(&conv(), &obj, "users_email_unique").unwrap().unwrap();
        assert!(!v.postgres_default);
    }

    #[test]
    fn check_constraint_names() {
        let age = [Column::new("age")];
        let obj = ObjectRef::new(Kind::Ck, TableRef::new("users")).with_columns(&age);
        let v = check(&conv(), &obj, "users_age_check").unwrap().unwrap();
        assert_eq!(v.expected.as_deref(), Some("ck_users_users_age_check"));
        assert!(v.postgres_default);
        let v = check(&conv(), &obj, "ck_users_ck_users_age")
            .unwrap()
            .unwrap();
        assert_eq!(v.rule, Rule::DoubledConvention);
        assert_eq!(v.expected.as_deref(), Some("ck_users_age"));
        assert_eq!(check(&conv(), &obj, "ck_users_age"), Ok(None));
        // another table's prefix is just a constraint_name
        let v = check(&conv(), &obj, "ck_orders_age").unwrap().unwrap();
        assert_eq!(v.expected.as_deref(), Some("ck_users_ck_orders_age"));
    }

    #[test]
    fn truncated_check_names_are_accepted() {
        let table = "customer_subscription_billing_history_entries_archive_2024_q4";
        let obj = ObjectRef::new(Kind::Ck, TableRef::new(table));
        // SQLAlchemy 2.1.9 output for constraint_name
        // "identifier_must_be_strictly_positive_for_all_archived_rows"
        assert_eq!(
            check(
                &conv(),
                &obj,
                "ck_customer_subscription_billing_history_entries_archiv_699f"
            ),
            Ok(None)
        );
        // any hash is accepted: it cannot be recomputed
        assert_eq!(
            check(
                &conv(),
                &obj,
                "ck_customer_subscription_billing_history_entries_archiv_0000"
            ),
            Ok(None)
        );
        // but the kept head must match the convention
        let v = check(
            &conv(),
            &obj,
            "xx_customer_subscription_billing_history_entries_archiv_699f",
        )
        .unwrap();
        assert!(v.is_some());
        // a doubled name, truncated: what follows the second prefix ends in
        // the hash of the doubled name, not in what the model declared
        let short = ObjectRef::new(Kind::Ck, TableRef::new("t"));
        let doubled = format!("ck_t_ck_t_{}_abcd", "x".repeat(45));
        let v = check(&conv(), &short, &doubled).unwrap().unwrap();
        assert_eq!((v.rule, v.expected), (Rule::DoubledConvention, None));
        assert!(
            v.message.contains("cannot be recovered")
                && v.message.contains("conv() or without the prefix"),
            "{}",
            v.message
        );
        // with a suffix after it, the lost part cannot be recovered
        let suffixed =
            NamingConvention::from_pairs([("ck", "ck_%(table_name)s_%(constraint_name)s_chk")])
                .unwrap();
        let v = check(&suffixed, &short, &doubled).unwrap().unwrap();
        assert_eq!((v.rule, v.expected), (Rule::DoubledConvention, None));
        let fine = format!("ck_t_{}_abcd", "x".repeat(50));
        assert_eq!(check(&suffixed, &short, &fine), Ok(None));
        // cut by PostgreSQL at 63 bytes (2-byte characters: 62 bytes kept)
        let ru = ObjectRef::new(Kind::Ck, TableRef::new("т"));
        let name = format!("ck_т_{}", "я".repeat(40));
        let stored = clip_bytes(&name, 63);
        assert_eq!(check(&conv(), &ru, stored), Ok(None));
    }

    #[test]
    fn doubled_prefixes_are_recognised_wherever_the_cut_fell() {
        let c = NamingConvention::from_pairs([("ck", "ck_%(table_name)s__%(constraint_name)s")])
            .unwrap();
        // SQLAlchemy 2.1.9, CheckConstraint(..., name="ck_subscription_renewal_attempts__positive")
        let attempts = ObjectRef::new(Kind::Ck, TableRef::new("subscription_renewal_attempts"));
        let v = check(
            &c,
            &attempts,
            "ck_subscription_renewal_attempts__ck_subscription_renew_5849",
        )
        .unwrap()
        .unwrap();
        assert_eq!((v.rule, v.expected), (Rule::DoubledConvention, None));
        // The cut leaves 55 characters: on a table of n characters, 50 - n of the second prefix.
        // Only its opening literal left is also how ordinary names begin.
        for (length, doubled) in [
            (50, false),
            (49, false),
            (47, false),
            (46, true),
            (30, true),
        ] {
            let table = "t".repeat(length);
            let object = ObjectRef::new(Kind::Ck, TableRef::new(&table));
            let prefix = format!("ck_{table}__");
            let head: String = format!("{prefix}{prefix}x").chars().take(55).collect();
            let verdict = check(&c, &object, &format!("{head}_1234")).unwrap();
            assert_eq!(
                verdict.map(|v| (v.rule, v.expected)),
                doubled.then_some((Rule::DoubledConvention, None)),
                "{head}"
            );
        }
        // Not a prefix of the second prefix: an ordinary long name, cut.
        let other = format!(
            "ck_subscription_renewal_attempts__ck_other{}_1234",
            "x".repeat(13)
        );
        assert_eq!(check(&c, &attempts, &other), Ok(None));
        // The whole second prefix kept, then cut: the expected name is not invented.
        let renewals = ObjectRef::new(Kind::Ck, TableRef::new("subscription_renewals"));
        let v = check(
            &c,
            &renewals,
            "ck_subscription_renewals__ck_subscription_renewals__amo_332a",
        )
        .unwrap()
        .unwrap();
        assert_eq!((v.rule, v.expected), (Rule::DoubledConvention, None));
        // Not cut: read back.
        let v = check(
            &c,
            &renewals,
            "ck_subscription_renewals__ck_subscription_renewals__amount",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            v.expected.as_deref(),
            Some("ck_subscription_renewals__amount")
        );
    }

    #[test]
    fn unique_indexes() {
        let email = [Column::new("email")];
        let t = TableRef::new("users");
        let ix = ObjectRef::new(Kind::Ix, t)
            .with_columns(&email)
            .unique(true);
        assert_eq!(check(&conv(), &ix, "ix_users_email"), Ok(None));
        assert_eq!(check(&conv(), &ix, "uq_users_email"), Ok(None));
        let strict = CheckOptions {
            unique_index_accepts_uq: false,
        };
        let v = check_with(&conv(), &ix, "uq_users_email", &strict)
            .unwrap()
            .unwrap();
        assert_eq!(v.expected.as_deref(), Some("ix_users_email"));
        assert!(v.message.starts_with("unique index on users"));
        // a non-unique index never takes the uq name
        let plain = ObjectRef::new(Kind::Ix, t).with_columns(&email);
        assert!(check(&conv(), &plain, "uq_users_email").unwrap().is_some());
    }

    #[test]
    fn postgres_truncated_convention_names() {
        let c = conv();
        let col = [Column::new("電子メールアドレスの確認済みフラグ")];
        let obj = ObjectRef::new(Kind::Ix, TableRef::new("顧客テーブル")).with_columns(&col);
        let full = "ix_顧客テーブル_電子メールアドレスの確認済みフラグ";
        assert_eq!(check(&c, &obj, clip_bytes(full, 63)), Ok(None));
        assert_eq!(check(&c, &obj, full), Ok(None));
    }

    #[test]
    fn errors_propagate() {
        let c = NamingConvention::from_pairs([("fk", "fk_%(referred_column_3_name)s")]).unwrap();
        let cols = [Column::new("a")];
        let fk = ObjectRef::new(Kind::Fk, TableRef::new("t"))
            .with_columns(&cols)
            .referring_to("p", &["id"]);
        assert!(check(&c, &fk, "x").is_err());
    }

    #[test]
    fn identity_template_accepts_everything() {
        let c = NamingConvention::from_pairs([("ck", "%(constraint_name)s")]).unwrap();
        let obj = ObjectRef::new(Kind::Ck, TableRef::new("t"));
        assert_eq!(check(&c, &obj, "anything"), Ok(None));
        assert_eq!(check(&c, &obj, ""), Ok(None));
    }

    #[test]
    fn messages_quote_identifiers() {
        let cols = [Column::new("OrgID")];
        let obj = ObjectRef::new(Kind::Fk, TableRef::in_schema("Tenant", "UserAccount"))
            .with_columns(&cols)
            .referring_to("Org", &["ID"]);
        let v = check(&conv(), &obj, "UserAccount_OrgID_fkey")
            .unwrap()
            .unwrap();
        assert!(v.postgres_default);
        assert_eq!(
            v.message,
            "foreign key on \"Tenant\".\"UserAccount\" is named \"UserAccount_OrgID_fkey\" (a PostgreSQL default name); the naming convention gives \"fk_UserAccount_OrgID_Org\""
        );
        assert_eq!(
            Rule::DoubledConvention.to_string(),
            "naming/doubled-convention"
        );
    }
}
