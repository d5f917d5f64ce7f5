//! The constraint and index names migrations refer to by name: what their `upgrade()` drops or
//! renames (`op.drop_constraint`, `op.drop_index`, and the same in `op.execute`'s SQL). A
//! rename of such an object by `--fix-sql` would make that revision fail where it has not run
//! yet, so the script leaves it out and says why.

use pg_query::NodeEnum;
use pg_query::protobuf::{AlterTableType, ObjectType};

use super::Translated;

/// A revision's statement that names an existing constraint or index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reference {
    /// The object's name as written.
    pub(crate) name: String,
    /// The table, for constraints (their names are per table).
    pub(crate) table: Option<String>,
    /// The migration file and the line in it.
    pub(crate) file: String,
    pub(crate) line: usize,
    /// "drops" or "renames".
    pub(crate) action: &'static str,
}

/// Every reference in the translated migrations.
pub(crate) fn references(translated: &[Translated]) -> Vec<Reference> {
    let mut found = Vec::new();
    for t in translated {
        let text = &t.sql.text;
        for range in crate::lint::sqlfile::split_statements(text) {
            let Ok(statements) = crate::lint::sqlfile::parse_statements(&text[range.clone()])
            else {
                continue;
            };
            let sql_line = text[..range.start].matches('\n').count();
            let line = t.origins.get(sql_line).map_or(1, |o| o.at.line);
            for raw in &statements {
                let Some(node) = raw.stmt.as_ref().and_then(|n| n.node.as_ref()) else {
                    continue;
                };
                for (name, table, action) in named(node) {
                    found.push(Reference {
                        name,
                        table,
                        file: t.sql.name.clone(),
                        line,
                        action,
                    });
                }
            }
        }
    }
    found
}

/// (name, table, action) of what one statement drops or renames by name.
fn named(node: &NodeEnum) -> Vec<(String, Option<String>, &'static str)> {
    let mut out = Vec::new();
    match node {
        NodeEnum::AlterTableStmt(alter) => {
            let table = alter.relation.as_ref().map(|r| r.relname.clone());
            for cmd in &alter.cmds {
                if let Some(NodeEnum::AlterTableCmd(cmd)) = cmd.node.as_ref()
                    && cmd.subtype == AlterTableType::AtDropConstraint as i32
                {
                    out.push((cmd.name.clone(), table.clone(), "drops"));
                }
            }
        }
        NodeEnum::DropStmt(drop) if drop.remove_type == ObjectType::ObjectIndex as i32 => {
            for object in &drop.objects {
                if let Some(NodeEnum::List(list)) = object.node.as_ref()
                    && let Some(NodeEnum::String(name)) =
                        list.items.last().and_then(|n| n.node.as_ref())
                {
                    out.push((name.sval.clone(), None, "drops"));
                }
            }
        }
        NodeEnum::RenameStmt(rename) => {
            let relation = rename.relation.as_ref().map(|r| r.relname.clone());
            if rename.rename_type == ObjectType::ObjectTabconstraint as i32 {
                out.push((rename.subname.clone(), relation, "renames"));
            } else if rename.rename_type == ObjectType::ObjectIndex as i32
                && let Some(index) = relation
            {
                out.push((index, None, "renames"));
            }
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::alembic::migration::{self, Read};
    use crate::lint::alembic::translate::translate;
    use crate::lint::naming::NamingConvention;
    use crate::lint::sqlfile::SourceFile;

    #[test]
    fn drops_and_renames_by_name_are_found_with_their_python_line() {
        let text = "revision = 'a'\ndown_revision = None\n\ndef upgrade():\n    op.drop_constraint('m_a_fkey', 'm', type_='foreignkey')\n    op.drop_index('ix_m_b', table_name='m')\n    op.execute('ALTER TABLE m RENAME CONSTRAINT m_c_check TO ck_m_c')\n    op.create_index('ix_new', 'm', ['b'])\n";
        let Read::Migration(m) = migration::read(&SourceFile {
            name: "v/a.py".to_string(),
            text: text.to_string(),
        }) else {
            panic!()
        };
        let found = references(&[translate(&m, &NamingConvention::sqlalchemy_builtin())]);
        let summary: Vec<(&str, Option<&str>, usize, &str)> = found
            .iter()
            .map(|r| (r.name.as_str(), r.table.as_deref(), r.line, r.action))
            .collect();
        assert_eq!(
            summary,
            [
                ("m_a_fkey", Some("m"), 5, "drops"),
                ("ix_m_b", None, 6, "drops"),
                ("m_c_check", Some("m"), 7, "renames"),
            ]
        );
    }
}
