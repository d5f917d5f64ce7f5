//! The finding registry (`src/finding.rs`) holds no code that nothing reports: every registered
//! code is emitted somewhere in `src/`. The other direction is the compiler's: a finding, and a
//! lint-constraints violation, is made from a registered `Code`, never from a string. That the
//! codes are unique and well-formed is tested next to the registry.

use std::collections::BTreeSet;

use dbtool::finding::Code;
use regex::Regex;

use crate::layers::{code_only, source_files, without_test_blocks};

/// A code is emitted where a non-test part of `src/` outside the registry names its variant as a
/// value: `Finding::new(Code::PasswordInUrl, ...)`, `AmbiguityKind::Scheme => Code::Scheme`.
/// Comparisons (`f.code == Code::X`) and match patterns (`Code::X | Code::Y =>`) only read one.
#[test]
fn every_registered_code_is_emitted_somewhere() {
    let mention = Regex::new(r"(==|!=)?\s*\bCode::(\w+)\b(\s*(?:=>|\|))?").unwrap();
    let mut emitted = BTreeSet::new();
    for (path, text) in source_files() {
        if path == "finding.rs" {
            continue;
        }
        let code = without_test_blocks(&code_only(&text));
        for found in mention.captures_iter(&code) {
            if found.get(1).is_none() && found.get(3).is_none() {
                emitted.insert(found[2].to_string());
            }
        }
    }
    // Not vacuous: the checks were read and their codes found.
    assert!(
        emitted.len() > 40,
        "only {} codes emitted: {emitted:?}",
        emitted.len()
    );
    let never: Vec<&str> = Code::ALL
        .iter()
        .filter(|code| !emitted.contains(&format!("{code:?}")))
        .map(|code| code.as_str())
        .collect();
    assert!(
        never.is_empty(),
        "registered in src/finding.rs but emitted nowhere: {never:?}; remove them or report them"
    );
}
