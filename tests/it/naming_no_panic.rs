//! Throws pseudo-random, hostile strings at every public entry point: none
//! may panic (errors are fine).

use dbtool::lint::naming::{
    Column, Declared, IndexElem, Kind, NamingConvention, ObjectRef, PgNamespace, TableRef,
    Template, Unnamed, check, choose_postgres_name, make_object_name, quote_ident,
    recognise_postgres_default,
};

use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, RngSeed};

const PIECES: &[&str] = &[
    "%",
    "%%",
    "(",
    ")",
    "s",
    "_",
    "0",
    "N",
    "column_",
    "referred_",
    "name",
    "key",
    "label",
    "table_name",
    "constraint_name",
    "%(column_0_name)s",
    "%(constraint_name)s",
    "%(table_name)s",
    "ck_t_",
    "é",
    "ユ",
    "\"",
    "x",
    "99999999999999999999",
    "_key1",
    "_check",
];

/// Up to `max_parts` pieces, joined.
fn text(max_parts: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(PIECES), 0..=max_parts)
        .prop_map(|pieces| pieces.concat())
}

proptest! {
    // A fixed seed: CI runs the same 4,000 cases every time, and no regression files.
    #![proptest_config(ProptestConfig {
        cases: 4000,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(0x5eed),
        ..ProptestConfig::default()
    })]

    #[test]
    fn nothing_panics(
        round in 0usize..1000,
        template in text(8),
        max_length in 0usize..70,
        t in text(12),
        c1 in text(6),
        c2 in text(6),
        name in text(30),
        ncols in 0usize..3,
    ) {
        let _ = Template::parse(&template);
        let kind = Kind::ALL[round % Kind::ALL.len()];
        let mut convention =
            NamingConvention::app_default().with_max_identifier_length(max_length);
        let _ = convention.set(kind.abbreviation(), &template);

        let cols = [Column::new(&c1), Column::with_key(&c2, &t)];
        let schema = (round % 2 == 0).then_some(c2.as_str());
        let mut obj = ObjectRef::new(kind, TableRef { name: &t, schema }).with_columns(&cols[..ncols]);
        if round % 3 != 0 {
            obj = obj.referring_to(&c1, &[]);
        }
        obj = obj.unique(round % 5 == 0);
        for declared in [
            Declared::Unnamed,
            Declared::Named(&name),
            Declared::Conv(&name),
        ] {
            let _ = convention.name_for(&obj, declared);
        }
        let _ = check(&convention, &obj, &name);

        let elems = [
            IndexElem::Column(&c1),
            IndexElem::Expression(None),
            IndexElem::Expression(Some(&c2)),
        ];
        let include = [c1.as_str()];
        let unnamed = Unnamed::new(kind, &t)
            .with_elements(&elems[..ncols])
            .with_include(&include[..ncols.min(1)]);
        let mut ns = PgNamespace::new();
        ns.add_relation(&name);
        ns.add_constraint(&name);
        let chosen = choose_postgres_name(&ns, &unnamed);
        prop_assert!(chosen.len() <= 63, "{:?}", chosen);
        let _ = recognise_postgres_default(kind, &t, &[c1.as_str()], &name);
        let _ = make_object_name(&t, Some(&name), Some(&c1));
        let _ = quote_ident(&name);
    }
}
