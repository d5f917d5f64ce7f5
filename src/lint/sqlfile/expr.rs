//! Expressions and names in parse trees: the columns an expression references (in source
//! order), the name PostgreSQL gives an index expression (`FigureIndexColname`,
//! `src/backend/parser/parse_target.c`), and a location-free form to compare definitions.
//!
//! Column references are found by walking the tree's serde form, which covers every node type
//! without listing them.

use pg_query::NodeEnum;
use pg_query::protobuf::{
    AExprKind, JsonExprOp, MinMaxOp, Node, SqlValueFunctionOp, SubLinkType, XmlExprOp,
};
use serde_json::Value;

use super::state::ident;

/// The `sval` of a `String` node.
pub(crate) fn string(node: &Node) -> Option<&str> {
    match node.node.as_ref()? {
        NodeEnum::String(s) => Some(&s.sval),
        _ => None,
    }
}

/// The strings of a name list (`schema.name`, a column list, ...), identifiers cut to 63 bytes.
pub(crate) fn strings(nodes: &[Node]) -> Vec<String> {
    nodes.iter().filter_map(string).map(ident).collect()
}

/// A possibly qualified name list as (schema, name); the schema is empty when not given.
pub(crate) fn qualified(nodes: &[Node]) -> Option<(String, String)> {
    let names = strings(nodes);
    match names.as_slice() {
        [name] => Some((String::new(), name.clone())),
        [.., schema, name] => Some((schema.clone(), name.clone())),
        [] => None,
    }
}

fn is_position_key(key: &str) -> bool {
    key == "location"
        || key.ends_with("_location")
        || key.ends_with("list_start")
        || key.ends_with("list_end")
        || key == "stmt_len"
}

/// The tree without positions: equal for the same expression written anywhere.
pub(crate) fn tree(node: &Node) -> Value {
    let mut value = serde_json::to_value(node).unwrap_or(Value::Null);
    strip_positions(&mut value);
    value
}

fn strip_positions(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|k, _| !is_position_key(k));
            map.values_mut().for_each(strip_positions);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_positions),
        _ => {}
    }
}

