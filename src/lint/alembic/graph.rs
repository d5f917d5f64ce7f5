//! The revision graph: the order the migrations are replayed in, its heads, and the four
//! mistakes that break `alembic upgrade head` — several heads, a `down_revision` naming no
//! revision, a revision id written twice, a cycle — each an error naming its files.
//!
//! The order is a topological one (every revision after all of its down revisions), ties
//! broken by file path. Alembic's own order between parallel branches (its
//! `RevisionMap._topological_sort`, which walks heads in load order) is not reproduced; it can
//! only matter for PostgreSQL's default names when two branches touch the same table.

use std::collections::{BTreeMap, BTreeSet};

use super::migration::Migration;
use crate::lint::sqlfile::FileError;

/// What `--format json` reports under `alembic`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Graph {
    pub heads: Vec<String>,
    pub revisions: Vec<Revision>,
    /// Revision ids in replay order.
    pub order: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Revision {
    pub revision: String,
    pub down_revisions: Vec<String>,
    pub file: String,
}

/// The graph, the indexes of `migrations` to replay in order, and the graph errors.
pub fn build(migrations: &[Migration]) -> (Graph, Vec<usize>, Vec<FileError>) {
    let mut errors = Vec::new();
    let error = |m: &Migration, message: String| FileError {
        file: m.file.clone(),
        line: m.at.line,
        column: m.at.column,
        message,
    };
    // first file (by path) wins a duplicate id; the other is reported and not replayed
    let mut by_path: Vec<usize> = (0..migrations.len()).collect();
    by_path.sort_by(|&a, &b| migrations[a].file.cmp(&migrations[b].file));
    let mut ids: BTreeMap<&str, usize> = BTreeMap::new();
    for &i in &by_path {
        let m = &migrations[i];
        if let Some(&first) = ids.get(m.revision.as_str()) {
            errors.push(error(
                m,
                format!(
                    "duplicate Alembic revision id {:?}: also in {}; give one of them a new id",
                    m.revision, migrations[first].file
                ),
            ));
        } else {
            ids.insert(&m.revision, i);
        }
    }
    let kept: Vec<usize> = by_path
        .iter()
        .copied()
        .filter(|&i| ids.get(migrations[i].revision.as_str()) == Some(&i))
        .collect();
    for &i in &kept {
        let m = &migrations[i];
        for down in &m.down_revisions {
            if !ids.contains_key(down.as_str()) {
                errors.push(error(
                    m,
                    format!(
                        "down_revision {down:?} of revision {:?} names no revision in the files read; pass the whole versions directory or fix the id",
                        m.revision
                    ),
                ));
            }
        }
    }
    // Kahn's algorithm over the known edges, smallest path first
    let mut waiting: BTreeMap<usize, usize> = BTreeMap::new();
    let mut children: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for &i in &kept {
        let downs: BTreeSet<usize> = migrations[i]
            .down_revisions
            .iter()
            .filter_map(|d| ids.get(d.as_str()).copied())
            .collect();
        waiting.insert(i, downs.len());
        for d in downs {
            children.entry(d).or_default().push(i);
        }
    }
    let rank = |i: usize| by_path.iter().position(|&p| p == i).unwrap_or(usize::MAX);
    let mut ready: BTreeSet<(usize, usize)> = waiting
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(&i, _)| (rank(i), i))
        .collect();
    let mut order = Vec::new();
    while let Some(first) = ready.pop_first() {
        let i = first.1;
        order.push(i);
        for &child in children.get(&i).map_or(&[][..], Vec::as_slice) {
            let n = waiting.get_mut(&child).expect("every child is kept");
            *n -= 1;
            if *n == 0 {
                ready.insert((rank(child), child));
            }
        }
    }
    let cyclic: Vec<usize> = kept
        .iter()
        .copied()
        .filter(|i| !order.contains(i))
        .collect();
    if let Some(&first) = cyclic.first() {
        let files: Vec<&str> = cyclic
            .iter()
            .map(|&i| migrations[i].file.as_str())
            .collect();
        errors.push(error(
            &migrations[first],
            format!(
                "the down_revision links of these revisions form a cycle (not replayed): {}; make one of them point at an older revision",
                files.join(", ")
            ),
        ));
    }
    let heads: Vec<usize> = kept
        .iter()
        .copied()
        .filter(|&i| {
            !kept.iter().any(|&j| {
                migrations[j]
                    .down_revisions
                    .contains(&migrations[i].revision)
            })
        })
        .collect();
    if heads.len() > 1 {
        let listed: Vec<String> = heads
            .iter()
            .map(|&i| format!("{} ({})", migrations[i].revision, migrations[i].file))
            .collect();
        errors.push(error(
            &migrations[heads[1]],
            format!(
                "{} Alembic heads: {}; merge them with `alembic merge heads`",
                heads.len(),
                listed.join(", ")
            ),
        ));
    }
    let graph = Graph {
        heads: heads
            .iter()
            .map(|&i| migrations[i].revision.clone())
            .collect(),
        revisions: kept
            .iter()
            .map(|&i| Revision {
                revision: migrations[i].revision.clone(),
                down_revisions: migrations[i].down_revisions.clone(),
                file: migrations[i].file.clone(),
            })
            .collect(),
        order: order
            .iter()
            .map(|&i| migrations[i].revision.clone())
            .collect(),
    };
    (graph, order, errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python::Position;

    fn migration(file: &str, revision: &str, downs: &[&str]) -> Migration {
        Migration {
            file: file.to_string(),
            revision: revision.to_string(),
            at: Position { line: 1, column: 1 },
            down_revisions: downs.iter().map(|d| d.to_string()).collect(),
            upgrade: Vec::new(),
            text: String::new(),
        }
    }

    #[test]
    fn orders_by_down_revision_with_merges_not_by_file_name() {
        let ms = [
            migration("a.py", "m", &["x", "y"]),
            migration("b.py", "y", &["base"]),
            migration("c.py", "x", &["base"]),
            migration("z.py", "base", &[]),
        ];
        let (graph, order, errors) = build(&ms);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(graph.order, ["base", "y", "x", "m"]);
        assert_eq!(order, [3, 1, 2, 0]);
        assert_eq!(graph.heads, ["m"]);
    }

    #[test]
    fn reports_heads_missing_duplicates_and_cycles() {
        let ms = [
            migration("1.py", "a", &[]),
            migration("2.py", "b", &["a"]),
            migration("3.py", "c", &["a"]),
            migration("4.py", "b", &["a"]),
            migration("5.py", "d", &["gone"]),
            migration("6.py", "e", &["f"]),
            migration("7.py", "f", &["e"]),
        ];
        let (graph, order, errors) = build(&ms);
        let messages: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        let text = messages.join("\n");
        assert!(
            text.contains("4.py:1:1: duplicate Alembic revision id \"b\": also in 2.py"),
            "{text}"
        );
        assert!(text.contains("down_revision \"gone\""), "{text}");
        assert!(text.contains("cycle (not replayed): 6.py, 7.py"), "{text}");
        assert!(
            text.contains("3 Alembic heads: b (2.py), c (3.py), d (5.py)"),
            "{text}"
        );
        assert_eq!(graph.heads, ["b", "c", "d"]);
        assert_eq!(order, [0, 1, 2, 4]);
        assert_eq!(errors.len(), 4);
    }
}
