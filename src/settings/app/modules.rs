//! The application's modules: every `.py` file under DIR (tests, migrations, virtualenvs and
//! hidden directories left out), read by `crate::python`, and how a name in one resolves to
//! what another defines.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::exit::invalid;
use crate::python::{self, Expr, LexError, Located, Position, Statement};

/// Directories never part of the running application.
const SKIPPED_DIRS: [&str; 9] = [
    "tests",
    "test",
    "alembic",
    "migrations",
    "node_modules",
    "__pycache__",
    "site-packages",
    "venv",
    "env",
];

/// One module: its dotted name (`app.core.config`), its file as shown in messages and its
/// statements.
#[derive(Debug)]
pub(super) struct Module {
    pub(super) name: String,
    /// Whether it is a package's `__init__.py` (relative imports start from itself).
    package: bool,
    pub(super) path: PathBuf,
    pub(super) body: Vec<Located>,
}

impl Module {
    /// `path:line`, for messages.
    pub(super) fn place(&self, at: Position) -> String {
        format!("{}:{}", self.path.display(), at.line)
    }

    /// The absolute name of a module imported from this one (`.config` → `app.config`).
    fn absolute(&self, imported: &str) -> String {
        let dots = imported.chars().take_while(|c| *c == '.').count();
        if dots == 0 {
            return imported.to_string();
        }
        let mut parts: Vec<&str> = self.name.split('.').collect();
        let up = if self.package { dots - 1 } else { dots };
        parts.truncate(parts.len().saturating_sub(up));
        let rest = &imported[dots..];
        if !rest.is_empty() {
            parts.push(rest);
        }
        parts.join(".")
    }
}

/// What a module-level name is bound to.
#[derive(Debug, Clone, Copy)]
pub(super) enum Binding<'a> {
    /// `name = value` (the last such assignment at the top level).
    Value(&'a Module, &'a Expr),
    /// `class name(...)`.
    Class(&'a Module, &'a Located),
    /// `def name(...)`.
    Function(&'a Module, &'a Located),
    /// One of the application's modules (`from app import config`, `import app.config`).
    Module(&'a Module),
    /// Something outside the application: `sqlalchemy.ext.asyncio.create_async_engine`.
    External,
}

#[derive(Debug)]
pub(super) struct Program {
    pub(super) modules: Vec<Module>,
    /// Files Python cannot read, with where and why.
    pub(super) broken: Vec<(PathBuf, LexError)>,
}

impl Program {
    /// Reads every application module under `dir`.
    pub(super) fn load(dir: &Path) -> Result<Program> {
        if !dir.is_dir() {
            return Err(invalid(format!(
                "--app-from {}: not a directory; give the directory the application is started from",
                dir.display()
            )));
        }
        let mut files = Vec::new();
        collect(dir, dir, &mut files);
        files.sort();
        let mut program = Program {
            modules: Vec::new(),
            broken: Vec::new(),
        };
        for relative in files {
            let path = dir.join(&relative);
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            let source = String::from_utf8_lossy(&bytes);
            let mut parts: Vec<String> = relative
                .with_extension("")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            let package = parts.last().is_some_and(|p| p == "__init__");
            if package {
                parts.pop();
            }
            // A `src` layout imports its packages without `src.`.
            if parts.first().is_some_and(|p| p == "src") && parts.len() > 1 {
                parts.remove(0);
            }
            match python::parse(&source) {
                Ok(body) => program.modules.push(Module {
                    name: parts.join("."),
                    package,
                    path,
                    body,
                }),
                Err(error) => program.broken.push((path, error)),
            }
        }
        Ok(program)
    }

    pub(super) fn module(&self, name: &str) -> Option<&Module> {
        self.modules.iter().find(|m| m.name == name)
    }

