//! Where the database stands against the code: its current revisions, the code's heads, and the
//! revisions `alembic upgrade heads` would run, in the order Alembic runs them.
//!
//! The order is Alembic's own (1.20): `ScriptDirectory._upgrade_revs` runs, reversed, what
//! `RevisionMap._topological_sort` yields for the revisions the heads need and the current
//! revisions do not (`_collect_upgrade_revisions`), walking the branches in the order the files
//! were loaded (sorted by path). `lint::alembic::graph`'s own replay order breaks ties by path
//! instead, which can differ between parallel branches.

use std::collections::{BTreeMap, BTreeSet};

use crate::finding::{Code, Finding};
use crate::lint::alembic::Graph;

/// A revision the upgrade would run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Pending {
    pub(crate) revision: String,
    pub(crate) file: String,
    /// The first paragraph of its docstring, as `alembic history` shows it.
    pub(crate) message: String,
}

/// The database's revisions against the graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Standing {
    /// None when a current revision is not in the code or the graph has a cycle: Alembic cannot
    /// tell what it would run, and neither can dbtool.
    pub(crate) pending: Option<Vec<Pending>>,
    pub(crate) findings: Vec<Finding>,
}

/// Compares the current revisions with the graph; `message` gives a revision's docstring line.
pub(crate) fn stand(
    graph: &Graph,
    current: &[String],
    message: impl Fn(&str) -> String,
) -> Standing {
    let map = RevisionMap::of(graph);
    let unknown: Vec<&String> = current
        .iter()
        .filter(|r| !map.index.contains_key(r.as_str()))
        .collect();
    let findings: Vec<Finding> = unknown
        .iter()
        .map(|revision| Finding::new(Code::UnknownDbRevision, unknown_message(revision)))
        .collect();
    let cyclic = graph.order.len() < graph.revisions.len();
    if !unknown.is_empty() || cyclic {
        return Standing {
            pending: None,
            findings,
        };
    }
    let current: Vec<usize> = current.iter().map(|r| map.index[r.as_str()]).collect();
    let heads: Vec<usize> = graph
        .heads
        .iter()
        .filter_map(|h| map.index.get(h.as_str()).copied())
        .collect();
    let pending = map
        .upgrade_order(&heads, &current)
        .into_iter()
        .map(|i| {
            let revision = &graph.revisions[i];
            Pending {
                revision: revision.revision.clone(),
                file: revision.file.clone(),
                message: message(&revision.revision),
            }
        })
        .collect();
    Standing {
        pending: Some(pending),
        findings,
    }
}

/// The revisions the database has run, as Alembic would have run them from nothing up to
/// `current`: the history the live schema should match. Empty when a current revision is not
/// in the code or the graph has a cycle.
pub(crate) fn history(graph: &Graph, current: &[String]) -> Vec<String> {
    let map = RevisionMap::of(graph);
    let Some(current) = current
        .iter()
        .map(|r| map.index.get(r.as_str()).copied())
        .collect::<Option<Vec<usize>>>()
    else {
        return Vec::new();
    };
    if graph.order.len() < graph.revisions.len() {
        return Vec::new();
    }
    map.upgrade_order(&current, &[])
        .into_iter()
        .map(|i| graph.revisions[i].revision.clone())
        .collect()
}

/// What to say about a database revision the code does not define. `alembic_version` holds only
/// the heads, not their history, so nothing in the database says which of the code's revisions
/// the unknown one descends from.
fn unknown_message(revision: &str) -> String {
    format!(
        "the database is at revision {revision:?}, which no migration in VERSIONS defines: it is ahead of this code or on another branch, and `alembic upgrade` stops with \"Can't locate revision identified by '{revision}'\"; the database keeps only its current revisions, not their ancestors, so the nearest revision this code knows cannot be told from it; deploy the code that has {revision:?} (or pass the versions directory that defines it), or stamp the database once you know where it really stands"
    )
}

/// The revisions in the order Alembic loads them, with their known down revisions.
struct RevisionMap<'g> {
    index: BTreeMap<&'g str, usize>,
    /// Down revisions of each revision, by index, those not in the graph left out.
    downs: Vec<Vec<usize>>,
}

