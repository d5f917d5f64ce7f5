//! Replays `tests/fixtures/postgres_names.json` (written by
//! `scripts/gen_postgres_fixture.py` against a real PostgreSQL server):
//! every name the server chose for an unnamed object must be the one
//! [`dbtool::lint::naming::choose_postgres_name`] computes from the names taken before,
//! and must be recognised as a PostgreSQL default name.

use dbtool::lint::naming::postgres_names::index_column_names;
use dbtool::lint::naming::{
    IndexElem, Kind, PgNamespace, Unnamed, choose_postgres_name, recognise_postgres_default,
};
use serde_json::Value;

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/postgres_names.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture present")).expect("JSON")
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().map(|s| s.as_str().expect("string")).collect())
        .unwrap_or_default()
}

#[test]
fn postgres_chooses_the_names_we_compute() {
    let f = fixture();
    assert!(
        f["postgres_version"]
            .as_str()
            .is_some_and(|v| !v.is_empty())
    );
    let cases = f["cases"].as_array().expect("cases");
    assert!(cases.len() >= 40);
    for case in cases {
        let id = case["id"].as_str().expect("id");
        let kind: Kind = case["kind"].as_str().expect("kind").parse().expect("kind");
        let table = case["table"].as_str().expect("table");
        let elements: Vec<IndexElem<'_>> = case["elements"]
            .as_array()
            .expect("elements")
            .iter()
            .map(|e| match e.get("column") {
                Some(c) => IndexElem::Column(c.as_str().expect("column")),
                None => IndexElem::Expression(e["expression"].as_str()),
            })
            .collect();
        let include = strings(&case["include"]);
        let mut ns = PgNamespace::new();
        for r in strings(&case["relations_before"]) {
            ns.add_relation(r);
        }
        for c in strings(&case["constraints_before"]) {
            ns.add_constraint(c);
        }
        let obj = Unnamed::new(kind, table)
            .with_elements(&elements)
            .with_include(&include);
        let expected = case["name"].as_str().expect("name");
        assert_eq!(
            choose_postgres_name(&ns, &obj),
            expected,
            "{id}: {}",
            case["sql"]
        );

        if let Some(index_cols) = case["index_column_names"].as_array() {
            let mut all = elements.clone();
            all.extend(include.iter().map(|c| IndexElem::Column(c)));
            let got = index_column_names(&all);
            let want: Vec<&str> = index_cols
                .iter()
                .map(|c| c.as_str().expect("attname"))
                .collect();
            assert_eq!(got, want, "{id}: index column names");
        }

        let columns_only = elements.iter().all(|e| matches!(e, IndexElem::Column(_)));
        let mut columns: Vec<&str> = elements
            .iter()
            .filter_map(|e| match e {
                IndexElem::Column(c) => Some(*c),
                IndexElem::Expression(_) => None,
            })
            .collect();
        columns.extend(&include);
        let recognised = recognise_postgres_default(kind, table, &columns, expected)
            .unwrap_or_else(|| panic!("{id}: {expected} not recognised"));
        if columns_only {
            assert!(recognised.exact, "{id}: {expected} should match exactly");
        }
    }
}
