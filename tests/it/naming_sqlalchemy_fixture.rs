//! Compares every name in `tests/fixtures/sqlalchemy_names.json` (written by
//! `scripts/gen_sqlalchemy_fixture.py` from SQLAlchemy itself) with what
//! this crate computes, and checks that [`dbtool::lint::naming::check`] accepts every
//! convention-generated name SQLAlchemy emits.

use dbtool::lint::naming::truncate::postgres_truncate;
use dbtool::lint::naming::{
    Column, Declared, Kind, NameOrigin, NamingConvention, ObjectRef, Rule, TableRef, check,
};
use serde_json::Value;

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/sqlalchemy_names.json"
    );
    let text = std::fs::read_to_string(path).expect("fixture present");
    serde_json::from_str(&text).expect("fixture is JSON")
}

fn s(v: &Value) -> Option<&str> {
    v.as_str()
}

fn convention_of(group: &Value) -> NamingConvention {
    let max = group["max_identifier_length"].as_u64().expect("max length") as usize;
    let convention = match group["convention"].as_object() {
        None => NamingConvention::sqlalchemy_builtin(),
        Some(map) => NamingConvention::from_pairs(
            map.iter()
                .map(|(k, v)| (k.as_str(), v.as_str().expect("template"))),
        )
        .unwrap_or_else(|e| panic!("{}: {e}", group["group"])),
    };
    convention.with_max_identifier_length(max)
}

struct Case<'a> {
    id: &'a str,
    kind: Kind,
    table: TableRef<'a>,
    columns: Vec<Column<'a>>,
    referred_table: Option<&'a str>,
    referred_columns: Vec<&'a str>,
    unique: bool,
}

impl<'a> Case<'a> {
    fn from(v: &'a Value) -> Self {
        let columns = v["columns"]
            .as_array()
            .expect("columns")
            .iter()
            .map(|c| {
                let name = s(&c["name"]).expect("column name");
                match s(&c["key"]) {
                    Some(key) if key != name => Column::with_key(name, key),
                    _ => Column::new(name),
                }
            })
            .collect();
        Case {
            id: s(&v["id"]).expect("id"),
            kind: s(&v["kind"]).expect("kind").parse().expect("known kind"),
            table: TableRef {
                name: s(&v["table"]).expect("table"),
                schema: s(&v["schema"]),
            },
            columns,
            referred_table: s(&v["referred_table"]),
            referred_columns: v["referred_columns"]
                .as_array()
                .expect("referred columns")
                .iter()
                .map(|c| c.as_str().expect("referred column"))
                .collect(),
            unique: v["unique"].as_bool().expect("unique"),
        }
    }

    fn obj(&self) -> ObjectRef<'_> {
        ObjectRef {
            kind: self.kind,
            table: self.table,
            columns: &self.columns,
            referred_table: self.referred_table,
            referred_columns: &self.referred_columns,
            unique: self.unique,
        }
    }
}

#[test]
fn fixture_records_its_provenance() {
    let f = fixture();
    let version = s(&f["sqlalchemy_version"]).expect("version recorded");
    assert!(version.starts_with('2'), "{version}");
    assert_eq!(s(&f["dialect"]), Some("postgresql"));
    assert_eq!(
        f["sqlalchemy_default_convention"]["ix"].as_str(),
        NamingConvention::sqlalchemy_builtin()
            .template(Kind::Ix)
            .map(|t| t.source())
    );
}

#[test]
fn every_sqlalchemy_name_is_reproduced() {
    let f = fixture();
    let mut compared = 0;
    let mut kinds = std::collections::BTreeSet::new();
    for group in f["groups"].as_array().expect("groups") {
        let convention = convention_of(group);
        for v in group["cases"].as_array().expect("cases") {
            let case = Case::from(v);
            let obj = case.obj();
            let declared = match (s(&v["constraint_name"]), v["conv"].as_bool()) {
                (Some(name), Some(true)) => Declared::Conv(name),
                (Some(name), _) => Declared::Named(name),
                (None, _) => Declared::Unnamed,
            };
            let got = convention
                .name_for(&obj, declared)
                .unwrap_or_else(|e| panic!("{}: {e}", case.id));
            match (s(&v["full_name"]), got) {
                (None, None) => {}
                (Some(full), Some(name)) => {
                    assert_eq!(name.full, full, "{}: full name", case.id);
                    assert_eq!(
                        Some(name.rendered.as_str()),
                        s(&v["rendered_name"]),
                        "{}: rendered name",
                        case.id
                    );
                    assert_eq!(
                        name.database,
                        postgres_truncate(&name.rendered, convention.max_identifier_length()),
                        "{}",
                        case.id
                    );
                }
                (expected, got) => panic!("{}: expected {expected:?}, got {got:?}", case.id),
            }
            compared += 1;
            kinds.insert(case.kind);
        }
    }
    assert!(compared >= 250, "only {compared} names compared");
    assert_eq!(
        kinds.len(),
        Kind::ALL.len(),
        "every kind is covered: {kinds:?}"
    );
}

