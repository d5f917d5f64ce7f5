//! The names PostgreSQL chooses for unnamed constraints and indexes.
//!
//! Sources (PostgreSQL 11 to 18 agree on all of this):
//!
//! * `makeObjectName` (`src/backend/commands/indexcmds.c`): the name is
//!   `name1_name2_label`; if it would exceed `NAMEDATALEN - 1` (63) bytes,
//!   the longer of `name1`/`name2` is shortened one byte at a time (ties
//!   shorten `name2`), each is then clipped to a character boundary
//!   (`pg_mbcliplen`), and the label is never shortened.
//! * `ChooseRelationName` (same file): tries `label`, then `label1`,
//!   `label2`, ...; a candidate collides with any relation (table, index,
//!   sequence, view, ...) in the schema and, for constraint-backed indexes,
//!   with any constraint in the schema.
//! * `ChooseConstraintName` (`src/backend/catalog/pg_constraint.c`): the
//!   same numbering, colliding with constraints in the schema only (and with
//!   names already chosen in the same command).
//! * `ChooseIndexName`: primary key `<table>_pkey` (no columns); exclusion
//!   `<table>_<cols>_excl`; unique/primary constraint `<table>_<cols>_key`;
//!   plain `CREATE [UNIQUE] INDEX`: `<table>_<cols>_idx`.
//!   `ChooseIndexColumnNames` names a column element by its column, an
//!   expression by `FigureIndexColname` (for example the function name,
//!   `lower`) or `expr`, appending `1`, `2`, ... to repeats;
//!   `ChooseIndexNameAddition` joins them with `_`. INCLUDE columns count
//!   (`DefineIndex` passes `allIndexParams`).
//! * Foreign keys (`ATExecAddConstraint`, `tablecmds.c`):
//!   `<table>_<cols>_fkey` via `ChooseForeignKeyConstraintNameAddition`,
//!   all local columns joined with `_`.
//! * Check constraints (`AddRelationNewConstraints`, `src/backend/catalog/heap.c`):
//!   `<table>_<col>_check` when the expression references exactly one
//!   distinct column, else `<table>_check`.
//!
//! Input names are the stored (case-folded) names. Names longer than 63
//! bytes are first truncated as PostgreSQL's lexer would.

use std::collections::BTreeSet;

use crate::lint::naming::Kind;
use crate::lint::naming::truncate::clip_bytes;

/// PostgreSQL's `NAMEDATALEN`: names hold at most `NAMEDATALEN - 1` bytes.
pub(crate) const NAMEDATALEN: usize = 64;

const MAX_NAME_BYTES: usize = NAMEDATALEN - 1;

/// `makeObjectName(name1, name2, label)` (module docs).
pub fn make_object_name(name1: &str, name2: Option<&str>, label: Option<&str>) -> String {
    let mut overhead = 0;
    let mut n1 = name1.len();
    let mut n2 = 0;
    if let Some(name2) = name2 {
        n2 = name2.len();
        overhead += 1;
    }
    if let Some(label) = label {
        overhead += label.len() + 1;
    }
    // PostgreSQL asserts availchars > 0; saturate instead of looping forever.
    let avail = MAX_NAME_BYTES.saturating_sub(overhead);
    while n1 + n2 > avail {
        if n1 > n2 {
            n1 -= 1;
        } else {
            n2 -= 1;
        }
    }
    let mut name = String::with_capacity(MAX_NAME_BYTES);
    name.push_str(clip_bytes(name1, n1));
    if let Some(name2) = name2 {
        name.push('_');
        name.push_str(clip_bytes(name2, n2));
    }
    if let Some(label) = label {
        name.push('_');
        name.push_str(label);
    }
    name
}

