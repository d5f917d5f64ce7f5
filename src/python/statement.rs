//! A logical line read as statements (a compound statement's header with what follows its
//! colon, or simple statements separated by `;`), and the lines nested into blocks by their
//! indentation, as Python's `INDENT` and `DEDENT` tokens would nest them.

use super::cursor::Cursor;
use super::lexer::{LexError, Line, Token, TokenKind};
use super::tree::{Call, ExprKind, Located, Statement, WithItem};

/// Python's limit on nested blocks (`MAXINDENT` in its tokenizer).
const MAX_LEVELS: usize = 100;

/// The statements of a module, each line after a header (or, where Python would refuse the
/// indentation, after any statement) in the block of the last less indented line before it.
pub(super) fn nest(lines: &[Line]) -> Result<Vec<Located>, LexError> {
    // the module, then one level per open line: its indentation and the statements of its block
    let mut levels: Vec<(usize, Vec<Located>)> = vec![(0, Vec::new())];
    for line in lines {
        close_blocks(&mut levels, Some(line.indent));
        if levels.len() > MAX_LEVELS {
            return Err(LexError {
                at: line.tokens[0].at,
                message: format!("more than {MAX_LEVELS} levels of indentation"),
            });
        }
        let statements = statements(&line.tokens);
        levels.last_mut().expect("the module").1.extend(statements);
        levels.push((line.indent, Vec::new()));
    }
    close_blocks(&mut levels, None);
    Ok(levels.pop().expect("the module").1)
}

/// Ends the blocks of the open lines indented at least `indent` (all of them for `None`): their
/// statements become the body of their line's last statement.
fn close_blocks(levels: &mut Vec<(usize, Vec<Located>)>, indent: Option<usize>) {
    while levels.len() > 1
        && indent.is_none_or(|indent| levels.last().is_some_and(|(open, _)| *open >= indent))
    {
        let (_, block) = levels.pop().expect("checked");
        let parent = &mut levels.last_mut().expect("the module").1;
        match parent.last_mut() {
            Some(owner) => owner.body.extend(block),
            None => parent.extend(block),
        }
    }
}

/// A logical line read as statements.
fn statements(tokens: &[Token]) -> Vec<Located> {
    let Some((statement, colon)) = header(tokens) else {
        return simple_statements(tokens);
    };
    let (head, inline) = match colon {
        Some(colon) => tokens.split_at(colon + 1),
        None => (tokens, &[][..]),
    };
    vec![Located {
        statement,
        at: tokens[0].at,
        calls: calls(head),
        body: simple_statements(inline),
    }]
}

/// Simple statements separated by `;`.
fn simple_statements(tokens: &[Token]) -> Vec<Located> {
    let mut statements = Vec::new();
    let mut start = 0;
    let ends = depth_zero(tokens)
        .filter(|(_, t)| t.kind == TokenKind::Op(";"))
        .map(|(i, _)| i)
        .chain([tokens.len()]);
    for end in ends {
        let part = &tokens[start..end];
        start = end + 1;
        if let Some(first) = part.first() {
            statements.push(Located {
                statement: simple(part),
                at: first.at,
                calls: calls(part),
                body: Vec::new(),
            });
        }
    }
    statements
}

/// A compound statement's header, and the index of its colon (none for a `class` or `def`
/// written without one).
fn header(tokens: &[Token]) -> Option<(Statement, Option<usize>)> {
    let word = |i: usize| match tokens.get(i).map(|t| &t.kind) {
        Some(TokenKind::Name(word)) => Some(word.as_str()),
        _ => None,
    };
    let colon = depth_zero(tokens)
        .find(|(_, t)| t.kind == TokenKind::Op(":"))
        .map(|(i, _)| i);
    let statement = match (word(0)?, word(1)) {
        ("class", Some(name)) => Statement::Class {
            name: name.to_string(),
            bases: match tokens.get(2).map(|t| &t.kind) {
                Some(TokenKind::Op("(")) => Cursor::new(tokens, 3).arguments().0,
                _ => Vec::new(),
            },
        },
        ("def", Some(name)) => Statement::Function {
            name: name.to_string(),
            asynchronous: false,
        },
        _ if colon.is_none() => return None,
        ("async", Some("def")) => Statement::Function {
            name: word(2)?.to_string(),
            asynchronous: true,
        },
        ("with", _) => Statement::With(with_items(tokens, 1)),
        ("async", Some("with")) => Statement::With(with_items(tokens, 2)),
        (
            keyword @ ("if" | "elif" | "else" | "try" | "except" | "finally" | "for" | "while"
            | "match" | "case" | "async"),
            _,
        ) => Statement::Conditional(keyword.to_string()),
        _ => return None,
    };
    Some((statement, colon))
}

