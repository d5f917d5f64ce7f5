//! Transactions: `ROLLBACK` and `ROLLBACK TO SAVEPOINT` undo what was replayed since, as they
//! would in PostgreSQL (the search path included). A transaction still open at the end of a
//! file counts as committed. An error does not abort the transaction here: the statements
//! after it are replayed, so one unsupported or broken statement hides nothing else.

use pg_query::protobuf::{TransactionStmt, TransactionStmtKind};

use super::state::Db;

/// A state to go back to: the transaction start (`name` = `None`) or a savepoint.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    name: Option<String>,
    state: Box<Db>,
}

pub(crate) fn transaction(db: &mut Db, stmt: &TransactionStmt) {
    use TransactionStmtKind as Kind;
    let in_transaction = !db.savepoints.is_empty();
    match TransactionStmtKind::try_from(stmt.kind) {
        Ok(Kind::TransStmtBegin | Kind::TransStmtStart) if !in_transaction => snapshot(db, None),
        Ok(Kind::TransStmtCommit | Kind::TransStmtPrepare) => {
            db.savepoints.clear();
            if stmt.chain {
                snapshot(db, None);
            }
        }
        Ok(Kind::TransStmtRollback) => {
            restore(db, 0);
            db.savepoints.clear();
            if stmt.chain {
                snapshot(db, None);
            }
        }
        Ok(Kind::TransStmtSavepoint) if in_transaction => {
            snapshot(db, Some(stmt.savepoint_name.clone()));
        }
        Ok(Kind::TransStmtRelease) => {
            if let Some(i) = find(db, &stmt.savepoint_name) {
                db.savepoints.truncate(i);
            }
        }
        Ok(Kind::TransStmtRollbackTo) => {
            if let Some(i) = find(db, &stmt.savepoint_name) {
                restore(db, i);
                // the savepoint stays
                db.savepoints.truncate(i + 1);
            }
        }
        _ => {}
    }
}

fn find(db: &Db, name: &str) -> Option<usize> {
    db.savepoints
        .iter()
        .rposition(|s| s.name.as_deref() == Some(name))
}

fn snapshot(db: &mut Db, name: Option<String>) {
    let savepoints = std::mem::take(&mut db.savepoints);
    let state = Box::new(db.clone());
    db.savepoints = savepoints;
    db.savepoints.push(Snapshot { name, state });
}

/// Goes back to snapshot `i`, keeping the snapshots before and at it.
fn restore(db: &mut Db, i: usize) {
    let Some(snapshot) = db.savepoints.get(i).cloned() else {
        return;
    };
    let mut savepoints = std::mem::take(&mut db.savepoints);
    savepoints.truncate(i + 1);
    *db = *snapshot.state;
    db.savepoints = savepoints;
}
