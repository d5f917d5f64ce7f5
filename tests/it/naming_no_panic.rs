//! Throws pseudo-random, hostile strings at every public entry point: none
//! may panic (errors are fine).

use dbtool::lint::naming::{
    Column, Declared, IndexElem, Kind, NamingConvention, ObjectRef, PgNamespace, Table, Template,
    Unnamed, check, choose_postgres_name, make_object_name, quote_ident,
    recognise_postgres_default,
};

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() as usize) % items.len()]
    }

    fn string(&mut self, max_parts: u64) -> String {
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
        let n = self.next() % (max_parts + 1);
        (0..n).map(|_| self.pick(PIECES)).collect()
    }
}

#[test]
fn nothing_panics() {
    let mut rng = Lcg(0x5eed);
    for round in 0..4000 {
        let template = rng.string(8);
        let _ = Template::parse(&template);
        let kind = Kind::ALL[round % Kind::ALL.len()];
        let mut convention =
            NamingConvention::app_default().with_max_identifier_length((rng.next() % 70) as usize);
        let _ = convention.set(kind.abbreviation(), &template);

        let (t, c1, c2, name) = (rng.string(12), rng.string(6), rng.string(6), rng.string(30));
        let cols = [Column::new(&c1), Column::with_key(&c2, &t)];
        let ncols = (rng.next() % 3) as usize;
        let schema = (round % 2 == 0).then_some(c2.as_str());
        let mut obj = ObjectRef::new(kind, Table { name: &t, schema }).with_columns(&cols[..ncols]);
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
        assert!(chosen.len() <= 63, "{chosen:?}");
        let _ = recognise_postgres_default(kind, &t, &[c1.as_str()], &name);
        let _ = make_object_name(&t, Some(&name), Some(&c1));
        let _ = quote_ident(&name);
    }
}
