//! The committed completion scripts match what `dbtool completions` prints.

use std::path::Path;

use crate::cli::{dbtool, run};

/// (shell, committed file) — keep in step with scripts/update-completions.sh.
pub const SCRIPTS: [(&str, &str); 5] = [
    ("bash", "dbtool.bash"),
    ("zsh", "_dbtool"),
    ("fish", "dbtool.fish"),
    ("powershell", "_dbtool.ps1"),
    ("elvish", "dbtool.elv"),
];

#[test]
fn committed_completions_are_up_to_date() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (shell, file) in SCRIPTS {
        let result = run(dbtool(root).args(["completions", shell]));
        assert_eq!(result.code, 0, "{}", result.stderr);
        assert!(result.stdout.contains("dbtool"), "{shell}");
        let committed =
            std::fs::read_to_string(root.join("completions").join(file)).unwrap_or_default();
        assert!(
            committed == result.stdout,
            "completions/{file} is stale or missing: regenerate with `scripts/update-completions.sh`"
        );
    }
}

#[test]
fn an_unknown_shell_exits_3() {
    let result = run(dbtool(Path::new(env!("CARGO_MANIFEST_DIR"))).args(["completions", "tcsh"]));
    assert_eq!(result.code, 3);
}
