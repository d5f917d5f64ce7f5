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
pub(crate) struct Graph {
    pub(crate) heads: Vec<String>,
    pub(crate) revisions: Vec<Revision>,
    /// Revision ids in replay order.
    pub(crate) order: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Revision {
    pub(crate) revision: String,
    pub(crate) down_revisions: Vec<String>,
    pub(crate) file: String,
}

/// The graph, the indexes of `migrations` to replay in order, and the graph errors.
pub(crate) fn build(migrations: &[Migration]) -> (Graph, Vec<usize>, Vec<FileError>) {
    let (revisions, mut errors) = Revisions::read(migrations);
    errors.extend(revisions.unknown_down_revisions());
    let order = revisions.replay_order();
    errors.extend(revisions.cycle(&order));
    let heads = revisions.heads();
    errors.extend(revisions.several_heads(&heads));
    (revisions.graph(&heads, &order), order, errors)
}

/// A graph error, reported where the migration's `revision = ...` is written.
fn error(m: &Migration, message: String) -> FileError {
    FileError {
        file: m.file.clone(),
        line: m.at.line,
        column: m.at.column,
        message,
    }
}

/// The migrations by revision id.
struct Revisions<'m> {
    migrations: &'m [Migration],
    /// Indexes of `migrations` ordered by file path.
    by_path: Vec<usize>,
    /// Each id and the migration that has it: the first file (by path) wins a duplicate id.
    ids: BTreeMap<&'m str, usize>,
    /// `by_path` without the duplicates, which are reported and not replayed.
    kept: Vec<usize>,
}

impl<'m> Revisions<'m> {
    /// The revisions, and an error for each id written twice.
    fn read(migrations: &'m [Migration]) -> (Revisions<'m>, Vec<FileError>) {
        let mut errors = Vec::new();
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
        let kept = by_path
            .iter()
            .copied()
            .filter(|&i| ids.get(migrations[i].revision.as_str()) == Some(&i))
            .collect();
        let revisions = Revisions {
            migrations,
            by_path,
            ids,
            kept,
        };
        (revisions, errors)
    }

    /// An error for each `down_revision` that names no revision read.
    fn unknown_down_revisions(&self) -> Vec<FileError> {
        let mut errors = Vec::new();
        for &i in &self.kept {
            let m = &self.migrations[i];
            for down in &m.down_revisions {
                if !self.ids.contains_key(down.as_str()) {
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
        errors
    }

    /// Every revision after its known down revisions, ties broken by file path (Kahn's
    /// algorithm, smallest path first); revisions in a cycle are left out.
    fn replay_order(&self) -> Vec<usize> {
        let mut waiting: BTreeMap<usize, usize> = BTreeMap::new();
        let mut children: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for &i in &self.kept {
            let downs: BTreeSet<usize> = self.migrations[i]
                .down_revisions
                .iter()
                .filter_map(|d| self.ids.get(d.as_str()).copied())
                .collect();
            waiting.insert(i, downs.len());
            for d in downs {
                children.entry(d).or_default().push(i);
            }
        }
        let rank = |i: usize| {
            self.by_path
                .iter()
                .position(|&p| p == i)
                .unwrap_or(usize::MAX)
        };
        let mut ready: BTreeSet<(usize, usize)> = waiting
            .iter()
            .filter(|(_, n)| **n == 0)
            .map(|(&i, _)| (rank(i), i))
            .collect();
        let mut order = Vec::new();
        while let Some((_, i)) = ready.pop_first() {
            order.push(i);
            for &child in children.get(&i).map_or(&[][..], Vec::as_slice) {
                let n = waiting.get_mut(&child).expect("every child is kept");
                *n -= 1;
                if *n == 0 {
                    ready.insert((rank(child), child));
                }
            }
        }
        order
    }

    /// The error for the revisions the order left out: their links form a cycle.
    fn cycle(&self, order: &[usize]) -> Option<FileError> {
        let cyclic: Vec<usize> = self
            .kept
            .iter()
            .copied()
            .filter(|i| !order.contains(i))
            .collect();
        let first = *cyclic.first()?;
        let files: Vec<&str> = cyclic
            .iter()
            .map(|&i| self.migrations[i].file.as_str())
            .collect();
        Some(error(
            &self.migrations[first],
            format!(
                "the down_revision links of these revisions form a cycle (not replayed): {}; make one of them point at an older revision",
                files.join(", ")
            ),
        ))
    }

    /// The revisions no other revision names as its down revision.
    fn heads(&self) -> Vec<usize> {
        self.kept
            .iter()
            .copied()
            .filter(|&i| {
                !self.kept.iter().any(|&j| {
                    self.migrations[j]
                        .down_revisions
                        .contains(&self.migrations[i].revision)
                })
            })
            .collect()
    }

    /// The error for more than one head, which `alembic upgrade head` refuses.
    fn several_heads(&self, heads: &[usize]) -> Option<FileError> {
        if heads.len() < 2 {
            return None;
        }
        let listed: Vec<String> = heads
            .iter()
            .map(|&i| {
                format!(
                    "{} ({})",
                    self.migrations[i].revision, self.migrations[i].file
                )
            })
            .collect();
        Some(error(
            &self.migrations[heads[1]],
            format!(
                "{} Alembic heads: {}; merge them with `alembic merge heads`",
                heads.len(),
                listed.join(", ")
            ),
        ))
    }

    fn graph(&self, heads: &[usize], order: &[usize]) -> Graph {
        let revision = |&i: &usize| self.migrations[i].revision.clone();
        Graph {
            heads: heads.iter().map(revision).collect(),
            revisions: self
                .kept
                .iter()
                .map(|&i| Revision {
                    revision: self.migrations[i].revision.clone(),
                    down_revisions: self.migrations[i].down_revisions.clone(),
                    file: self.migrations[i].file.clone(),
                })
                .collect(),
            order: order.iter().map(revision).collect(),
        }
    }
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
