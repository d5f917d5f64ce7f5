//! The application's `create_async_engine` / `create_engine` call: found among its modules, and
//! each argument followed to a settings field, a literal or a simple expression over them
//! (`str(...)`, `int(...)`, arithmetic, dict literals, module-level constants).

use anyhow::Result;

use super::class::{self, SettingsClass};
use super::modules::{Binding, Module, Program};
use super::value::{PyValue, literal};
use super::values::Read;
use crate::exit::invalid;
use crate::python::{
    Argument as CallArgument, Call, DictEntry, Expr, ExprKind, Located, Statement, StrLiteral,
};

const ENGINE_FUNCTIONS: [&str; 2] = ["create_async_engine", "create_engine"];

/// The engine call, followed.
#[derive(Debug, Clone)]
pub(crate) struct Engine {
    /// `file:line` of the call.
    pub(crate) place: String,
    pub(crate) function: String,
    /// In the order written; the URL as `url`.
    pub(crate) arguments: Vec<Argument>,
}

/// One argument of the engine call.
#[derive(Debug, Clone)]
pub(crate) struct Argument {
    pub(crate) name: String,
    /// `None` when it cannot be followed.
    pub(crate) value: Option<PyValue>,
    /// Where the value came from: `literal`, `settings.db_pool_size = env DB_POOL_SIZE`, or why
    /// it cannot be followed.
    pub(crate) source: String,
}

impl Engine {
    pub(crate) fn argument(&self, name: &str) -> Option<&Argument> {
        self.arguments.iter().find(|a| a.name == name)
    }
}

/// The engine call found.
#[derive(Debug)]
pub(super) struct Found<'a> {
    module: &'a Module,
    call: Call,
}

/// Every engine call in the application; the one `pick` (`FILE[:LINE]`) names, or the only one.
pub(super) fn find<'a>(program: &'a Program, pick: Option<&str>) -> Result<Found<'a>> {
    let mut found = Vec::new();
    for module in &program.modules {
        let mut calls = Vec::new();
        collect_calls(&module.body, &mut calls);
        for call in calls {
            if ENGINE_FUNCTIONS.contains(&call.name()) {
                found.push(Found { module, call });
            }
        }
    }
    if let Some(pick) = pick {
        let (file, line) = match pick.rsplit_once(':') {
            Some((file, line)) if line.parse::<usize>().is_ok() => (file, line.parse().ok()),
            _ => (pick, None),
        };
        found.retain(|f| {
            f.module.path.ends_with(file) && line.is_none_or(|l: usize| f.call.at().line == l)
        });
        if found.is_empty() {
            return Err(invalid(format!(
                "--app-engine {pick}: no create_async_engine(...) or create_engine(...) call there; give FILE or FILE:LINE of one"
            )));
        }
    }
    match found.len() {
        0 => Err(invalid(program.first_broken().unwrap_or_else(|| {
            "no create_async_engine(...) or create_engine(...) call found in the application; point --app-from at the directory that holds its code".to_string()
        }))),
        1 => Ok(found.remove(0)),
        _ => {
            let places: Vec<String> = found.iter().map(|f| f.module.place(f.call.at())).collect();
            Err(invalid(format!(
                "{} engine calls: {}; pick one with --app-engine FILE[:LINE]",
                places.len(),
                places.join(", ")
            )))
        }
    }
}

fn collect_calls(body: &[Located], calls: &mut Vec<Call>) {
    for located in body {
        calls.extend(located.calls.iter().cloned());
        collect_calls(&located.body, calls);
    }
}

/// The settings class the engine call reads: the class of the settings object its arguments
/// name, else the application's only `BaseSettings` subclass.
pub(super) fn settings_class(
    program: &Program,
    found: &Found<'_>,
) -> Result<Option<SettingsClass>> {
    for argument in &found.call.arguments {
        if let Some((module, class)) = referenced_class(program, found.module, argument.value())? {
            return class::read(program, module, class).map(Some);
        }
    }
    let mut all = Vec::new();
    for module in &program.modules {
        for located in &module.body {
            if matches!(located.statement, Statement::Class { .. })
                && class::derives_from(program, module, located, "BaseSettings")
            {
                all.push((module, located));
            }
        }
    }
    match all.as_slice() {
        [] => Err(invalid(program.first_broken().unwrap_or_else(|| {
            format!(
                "{}: no BaseSettings subclass found in the application, so dbtool cannot tell what the engine's settings are; point --app-from at the directory that holds its code",
                found.module.place(found.call.at())
            )
        }))),
        [(module, class)] => class::read(program, module, class).map(Some),
        _ => Ok(None),
    }
}

