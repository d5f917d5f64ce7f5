//! Transactions: `ROLLBACK` and `ROLLBACK TO SAVEPOINT` undo what was replayed since, as they
//! would in PostgreSQL (the search path included). A transaction still open at the end of a
//! file counts as committed. An error does not abort the transaction here: the statements
//! after it are replayed, so one unsupported or broken statement hides nothing else.
//!
//! The savepoint stack ([`Savepoints`]) belongs to the replayer, which keeps one per file
//! beside the database: a snapshot is a copy of the [`Db`], which itself knows nothing of
//! transactions.

use pg_query::protobuf::{TransactionStmt, TransactionStmtKind};

use super::state::Db;

/// The open transaction and its savepoints, oldest first: the states to go back to. Empty when
/// no transaction is open.
#[derive(Debug, Default)]
pub(crate) struct Savepoints(Vec<Snapshot>);

/// A state to go back to: the transaction start (`name` = `None`) or a savepoint.
#[derive(Debug)]
struct Snapshot {
    name: Option<String>,
    state: Db,
}

impl Savepoints {
    /// Replays a transaction statement on `db`.
    pub(crate) fn transaction(&mut self, db: &mut Db, stmt: &TransactionStmt) {
        use TransactionStmtKind as Kind;
        let in_transaction = !self.0.is_empty();
        match TransactionStmtKind::try_from(stmt.kind) {
            Ok(Kind::TransStmtBegin | Kind::TransStmtStart) if !in_transaction => {
                self.snapshot(db, None);
            }
            Ok(Kind::TransStmtCommit | Kind::TransStmtPrepare) => {
                self.0.clear();
                if stmt.chain {
                    self.snapshot(db, None);
                }
            }
            Ok(Kind::TransStmtRollback) => {
                self.restore(db, 0);
                self.0.clear();
                if stmt.chain {
                    self.snapshot(db, None);
                }
            }
            Ok(Kind::TransStmtSavepoint) if in_transaction => {
                self.snapshot(db, Some(stmt.savepoint_name.clone()));
            }
            Ok(Kind::TransStmtRelease) => {
                if let Some(i) = self.find(&stmt.savepoint_name) {
                    self.0.truncate(i);
                }
            }
            Ok(Kind::TransStmtRollbackTo) => {
                if let Some(i) = self.find(&stmt.savepoint_name) {
                    self.restore(db, i);
                    // the savepoint stays
                    self.0.truncate(i + 1);
                }
            }
            _ => {}
        }
    }

    fn find(&self, name: &str) -> Option<usize> {
        self.0.iter().rposition(|s| s.name.as_deref() == Some(name))
    }

    fn snapshot(&mut self, db: &Db, name: Option<String>) {
        self.0.push(Snapshot {
            name,
            state: db.clone(),
        });
    }

    /// Goes back to snapshot `i`, keeping the snapshots before and at it.
    fn restore(&mut self, db: &mut Db, i: usize) {
        let Some(snapshot) = self.0.get(i) else {
            return;
        };
        *db = snapshot.state.clone();
        self.0.truncate(i + 1);
    }
}
