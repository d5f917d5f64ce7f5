//! The dispatcher: replays one parsed statement into the database by handing it to its handler
//! ([`super::create`], [`super::alter`], [`super::index`], [`super::rename`], [`super::drop`]),
//! the only module that imports them all. It handles itself what only takes a name or a
//! setting: schemas (whose elements it dispatches in turn), the search path, domains, and the
//! relations that only take names (sequences, views, composite types). Transaction statements
//! are the replayer's ([`super::transaction`]): they save and restore the whole database.

use pg_query::NodeEnum;
use pg_query::protobuf::{
    AlterDomainStmt, CreateDomainStmt, CreateSchemaStmt, DoStmt, Node, RangeVar, SelectStmt,
    VariableSetKind, VariableSetStmt,
};

use super::defs::{Def, from_constraint};
use super::expr::{qualified, string};
use super::session::{Handled, Problem, ReplaySession, already_exists, relation_schema};
use super::state::{Db, Rel, TableKind, default_search_path, ident};
use super::{alter, create, drop, index, rename};
use crate::lint::naming::{Kind, Unnamed};

/// Replays one statement.
pub(crate) fn execute(s: &mut ReplaySession<'_>, node: &NodeEnum) -> Handled {
    match node {
        NodeEnum::CreateStmt(c) => create::create_table(s, c, TableKind::Table),
        NodeEnum::CreateForeignTableStmt(c) => match &c.base_stmt {
            Some(base) => create::create_table(s, base, TableKind::Foreign),
            None => Ok(()),
        },
        NodeEnum::CreateTableAsStmt(c) => create::create_table_as(s, c),
        NodeEnum::SelectStmt(select) => select_stmt(s, select),
        NodeEnum::IndexStmt(i) => index::create_index(s, i),
        NodeEnum::AlterTableStmt(a) => alter::alter_table(s, a),
        NodeEnum::RenameStmt(r) => rename::rename(s, r),
        NodeEnum::AlterObjectSchemaStmt(a) => rename::set_schema(s, a),
        NodeEnum::DropStmt(d) => drop::drop(s, d),
        NodeEnum::CreateSchemaStmt(c) => create_schema(s, c),
        NodeEnum::VariableSetStmt(v) => {
            set_variable(s.db, v);
            Ok(())
        }
        NodeEnum::CreateSeqStmt(c) => match &c.sequence {
            Some(rv) => other_relation(s, rv, c.if_not_exists),
            None => Ok(()),
        },
        NodeEnum::ViewStmt(v) => match &v.view {
            Some(rv) => other_relation(s, rv, v.replace),
            None => Ok(()),
        },
        NodeEnum::CompositeTypeStmt(c) => match &c.typevar {
            Some(rv) => other_relation(s, rv, false),
            None => Ok(()),
        },
        NodeEnum::CreateDomainStmt(d) => create_domain(s, d),
        NodeEnum::AlterDomainStmt(d) => alter_domain(s, d),
        NodeEnum::DoStmt(d) => guarded_rename(s, d),
        // `BEGIN`, `SAVEPOINT`, `ROLLBACK` ...: the replayer's, before it dispatches here
        // (`super::transaction`).
        _ => Ok(()),
    }
}

/// A `DO` block is PL/pgSQL, which is not replayed, but for the guarded renames of dbtool's own
/// `--fix-sql` script ([`crate::lint::fix`]), so that a migration that pastes the script lints
/// as renamed: `IF NOT EXISTS (...) THEN <ALTER ... RENAME ...>; END IF;`. The rename is replayed
/// where the object still has its old name; where it does not, the rename was done already and
/// the guard skips it, as the server would.
fn guarded_rename(s: &mut ReplaySession<'_>, d: &DoStmt) -> Handled {
    let body = d.args.iter().find_map(|arg| match arg.node.as_ref() {
        Some(NodeEnum::DefElem(e)) if e.defname == "as" => e.arg.as_deref().and_then(string),
        _ => None,
    });
    let Some(statement) = body
        .and_then(|b| b.trim().strip_prefix("BEGIN"))
        .and_then(|b| b.trim().strip_prefix("IF NOT EXISTS ("))
        .and_then(|b| b.split_once(") THEN"))
        .and_then(|(_, rest)| rest.trim_end().strip_suffix("END"))
        .and_then(|rest| rest.trim_end().strip_suffix("END IF;"))
    else {
        return Ok(());
    };
    let Ok(parsed) = super::parse::parse(statement.trim()) else {
        return Ok(());
    };
    if let [raw] = parsed.as_slice()
        && let Some(NodeEnum::RenameStmt(rename)) = raw.stmt.as_ref().and_then(|n| n.node.as_ref())
    {
        // An error here is the old name gone: renamed already, skipped by the guard.
        let _ = rename::rename(s, rename);
    }
    Ok(())
}

fn create_schema(s: &mut ReplaySession<'_>, c: &CreateSchemaStmt) -> Handled {
    let name = if c.schemaname.is_empty() {
        c.authrole
            .as_ref()
            .map(|r| ident(&r.rolename))
            .unwrap_or_default()
    } else {
        ident(&c.schemaname)
    };
    if name.is_empty() {
        return Ok(());
    }
    if s.db.schemas.contains_key(&name) {
        if c.if_not_exists {
            return Ok(());
        }
        return Err(Problem::new(
            format!("schema \"{name}\" already exists"),
            -1,
        ));
    }
    s.db.namespace(&name);
    // The elements are created in the new schema.
    let saved = std::mem::replace(&mut s.db.search_path, vec![name]);
    let result = c
        .schema_elts
        .iter()
        .filter_map(|n| n.node.as_ref())
        .try_for_each(|element| execute(s, element));
    s.db.search_path = saved;
    result
}

