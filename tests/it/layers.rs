//! Layers (ARCHITECTURE.md, "Layers"): a module may use what is below it, never what is beside
//! it in a circle. When two files need each other, a third, lower file is missing; a circle of
//! siblings cannot be split into crates, tested alone, or read from the bottom up.
//!
//! This test reads every `.rs` file under `src/`, maps it to its module (`a/b.rs` and `a/b/mod.rs`
//! under `src/` are `a::b`; `lib.rs` and `main.rs` are the crate root), and collects the
//! modules it refers to through `crate::…`, `super::…` and `self::…` paths and `use` trees
//! (nested ones too, and `use child::…` of a module's own children). Comments, string and
//! character literals, `#[cfg(test)] mod … { … }` blocks and `#[cfg(test)] mod …;` files are
//! left out: tests may reach anywhere. A path counts as a reference to the longest module it
//! names (re-exports are not followed).
//!
//! Then, for each two sibling modules (same parent), A → B when A or a module inside A refers to
//! B or a module inside B. Every strongly connected component of that graph with more than one
//! module is a circle, and the test lists each with the edges inside it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;

/// A regular expression, compiled once.
macro_rules! regex {
    ($pattern:literal) => {{
        static REGEX: LazyLock<Regex> =
            LazyLock::new(|| Regex::new($pattern).expect("a valid regex"));
        &*REGEX
    }};
}

/// A module path, `["lint", "sqlfile"]`; the crate root is empty.
type Module = Vec<String>;

fn show(module: &[String]) -> String {
    if module.is_empty() {
        "crate".to_string()
    } else {
        module.join("::")
    }
}

/// The module of a file, from its path under `src/` (with `/`): `a/b.rs` and `a/b/mod.rs` are
/// `a::b`, `lib.rs` and `main.rs` the crate root.
fn module_of(path: &str) -> Module {
    let mut parts: Module = path
        .strip_suffix(".rs")
        .unwrap_or(path)
        .split('/')
        .map(str::to_string)
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// What a run of a Rust (or C) source is: code, a comment, or a string, byte-string or
/// character literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Span {
    Code,
    Comment,
    Literal,
}

/// A Rust (or C) source cut into runs of code, comments and literals, in order, covering all of
/// it (lifetimes are told from characters).
pub(crate) fn rust_spans(source: &str) -> Vec<(Span, String)> {
    let chars: Vec<char> = source.chars().collect();
    let mut spans: Vec<(Span, String)> = Vec::new();
    let mut push = |kind: Span, run: &[char]| match spans.last_mut() {
        Some((last, text)) if *last == kind && kind == Span::Code => text.extend(run),
        _ => spans.push((kind, run.iter().collect())),
    };
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    // The number of `#` of a raw string starting with the `r` at `i`, if one does.
    let raw_string_at = |i: usize| {
        let token_start = match i.checked_sub(1).map(|j| chars[j]) {
            None => true,
            Some('b' | 'c') => i < 2 || !ident(chars[i - 2]),
            Some(before) => !ident(before),
        };
        let hashes = chars[i + 1..].iter().take_while(|&&h| h == '#').count();
        (chars[i] == 'r' && token_start && chars.get(i + 1 + hashes) == Some(&'"'))
            .then_some(hashes)
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let start = i;
        let kind = if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            Span::Comment
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            Span::Comment
        } else if let Some(hashes) = raw_string_at(i) {
            // A raw string: r"…", r#"…"#, br"…", cr#"…"#.
            i += 2 + hashes;
            while i < chars.len() {
                let closes = chars[i] == '"'
                    && chars[i + 1..].iter().take_while(|&&h| h == '#').count() >= hashes;
                i += 1;
                if closes {
                    i += hashes;
                    break;
                }
            }
            Span::Literal
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            Span::Literal
        } else if c == '\'' && next == Some('\\') {
            // An escaped character: '\n', '\'', '\u{1F600}'.
            i += 3;
            while i < chars.len() && chars[i] != '\'' {
                i += 1;
            }
            i += 1;
            Span::Literal
        } else if c == '\'' && chars.get(i + 2) == Some(&'\'') {
            i += 3;
            Span::Literal
        } else {
            // Code, or a lifetime.
            i += 1;
            Span::Code
        };
        push(kind, &chars[start..i.min(chars.len())]);
    }
    spans
}

