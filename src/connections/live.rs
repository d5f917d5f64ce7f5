//! The sessions open now, by application_name: how many, in use, idle in a transaction and for
//! how long, from which users and addresses; the longest transaction; the sessions nothing names.

use std::collections::BTreeMap;

use super::server::Backend;

/// One application_name's sessions now.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Application {
    /// Empty: the sessions set none.
    pub(crate) application_name: String,
    pub(crate) open: u64,
    /// Not idle (state known).
    pub(crate) in_use: u64,
    pub(crate) idle_in_transaction: u64,
    /// Seconds the longest-waiting idle-in-transaction session has been so.
    pub(crate) oldest_idle_in_transaction: Option<f64>,
    /// Sessions of other roles whose state this role may not see.
    pub(crate) hidden: u64,
    pub(crate) users: Vec<String>,
    /// Client addresses (`local` for a Unix socket); hidden sessions have none.
    pub(crate) client_addrs: Vec<String>,
    /// A service or extra of the plan.
    pub(crate) planned: bool,
}

/// The longest open transaction.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Transaction {
    pub(crate) pid: i32,
    pub(crate) application_name: String,
    pub(crate) user: String,
    pub(crate) state: String,
    pub(crate) seconds: f64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Live {
    /// Most sessions first.
    pub(crate) applications: Vec<Application>,
    pub(crate) longest_transaction: Option<Transaction>,
    /// Sessions other than dbtool's own.
    pub(crate) total: u64,
    /// Of which without application_name.
    pub(crate) unattributed: u64,
    /// Of which another role's, with no state to show.
    pub(crate) hidden: u64,
}

/// Groups the sessions (dbtool's own left out); `planned` says which names the plan owns.
pub(crate) fn summarize(backends: &[Backend], planned: impl Fn(&str) -> bool) -> Live {
    let mut by_name: BTreeMap<&str, Application> = BTreeMap::new();
    let mut live = Live::default();
    for backend in backends.iter().filter(|b| !b.own) {
        live.total += 1;
        let name = backend.application_name.as_str();
        let app = by_name.entry(name).or_insert_with(|| Application {
            application_name: name.to_string(),
            planned: !name.is_empty() && planned(name),
            ..Application::default()
        });
        app.open += 1;
        if backend.hidden {
            app.hidden += 1;
            live.hidden += 1;
        }
        if backend.in_use() {
            app.in_use += 1;
        }
        if backend.idle_in_transaction() {
            app.idle_in_transaction += 1;
            let age = backend.state_age.unwrap_or(0.0);
            app.oldest_idle_in_transaction =
                Some(app.oldest_idle_in_transaction.map_or(age, |a| a.max(age)));
        }
        if name.is_empty() {
            live.unattributed += 1;
        }
        if !backend.user.is_empty() && !app.users.contains(&backend.user) {
            app.users.push(backend.user.clone());
        }
        if !backend.hidden {
            let addr = backend
                .client_addr
                .clone()
                .unwrap_or_else(|| "local".into());
            if !app.client_addrs.contains(&addr) {
                app.client_addrs.push(addr);
            }
        }
        if let Some(seconds) = backend.transaction_age
            && live
                .longest_transaction
                .as_ref()
                .is_none_or(|t| seconds > t.seconds)
        {
            live.longest_transaction = Some(Transaction {
                pid: backend.pid,
                application_name: name.to_string(),
                user: backend.user.clone(),
                state: backend.state.clone().unwrap_or_default(),
                seconds,
            });
        }
    }
    live.applications = by_name.into_values().collect();
    live.applications.sort_by(|a, b| {
        b.open
            .cmp(&a.open)
            .then_with(|| a.application_name.cmp(&b.application_name))
    });
    live
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backend(pid: i32, name: &str, state: Option<&str>) -> Backend {
        Backend {
            pid,
            user: "app".into(),
            application_name: name.into(),
            state: state.map(str::to_string),
            transaction_age: state.filter(|s| *s != "idle").map(|_| f64::from(pid)),
            state_age: Some(1.0),
            ..Backend::default()
        }
    }

    #[test]
    fn sessions_are_grouped_by_application_and_dbtools_own_is_left_out() {
        let mut own = backend(1, "dbtool-connections", Some("active"));
        own.own = true;
        let mut hidden = backend(9, "", None);
        hidden.hidden = true;
        let backends = vec![
            own,
            backend(2, "web", Some("active")),
            backend(3, "web", Some("idle")),
            backend(4, "web", Some("idle in transaction")),
            backend(5, "", Some("idle")),
            hidden,
        ];
        let live = summarize(&backends, |name| name == "web");
        assert_eq!((live.total, live.unattributed, live.hidden), (5, 2, 1));
        let web = &live.applications[0];
        assert_eq!((web.open, web.in_use, web.idle_in_transaction), (3, 2, 1));
        assert!(web.planned);
        assert_eq!(web.client_addrs, ["local"]);
        let longest = live.longest_transaction.unwrap();
        assert_eq!(
            (longest.pid, longest.state.as_str()),
            (4, "idle in transaction")
        );
        assert_eq!(live.applications[1].hidden, 1);
    }
}