/// The settings class of the object at the root of `expr` (`settings.x`, `get_settings().x`).
fn referenced_class<'a>(
    program: &'a Program,
    module: &'a Module,
    expr: &Expr,
) -> Result<Option<(&'a Module, &'a Located)>> {
    match &expr.kind {
        ExprKind::Name(parts) if parts.len() > 1 => {
            let (module, parts) = program.walk(module, parts)?;
            let root = Expr {
                kind: ExprKind::Name(vec![parts[0].clone()]),
                at: expr.at,
            };
            instance(program, module, &root, 0)
        }
        ExprKind::Attribute(base, _) => match instance(program, module, base, 0)? {
            Some(found) => Ok(Some(found)),
            None => referenced_class(program, module, base),
        },
        ExprKind::Call(call) => {
            if let Some(found) = referenced_class(program, module, &call.function)? {
                return Ok(Some(found));
            }
            for argument in &call.arguments {
                if let Some(found) = referenced_class(program, module, argument.value())? {
                    return Ok(Some(found));
                }
            }
            Ok(None)
        }
        ExprKind::BinOp(left, _, right) => match referenced_class(program, module, left)? {
            Some(found) => Ok(Some(found)),
            None => referenced_class(program, module, right),
        },
        ExprKind::Dict(entries) => {
            for entry in entries {
                if let DictEntry::Pair(_, value) = entry
                    && let Some(found) = referenced_class(program, module, value)?
                {
                    return Ok(Some(found));
                }
            }
            Ok(None)
        }
        _ => Ok(None),
    }
}

/// The settings class `expr` is an instance of: `Settings()`, a name bound to one, a function
/// returning one.
fn instance<'a>(
    program: &'a Program,
    module: &'a Module,
    expr: &Expr,
    depth: usize,
) -> Result<Option<(&'a Module, &'a Located)>> {
    if depth > 10 {
        return Ok(None);
    }
    let binding = match &expr.kind {
        ExprKind::Name(parts) if parts.len() == 1 => program.binding(module, &parts[0])?,
        ExprKind::Call(call) => match call.function.dotted() {
            Some([name]) => match program.binding(module, name)? {
                Some(Binding::Class(m, class))
                    if class::derives_from(program, m, class, "BaseSettings") =>
                {
                    return Ok(Some((m, class)));
                }
                Some(Binding::Function(m, function)) => {
                    for returned in returns(&function.body) {
                        if let Some(found) = instance(program, m, returned, depth + 1)? {
                            return Ok(Some(found));
                        }
                    }
                    return Ok(None);
                }
                _ => return Ok(None),
            },
            _ => return Ok(None),
        },
        _ => return Ok(None),
    };
    match binding {
        Some(Binding::Value(m, value)) => instance(program, m, value, depth + 1),
        _ => Ok(None),
    }
}

fn returns(body: &[Located]) -> Vec<&Expr> {
    let mut found = Vec::new();
    for located in body {
        if let Statement::Return(Some(value)) = &located.statement {
            found.push(value);
        }
        found.extend(returns(&located.body));
    }
    found
}

/// Follows every argument of the engine call; what cannot be followed is a warning.
pub(super) fn follow(
    program: &Program,
    found: &Found<'_>,
    class: Option<&SettingsClass>,
    read: Option<&Read>,
) -> (Engine, Vec<String>) {
    let place = found.module.place(found.call.at());
    let context = Context {
        program,
        class,
        read,
    };
    let mut arguments = Vec::new();
    let mut warnings = Vec::new();
    let mut positional = 0;
    for argument in &found.call.arguments {
        let (name, expr) = match argument {
            CallArgument::Positional(expr) => {
                positional += 1;
                if positional > 1 {
                    continue;
                }
                ("url".to_string(), expr)
            }
            CallArgument::Keyword(name, expr) => (name.clone(), expr),
            CallArgument::Star(expr) | CallArgument::DoubleStar(expr) => {
                warnings.push(format!(
                    "{}: {} passed to {}() cannot be followed; dbtool uses its own settings for what it may hold",
                    found.module.place(expr.at),
                    if matches!(argument, CallArgument::Star(_)) { "*args" } else { "**kwargs" },
                    found.call.name()
                ));
                continue;
            }
        };
        match context.evaluate(found.module, expr, 0) {
            Ok((value, source)) => arguments.push(Argument {
                name,
                value: Some(value),
                source: format!("{}: {source}", found.module.place(expr.at)),
            }),
            Err(why) => {
                warnings.push(format!(
                    "{}: {name}= cannot be followed ({why}); dbtool uses its own setting for it",
                    found.module.place(expr.at)
                ));
                arguments.push(Argument {
                    name,
                    value: None,
                    source: format!("{}: {why}", found.module.place(expr.at)),
                });
            }
        }
    }
    let engine = Engine {
        place,
        function: found.call.name().to_string(),
        arguments,
    };
    (engine, warnings)
}

