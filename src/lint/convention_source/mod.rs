//! The naming convention read from the application's Python source (`--convention-from`,
//! `convention_from`), without running Python.
//!
//! Where the convention is looked for, in this order:
//!
//! 1. an assignment to `<something>.naming_convention` (`Base.metadata.naming_convention = NC`,
//!    `SQLModel.metadata.naming_convention = {...}`), which replaces what `MetaData` was given;
//! 2. every `MetaData(...)` call (`sa.MetaData` too), wherever it is written: at the top level,
//!    in `class Base(DeclarativeBase): metadata = MetaData(...)`, in `declarative_base(metadata=
//!    MetaData(...))` or a decorator. Its `naming_convention` (keyword or third positional
//!    argument) is used; without one, or when it is empty or `None`, SQLAlchemy's
//!    `DEFAULT_NAMING_CONVENTION` (`ix` only), as `MetaData.__init__` does;
//! 3. in a file with neither, a top-level name containing `convention` (`NAMING_CONVENTION =
//!    {...}`), for applications that keep the dict in a module of its own.
//!
//! Several candidates of the chosen kind must agree. The value must be a literal: a dict
//! display (implicit string concatenation, any quotes, comments and trailing commas allowed,
//! `**other` merged) or `dict(key="...")`, or a name bound to one earlier in the same scope or
//! at the top level, unconditionally and never changed in place afterwards. Keys are the
//! strings SQLAlchemy reads (`pk`, `fk`, `uq`, `ck`, `ix`) or the classes themselves (`Index`,
//! `sa.UniqueConstraint`, `ExcludeConstraint`); values are strings. Anything else — a call, an
//! import, an f-string with fields, a comprehension, a conditional assignment — is refused with
//! its line and column, because only running the code could tell its value.
//!
//! Checked against Python itself: `scripts/gen_convention_from_fixture.py` imports each file of
//! `tests/fixtures/convention_from/` with SQLAlchemy and writes the `naming_convention` it gets.

mod evaluate;
mod found;
mod module;

use std::path::Path;

use anyhow::Result;

pub(crate) use found::{SourceConvention, SourceError};

use crate::exit::invalid;
use crate::python;

/// Reads the convention from Python source text.
pub(crate) fn parse(source: &str) -> Result<SourceConvention, SourceError> {
    let statements = python::parse(source).map_err(|e| SourceError {
        at: e.at,
        message: format!("not valid Python: {}", e.message),
    })?;
    evaluate::find(&module::Module::new(&statements))
}