/// The code of a Rust source with comments and string, byte-string and character literals
/// replaced by spaces (lines kept), so that what remains is paths and braces.
pub(crate) fn code_only(source: &str) -> String {
    rust_spans(source)
        .into_iter()
        .map(|(kind, text)| match kind {
            Span::Code => text,
            _ => text
                .chars()
                .map(|c| if c == '\n' { '\n' } else { ' ' })
                .collect(),
        })
        .collect()
}

/// `code` without its `#[cfg(test)] mod name { … }` blocks (`code` has no literals or comments,
/// so its braces balance).
pub(crate) fn without_test_blocks(code: &str) -> String {
    let block = regex!(r"#\[cfg\(test\)\]\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+\w+\s*\{");
    let mut code = code.to_string();
    while let Some(found) = block.find(&code) {
        let mut depth = 0usize;
        let mut end = code.len();
        for (i, c) in code[found.end() - 1..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = found.end() + i;
                        break;
                    }
                }
                _ => {}
            }
        }
        code.replace_range(found.start()..end, "");
    }
    code
}

/// The names of the children of a module declared `#[cfg(test)] mod name;` (test-only files).
fn test_only_children(code: &str) -> Vec<String> {
    let declaration = regex!(r"#\[cfg\(test\)\]\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;");
    declaration
        .captures_iter(code)
        .map(|c| c[1].to_string())
        .collect()
}

/// The paths a `use` tree brings in: `a::{b::{c, d}, e as f, self}` is `a::b::c`, `a::b::d`,
/// `a::e` and `a::` (whitespace removed).
fn expand_use(tree: &str) -> Vec<String> {
    let renamed = regex!(r"\s+as\s+\w+");
    let tree = renamed.replace_all(tree.trim(), "");
    let Some(open) = tree.find('{') else {
        return vec![tree.split_whitespace().collect()];
    };
    let mut depth = 0;
    let mut close = tree.len();
    for (i, c) in tree.char_indices().skip_while(|&(i, _)| i < open) {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    close = i;
                    break;
                }
            }
            _ => {}
        }
    }
    let prefix: String = tree[..open].split_whitespace().collect();
    let inner = &tree[open + 1..close];
    let mut parts = Vec::new();
    let (mut depth, mut from) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[from..i]);
                from = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[from..]);
    parts
        .into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .flat_map(expand_use)
        .map(|e| {
            if e == "self" {
                prefix.clone()
            } else {
                format!("{prefix}{e}")
            }
        })
        .collect()
}

/// The modules of a crate, the modules each refers to, and the sibling graph they make.
struct Layers {
    /// What each module (its file, or its files for the crate root) refers to.
    references: BTreeMap<Module, BTreeSet<Module>>,
    /// A → B between siblings when A or a module inside A refers to B or a module inside B.
    edges: BTreeMap<Module, BTreeSet<Module>>,
}

impl Layers {
    /// The layers of the files `(path under src/, text)`.
    fn of(files: &[(String, String)]) -> Layers {
        let files: Vec<(Module, String)> = files
            .iter()
            .filter(|(path, _)| path.ends_with(".rs"))
            .map(|(path, text)| (module_of(path), code_only(text)))
            .collect();
        let test_only: Vec<Module> = files
            .iter()
            .flat_map(|(module, code)| {
                test_only_children(code).into_iter().map(move |child| {
                    let mut m = module.clone();
                    m.push(child);
                    m
                })
            })
            .collect();
        let files: Vec<(Module, String)> = files
            .into_iter()
            .filter(|(module, _)| !test_only.iter().any(|t| module.starts_with(t)))
            .map(|(module, code)| (module, without_test_blocks(&code)))
            .collect();
        let modules: BTreeSet<Module> = files.iter().map(|(m, _)| m.clone()).collect();

        let path = regex!(r"\b(crate|super|self)((?:::\w+)+)");
        let uses = regex!(r"\buse\s+([^;]*);");
        let mut references: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
        for (module, code) in &files {
            let found = references.entry(module.clone()).or_default();
            let mut refer = |path: &str, in_use: bool| {
                if let Some(target) = resolve(&modules, module, path, in_use) {
                    found.insert(target);
                }
            };
            for c in path.captures_iter(code) {
                refer(&c[0], false);
            }
            for c in uses.captures_iter(code) {
                for used in expand_use(&c[1]) {
                    refer(&used, true);
                }
            }
        }

        let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
        for (from, targets) in &references {
            for to in targets {
                let common = from.iter().zip(to).take_while(|(a, b)| a == b).count();
                if common < from.len() && common < to.len() {
                    edges
                        .entry(from[..=common].to_vec())
                        .or_default()
                        .insert(to[..=common].to_vec());
                }
            }
        }
        Layers { references, edges }
    }