    /// What `name` is bound to at the top level of `module`, imports followed through the
    /// application's modules. An import cycle, or an import of a module Python cannot read, is
    /// the error the application starts with.
    pub(super) fn binding<'a>(
        &'a self,
        module: &'a Module,
        name: &str,
    ) -> Result<Option<Binding<'a>>> {
        let mut seen = Vec::new();
        self.binding_in(module, name, &mut seen)
    }

    fn binding_in<'a>(
        &'a self,
        module: &'a Module,
        name: &str,
        seen: &mut Vec<(String, String, String)>,
    ) -> Result<Option<Binding<'a>>> {
        let mut found = None;
        for located in &module.body {
            match &located.statement {
                Statement::Class { name: defined, .. } if defined == name => {
                    found = Some(Step::Here(Binding::Class(module, located)));
                }
                Statement::Function { name: defined, .. } if defined == name => {
                    found = Some(Step::Here(Binding::Function(module, located)));
                }
                Statement::Import(names) => {
                    for (bound, from, imported) in names {
                        if bound == name {
                            found = Some(Step::Import(
                                module.absolute(from),
                                imported.clone(),
                                located.at,
                            ));
                        }
                    }
                }
                statement => {
                    if let Some((targets, value)) = statement.assignment()
                        && targets.iter().any(|t| t.is_name(name))
                    {
                        found = Some(Step::Here(Binding::Value(module, value)));
                    }
                }
            }
        }
        match found {
            None => Ok(None),
            Some(Step::Here(binding)) => Ok(Some(binding)),
            Some(Step::Import(from, imported, at)) => {
                let key = (module.name.clone(), name.to_string(), module.place(at));
                if let Some(start) = seen.iter().position(|s| s.0 == key.0 && s.1 == key.1) {
                    let chain: Vec<String> = seen[start..]
                        .iter()
                        .map(|(m, n, place)| format!("{m}.{n} ({place})"))
                        .collect();
                    return Err(invalid(format!(
                        "{}: import cycle: {} → {}.{name}; the application fails to start with ImportError; break the cycle",
                        module.place(at),
                        chain.join(" → "),
                        module.name
                    )));
                }
                seen.push(key);
                let Some(imported) = imported else {
                    // `import a.b as c` binds a.b; `import a.b` binds a.
                    let first = from.split('.').next().unwrap_or_default();
                    let target = if first == name { first } else { from.as_str() };
                    return Ok(Some(
                        self.module(target)
                            .map_or(Binding::External, Binding::Module),
                    ));
                };
                match self.module(&from) {
                    Some(other) => match self.binding_in(other, &imported, seen)? {
                        Some(binding) => Ok(Some(binding)),
                        // `from package import module`.
                        None => Ok(self
                            .module(&format!("{from}.{imported}"))
                            .map(Binding::Module)),
                    },
                    None => {
                        if let Some(error) = self.broken.iter().find_map(|(path, error)| {
                            module_name_of(path)
                                .is_some_and(|n| n == from || from.ends_with(&format!(".{n}")))
                                .then(|| syntax_error(path, error))
                        }) {
                            return Err(invalid(error));
                        }
                        Ok(Some(Binding::External))
                    }
                }
            }
        }
    }

    /// Follows the leading module names of a dotted name (`config.settings.url` where
    /// `config` is a module): the module that binds the rest, and the rest.
    pub(super) fn walk<'a, 'b>(
        &'a self,
        mut module: &'a Module,
        parts: &'b [String],
    ) -> Result<(&'a Module, &'b [String])> {
        let mut i = 0;
        while i + 1 < parts.len() {
            let next = match self.binding(module, &parts[i])? {
                Some(Binding::Module(m)) => m,
                _ => match self.module(&format!("{}.{}", module.name, parts[i])) {
                    Some(m) if i > 0 => m,
                    _ => break,
                },
            };
            module = next;
            i += 1;
        }
        Ok((module, &parts[i..]))
    }

    /// Every file Python refuses, as the first error message for one.
    pub(super) fn first_broken(&self) -> Option<String> {
        self.broken
            .first()
            .map(|(path, error)| syntax_error(path, error))
    }
}

enum Step<'a> {
    Here(Binding<'a>),
    Import(String, Option<String>, Position),
}

/// The last component of a file's module name (`config` for `app/core/config.py`).
fn module_name_of(path: &Path) -> Option<String> {
    let stem = path.file_stem()?.to_string_lossy().into_owned();
    if stem == "__init__" {
        return Some(path.parent()?.file_name()?.to_string_lossy().into_owned());
    }
    Some(stem)
}

/// `path:line: syntax error: message; the application cannot import it`.
pub(super) fn syntax_error(path: &Path, error: &LexError) -> String {
    format!(
        "{}:{}: syntax error: {}; fix the file (the application cannot import it either)",
        path.display(),
        error.at.line,
        error.message
    )
}

/// Collects `.py` files under `dir`, relative to `root`.
fn collect(root: &Path, dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if name.starts_with('.') || SKIPPED_DIRS.contains(&name.as_str()) {
                continue;
            }
            collect(root, &path, files);
        } else if name.ends_with(".py")
            && !name.starts_with("test_")
            && !name.ends_with("_test.py")
            && name != "conftest.py"
            && let Ok(relative) = path.strip_prefix(root)
        {
            files.push(relative.to_path_buf());
        }
    }
}