/// Reads the convention from a Python file; every error is invalid input (exit 3) and names
/// the file, line and column.
pub fn read(path: &Path) -> Result<SourceConvention> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        invalid(format!(
            "cannot read {}: {e}; pass the Python file that creates the application's MetaData",
            path.display()
        ))
    })?;
    parse(&text).map_err(|e| invalid(format!("{}:{e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::found::Found;
    use super::*;
    use crate::lint::naming::{Kind, NamingConvention};
    use crate::python::Position;

    fn pairs(source: &str) -> Vec<(String, String)> {
        parse(source)
            .unwrap_or_else(|e| panic!("{e}"))
            .entries
            .into_iter()
            .map(|e| (e.key, e.template))
            .collect()
    }

    fn refused(source: &str) -> SourceError {
        match parse(source) {
            Ok(found) => panic!("accepted: {:?}", found.entries),
            Err(e) => e,
        }
    }

    fn pair(key: &str, template: &str) -> (String, String) {
        (key.to_string(), template.to_string())
    }

    #[test]
    fn names_resolve_in_scope_order_and_at_the_time_of_use() {
        let source = "\
NC = {'ix': 'old_%(column_0_name)s'}
NC = {'ix': 'ix_%(column_0_name)s'}
class Base(DeclarativeBase):
    NC = {'pk': 'pk_%(table_name)s'}
    metadata = MetaData(naming_convention=NC)
";
        assert_eq!(pairs(source), [pair("pk", "pk_%(table_name)s")]);
        // a function body runs later: the last top-level binding counts
        let source = "\
def metadata():
    return MetaData(naming_convention=NC)
NC = {'ix': 'ix_%(column_0_name)s'}
";
        assert_eq!(pairs(source), [pair("ix", "ix_%(column_0_name)s")]);
        let error = refused("m = MetaData(naming_convention=NC)\nNC = {'ix': 'x'}\n");
        assert_eq!(
            error.at,
            Position {
                line: 1,
                column: 32
            }
        );
        assert!(
            error.message.contains("before it is assigned (line 2)"),
            "{error}"
        );
    }

    #[test]
    fn the_assignment_to_naming_convention_replaces_the_metadata_argument() {
        let source = "\
Base = declarative_base(metadata=MetaData(naming_convention={'ix': 'a_%(column_0_name)s'}))
Base.metadata.naming_convention = dict({'uq': 'u_%(table_name)s'}, **EXTRA, pk='p_%(table_name)s')
EXTRA = {}
";
        // EXTRA is used before it is assigned
        assert!(refused(source).message.contains("EXTRA"));
        let found = parse(&source.replace("EXTRA = {}\n", "").replace("**EXTRA, ", "")).unwrap();
        assert_eq!(found.found, Found::Assignment);
        assert_eq!(found.at.line, 2);
        assert_eq!(
            found
                .entries
                .iter()
                .map(|e| e.key.as_str())
                .collect::<Vec<_>>(),
            ["uq", "pk"]
        );
        assert!(found.convention.template(Kind::Ix).is_none());
    }

    #[test]
    fn metadata_without_a_convention_is_sqlalchemys_default() {
        for source in [
            "m = MetaData()\n",
            "m = MetaData(naming_convention=None)\n",
            "m = sa.MetaData(schema='x', naming_convention={})\n",
        ] {
            let found = parse(source).unwrap();
            assert_eq!(found.found, Found::SqlalchemyDefault, "{source}");
            assert_eq!(found.convention, NamingConvention::sqlalchemy_builtin());
        }
    }

    #[test]
    fn several_conventions_must_agree() {
        let same = "A = MetaData(naming_convention={'ix': 'x_%(column_0_name)s'})\nB = MetaData(naming_convention={'ix': 'x_%(column_0_name)s'})\n";
        assert_eq!(pairs(same).len(), 1);
        let error = refused(&same.replacen("x_", "y_", 1));
        assert_eq!(error.at.line, 2);
        assert!(error.message.contains("first is at line 1"), "{error}");
    }

    #[test]
    fn what_only_running_python_could_tell_is_refused_where_it_is_written() {
        let cases = [
            (
                "m = MetaData(naming_convention=build())\n",
                (1, 32),
                "calling build()",
            ),
            ("m = MetaData(**options)\n", (1, 16), "unpacked"),
            (
                "NC = {'ix': 'x'}\nNC.update(pk='p')\nm = MetaData(naming_convention=NC)\n",
                (2, 1),
                "changed",
            ),
            (
                "NC = {'ix': 'x'}\nNC |= {}\nm = MetaData(naming_convention=NC)\n",
                (2, 1),
                "changed",
            ),
            (
                "try:\n    NC = {'ix': 'x'}\nexcept E:\n    pass\nm = MetaData(naming_convention=NC)\n",
                (2, 5),
                "if/try",
            ),
            (
                "from x import *\nm = MetaData(naming_convention=NC)\n",
                (2, 32),
                "from x import *",
            ),
            (
                "m = MetaData(naming_convention={'ix': lambda c, t: c.name})\n",
                (1, 39),
                "a function",
            ),
            (
                "m = MetaData(naming_convention={'ix': 'a' + 'b'})\n",
                (1, 39),
                "an expression",
            ),
            (
                "m = MetaData(naming_convention={'ix': b'x'})\n",
                (1, 39),
                "bytes",
            ),
            (
                "m = MetaData(naming_convention={'ex': 'x'})\n",
                (1, 33),
                "ExcludeConstraint",
            ),
            (
                "m = MetaData(naming_convention={'column_0_upper': 'x'})\n",
                (1, 33),
                "unknown",
            ),
            (
                "m = MetaData(naming_convention={'uq': '%(referred_table_name)s'})\n",
                (1, 39),
                "only available in the fk",
            ),
            (
                "m = MetaData(naming_convention=config.NAMING)\n",
                (1, 32),
                "attribute",
            ),
            (
                "m = MetaData(naming_convention={'ix': 'x'}\n",
                (1, 13),
                "not valid Python",
            ),
            ("import sqlalchemy\n", (1, 1), "no MetaData"),
        ];
        for (source, (line, column), fragment) in cases {
            let error = refused(source);
            assert_eq!(error.at, Position { line, column }, "{source}: {error}");
            assert!(error.message.contains(fragment), "{source}: {error}");
            assert!(!error.message.contains('\n'), "{error}");
        }
    }

    #[test]
    fn statements_are_read_as_python_reads_them() {
        // a MetaData on which something is called, one in a list, an inline class body, a
        // name bound by unpacking, statements separated by `;`
        for source in [
            "m = MetaData(naming_convention={'ix': 'x_%(column_0_name)s'}).tables\n",
            "Base = registry(metadata=[MetaData(naming_convention={'ix': 'x_%(column_0_name)s'})])\n",
            "class Base(DeclarativeBase): metadata = MetaData(naming_convention={'ix': 'x_%(column_0_name)s'})\n",
            "NC, OTHER = {'ix': 'x_%(column_0_name)s'}, 3\nm = MetaData(naming_convention=NC)\n",
            "NC = {'ix': 'x_%(column_0_name)s'}; m = MetaData(naming_convention=NC)\n",
        ] {
            assert_eq!(
                pairs(source),
                [pair("ix", "x_%(column_0_name)s")],
                "{source}"
            );
        }
        // a trailing comma makes a tuple
        let error = refused("NC = {'ix': 'x'},\nm = MetaData(naming_convention=NC)\n");
        assert!(error.message.contains("NC is a tuple"), "{error}");
    }

    #[test]
    fn a_file_with_only_the_dict_gives_its_convention_constant() {
        let found =
            parse("import os\nDB_NAMING_CONVENTION = {'pk': 'pk_%(table_name)s'}\nother = 3\n")
                .unwrap();
        assert_eq!(found.found, Found::ModuleConstant);
        assert_eq!(found.at.line, 2);
        assert!(
            refused("A_CONVENTION = {'pk': 'a'}\nB_CONVENTION = {'pk': 'b'}\n")
                .message
                .contains("second")
        );
    }

    /// One template as Python source, in one of the ways an application may write it.
    fn python_string(text: &str, style: usize) -> String {
        let middle = text
            .char_indices()
            .nth(text.chars().count() / 2)
            .map_or(text.len(), |(i, _)| i);
        let (head, tail) = text.split_at(middle);
        match style % 5 {
            0 => format!("'{text}'"),
            1 => format!("\"{text}\""),
            2 => format!("'''{text}'''"),
            3 => format!("(\n    \"{head}\"  # first half\n    r'{tail}'\n)"),
            _ => format!("\"{head}\" '{tail}'"),
        }
    }

    proptest::proptest! {
        // A fixed seed: CI replays the same cases every time, and no regression files.
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 300,
            failure_persistence: None,
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x16c0_ffee_0000_0016),
            ..proptest::prelude::ProptestConfig::default()
        })]

        /// Any convention, written with any quoting, concatenation, comments, with or without a
        /// trailing comma, inline or through a name, reads back as Python would build it.
        #[test]
        fn any_written_convention_reads_back(
            entries in proptest::collection::vec(
                (
                    proptest::sample::select(vec!["pk", "uq", "ck", "ix", "Index", "sa.UniqueConstraint"]),
                    proptest::sample::select(vec![
                        "%(table_name)s", "%(column_0_name)s", "%(column_0N_label)s",
                        "%(column_0_N_key)s", "%%", "_", "x", "é",
                    ]),
                    1..4usize,
                    0..5usize,
                ),
                0..6,
            ),
            through_a_name in proptest::bool::ANY,
            trailing_comma in proptest::bool::ANY,
        ) {
            let mut expected: Vec<(String, String)> = Vec::new();
            let mut lines = Vec::new();
            for (key, piece, repeat, style) in &entries {
                let template = format!("p_{}", piece.repeat(*repeat));
                let key_name = key.rsplit('.').next().unwrap().to_string();
                match expected.iter_mut().find(|(k, _)| *k == key_name) {
                    Some(existing) => existing.1 = template.clone(),
                    None => expected.push((key_name, template.clone())),
                }
                let key_source = if key.starts_with(char::is_uppercase) || key.contains('.') {
                    key.to_string()
                } else {
                    format!("{key:?}")
                };
                lines.push(format!("    {key_source}: {}", python_string(&template, *style)));
            }
            let mut body = lines.join(",  # an entry\n");
            if trailing_comma && !body.is_empty() {
                body.push(',');
            }
            let dict = format!("{{\n{body}\n}}");
            let source = if through_a_name {
                format!("NAMING_CONVENTION = {dict}\nmetadata = sa.MetaData(naming_convention=NAMING_CONVENTION)\n")
            } else {
                format!("metadata = MetaData(\n    naming_convention={dict},\n)\n")
            };
            let found = parse(&source).unwrap_or_else(|e| panic!("{e}\n{source}"));
            if expected.is_empty() {
                proptest::prop_assert_eq!(found.found, Found::SqlalchemyDefault);
            } else {
                let read: Vec<(String, String)> =
                    found.entries.into_iter().map(|e| (e.key, e.template)).collect();
                proptest::prop_assert_eq!(read, expected, "{}", source);
            }
        }

        /// Whatever the text, reading it never panics.
        #[test]
        fn any_text_is_read_or_refused_without_panicking(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    "MetaData(", "naming_convention=", "NC", " = ", "{", "}", "(", ")", "[", "]",
                    "'ix'", "\"uq\"", ": ", ", ", "**", "*", "\n", "    ", "class B:", "def f():",
                    "if x:", "import a", "from m import *", "f'{", "b'", "'''", "\\", "#", "1e", "-",
                    "lambda c, t:", "for k in v", "del NC['ix']", "NC.update(", ".", "é", "\t",
                ]),
                0..40,
            ),
        ) {
            let _ = parse(&pieces.concat());
        }
    }
}