    /// The circles: strongly connected components of more than one module, each sorted, in
    /// order (Tarjan's algorithm).
    fn cycles(&self) -> Vec<Vec<Module>> {
        struct Tarjan<'a> {
            edges: &'a BTreeMap<Module, BTreeSet<Module>>,
            index: BTreeMap<&'a Module, usize>,
            low: BTreeMap<&'a Module, usize>,
            stack: Vec<&'a Module>,
            on_stack: BTreeSet<&'a Module>,
            found: Vec<Vec<Module>>,
        }
        impl<'a> Tarjan<'a> {
            fn visit(&mut self, v: &'a Module) {
                let n = self.index.len();
                self.index.insert(v, n);
                self.low.insert(v, n);
                self.stack.push(v);
                self.on_stack.insert(v);
                let edges = self.edges;
                for w in edges.get(v).into_iter().flatten() {
                    if !self.index.contains_key(w) {
                        self.visit(w);
                        let low = self.low[v].min(self.low[w]);
                        self.low.insert(v, low);
                    } else if self.on_stack.contains(w) {
                        let low = self.low[v].min(self.index[w]);
                        self.low.insert(v, low);
                    }
                }
                if self.low[v] == self.index[v] {
                    let mut component = Vec::new();
                    while let Some(w) = self.stack.pop() {
                        self.on_stack.remove(w);
                        component.push(w.clone());
                        if w == v {
                            break;
                        }
                    }
                    if component.len() > 1 {
                        component.sort();
                        self.found.push(component);
                    }
                }
            }
        }
        let mut tarjan = Tarjan {
            edges: &self.edges,
            index: BTreeMap::new(),
            low: BTreeMap::new(),
            stack: Vec::new(),
            on_stack: BTreeSet::new(),
            found: Vec::new(),
        };
        let nodes: BTreeSet<&Module> = self
            .edges
            .iter()
            .flat_map(|(a, bs)| bs.iter().chain([a]))
            .collect();
        for v in nodes {
            if !tarjan.index.contains_key(v) {
                tarjan.visit(v);
            }
        }
        tarjan.found.sort();
        tarjan.found
    }

    /// Each circle on a line, then the edges inside it, one line per module.
    fn report(&self, cycles: &[Vec<Module>]) -> String {
        let mut out = String::new();
        for cycle in cycles {
            let names: Vec<String> = cycle.iter().map(|m| show(m)).collect();
            out += &names.join(" <-> ");
            out.push('\n');
            for from in cycle {
                let to: Vec<String> = self.edges[from]
                    .iter()
                    .filter(|t| cycle.contains(t))
                    .map(|t| show(t))
                    .collect();
                out += &format!("    {} -> {}\n", show(from), to.join(", "));
            }
        }
        out
    }
}

/// The module a path in `module` names (the longest prefix that is a module), if any but the
/// crate root: `crate::…`, `super::…` (repeated), `self::…`, and in a `use`, a child's name.
fn resolve(
    modules: &BTreeSet<Module>,
    module: &Module,
    path: &str,
    in_use: bool,
) -> Option<Module> {
    let mut segments = path.split("::").filter(|s| !s.is_empty());
    let head = segments.next()?;
    let mut segments: Vec<&str> = segments.collect();
    let mut full: Module = match head {
        "crate" => Vec::new(),
        "super" => {
            let mut base = module[..module.len().checked_sub(1)?].to_vec();
            while segments.first() == Some(&"super") {
                base.pop()?;
                segments.remove(0);
            }
            base
        }
        "self" => module.clone(),
        child
            if in_use && modules.contains(&[module.clone(), vec![child.to_string()]].concat()) =>
        {
            segments.insert(0, child);
            module.clone()
        }
        _ => return None,
    };
    full.extend(segments.iter().map(|s| s.to_string()));
    (1..=full.len())
        .rev()
        .map(|k| full[..k].to_vec())
        .find(|prefix| modules.contains(prefix))
}