/// One element of an index, unique, primary key or exclusion constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexElem<'a> {
    /// A column, by name.
    Column(&'a str),
    /// An expression, with the name `FigureIndexColname` gives it (for
    /// `lower(email)`, `lower`), or `None` when it gives none (`expr`).
    Expression(Option<&'a str>),
}

/// `ChooseIndexColumnNames`: element names, with repeats made unique by
/// appending `1`, `2`, ...
pub fn index_column_names(elements: &[IndexElem<'_>]) -> Vec<String> {
    let mut result: Vec<String> = Vec::with_capacity(elements.len());
    for elem in elements {
        let orig = match elem {
            IndexElem::Column(name) | IndexElem::Expression(Some(name)) => ident(name),
            IndexElem::Expression(None) => "expr",
        };
        let mut current = orig.to_owned();
        let mut i: u64 = 1;
        while result.contains(&current) {
            let suffix = i.to_string();
            let base = clip_bytes(orig, MAX_NAME_BYTES.saturating_sub(suffix.len()));
            current = format!("{base}{suffix}");
            i += 1;
        }
        result.push(current);
    }
    result
}

fn ident(name: &str) -> &str {
    clip_bytes(name, MAX_NAME_BYTES)
}

fn join_names<S: AsRef<str>>(names: &[S]) -> String {
    names
        .iter()
        .map(|n| ident(n.as_ref()))
        .collect::<Vec<_>>()
        .join("_")
}

/// An object created without a name, as PostgreSQL sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unnamed<'a> {
    /// What is created: pk, uq (UNIQUE constraint), ix (`CREATE [UNIQUE]`
    /// INDEX), ex (EXCLUDE), fk or ck.
    pub(crate) kind: Kind,
    /// The table name.
    pub(crate) table: &'a str,
    /// pk/uq/ix/ex: the key elements. fk: the local columns. ck: the
    /// columns the expression references (repeats allowed).
    pub(crate) elements: &'a [IndexElem<'a>],
    /// pk/uq/ix/ex: the INCLUDE columns.
    pub(crate) include: &'a [&'a str],
}

impl<'a> Unnamed<'a> {
    /// An object without elements.
    pub fn new(kind: Kind, table: &'a str) -> Self {
        Unnamed {
            kind,
            table,
            elements: &[],
            include: &[],
        }
    }

    /// Sets the elements.
    pub fn with_elements(mut self, elements: &'a [IndexElem<'a>]) -> Self {
        self.elements = elements;
        self
    }

    /// Sets the INCLUDE columns.
    pub fn with_include(mut self, include: &'a [&'a str]) -> Self {
        self.include = include;
        self
    }

    /// The `name2` part PostgreSQL uses, if any.
    pub(crate) fn name_addition(&self) -> Option<String> {
        match self.kind {
            Kind::Pk => None,
            Kind::Fk => Some(join_names(&element_names(self.elements))),
            Kind::Ck => {
                let mut distinct = element_names(self.elements);
                let mut seen = BTreeSet::new();
                distinct.retain(|n| seen.insert(*n));
                match distinct.as_slice() {
                    [only] => Some(ident(only).to_owned()),
                    _ => None,
                }
            }
            Kind::Uq | Kind::Ix | Kind::Ex => {
                let mut all: Vec<IndexElem<'_>> = self.elements.to_vec();
                all.extend(self.include.iter().map(|c| IndexElem::Column(c)));
                Some(join_names(&index_column_names(&all)))
            }
        }
    }
}

fn element_names<'a>(elements: &[IndexElem<'a>]) -> Vec<&'a str> {
    elements
        .iter()
        .map(|e| match e {
            IndexElem::Column(name) | IndexElem::Expression(Some(name)) => *name,
            IndexElem::Expression(None) => "expr",
        })
        .collect()
}

/// The names already taken in one schema.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PgNamespace {
    relations: BTreeSet<String>,
    constraints: BTreeSet<String>,
}

impl PgNamespace {
    /// An empty schema.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a relation name (`pg_class.relname`: tables, indexes,
    /// sequences, views, ...).
    pub fn add_relation(&mut self, name: &str) {
        self.relations.insert(name.to_owned());
    }