/// `context as alias, ...` from the token at `start`.
fn with_items(tokens: &[Token], start: usize) -> Vec<WithItem> {
    let mut cursor = Cursor::new(tokens, start);
    let mut items = Vec::new();
    loop {
        let context = cursor.expression();
        let alias = if cursor.eat_name("as") {
            Some(cursor.expression())
        } else {
            None
        };
        items.push(WithItem { context, alias });
        if !cursor.eat(",") {
            return items;
        }
    }
}

/// A simple statement.
fn simple(tokens: &[Token]) -> Statement {
    match &tokens[0].kind {
        TokenKind::Op("@") => return Statement::Decorator(Cursor::whole(&tokens[1..])),
        TokenKind::Name(word) => match word.as_str() {
            "import" | "from" => return import(tokens),
            "del" => {
                let deleted = Cursor::whole(&tokens[1..]);
                return Statement::Delete(match deleted.kind {
                    ExprKind::Tuple(items) => items,
                    _ => vec![deleted],
                });
            }
            "pass" if tokens.len() == 1 => return Statement::Pass,
            "return" => {
                return Statement::Return((tokens.len() > 1).then(|| Cursor::whole(&tokens[1..])));
            }
            "raise" | "assert" | "global" | "nonlocal" | "break" | "continue" => {
                return Statement::Other(word.clone());
            }
            _ => {}
        },
        _ => {}
    }
    assignment_or_expression(tokens)
}

/// An assignment (plain, chained, annotated or augmented) or an expression statement.
fn assignment_or_expression(tokens: &[Token]) -> Statement {
    const AUGMENTED: [&str; 13] = [
        "+=", "-=", "*=", "/=", "//=", "%=", "**=", ">>=", "<<=", "&=", "^=", "|=", "@=",
    ];
    if let Some((i, _)) = depth_zero(tokens)
        .find(|(_, t)| matches!(t.kind, TokenKind::Op(op) if AUGMENTED.contains(&op)))
    {
        return Statement::AugmentedAssign {
            target: Cursor::whole(&tokens[..i]),
            value: Cursor::whole(&tokens[i + 1..]),
        };
    }
    let equals: Vec<usize> = depth_zero(tokens)
        .filter(|(_, t)| t.kind == TokenKind::Op("="))
        .map(|(i, _)| i)
        .collect();
    let first_target_end = equals.first().copied().unwrap_or(tokens.len());
    if let Some(colon) = annotation_colon(&tokens[..first_target_end]) {
        return Statement::AnnotatedAssign {
            target: Cursor::whole(&tokens[..colon]),
            annotation: Cursor::whole(&tokens[colon + 1..first_target_end]),
            value: equals.first().map(|&e| Cursor::whole(&tokens[e + 1..])),
        };
    }
    let Some(&last) = equals.last() else {
        return Statement::Expression(Cursor::whole(tokens));
    };
    let mut targets = Vec::new();
    let mut start = 0;
    for &end in &equals {
        targets.push(Cursor::whole(&tokens[start..end]));
        start = end + 1;
    }
    Statement::Assign {
        targets,
        value: Cursor::whole(&tokens[last + 1..]),
    }
}

/// The colon of `target: annotation`, at depth 0 and not a lambda's.
fn annotation_colon(tokens: &[Token]) -> Option<usize> {
    for (i, token) in depth_zero(tokens) {
        match &token.kind {
            TokenKind::Name(name) if name == "lambda" => return None,
            TokenKind::Op(":") => return Some(i),
            _ => {}
        }
    }
    None
}