/// Every `.rs` file under `dir`, as (path relative to `root` with `/`, text), sorted.
fn read_tree(root: &Path, dir: &Path, files: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            entry
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .path()
        })
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            read_tree(root, &path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let relative = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            files.push((relative, text));
        }
    }
}

/// Every `.rs` file under `src/`, as (path under `src/` with `/`, text), sorted.
pub(crate) fn source_files() -> Vec<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    read_tree(&src, &src, &mut files);
    files
}

/// The leaves (ARCHITECTURE.md, "Layers"): they use nothing else in the crate, so every layer
/// may use them. `finding` is one: check-url, ping, the pooler probe, pool-bench and
/// lint-constraints all report in its vocabulary without using each other for it.
const LEAVES: [&str; 6] = [
    "duration",
    "exit",
    "finding",
    "interrupt",
    "secret",
    "system",
];

#[test]
fn leaves_use_nothing_else_in_the_crate() {
    let layers = Layers::of(&source_files());
    for leaf in LEAVES {
        let module = vec![leaf.to_string()];
        let used = layers
            .references
            .get(&module)
            .unwrap_or_else(|| panic!("no module {leaf} under src/"));
        let others: Vec<String> = used
            .iter()
            .filter(|m| !m.starts_with(&module))
            .map(|m| show(m))
            .collect();
        assert!(
            others.is_empty(),
            "{leaf} is a leaf, below every module that uses it, but uses {others:?}"
        );
    }
}

#[test]
fn no_sibling_modules_import_each_other() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let layers = Layers::of(&source_files());
    // Not vacuous: the tree was read and its references found.
    assert!(
        layers.references.len() > 20 && layers.edges.len() > 5,
        "read {} modules with {} sibling edges under {}",
        layers.references.len(),
        layers.edges.len(),
        src.display()
    );
    let cycles = layers.cycles();
    assert!(
        cycles.is_empty(),
        "{} circles of sibling modules that use each other (ARCHITECTURE.md, \"Layers\": a module \
         may use what is below it, never what is beside it in a circle; move what both need into \
         a lower module):\n{}",
        cycles.len(),
        layers.report(&cycles)
    );
}

/// Where `code` (comments and literals blanked by [`code_only`]) reads the process environment:
/// `env::var`, `var_os`, `vars`, `vars_os`, or a `use` of `std::env` that would hide them. One
/// `line: code` per read.
fn environment_reads(code: &str) -> Vec<String> {
    let read =
        regex!(r"\benv\s*::\s*(?:var|var_os|vars|vars_os)\b|\buse\s+(?:::)?std\s*::\s*env\b");
    read.find_iter(code)
        .map(|found| {
            let line = code[..found.start()].matches('\n').count() + 1;
            let text = code.lines().nth(line - 1).unwrap_or_default().trim();
            format!("{line}: {text}")
        })
        .collect()
}

/// `src/environment.rs` is the one reader of the process environment: it is read once, and a
/// test's injected `Environment` reaches everything the binary runs. A read anywhere else would
/// bypass both.
#[test]
fn only_the_environment_module_reads_the_process_environment() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    read_tree(&src, &src, &mut files);
    let reads: Vec<(String, Vec<String>)> = files
        .iter()
        .map(|(path, text)| (path.clone(), environment_reads(&code_only(text))))
        .filter(|(_, reads)| !reads.is_empty())
        .collect();
    // Not vacuous: the one reader is found.
    assert!(
        reads.iter().any(|(path, _)| path == "environment.rs"),
        "no environment read found in src/environment.rs among {} files",
        files.len()
    );
    let elsewhere: Vec<String> = reads
        .iter()
        .filter(|(path, _)| path != "environment.rs")
        .flat_map(|(path, reads)| reads.iter().map(move |read| format!("src/{path}:{read}")))
        .collect();
    assert!(
        elsewhere.is_empty(),
        "the process environment is read outside src/environment.rs; take the `Environment` \
         handed down instead (its libpq or asyncpg view, home, user names):\n{}",
        elsewhere.join("\n")
    );
}

/// The checker itself, on small made-up crates.
mod checker {
    use super::*;

    fn crate_of(files: &[(&str, &str)]) -> Layers {
        let files: Vec<(String, String)> = files
            .iter()
            .map(|(p, t)| (p.to_string(), t.to_string()))
            .collect();
        Layers::of(&files)
    }