    /// Records a constraint name (`pg_constraint.conname`, including NOT
    /// NULL constraints on PostgreSQL 18 and domain constraints).
    pub fn add_constraint(&mut self, name: &str) {
        self.constraints.insert(name.to_owned());
    }

    /// Records what creating an object of `kind` named `name` adds: an
    /// index relation for pk/uq/ix/ex, a constraint for all but ix.
    #[cfg(test)]
    fn reserve(&mut self, kind: Kind, name: &str) {
        if kind.is_relation() {
            self.add_relation(name);
        }
        if kind.is_constraint() {
            self.add_constraint(name);
        }
    }

    /// Whether a relation has this name.
    pub(crate) fn has_relation(&self, name: &str) -> bool {
        self.relations.contains(name)
    }

    /// Whether a constraint has this name.
    pub(crate) fn has_constraint(&self, name: &str) -> bool {
        self.constraints.contains(name)
    }

    fn collides(&self, kind: Kind, name: &str) -> bool {
        match kind {
            // ChooseRelationName(..., isconstraint = false)
            Kind::Ix => self.has_relation(name),
            // ChooseRelationName(..., isconstraint = true)
            Kind::Pk | Kind::Uq | Kind::Ex => self.has_relation(name) || self.has_constraint(name),
            // ChooseConstraintName
            Kind::Fk | Kind::Ck => self.has_constraint(name),
        }
    }

    /// The name PostgreSQL will give `obj` in this schema, then records it
    /// (so that the next call sees it, as after `CommandCounterIncrement`).
    #[cfg(test)]
    fn choose_and_reserve(&mut self, obj: &Unnamed<'_>) -> String {
        let name = choose_postgres_name(self, obj);
        self.reserve(obj.kind, &name);
        name
    }
}

/// The name PostgreSQL will give the unnamed `obj` in a schema whose names
/// are `ns` (module docs).
pub fn choose_postgres_name(ns: &PgNamespace, obj: &Unnamed<'_>) -> String {
    let table = ident(obj.table);
    let addition = obj.name_addition();
    let label = obj.kind.postgres_label();
    let mut candidate = make_object_name(table, addition.as_deref(), Some(label));
    let mut pass: u64 = 0;
    while ns.collides(obj.kind, &candidate) {
        pass += 1;
        candidate = make_object_name(table, addition.as_deref(), Some(&format!("{label}{pass}")));
    }
    candidate
}

/// How a name matched PostgreSQL's default naming.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostgresDefault {
    /// The name is exactly what PostgreSQL generates for this table and
    /// these columns; `false` means it only has the shape
    /// (`<table...>_..._<label>[N]`), as for expression indexes.
    pub exact: bool,
    /// The collision number PostgreSQL appended (`users_email_key1` → 1).
    pub(crate) suffix: Option<u64>,
}