struct Context<'a> {
    program: &'a Program,
    class: Option<&'a SettingsClass>,
    read: Option<&'a Read>,
}

type Followed = std::result::Result<(PyValue, String), String>;

impl Context<'_> {
    fn evaluate(&self, module: &Module, expr: &Expr, depth: usize) -> Followed {
        if depth > 20 {
            return Err("too deep".to_string());
        }
        if let Some(value) = literal(expr) {
            return Ok((value, "literal".to_string()));
        }
        match &expr.kind {
            ExprKind::Str(StrLiteral::Formatted) => Err("an f-string".to_string()),
            ExprKind::Name(parts) => self.name(module, expr, parts, depth),
            ExprKind::Attribute(base, field) => match instance(self.program, module, base, 0) {
                Ok(Some(_)) => self.field(std::slice::from_ref(field)),
                _ => {
                    let (value, source) = self.evaluate(module, base, depth + 1)?;
                    match value {
                        PyValue::Model(fields) => fields
                            .iter()
                            .find(|(n, _)| n == field)
                            .map(|(_, v)| (v.clone(), format!("{source}.{field}")))
                            .ok_or_else(|| format!("no field {field}")),
                        _ => Err(format!("the attribute {field}")),
                    }
                }
            },
            ExprKind::Call(call) => self.call(module, call, depth),
            ExprKind::BinOp(left, op, right) => {
                let (a, from_a) = self.evaluate(module, left, depth + 1)?;
                let (b, from_b) = self.evaluate(module, right, depth + 1)?;
                let value = a.binary(op, &b).ok_or_else(|| {
                    format!(
                        "{} {op} {} is not arithmetic dbtool follows",
                        from_a, from_b
                    )
                })?;
                Ok((value, join(&from_a, &from_b)))
            }
            ExprKind::Dict(entries) => {
                let mut values = Vec::new();
                let mut sources: Vec<String> = Vec::new();
                for entry in entries {
                    let DictEntry::Pair(key, value) = entry else {
                        return Err("a dict with **".to_string());
                    };
                    let Some(key) = key.text() else {
                        return Err("a dict key that is not a string".to_string());
                    };
                    let (value, source) = self.evaluate(module, value, depth + 1)?;
                    if source != "literal" {
                        sources.push(format!("{key}: {source}"));
                    }
                    values.push((key.to_string(), value));
                }
                let source = if sources.is_empty() {
                    "literal".to_string()
                } else {
                    sources.join(", ")
                };
                Ok((PyValue::Dict(values), source))
            }
            _ => Err(expr.describe()),
        }
    }

    fn name(&self, module: &Module, expr: &Expr, parts: &[String], depth: usize) -> Followed {
        let (module, parts) = self
            .program
            .walk(module, parts)
            .map_err(|e| e.to_string())?;
        let root = Expr {
            kind: ExprKind::Name(vec![parts[0].clone()]),
            at: expr.at,
        };
        if parts.len() > 1 {
            if let Ok(Some(_)) = instance(self.program, module, &root, 0) {
                return self.field(&parts[1..]);
            }
            // A settings object passed in (a function's parameter): the class's fields.
            if self
                .program
                .binding(module, &parts[0])
                .ok()
                .flatten()
                .is_none()
                && self
                    .class
                    .is_some_and(|c| c.fields.iter().any(|f| f.name == parts[1]))
            {
                return self.field(&parts[1..]);
            }
            return Err(format!("the name {}", parts.join(".")));
        }
        match self.program.binding(module, &parts[0]) {
            Ok(Some(Binding::Value(m, value))) => self.evaluate(m, value, depth + 1),
            Ok(Some(Binding::External)) if parts[0].ends_with("Pool") => {
                Ok((PyValue::Class(parts[0].clone()), "literal".to_string()))
            }
            _ if parts[0].ends_with("Pool") => {
                Ok((PyValue::Class(parts[0].clone()), "literal".to_string()))
            }
            _ => Err(format!("the name {}", parts[0])),
        }
    }

    /// A settings field (and sub-fields of a nested model), with where its value came from.
    fn field(&self, path: &[String]) -> Followed {
        let (Some(class), Some(read)) = (self.class, self.read) else {
            return Err("no settings class".to_string());
        };
        let name = &path[0];
        let Some((_, value, origin)) = read.values.iter().find(|(n, _, _)| n == name) else {
            let why = match class.fields.iter().find(|f| f.name == *name) {
                Some(field) => format!(
                    "the field {name} of {} has a default dbtool cannot know ({})",
                    class.name, field.place
                ),
                None => format!(
                    "{} has no field {name} dbtool reads (a property or a method?)",
                    class.name
                ),
            };
            return Err(why);
        };
        let mut value = value.clone();
        for sub in &path[1..] {
            value = match value {
                PyValue::Model(fields) => fields
                    .into_iter()
                    .find(|(n, _)| n == sub)
                    .map(|(_, v)| v)
                    .ok_or_else(|| format!("the field {} has no {sub} dbtool knows", path[0]))?,
                _ => return Err(format!("the attribute {sub} of {}", path[0])),
            };
        }
        Ok((value, format!("settings.{} = {origin}", path.join("."))))
    }

    fn call(&self, module: &Module, call: &Call, depth: usize) -> Followed {
        let positional = call.positional();
        let function = call.function.dotted().unwrap_or_default();
        match (function, positional.as_slice()) {
            ([name], [argument]) if ["str", "int", "float", "bool"].contains(&name.as_str()) => {
                let (value, source) = self.evaluate(module, argument, depth + 1)?;
                let converted = match (name.as_str(), &value) {
                    ("str", v) => v.py_str().map(PyValue::Str),
                    ("int", PyValue::Int(_)) => Some(value.clone()),
                    ("int", PyValue::Float(f)) if f.is_finite() => {
                        Some(PyValue::Int(f.trunc() as i64))
                    }
                    ("int", PyValue::Bool(b)) => Some(PyValue::Int(i64::from(*b))),
                    ("int", PyValue::Str(t)) => {
                        t.trim().replace('_', "").parse().ok().map(PyValue::Int)
                    }
                    ("float", PyValue::Int(n)) => Some(PyValue::Float(*n as f64)),
                    ("float", PyValue::Float(_)) => Some(value.clone()),
                    ("float", PyValue::Str(t)) => t.trim().parse().ok().map(PyValue::Float),
                    ("bool", PyValue::Bool(_)) => Some(value.clone()),
                    ("bool", PyValue::Int(n)) => Some(PyValue::Bool(*n != 0)),
                    ("bool", PyValue::Str(t)) => Some(PyValue::Bool(!t.is_empty())),
                    _ => None,
                };
                converted
                    .map(|v| (v, source))
                    .ok_or_else(|| format!("{name}() of that value"))
            }
            _ => {
                // `x.get_secret_value()`, `x.unicode_string()`.
                let method =
                    call.dotted()
                        .last()
                        .map(String::as_str)
                        .or(match &call.function.kind {
                            ExprKind::Attribute(_, name) => Some(name.as_str()),
                            _ => None,
                        });
                if let Some(method @ ("get_secret_value" | "unicode_string")) = method
                    && positional.is_empty()
                {
                    let target = match &call.function.kind {
                        ExprKind::Name(parts) if parts.len() > 1 => Expr {
                            kind: ExprKind::Name(parts[..parts.len() - 1].to_vec()),
                            at: call.function.at,
                        },
                        ExprKind::Attribute(base, _) => (**base).clone(),
                        _ => return Err(format!("a call of {method}()")),
                    };
                    let (value, source) = self.evaluate(module, &target, depth + 1)?;
                    return match value {
                        PyValue::Secret(text) | PyValue::Str(text) => {
                            Ok((PyValue::Str(text), source))
                        }
                        _ => Err(format!("{method}() of that value")),
                    };
                }
                Err(format!("a call of {}()", call.dotted().join(".")))
            }
        }
    }
}

fn join(a: &str, b: &str) -> String {
    match (a, b) {
        ("literal", b) => b.to_string(),
        (a, "literal") => a.to_string(),
        (a, b) => format!("{a}; {b}"),
    }
}
