//! PostgreSQL's keywords that an identifier must be quoted to use.
//!
//! From `src/include/parser/kwlist.h` of PostgreSQL 18: every keyword whose
//! category is not `UNRESERVED_KEYWORD`. `quote_identifier`
//! (`src/backend/utils/adt/ruleutils.c`) quotes all of them, including
//! `COL_NAME_KEYWORD` and `TYPE_FUNC_NAME_KEYWORD` ones, because telling
//! where they would be safe is "much harder than it's worth".
//! Each list is in ASCII order, for binary search.

/// A keyword's grammar category (the non-unreserved ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeywordCategory {
    /// `RESERVED_KEYWORD`.
    Reserved,
    /// `COL_NAME_KEYWORD`: can be a column name, not a function or type.
    ColName,
    /// `TYPE_FUNC_NAME_KEYWORD`: can be a function or type name.
    TypeFuncName,
}

const RESERVED: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "both",
    "case",
    "cast",
    "check",
    "collate",
    "column",
    "constraint",
    "create",
    "current_catalog",
    "current_date",
    "current_role",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "false",
    "fetch",
    "for",
    "foreign",
    "from",
    "grant",
    "group",
    "having",
    "in",
    "initially",
    "intersect",
    "into",
    "lateral",
    "leading",
    "limit",
    "localtime",
    "localtimestamp",
    "not",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "placing",
    "primary",
    "references",
    "returning",
    "select",
    "session_user",
    "some",
    "symmetric",
    "system_user",
    "table",
    "then",
    "to",
    "trailing",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "variadic",
    "when",
    "where",
    "window",
    "with",
];

const COL_NAME: &[&str] = &[
    "between",
    "bigint",
    "bit",
    "boolean",
    "char",
    "character",
    "coalesce",
    "dec",
    "decimal",
    "exists",
    "extract",
    "float",
    "greatest",
    "grouping",
    "inout",
    "int",
    "integer",
    "interval",
    "json",
    "json_array",
    "json_arrayagg",
    "json_exists",
    "json_object",
    "json_objectagg",
    "json_query",
    "json_scalar",
    "json_serialize",
    "json_table",
    "json_value",
    "least",
    "merge_action",
    "national",
    "nchar",
    "none",
    "normalize",
    "nullif",
    "numeric",
    "out",
    "overlay",
    "position",
    "precision",
    "real",
    "row",
    "setof",
    "smallint",
    "substring",
    "time",
    "timestamp",
    "treat",
    "trim",
    "values",
    "varchar",
    "xmlattributes",
    "xmlconcat",
    "xmlelement",
    "xmlexists",
    "xmlforest",
    "xmlnamespaces",
    "xmlparse",
    "xmlpi",
    "xmlroot",
    "xmlserialize",
    "xmltable",
];

const TYPE_FUNC_NAME: &[&str] = &[
    "authorization",
    "binary",
    "collation",
    "concurrently",
    "cross",
    "current_schema",
    "freeze",
    "full",
    "ilike",
    "inner",
    "is",
    "isnull",
    "join",
    "left",
    "like",
    "natural",
    "notnull",
    "outer",
    "overlaps",
    "right",
    "similar",
    "tablesample",
    "verbose",
];

/// The category of `word` (lower case) if it is a keyword that needs
/// quoting as an identifier; `None` for unreserved keywords and non-keywords.
pub(crate) fn keyword_category(word: &str) -> Option<KeywordCategory> {
    // Keywords are 2 to 17 lower-case letters and underscores: most identifiers stop here.
    if !(2..=17).contains(&word.len()) || !word.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
    {
        return None;
    }
    static ALL: std::sync::OnceLock<rustc_hash::FxHashMap<&'static str, KeywordCategory>> =
        std::sync::OnceLock::new();
    ALL.get_or_init(|| {
        [
            (RESERVED, KeywordCategory::Reserved),
            (COL_NAME, KeywordCategory::ColName),
            (TYPE_FUNC_NAME, KeywordCategory::TypeFuncName),
        ]
        .into_iter()
        .flat_map(|(list, category)| list.iter().map(move |word| (*word, category)))
        .collect()
    })
    .get(word)
    .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_sorted_and_disjoint() {
        for list in [RESERVED, COL_NAME, TYPE_FUNC_NAME] {
            assert!(
                list.windows(2).all(|w| w[0] < w[1]),
                "{:?}",
                list.windows(2).find(|w| w[0] >= w[1])
            );
        }
        for word in RESERVED.iter().chain(COL_NAME).chain(TYPE_FUNC_NAME) {
            let n = [RESERVED, COL_NAME, TYPE_FUNC_NAME]
                .iter()
                .filter(|l| l.contains(word))
                .count();
            assert_eq!(n, 1, "{word}");
            // The shape keyword_category checks before looking a word up.
            assert!((2..=17).contains(&word.len()), "{word}");
            assert!(
                word.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{word}"
            );
            assert!(keyword_category(word).is_some(), "{word}");
        }
        assert_eq!(
            (RESERVED.len(), COL_NAME.len(), TYPE_FUNC_NAME.len()),
            (78, 63, 23)
        );
    }

    #[test]
    fn categories() {
        assert_eq!(keyword_category("user"), Some(KeywordCategory::Reserved));
        assert_eq!(keyword_category("integer"), Some(KeywordCategory::ColName));
        assert_eq!(
            keyword_category("left"),
            Some(KeywordCategory::TypeFuncName)
        );
        assert_eq!(keyword_category("name"), None); // unreserved
        assert_eq!(keyword_category("users"), None);
        assert_eq!(keyword_category("USER"), None); // lists are lower case
    }
}