/// `SET search_path`: every value is one schema name, as written.
fn set_variable(db: &mut Db, v: &VariableSetStmt) {
    let kind = VariableSetKind::try_from(v.kind).unwrap_or(VariableSetKind::Undefined);
    match kind {
        VariableSetKind::VarResetAll => db.search_path = default_search_path(),
        _ if !v.name.eq_ignore_ascii_case("search_path") => {}
        VariableSetKind::VarSetValue => {
            db.search_path = v.args.iter().filter_map(const_string).collect();
        }
        VariableSetKind::VarSetDefault | VariableSetKind::VarReset => {
            db.search_path = default_search_path();
        }
        _ => {}
    }
}

/// The text of a string or identifier constant.
fn const_string(node: &Node) -> Option<String> {
    match node.node.as_ref()? {
        NodeEnum::AConst(c) => match c.val.as_ref()? {
            pg_query::protobuf::a_const::Val::Sval(s) => Some(s.sval.clone()),
            _ => None,
        },
        NodeEnum::String(s) => Some(s.sval.clone()),
        _ => None,
    }
}

/// `SELECT pg_catalog.set_config('search_path', '...', false)` (pg_dump) and `SELECT ... INTO`.
fn select_stmt(s: &mut ReplaySession<'_>, select: &SelectStmt) -> Handled {
    if let Some(into) = &select.into_clause {
        return create::create_from_into(s, into, TableKind::Table, false);
    }
    for target in &select.target_list {
        let Some(NodeEnum::ResTarget(target)) = target.node.as_ref() else {
            continue;
        };
        let Some(NodeEnum::FuncCall(call)) = target.val.as_deref().and_then(|v| v.node.as_ref())
        else {
            continue;
        };
        let is_set_config = call.funcname.last().and_then(string) == Some("set_config");
        let args: Vec<Option<String>> = call.args.iter().map(const_string).collect();
        if let (true, [Some(name), Some(value), ..]) = (is_set_config, args.as_slice())
            && name.eq_ignore_ascii_case("search_path")
        {
            s.db.search_path = split_identifier_string(value);
        }
    }
    Ok(())
}

/// `SplitIdentifierString` for a search path: comma-separated, unquoted names folded to lower
/// case, quoted names as written.
pub(crate) fn split_identifier_string(value: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut chars = value.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut name = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                if c == '"' {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                    } else {
                        break;
                    }
                }
                name.push(c);
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' || c.is_whitespace() {
                    break;
                }
                name.push(c.to_ascii_lowercase());
                chars.next();
            }
        }
        names.push(ident(&name));
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next() != Some(',') {
            break;
        }
    }
    names
}

/// A sequence, view or composite type: only its name matters.
fn other_relation(s: &mut ReplaySession<'_>, rv: &RangeVar, may_exist: bool) -> Handled {
    let schema = relation_schema(s.db, rv)?;
    let name = ident(&rv.relname);
    if s.db.lookup(&schema, &name).is_some() {
        return if may_exist {
            Ok(())
        } else {
            Err(already_exists(&name, rv.location))
        };
    }
    s.db.namespace(&schema).add_relation(&name, Rel::Other);
    Ok(())
}

fn create_domain(s: &mut ReplaySession<'_>, d: &CreateDomainStmt) -> Handled {
    let Some((schema, name)) = qualified(&d.domainname) else {
        return Ok(());
    };
    let schema =
        s.db.creation_schema(&schema)
            .map_err(|m| Problem::new(m, -1))?;
    for c in &d.constraints {
        if let Some(NodeEnum::Constraint(c)) = c.node.as_ref() {
            add_domain_check(s.db, &schema, &name, from_constraint(c, None));
        }
    }
    s.db.domains.entry((schema, name)).or_default();
    Ok(())
}

fn add_domain_check(db: &mut Db, schema: &str, domain: &str, def: Option<Def>) {
    let Some(Def::Check(check)) = def else {
        return;
    };
    let name = check
        .name
        .unwrap_or_else(|| db.choose(schema, &Unnamed::new(Kind::Ck, domain)));
    db.namespace(schema).add_constraint(&name);
    db.domains
        .entry((schema.to_owned(), domain.to_owned()))
        .or_default()
        .push(name);
}

/// The schema and name of an existing domain.
fn find_domain(db: &Db, names: &[Node]) -> Option<(String, String)> {
    let (schema, name) = qualified(names)?;
    if !schema.is_empty() {
        return Some((schema, name));
    }
    db.search_path
        .iter()
        .find(|s| db.domains.contains_key(&((*s).clone(), name.clone())))
        .map(|s| (s.clone(), name))
}

fn alter_domain(s: &mut ReplaySession<'_>, d: &AlterDomainStmt) -> Handled {
    let Some((schema, domain)) = find_domain(s.db, &d.type_name) else {
        return Ok(());
    };
    match d.subtype.as_str() {
        "C" => {
            if let Some(NodeEnum::Constraint(c)) = d.def.as_deref().and_then(|n| n.node.as_ref()) {
                add_domain_check(s.db, &schema, &domain, from_constraint(c, None));
            }
        }
        "X" => {
            let name = ident(&d.name);
            let names = s.db.domains.entry((schema.clone(), domain)).or_default();
            if let Some(i) = names.iter().position(|n| *n == name) {
                names.remove(i);
                s.db.namespace(&schema).remove_constraint(&name);
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::split_identifier_string;

    #[test]
    fn search_path_strings_split_like_postgres() {
        assert_eq!(split_identifier_string(""), Vec::<String>::new());
        assert_eq!(
            split_identifier_string("\"$user\", Public,\"My Schema\""),
            ["$user", "public", "My Schema"]
        );
        assert_eq!(split_identifier_string("a"), ["a"]);
    }
}