    fn module(path: &str) -> Module {
        path.split("::").map(str::to_string).collect()
    }

    #[test]
    fn circles_of_siblings_are_reported_with_their_edges() {
        let layers = crate_of(&[
            (
                "lib.rs",
                "pub mod a;\npub mod b;\npub mod c;\npub mod d;\npub mod e;\n",
            ),
            ("a/mod.rs", "mod x;\nmod y;\nmod z;\n"),
            ("a/x.rs", "use super::y::Thing;\n"),
            ("a/y.rs", "use crate::a::{z, x::{self, Other as O}};\n"),
            ("a/z.rs", "pub struct Z;\n"),
            // Through modules inside: d::inner → e::deep, e::deep → d.
            ("d/mod.rs", "mod inner;\n"),
            ("d/inner.rs", "fn f() { crate::e::deep::run() }\n"),
            ("e/mod.rs", "pub mod deep;\n"),
            ("e/deep.rs", "pub fn run() { let _ = crate::d::D; }\n"),
            ("b.rs", "use crate::c::C; // crate::a::x\n"),
            ("c.rs", "pub struct C;\n"),
        ]);
        let cycles = layers.cycles();
        assert_eq!(
            cycles,
            [
                vec![module("a::x"), module("a::y")],
                vec![module("d"), module("e")],
            ]
        );
        assert_eq!(
            layers.report(&cycles),
            "a::x <-> a::y\n    a::x -> a::y\n    a::y -> a::x\n\
             d <-> e\n    d -> e\n    e -> d\n"
        );
        // a::y → a::z is an edge but not in the circle; b → c is no circle.
        assert!(layers.edges[&module("a::y")].contains(&module("a::z")));
        assert!(layers.edges[&module("b")].contains(&module("c")));
        assert!(!layers.edges[&module("b")].contains(&module("a")));
    }

    #[test]
    fn layered_modules_and_tests_are_no_circle() {
        let layers = crate_of(&[
            ("lib.rs", "pub mod top;\npub mod mid;\npub mod low;\n"),
            (
                "top.rs",
                "use crate::mid::{self, M};\nuse self::inner::I;\n",
            ),
            (
                "mid/mod.rs",
                "use low::L;\nuse super::low;\n#[cfg(test)]\nmod tests;\n",
            ),
            ("mid/tests.rs", "use crate::top::T;\n"),
            (
                "low.rs",
                "pub struct L;\nconst S: &str = \"crate::top::T\";\n/* use crate::mid; */\n\
                 #[cfg(test)]\nmod tests {\n    use crate::top::T;\n    fn f() { let _ = '{'; }\n}\n\
                 pub fn after() {}\n",
            ),
        ]);
        assert_eq!(layers.cycles(), Vec::<Vec<Module>>::new());
        assert_eq!(
            layers.edges,
            BTreeMap::from([
                (module("top"), BTreeSet::from([module("mid")])),
                (module("mid"), BTreeSet::from([module("low")])),
            ])
        );
    }

    #[test]
    fn use_trees_expand_to_every_path() {
        assert_eq!(
            expand_use("crate::a::{b::{c, d as e}, f,\n self}"),
            [
                "crate::a::b::c",
                "crate::a::b::d",
                "crate::a::f",
                "crate::a::"
            ]
        );
    }

    #[test]
    fn environment_reads_are_found_in_code_only() {
        let code = code_only(
            "// std::env::var(\"A\")\nlet a = \"env::var_os\";\nlet b = std::env::current_dir();\n\
             let c = std::env::var(\"C\");\nuse std::env;\nlet d = env :: vars_os();\n",
        );
        assert_eq!(
            environment_reads(&code),
            [
                "4: let c = std::env::var(   );",
                "5: use std::env;",
                "6: let d = env :: vars_os();"
            ]
        );
    }

    #[test]
    fn literals_and_comments_are_not_code() {
        let code = code_only(
            "a // b\nc /* d /* e */ f */ g \"h\\\"i\" j r#\"k\"l\"# m b'\\'' n '{' o<'p> br\"q\" s",
        );
        let words: Vec<&str> = code.split_whitespace().collect();
        assert_eq!(
            words,
            ["a", "c", "g", "j", "m", "b", "n", "o<'p>", "b", "s"]
        );
    }
}