/// Every call written in a token run, outermost first, wherever it is: also in a header, a
/// decorator, or an expression the tree keeps only as [`ExprKind::Other`].
fn calls(tokens: &[Token]) -> Vec<Call> {
    let mut calls = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if matches!(tokens[i].kind, TokenKind::Name(_))
            && (i == 0 || tokens[i - 1].kind != TokenKind::Op("."))
        {
            let mut cursor = Cursor::new(tokens, i);
            cursor.primary().calls(&mut calls);
            i = cursor.index().max(i + 1);
        } else {
            i += 1;
        }
    }
    calls
}

/// Indices and tokens at bracket depth 0 (brackets themselves left out).
fn depth_zero(tokens: &[Token]) -> impl Iterator<Item = (usize, &Token)> {
    let mut depth = 0i32;
    tokens.iter().enumerate().filter(move |(_, t)| {
        let here = depth;
        match t.kind {
            TokenKind::Op("(" | "[" | "{") => depth += 1,
            TokenKind::Op(")" | "]" | "}") => depth -= 1,
            _ => {}
        }
        here == 0 && depth == 0
    })
}

/// `import a.b as c, d` or `from m import (x as y, z)`.
fn import(tokens: &[Token]) -> Statement {
    let names: Vec<&str> = tokens
        .iter()
        .map(|t| match &t.kind {
            TokenKind::Name(name) => name.as_str(),
            TokenKind::Op(op) => op,
            _ => "",
        })
        .collect();
    let (module, rest) = if names[0] == "from" {
        let import_at = names
            .iter()
            .position(|n| *n == "import")
            .unwrap_or(names.len());
        (
            names[1..import_at].concat(),
            &names[(import_at + 1).min(names.len())..],
        )
    } else {
        (String::new(), &names[1..])
    };
    if rest.contains(&"*") {
        return Statement::StarImport(module);
    }
    let mut bindings = Vec::new();
    for item in rest
        .split(|n| *n == ",")
        .map(|item| {
            item.iter()
                .filter(|n| !matches!(**n, "(" | ")"))
                .copied()
                .collect::<Vec<_>>()
        })
        .filter(|item| !item.is_empty())
    {
        let (path, alias) = match item.iter().position(|n| *n == "as") {
            Some(at) => (&item[..at], item.get(at + 1).copied()),
            None => (&item[..], None),
        };
        let path = path.concat();
        let bound = alias
            .map(str::to_string)
            .unwrap_or_else(|| path.split('.').next().unwrap_or("").to_string());
        let (from, name) = if module.is_empty() {
            (path, None)
        } else {
            (module.clone(), Some(path))
        };
        bindings.push((bound, from, name));
    }
    Statement::Import(bindings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python::parse;
    use crate::python::tree::{Argument, DictEntry, Expr};
    use crate::python::{Position, StrLiteral};

    fn plain_name(expr: &Expr) -> Option<&str> {
        match expr.dotted() {
            Some([name]) => Some(name),
            _ => None,
        }
    }

    fn statements(source: &str) -> Vec<Located> {
        parse(source).unwrap()
    }

    fn text(expr: &Expr) -> &str {
        expr.text()
            .unwrap_or_else(|| panic!("not a string: {expr:?}"))
    }

    #[test]
    fn dict_displays_keep_their_entries_in_order() {
        let parsed = statements(
            "C: dict[str, str] = {'ix': 'ix_' \"%(column_0_label)s\", **B, Index: 'i',}\n",
        );
        let Statement::AnnotatedAssign {
            target,
            value: Some(value),
            ..
        } = &parsed[0].statement
        else {
            panic!("{parsed:?}")
        };
        assert_eq!(plain_name(target), Some("C"));
        let ExprKind::Dict(entries) = &value.kind else {
            panic!("{value:?}")
        };
        assert_eq!(entries.len(), 3);
        let DictEntry::Pair(key, value) = &entries[0] else {
            panic!()
        };
        assert_eq!((text(key), text(value)), ("ix", "ix_%(column_0_label)s"));
        assert!(matches!(&entries[1], DictEntry::Unpack(e) if e.is_name("B")));
        assert!(matches!(&entries[2], DictEntry::Pair(k, _) if k.is_name("Index")));
    }

    #[test]
    fn calls_are_found_anywhere_with_their_arguments() {
        let parsed = statements(
            "@as_declarative(metadata=sa.MetaData(naming_convention=NC))\nclass Base:\n    pass\nx = f(a, *b, k=lambda c, t: c.name, **d)[0]\ny = [g(MetaData()).tables]\n",
        );
        let calls = &parsed[0].calls;
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[1].dotted(), ["sa", "MetaData"]);
        assert!(matches!(
            &calls[1].arguments[0],
            Argument::Keyword(name, value) if name == "naming_convention" && value.is_name("NC")
        ));
        assert!(
            matches!(&parsed[1].statement, Statement::Class { name, bases } if name == "Base" && bases.is_empty())
        );
        assert_eq!(parsed[1].body[0].statement, Statement::Pass);
        let Statement::Assign { value, .. } = &parsed[2].statement else {
            panic!()
        };
        assert!(matches!(value.kind, ExprKind::Subscript(..)));
        let arguments = &parsed[2].calls[0].arguments;
        assert_eq!(arguments.len(), 4);
        assert!(matches!(
            &arguments[2],
            Argument::Keyword(
                _,
                Expr {
                    kind: ExprKind::Lambda,
                    ..
                }
            )
        ));
        assert!(matches!(&arguments[3], Argument::DoubleStar(_)));
        // a call on a call's result, inside a list: both found
        let names: Vec<&str> = parsed[3].calls.iter().map(Call::name).collect();
        assert_eq!(names, ["g", "MetaData"]);
    }

    #[test]
    fn what_is_not_a_literal_says_what_it_is() {
        let parsed = statements(
            "a = {k: v for k, v in x}\nb = 'a' + 'b'\nc = {'a', 'b'}\nd = (1, 2)\ne = ('x')\nf = {k: k + v for k, v in x}\ng = [x for x in y]\nh = -1, ...\n",
        );
        let values: Vec<String> = parsed
            .iter()
            .map(|s| match &s.statement {
                Statement::Assign { value, .. } => value.describe(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            values,
            [
                "a dict comprehension",
                "an expression",
                "a set",
                "a tuple",
                "a string",
                "a dict comprehension",
                "a list",
                "a tuple"
            ]
        );
    }

    #[test]
    fn imports_bind_names_to_modules() {
        let parsed = statements(
            "from app.core import (conventions as c, X)\nimport a.b\nimport a.b as d\nfrom m import *\nNC |= {}\ndel NC['ix'], x\n",
        );
        assert_eq!(
            parsed[0].statement,
            Statement::Import(vec![
                ("c".into(), "app.core".into(), Some("conventions".into())),
                ("X".into(), "app.core".into(), Some("X".into()))
            ])
        );
        assert_eq!(
            parsed[1].statement,
            Statement::Import(vec![("a".into(), "a.b".into(), None)])
        );
        assert_eq!(
            parsed[2].statement,
            Statement::Import(vec![("d".into(), "a.b".into(), None)])
        );
        assert_eq!(parsed[3].statement, Statement::StarImport("m".into()));
        assert!(matches!(
            &parsed[4].statement,
            Statement::AugmentedAssign { target, .. } if target.is_name("NC")
        ));
        assert!(matches!(&parsed[5].statement, Statement::Delete(targets) if targets.len() == 2));
    }

    #[test]
    fn reads_assignments_headers_and_calls() {
        let read = statements(
            "revision: str = 'abc'\ndown_revision = ('a', 'b')\ndef upgrade() -> None:\n    \
             op.create_index(op.f('ix_t_a'), 't', ['a'], unique=False)\n    \
             with op.batch_alter_table('t', schema=None) as batch_op:\n        pass\n    \
             for x in y:\n        pass\n    x = 1 + 2 * 3\n    return x or y\n",
        );
        let (targets, value) = read[0].statement.assignment().unwrap();
        assert!(targets[0].is_name("revision") && value.text() == Some("abc"));
        let (_, value) = read[1].statement.assignment().unwrap();
        assert!(matches!(&value.kind, ExprKind::Tuple(items) if items.len() == 2));
        assert_eq!(
            read[2].statement,
            Statement::Function {
                name: "upgrade".to_string(),
                asynchronous: false
            }
        );
        let body = &read[2].body;
        let Statement::Expression(expr) = &body[0].statement else {
            panic!("{body:?}")
        };
        let call = expr.call().unwrap();
        assert_eq!(call.dotted(), ["op", "create_index"]);
        assert_eq!(
            call.positional()[0].call().unwrap().positional()[0].text(),
            Some("ix_t_a")
        );
        assert_eq!(
            call.positional()[2].elements().unwrap()[0].text(),
            Some("a")
        );
        assert!(call.keyword("unique").unwrap().is_name("False"));
        assert_eq!(expr.at, Position { line: 4, column: 5 });
        let Statement::With(items) = &body[1].statement else {
            panic!("{body:?}")
        };
        assert_eq!(
            plain_name(items[0].alias.as_ref().unwrap()),
            Some("batch_op")
        );
        assert_eq!(body[1].body[0].statement, Statement::Pass);
        assert_eq!(body[2].statement, Statement::Conditional("for".to_string()));
        let Statement::Assign { value, .. } = &body[3].statement else {
            panic!("{body:?}")
        };
        let ExprKind::BinOp(left, "+", right) = &value.kind else {
            panic!("{value:?}")
        };
        assert_eq!(left.kind, ExprKind::Number("1".into()));
        assert!(matches!(right.kind, ExprKind::BinOp(_, "*", _)));
        assert!(matches!(
            &body[4].statement,
            Statement::Return(Some(value)) if matches!(value.kind, ExprKind::Other(_))
        ));
    }

    #[test]
    fn blocks_nest_by_indentation_and_after_the_colon() {
        let read = statements(
            "class Settings(BaseSettings, env_prefix='DB_'):\n    url: str\n    pool_size: int = 5\n    if x: a = 1; b = 2\n        c = 3\nd = 4\n",
        );
        assert_eq!(read.len(), 2);
        let Statement::Class { name, bases } = &read[0].statement else {
            panic!("{read:?}")
        };
        assert_eq!(name, "Settings");
        assert!(
            matches!(&bases[1], Argument::Keyword(k, v) if k == "env_prefix" && v.text() == Some("DB_"))
        );
        let body = &read[0].body;
        assert!(matches!(
            &body[0].statement,
            Statement::AnnotatedAssign { target, annotation, value: None } if target.is_name("url") && annotation.is_name("str")
        ));
        assert!(body[1].statement.assignment().is_some());
        let inline: Vec<Position> = body[2].body.iter().map(|s| s.at).collect();
        assert_eq!(
            inline,
            [
                Position {
                    line: 4,
                    column: 11
                },
                Position {
                    line: 4,
                    column: 18
                },
                Position { line: 5, column: 9 }
            ]
        );
        let nested = |levels: usize| -> String {
            (0..levels)
                .map(|n| format!("{}if x:\n", " ".repeat(n)))
                .collect()
        };
        assert!(parse(&nested(MAX_LEVELS)).is_ok());
        let error = parse(&nested(MAX_LEVELS + 1)).unwrap_err();
        assert_eq!(error.at.line, MAX_LEVELS + 1);
    }

    #[test]
    fn strings_keep_what_python_makes_of_them() {
        let read = statements("a = b'x' 'y'\nb = f'{x}'\n");
        let values: Vec<&ExprKind> = read
            .iter()
            .map(|s| &s.statement.assignment().unwrap().1.kind)
            .collect();
        assert_eq!(
            values,
            [
                &ExprKind::Str(StrLiteral::Bytes),
                &ExprKind::Str(StrLiteral::Formatted)
            ]
        );
    }
}