/// Whether `name` is (or looks like) a name PostgreSQL chose itself for an
/// object of `kind` on `table` with `columns` (the SQLAlchemy column list;
/// for a check constraint, any single one of them may be the one PostgreSQL
/// used).
pub fn recognise_postgres_default(
    kind: Kind,
    table: &str,
    columns: &[&str],
    name: &str,
) -> Option<PostgresDefault> {
    let label = kind.postgres_label();
    let digits_len = name.bytes().rev().take_while(u8::is_ascii_digit).count();
    let (stem_and_label, digits) = name.split_at(name.len() - digits_len);
    if digits.starts_with('0') {
        return None;
    }
    let suffix = if digits.is_empty() {
        None
    } else {
        Some(digits.parse::<u64>().ok()?)
    };
    let stem = stem_and_label.strip_suffix(label)?.strip_suffix('_')?;
    let modlabel = format!("{label}{digits}");
    let table = ident(table);

    let mut candidates: Vec<Option<String>> = Vec::new();
    match kind {
        Kind::Pk => candidates.push(None),
        Kind::Ck => {
            candidates.push(None);
            candidates.extend(columns.iter().map(|c| Some(ident(c).to_owned())));
        }
        Kind::Fk if !columns.is_empty() => candidates.push(Some(join_names(columns))),
        Kind::Uq | Kind::Ix | Kind::Ex if !columns.is_empty() => {
            let elems: Vec<IndexElem<'_>> = columns.iter().map(|c| IndexElem::Column(c)).collect();
            candidates.push(Some(join_names(&index_column_names(&elems))));
        }
        _ => {}
    }
    if candidates
        .iter()
        .any(|c| make_object_name(table, c.as_deref(), Some(&modlabel)) == name)
    {
        return Some(PostgresDefault {
            exact: true,
            suffix,
        });
    }
    if kind == Kind::Pk {
        return None;
    }
    // Shape only: the table part survives truncation down to about half of
    // the room left by the label (makeObjectName shortens the longer part).
    let avail = MAX_NAME_BYTES.saturating_sub(modlabel.len() + 2);
    let guaranteed = clip_bytes(table, (avail / 2).saturating_sub(3));
    let shaped = if guaranteed.len() == table.len() {
        stem.strip_prefix(table).is_some_and(|rest| {
            (rest.starts_with('_') && rest.len() > 1) || (rest.is_empty() && kind == Kind::Ck)
        })
    } else {
        !guaranteed.is_empty() && stem.starts_with(guaranteed) && stem.len() > guaranteed.len()
    };
    shaped.then_some(PostgresDefault {
        exact: false,
        suffix,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn make_object_name_basic() {
        assert_eq!(make_object_name("users", None, Some("pkey")), "users_pkey");
        assert_eq!(
            make_object_name("users", Some("email"), Some("key")),
            "users_email_key"
        );
        assert_eq!(
            make_object_name("users", Some("email"), None),
            "users_email"
        );
        assert_eq!(make_object_name("users", None, None), "users");
    }

    #[test]
    fn make_object_name_truncates_the_longer_part() {
        let table = "a".repeat(40);
        let col = "b".repeat(40);
        let name = make_object_name(&table, Some(&col), Some("key"));
        // 63 - (1 + 3 + 1) = 58 bytes for the two names: 29 + 29
        assert_eq!(name, format!("{}_{}_key", "a".repeat(29), "b".repeat(29)));
        assert_eq!(name.len(), 63);
        // ties shorten name2 first; "_pkey" leaves an odd 57 bytes
        let name = make_object_name(&"a".repeat(40), Some(&"b".repeat(40)), Some("idx"));
        assert_eq!(name, format!("{}_{}_idx", "a".repeat(29), "b".repeat(29)));
        let name = make_object_name(&"a".repeat(40), Some(&"b".repeat(40)), Some("pkey"));
        assert_eq!(name, format!("{}_{}_pkey", "a".repeat(29), "b".repeat(28)));
        // a short table keeps its full name
        let name = make_object_name("t", Some(&"c".repeat(70)), Some("fkey"));
        assert_eq!(name, format!("t_{}_fkey", "c".repeat(56)));
        assert_eq!(name.len(), 63);
    }

    #[test]
    fn make_object_name_is_multibyte_safe() {
        // 3-byte characters: the byte budget may fall inside one
        let table = "ユ".repeat(20); // 60 bytes
        let name = make_object_name(&table, None, Some("pkey"));
        // 63 - 5 = 58 bytes available -> 19 characters (57 bytes)
        assert_eq!(name, format!("{}_pkey", "ユ".repeat(19)));
        assert!(name.len() <= 63);
        let name = make_object_name(&"я".repeat(30), Some(&"ю".repeat(30)), Some("key"));
        assert!(name.len() <= 63 && name.ends_with("_key"));
    }

    #[test]
    fn huge_label_does_not_hang() {
        let label = "l".repeat(100);
        let name = make_object_name("table", Some("col"), Some(&label));
        assert_eq!(name, format!("__{label}"));
    }

    #[test]
    fn index_column_names_dedupe() {
        use IndexElem::*;
        let names = index_column_names(&[
            Column("a"),
            Column("a"),
            Column("a1"),
            Expression(None),
            Expression(None),
            Expression(Some("lower")),
        ]);
        assert_eq!(names, ["a", "a1", "a11", "expr", "expr1", "lower"]);
    }

    #[test]
    fn choose_names_per_kind() {
        use IndexElem::*;
        let ns = PgNamespace::new();
        let cols = [Column("email"), Column("org_id")];
        let choose = |kind, elems: &[IndexElem<'_>]| {
            choose_postgres_name(&ns, &Unnamed::new(kind, "users").with_elements(elems))
        };
        assert_eq!(choose(Kind::Pk, &cols), "users_pkey");
        assert_eq!(choose(Kind::Uq, &cols), "users_email_org_id_key");
        assert_eq!(choose(Kind::Ix, &cols), "users_email_org_id_idx");
        assert_eq!(choose(Kind::Ex, &cols), "users_email_org_id_excl");
        assert_eq!(choose(Kind::Fk, &cols), "users_email_org_id_fkey");
        assert_eq!(
            choose(Kind::Ck, &[Column("age"), Column("age")]),
            "users_age_check"
        );
        assert_eq!(choose(Kind::Ck, &cols), "users_check");
        assert_eq!(choose(Kind::Ck, &[]), "users_check");
        assert_eq!(
            choose(Kind::Ix, &[Expression(Some("lower"))]),
            "users_lower_idx"
        );
        assert_eq!(
            choose(Kind::Ix, &[Expression(None), Expression(None)]),
            "users_expr_expr1_idx"
        );
        let with_include = Unnamed::new(Kind::Ix, "users")
            .with_elements(&cols[..1])
            .with_include(&["id"]);
        assert_eq!(
            choose_postgres_name(&ns, &with_include),
            "users_email_id_idx"
        );
    }

    #[test]
    fn collisions_follow_the_catalog_rules() {
        use IndexElem::*;
        let email = [Column("email")];
        let uq = Unnamed::new(Kind::Uq, "users").with_elements(&email);
        let ix = Unnamed::new(Kind::Ix, "users").with_elements(&email);
        let fk = Unnamed::new(Kind::Fk, "users").with_elements(&email);
        let mut ns = PgNamespace::new();
        assert_eq!(ns.choose_and_reserve(&uq), "users_email_key");
        assert_eq!(ns.choose_and_reserve(&uq), "users_email_key1");
        assert_eq!(ns.choose_and_reserve(&uq), "users_email_key2");
        assert_eq!(ns.choose_and_reserve(&ix), "users_email_idx");
        assert_eq!(ns.choose_and_reserve(&ix), "users_email_idx1");
        // a constraint name does not block a plain index...
        let mut ns = PgNamespace::new();
        ns.add_constraint("users_email_idx");
        assert_eq!(choose_postgres_name(&ns, &ix), "users_email_idx");
        // ...but blocks a constraint-backed one
        ns.add_constraint("users_email_key");
        assert_eq!(choose_postgres_name(&ns, &uq), "users_email_key1");
        // a relation name does not block a foreign key
        let mut ns = PgNamespace::new();
        ns.add_relation("users_email_fkey");
        assert_eq!(choose_postgres_name(&ns, &fk), "users_email_fkey");
        ns.add_constraint("users_email_fkey");
        assert_eq!(choose_postgres_name(&ns, &fk), "users_email_fkey1");
        assert!(ns.has_relation("users_email_fkey"));
    }

    #[test]
    fn suffix_keeps_the_label_and_truncates_names() {
        let col = [IndexElem::Column("c")];
        let table = "t".repeat(63);
        let mut ns = PgNamespace::new();
        let obj = Unnamed::new(Kind::Uq, &table).with_elements(&col);
        let first = ns.choose_and_reserve(&obj);
        assert_eq!(first, format!("{}_c_key", "t".repeat(57)));
        let second = ns.choose_and_reserve(&obj);
        assert_eq!(second, format!("{}_c_key1", "t".repeat(56)));
        // over-long input is cut as the lexer would
        let long = "x".repeat(100);
        let pk = Unnamed::new(Kind::Pk, &long);
        assert_eq!(
            choose_postgres_name(&PgNamespace::new(), &pk),
            format!("{}_pkey", "x".repeat(58))
        );
    }

    #[test]
    fn recognises_defaults() {
        let exact =
            |kind, table, cols: &[&str], name| recognise_postgres_default(kind, table, cols, name);
        assert_eq!(
            exact(Kind::Pk, "users", &[], "users_pkey"),
            Some(PostgresDefault {
                exact: true,
                suffix: None
            })
        );
        assert_eq!(
            exact(Kind::Uq, "users", &["email"], "users_email_key1"),
            Some(PostgresDefault {
                exact: true,
                suffix: Some(1)
            })
        );
        assert_eq!(
            exact(Kind::Fk, "users", &["org_id"], "users_org_id_fkey"),
            Some(PostgresDefault {
                exact: true,
                suffix: None
            })
        );
        assert_eq!(
            exact(Kind::Ck, "users", &["age"], "users_age_check"),
            Some(PostgresDefault {
                exact: true,
                suffix: None
            })
        );
        assert_eq!(
            exact(Kind::Ck, "users", &["a", "b"], "users_check"),
            Some(PostgresDefault {
                exact: true,
                suffix: None
            })
        );
        assert_eq!(
            exact(Kind::Ex, "r", &["room", "during"], "r_room_during_excl"),
            Some(PostgresDefault {
                exact: true,
                suffix: None
            })
        );
        // shape only: an expression index
        assert_eq!(
            exact(Kind::Ix, "users", &["email"], "users_lower_idx"),
            Some(PostgresDefault {
                exact: false,
                suffix: None
            })
        );
        assert_eq!(
            exact(Kind::Ix, "users", &["email"], "users_lower_idx12"),
            Some(PostgresDefault {
                exact: false,
                suffix: Some(12)
            })
        );
        // not defaults
        assert_eq!(exact(Kind::Uq, "users", &["email"], "uq_users_email"), None);
        assert_eq!(
            exact(Kind::Uq, "users", &["email"], "users_email_idx"),
            None
        );
        assert_eq!(
            exact(Kind::Uq, "users", &["email"], "users_email_key01"),
            None
        );
        assert_eq!(exact(Kind::Pk, "users", &[], "accounts_pkey"), None);
        assert_eq!(exact(Kind::Pk, "users", &[], "users_x_pkey"), None);
        assert_eq!(exact(Kind::Ix, "users", &[], "users_idx"), None);
        assert_eq!(exact(Kind::Ix, "users", &[], "idx"), None);
        assert_eq!(exact(Kind::Ix, "users", &[], ""), None);
        assert_eq!(
            exact(
                Kind::Uq,
                "users",
                &[],
                "users_email_key99999999999999999999999"
            ),
            None
        );
        // truncated defaults are recognised exactly
        let table = "t".repeat(63);
        let name = choose_postgres_name(
            &PgNamespace::new(),
            &Unnamed::new(Kind::Uq, &table).with_elements(&[IndexElem::Column("c")]),
        );
        assert_eq!(
            exact(Kind::Uq, &table, &["c"], &name).map(|d| d.exact),
            Some(true)
        );
        assert_eq!(
            exact(
                Kind::Uq,
                &table,
                &["zz"],
                &format!("{}_q_key", "t".repeat(57))
            )
            .map(|d| d.exact),
            Some(false)
        );
    }
}