#[test]
fn check_accepts_what_sqlalchemy_emits() {
    let f = fixture();
    let mut checked = 0;
    // Doubled names read back, cut but recognised, and cut too short to tell.
    let (mut doubled, mut doubled_cut, mut doubled_unseen) = (0, 0, 0);
    for group in f["groups"].as_array().expect("groups") {
        let convention = convention_of(group);
        for v in group["cases"].as_array().expect("cases") {
            let Some(rendered) = s(&v["rendered_name"]) else {
                continue;
            };
            let case = Case::from(v);
            let obj = case.obj();
            let stored = postgres_truncate(rendered, convention.max_identifier_length());
            let result =
                check(&convention, &obj, stored).unwrap_or_else(|e| panic!("{}: {e}", case.id));
            let explicit = s(&v["constraint_name"]).is_some()
                && v["conv"].as_bool() != Some(true)
                && convention
                    .name_for(
                        &obj,
                        Declared::Named(s(&v["constraint_name"]).unwrap_or_default()),
                    )
                    .ok()
                    .flatten()
                    .is_some_and(|n| n.origin == NameOrigin::Explicit);
            if v["doubled"].as_bool() == Some(true) {
                let model = s(&v["constraint_name"]).expect("model name");
                let prefix = s(&v["convention_prefix"]).expect("prefix").chars().count();
                let kept = v["doubled_prefix_kept"].as_u64().expect("kept") as usize;
                // What is left of the second prefix must go past the template's opening literal
                // and be four characters or more, unless it is whole (lint::naming::check docs).
                let opening = convention
                    .template(Kind::Ck)
                    .map_or(0, |t| t.leading_literal().chars().count());
                let recognisable = kept == prefix || kept > opening.max(3);
                if v["recoverable"].as_bool() == Some(true) {
                    let violation =
                        result.unwrap_or_else(|| panic!("{}: doubled name accepted", case.id));
                    assert_eq!(violation.rule, Rule::DoubledConvention, "{}", case.id);
                    assert_eq!(violation.expected.as_deref(), Some(model), "{}", case.id);
                    doubled += 1;
                } else if recognisable {
                    let violation = result.unwrap_or_else(|| {
                        panic!("{}: cut doubled name {stored} accepted", case.id)
                    });
                    assert_eq!(violation.rule, Rule::DoubledConvention, "{}", case.id);
                    // The model's name went with the cut: nothing to propose but what to do.
                    assert_eq!(violation.expected, None, "{}: {stored}", case.id);
                    assert!(
                        violation.message.contains("cannot be recovered")
                            && violation.message.contains("conv()"),
                        "{}: {}",
                        case.id,
                        violation.message
                    );
                    doubled_cut += 1;
                } else {
                    assert_eq!(result, None, "{}: {stored}", case.id);
                    doubled_unseen += 1;
                }
            } else if explicit && convention.template(case.kind).is_some() {
                // SQLAlchemy kept an explicit name the convention does not produce
                let violation =
                    result.unwrap_or_else(|| panic!("{}: explicit name accepted", case.id));
                assert_eq!(violation.rule, Rule::NameMismatch, "{}", case.id);
            } else {
                assert_eq!(result, None, "{}: {stored}", case.id);
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 400 && doubled >= 3 && doubled_cut >= 50 && doubled_unseen >= 1,
        "{checked} checked, {doubled} doubled, {doubled_cut} cut, {doubled_unseen} too short to tell"
    );
}

#[test]
fn sqlalchemy_errors_are_errors_here_too() {
    let f = fixture();
    let errors = f["errors"].as_array().expect("errors");
    assert!(!errors.is_empty());
    let a = [Column::new("a")];
    for v in errors {
        let id = s(&v["id"]).expect("id");
        let token = s(&v["token"]).expect("token");
        let kind: Kind = s(&v["kind"]).expect("kind").parse().expect("kind");
        let pairs = v["convention"]
            .as_object()
            .expect("convention")
            .iter()
            .map(|(k, t)| (k.clone(), t.as_str().expect("template").to_owned()))
            .collect::<Vec<_>>();
        let err = match NamingConvention::from_pairs(pairs) {
            Err(e) => e,
            Ok(convention) => {
                let obj = ObjectRef::new(kind, TableRef::new("t")).with_columns(&a);
                let obj = if kind == Kind::Fk {
                    obj.referring_to("p", &["id"])
                } else {
                    obj
                };
                match convention.name_for(&obj, Declared::Unnamed) {
                    Err(e) => e,
                    Ok(name) => panic!(
                        "{id}: SQLAlchemy raised {}, got {name:?}",
                        v["python_error"]
                    ),
                }
            }
        };
        assert!(
            err.to_string().contains(token),
            "{id}: {err} should name {token}"
        );
    }
}