/// The columns `node` references, in source order, each once (the last name of each column
/// reference: `t.col` is `col`; `*` is skipped).
pub(crate) fn column_refs(node: &Node) -> Vec<String> {
    let value = serde_json::to_value(node).unwrap_or(Value::Null);
    let mut found: Vec<(i64, String)> = Vec::new();
    collect_refs(&value, &mut found);
    found.sort_by_key(|(location, _)| *location);
    let mut out: Vec<String> = Vec::new();
    for (_, name) in found {
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

fn collect_refs(value: &Value, found: &mut Vec<(i64, String)>) {
    match value {
        Value::Object(map) => {
            if let Some(column_ref) = map.get("ColumnRef")
                && let Some(name) = last_field(column_ref)
            {
                let location = column_ref
                    .get("location")
                    .and_then(Value::as_i64)
                    .unwrap_or(i64::MAX);
                found.push((location, ident(name)));
            }
            map.values().for_each(|v| collect_refs(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, found)),
        _ => {}
    }
}

fn last_field(column_ref: &Value) -> Option<&str> {
    column_ref
        .get("fields")?
        .as_array()?
        .iter()
        .filter_map(|f| f.get("node")?.get("String")?.get("sval")?.as_str())
        .next_back()
}

/// Renames column references in a location-free tree.
pub(crate) fn rename_refs(value: &mut Value, old: &str, new: &str) {
    match value {
        Value::Object(map) => {
            if let Some(fields) = map
                .get_mut("ColumnRef")
                .and_then(|c| c.get_mut("fields"))
                .and_then(Value::as_array_mut)
                && let Some(sval) = fields
                    .iter_mut()
                    .filter_map(|f| f.get_mut("node")?.get_mut("String")?.get_mut("sval"))
                    .next_back()
                && sval.as_str() == Some(old)
            {
                *sval = Value::String(new.to_owned());
            }
            map.values_mut().for_each(|v| rename_refs(v, old, new));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rename_refs(v, old, new)),
        _ => {}
    }
}

/// The plain column an index expression stands for: `(col)` and `(col COLLATE "C")` are
/// columns to PostgreSQL (`ComputeIndexAttrs`).
pub(crate) fn plain_column(node: &Node) -> Option<String> {
    match node.node.as_ref()? {
        NodeEnum::ColumnRef(c) if c.fields.len() == 1 => {
            c.fields.first().and_then(string).map(ident)
        }
        NodeEnum::CollateClause(c) => plain_column(c.arg.as_deref()?),
        _ => None,
    }
}

/// `FigureIndexColname`: the name PostgreSQL gives an index expression, if any.
pub(crate) fn index_colname(node: &Node) -> Option<String> {
    figure(node).1.map(|name| ident(&name))
}

fn last_string(nodes: &[Node]) -> Option<String> {
    nodes
        .iter()
        .filter_map(string)
        .next_back()
        .map(str::to_owned)
}

fn named(name: &str) -> (u8, Option<String>) {
    (2, Some(name.to_owned()))
}

/// `FigureColnameInternal`: (strength, name).
fn figure(node: &Node) -> (u8, Option<String>) {
    let Some(node) = node.node.as_ref() else {
        return (0, None);
    };
    match node {
        NodeEnum::ColumnRef(c) => match last_string(&c.fields) {
            Some(name) => (2, Some(name)),
            None => (0, None),
        },
        NodeEnum::AIndirection(i) => match last_string(&i.indirection) {
            Some(name) => (2, Some(name)),
            None => i.arg.as_deref().map_or((0, None), figure),
        },
        NodeEnum::FuncCall(f) => (2, last_string(&f.funcname)),
        NodeEnum::AExpr(e) if e.kind == AExprKind::AexprNullif as i32 => named("nullif"),
        NodeEnum::TypeCast(t) => {
            let inner = t.arg.as_deref().map_or((0, None), figure);
            match (inner.0, t.type_name.as_ref()) {
                (0 | 1, Some(type_name)) => (1, last_string(&type_name.names)),
                _ => inner,
            }
        }
        NodeEnum::CollateClause(c) => c.arg.as_deref().map_or((0, None), figure),
        NodeEnum::GroupingFunc(_) => named("grouping"),
        NodeEnum::MergeSupportFunc(_) => named("merge_action"),
        NodeEnum::SubLink(s) => match SubLinkType::try_from(s.sub_link_type) {
            Ok(SubLinkType::ExistsSublink) => named("exists"),
            Ok(SubLinkType::ArraySublink) => named("array"),
            _ => (0, None),
        },
        NodeEnum::CaseExpr(c) => {
            let inner = c.defresult.as_deref().map_or((0, None), figure);
            if inner.0 <= 1 {
                (1, Some("case".to_owned()))
            } else {
                inner
            }
        }
        NodeEnum::AArrayExpr(_) => named("array"),
        NodeEnum::RowExpr(_) => named("row"),
        NodeEnum::CoalesceExpr(_) => named("coalesce"),
        NodeEnum::MinMaxExpr(m) => match MinMaxOp::try_from(m.op) {
            Ok(MinMaxOp::IsGreatest) => named("greatest"),
            Ok(MinMaxOp::IsLeast) => named("least"),
            _ => (0, None),
        },
        NodeEnum::SqlvalueFunction(f) => sql_value_function(f.op),
        NodeEnum::XmlExpr(x) => xml_expr(x.op),
        NodeEnum::XmlSerialize(_) => named("xmlserialize"),
        NodeEnum::JsonParseExpr(_) => named("json"),
        NodeEnum::JsonScalarExpr(_) => named("json_scalar"),
        NodeEnum::JsonSerializeExpr(_) => named("json_serialize"),
        NodeEnum::JsonObjectConstructor(_) => named("json_object"),
        NodeEnum::JsonArrayConstructor(_) | NodeEnum::JsonArrayQueryConstructor(_) => {
            named("json_array")
        }
        NodeEnum::JsonObjectAgg(_) => named("json_objectagg"),
        NodeEnum::JsonArrayAgg(_) => named("json_arrayagg"),
        NodeEnum::JsonFuncExpr(f) => match JsonExprOp::try_from(f.op) {
            Ok(JsonExprOp::JsonExistsOp) => named("json_exists"),
            Ok(JsonExprOp::JsonQueryOp) => named("json_query"),
            Ok(JsonExprOp::JsonValueOp) => named("json_value"),
            _ => (0, None),
        },
        _ => (0, None),
    }
}

fn sql_value_function(op: i32) -> (u8, Option<String>) {
    use SqlValueFunctionOp as Op;
    let name = match Op::try_from(op) {
        Ok(Op::SvfopCurrentDate) => "current_date",
        Ok(Op::SvfopCurrentTime | Op::SvfopCurrentTimeN) => "current_time",
        Ok(Op::SvfopCurrentTimestamp | Op::SvfopCurrentTimestampN) => "current_timestamp",
        Ok(Op::SvfopLocaltime | Op::SvfopLocaltimeN) => "localtime",
        Ok(Op::SvfopLocaltimestamp | Op::SvfopLocaltimestampN) => "localtimestamp",
        Ok(Op::SvfopCurrentRole) => "current_role",
        Ok(Op::SvfopCurrentUser) => "current_user",
        Ok(Op::SvfopUser) => "user",
        Ok(Op::SvfopSessionUser) => "session_user",
        Ok(Op::SvfopCurrentCatalog) => "current_catalog",
        Ok(Op::SvfopCurrentSchema) => "current_schema",
        _ => return (0, None),
    };
    named(name)
}

fn xml_expr(op: i32) -> (u8, Option<String>) {
    let name = match XmlExprOp::try_from(op) {
        Ok(XmlExprOp::IsXmlconcat) => "xmlconcat",
        Ok(XmlExprOp::IsXmlelement) => "xmlelement",
        Ok(XmlExprOp::IsXmlforest) => "xmlforest",
        Ok(XmlExprOp::IsXmlparse) => "xmlparse",
        Ok(XmlExprOp::IsXmlpi) => "xmlpi",
        Ok(XmlExprOp::IsXmlroot) => "xmlroot",
        Ok(XmlExprOp::IsXmlserialize) => "xmlserialize",
        _ => return (0, None),
    };
    named(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The expression of `CREATE INDEX ON t (<expr>)`.
    fn index_expr(expr: &str) -> Node {
        let sql = format!("CREATE INDEX ON t ({expr})");
        let stmts = pg_query::parse(&sql, 0).unwrap().protobuf.stmts;
        let Some(NodeEnum::IndexStmt(stmt)) = stmts[0].stmt.as_ref().unwrap().node.clone() else {
            panic!("not an index");
        };
        let Some(NodeEnum::IndexElem(elem)) = stmt.index_params[0].node.clone() else {
            panic!("no element");
        };
        *elem.expr.unwrap()
    }

    #[test]
    fn figures_index_column_names_like_postgres() {
        let name = |e: &str| index_colname(&index_expr(e));
        assert_eq!(name("lower(email)").as_deref(), Some("lower"));
        assert_eq!(name("public.f(a)").as_deref(), Some("f"));
        assert_eq!(name("(a + b)"), None);
        assert_eq!(name("(a::text)").as_deref(), Some("a"));
        assert_eq!(name("((a + b)::text)").as_deref(), Some("text"));
        assert_eq!(name("(coalesce(a, b))").as_deref(), Some("coalesce"));
        assert_eq!(name("(CASE WHEN a THEN b END)").as_deref(), Some("case"));
        assert_eq!(
            name("(CASE WHEN a THEN 1 ELSE lower(b) END)").as_deref(),
            Some("lower")
        );
        assert_eq!(name("((data->>'k'))"), None);
        assert_eq!(name("((t.rec).field)").as_deref(), Some("field"));
        assert_eq!(name("(NULLIF(a, ''))").as_deref(), Some("nullif"));
        assert_eq!(name("(greatest(a, b))").as_deref(), Some("greatest"));
        assert_eq!(name("((ARRAY[a]))").as_deref(), Some("array"));
    }

    #[test]
    fn column_references_in_source_order() {
        let e = index_expr("(coalesce(\"B\", lower(a), t.\"B\"))");
        assert_eq!(column_refs(&e), ["B", "a"]);
        assert_eq!(
            plain_column(&index_expr("(a COLLATE \"C\")")).as_deref(),
            Some("a")
        );
        assert_eq!(plain_column(&index_expr("lower(a)")), None);
    }

    #[test]
    fn trees_ignore_positions_and_follow_renames() {
        let mut a = tree(&index_expr("lower(email)"));
        let b = tree(&index_expr("lower(  email  )"));
        assert_eq!(a, b);
        rename_refs(&mut a, "email", "mail");
        assert_eq!(a, tree(&index_expr("lower(mail)")));
    }
}