impl<'g> RevisionMap<'g> {
    fn of(graph: &'g Graph) -> RevisionMap<'g> {
        let index: BTreeMap<&str, usize> = graph
            .revisions
            .iter()
            .enumerate()
            .map(|(i, r)| (r.revision.as_str(), i))
            .collect();
        let downs = graph
            .revisions
            .iter()
            .map(|r| {
                r.down_revisions
                    .iter()
                    .filter_map(|d| index.get(d.as_str()).copied())
                    .collect()
            })
            .collect();
        RevisionMap { index, downs }
    }

    /// `revisions` and everything below them (Alembic's `_get_ancestor_nodes`, inclusive).
    fn ancestors(&self, revisions: &[usize]) -> BTreeSet<usize> {
        let mut seen = BTreeSet::new();
        let mut todo = revisions.to_vec();
        while let Some(i) = todo.pop() {
            if seen.insert(i) {
                todo.extend(&self.downs[i]);
            }
        }
        seen
    }

    /// What `alembic upgrade heads` runs from `current`, first to last.
    fn upgrade_order(&self, heads: &[usize], current: &[usize]) -> Vec<usize> {
        let below_current = self.ancestors(current);
        let needs: BTreeSet<usize> = self
            .ancestors(heads)
            .into_iter()
            .filter(|i| !below_current.contains(i))
            .collect();
        let mut order = self.topological_sort(needs, heads);
        order.reverse();
        order
    }

    /// A port of Alembic's `RevisionMap._topological_sort`: `todo` from the heads down, each
    /// branch walked until another head still needs what comes next. Indexes are the load order
    /// Alembic pre-sorts by. Only called on a graph without cycles.
    fn topological_sort(&self, mut todo: BTreeSet<usize>, heads: &[usize]) -> Vec<usize> {
        let mut current_heads: Vec<usize> = heads
            .iter()
            .copied()
            .filter(|h| todo.contains(h))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut ancestors_by_index: Vec<BTreeSet<usize>> = current_heads
            .iter()
            .map(|&h| self.ancestors(&[h]))
            .collect();
        let mut output = Vec::new();
        let mut candidate_index = 0;
        while !current_heads.is_empty() {
            let candidate = current_heads[candidate_index];
            if let Some(other) = ancestors_by_index
                .iter()
                .enumerate()
                .position(|(k, ancestors)| k != candidate_index && ancestors.contains(&candidate))
            {
                // another head depends on this one: it goes first
                candidate_index = other;
                continue;
            }
            if todo.remove(&candidate) {
                output.push(candidate);
            }
            let to_add: Vec<usize> = self.downs[candidate]
                .iter()
                .copied()
                .filter(|d| todo.contains(d) && !current_heads.contains(d))
                .collect();
            if to_add.is_empty() {
                current_heads.remove(candidate_index);
                ancestors_by_index.remove(candidate_index);
                candidate_index = candidate_index.saturating_sub(1);
            } else if self.downs[candidate].len() == 1 {
                current_heads[candidate_index] = to_add[0];
                ancestors_by_index[candidate_index].remove(&candidate);
            } else {
                current_heads[candidate_index] = to_add[0];
                current_heads.extend(&to_add[1..]);
                ancestors_by_index[candidate_index] = self.ancestors(&[to_add[0]]);
                ancestors_by_index.extend(to_add[1..].iter().map(|&h| self.ancestors(&[h])));
            }
        }
        output
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::alembic::graph::Revision;

    /// A graph of (revision, downs) in load order.
    fn graph(revisions: &[(&str, &[&str])], heads: &[&str]) -> Graph {
        Graph {
            heads: heads.iter().map(|h| h.to_string()).collect(),
            revisions: revisions
                .iter()
                .map(|(r, downs)| Revision {
                    revision: r.to_string(),
                    down_revisions: downs.iter().map(|d| d.to_string()).collect(),
                    file: format!("{r}.py"),
                })
                .collect(),
            order: revisions.iter().map(|(r, _)| r.to_string()).collect(),
        }
    }

    fn pending(graph: &Graph, current: &[&str]) -> Option<Vec<String>> {
        let current: Vec<String> = current.iter().map(|c| c.to_string()).collect();
        stand(graph, &current, |r| format!("doc {r}"))
            .pending
            .map(|p| p.into_iter().map(|p| p.revision).collect())
    }

    #[test]
    fn pending_revisions_follow_alembics_branch_walk() {
        // a1 <- b2 <- (c3, x3) <- d4 (merge) <- e5, loaded in this order
        let g = graph(
            &[
                ("a1", &[]),
                ("b2", &["a1"]),
                ("c3", &["b2"]),
                ("d4", &["c3", "x3"]),
                ("e5", &["d4"]),
                ("x3", &["b2"]),
            ],
            &["e5"],
        );
        assert_eq!(
            pending(&g, &[]).unwrap(),
            ["a1", "b2", "x3", "c3", "d4", "e5"]
        );
        assert_eq!(pending(&g, &["c3"]).unwrap(), ["x3", "d4", "e5"]);
        assert_eq!(pending(&g, &["c3", "x3"]).unwrap(), ["d4", "e5"]);
        assert!(pending(&g, &["e5"]).unwrap().is_empty());
        assert_eq!(
            history(&g, &["d4".to_string()]),
            ["a1", "b2", "x3", "c3", "d4"]
        );
        assert!(history(&g, &[]).is_empty());
        assert!(history(&g, &["zz".to_string()]).is_empty());
    }

    #[test]
    fn an_unknown_database_revision_is_an_error_and_leaves_pending_unknown() {
        let g = graph(&[("a1", &[]), ("b2", &["a1"])], &["b2"]);
        let standing = stand(&g, &["zz99".to_string()], |_| String::new());
        assert_eq!(standing.pending, None);
        assert_eq!(standing.findings.len(), 1);
        assert_eq!(standing.findings[0].code, Code::UnknownDbRevision);
        assert!(standing.findings[0].message.contains("\"zz99\""));
    }
}
