//! The application's `BaseSettings` subclass as pydantic sees it: its fields (with those of the
//! application's base classes), their types, defaults and aliases, and its configuration
//! (`model_config = SettingsConfigDict(...)`, a dict, class keywords or an inner `class Config`).

use anyhow::Result;

use super::modules::{Binding, Module, Program};
use super::value::{PyValue, literal};
use crate::python::{Argument, Expr, ExprKind, Located, Statement};

/// A field's type, as far as it decides how pydantic reads the field's text.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Type {
    Str,
    Int,
    Float,
    Bool,
    Secret,
    /// `PostgresDsn` (`postgres`), `AnyUrl`.
    Url {
        postgres: bool,
    },
    /// `Optional[T]`, `T | None`.
    Optional(Box<Type>),
    /// A nested `BaseModel`: its fields.
    Model(Vec<Field>),
    /// A type dbtool does not read, described.
    Unknown(String),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Default {
    /// No default: the application fails to start without a value.
    Required,
    Value(PyValue),
    /// `Model()`: the nested model with its own defaults (when the field is a model).
    Construct(String),
    /// A default dbtool cannot know (`default_factory`, a call), described.
    Unknown(String),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Field {
    pub(super) name: String,
    pub(super) ty: Type,
    pub(super) default: Default,
    /// The validation aliases (`alias=`, `validation_alias=`, `AliasChoices(...)`), in order;
    /// when set, the field is read under these names only, without the prefix.
    pub(super) aliases: Vec<String>,
    /// `file:line` of its declaration.
    pub(super) place: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Extra {
    Forbid,
    Ignore,
    Allow,
}

/// `model_config`, with pydantic-settings' defaults.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Config {
    pub(super) env_prefix: String,
    /// `None`: no env file.
    pub(super) env_files: Option<Vec<String>>,
    pub(super) env_file_encoding: Option<String>,
    pub(super) case_sensitive: bool,
    pub(super) env_nested_delimiter: Option<String>,
    pub(super) env_ignore_empty: bool,
    pub(super) extra: Extra,
}

impl std::default::Default for Config {
    fn default() -> Self {
        Config {
            env_prefix: String::new(),
            env_files: None,
            env_file_encoding: None,
            case_sensitive: false,
            env_nested_delimiter: None,
            env_ignore_empty: false,
            extra: Extra::Forbid,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct SettingsClass {
    pub(super) name: String,
    /// `file:line` of the `class` statement.
    pub(super) place: String,
    pub(super) fields: Vec<Field>,
    pub(super) config: Config,
}

/// Whether a class statement derives (through the application's classes) from a class whose
/// name ends in `base`: `BaseSettings`, `BaseModel`.
pub(super) fn derives_from(
    program: &Program,
    module: &Module,
    class: &Located,
    base: &str,
) -> bool {
    let mut depth = 0;
    derives(program, module, class, base, &mut depth)
}

fn derives(
    program: &Program,
    module: &Module,
    class: &Located,
    base: &str,
    depth: &mut usize,
) -> bool {
    *depth += 1;
    if *depth > 20 {
        return false;
    }
    let Statement::Class { bases, .. } = &class.statement else {
        return false;
    };
    bases.iter().any(|argument| {
        let Argument::Positional(expr) = argument else {
            return false;
        };
        let Some(parts) = expr.dotted() else {
            return false;
        };
        if parts.last().is_some_and(|p| p == base) {
            return true;
        }
        match program.binding(module, &parts[0]) {
            Ok(Some(Binding::Class(other_module, other))) if parts.len() == 1 => {
                derives(program, other_module, other, base, depth)
            }
            _ => false,
        }
    })
}

/// Reads a settings (or nested model) class: the fields of its application base classes first.
pub(super) fn read(program: &Program, module: &Module, class: &Located) -> Result<SettingsClass> {
    let Statement::Class { name, bases } = &class.statement else {
        unreachable!("read is given a class statement")
    };
    let mut fields: Vec<Field> = Vec::new();
    let mut config = Config::default();
    for argument in bases {
        match argument {
            Argument::Positional(expr) => {
                if let Some([one]) = expr.dotted()
                    && let Ok(Some(Binding::Class(base_module, base))) =
                        program.binding(module, one)
                {
                    let inherited = read(program, base_module, base)?;
                    fields = inherited.fields;
                    config = inherited.config;
                }
            }
            Argument::Keyword(key, value) => apply_config(&mut config, key, value),
            _ => {}
        }
    }
    for located in &class.body {
        match &located.statement {
            Statement::AnnotatedAssign {
                target,
                annotation,
                value,
            } => {
                let Some([field]) = target.dotted() else {
                    continue;
                };
                if field.starts_with('_') || field == "model_config" || is_class_var(annotation) {
                    continue;
                }
                let ty = annotation_type(program, module, annotation)?;
                let (default, aliases) = default_and_aliases(value.as_ref());
                let new = Field {
                    name: field.clone(),
                    ty,
                    default,
                    aliases,
                    place: module.place(located.at),
                };
                match fields.iter_mut().find(|f| f.name == *field) {
                    Some(old) => *old = new,
                    None => fields.push(new),
                }
            }
            Statement::Assign { targets, value }
                if targets.iter().any(|t| t.is_name("model_config")) =>
            {
                match &value.kind {
                    ExprKind::Call(call) => {
                        for argument in &call.arguments {
                            if let Argument::Keyword(key, value) = argument {
                                apply_config(&mut config, key, value);
                            }
                        }
                    }
                    ExprKind::Dict(entries) => {
                        for entry in entries {
                            if let crate::python::DictEntry::Pair(key, value) = entry
                                && let Some(key) = key.text()
                            {
                                apply_config(&mut config, key, value);
                            }
                        }
                    }
                    _ => {}
                }
            }
            Statement::Class { name, .. } if name == "Config" => {
                for inner in &located.body {
                    if let Some((targets, value)) = inner.statement.assignment()
                        && let Some([key]) = targets[0].dotted()
                    {
                        apply_config(&mut config, key, value);
                    }
                }
            }
            _ => {}
        }
    }
    Ok(SettingsClass {
        name: name.clone(),
        place: module.place(class.at),
        fields,
        config,
    })
}

fn is_class_var(annotation: &Expr) -> bool {
    let base = match &annotation.kind {
        ExprKind::Subscript(base, _) => base,
        _ => annotation,
    };
    base.dotted()
        .is_some_and(|parts| parts.last().is_some_and(|p| p == "ClassVar"))
}

/// One `model_config` key; values that are not literals keep the default.
fn apply_config(config: &mut Config, key: &str, value: &Expr) {
    let text = value.text().map(str::to_string);
    let flag = match literal(value) {
        Some(PyValue::Bool(b)) => Some(b),
        _ => None,
    };
    match key {
        "env_prefix" => config.env_prefix = text.unwrap_or_default(),
        "env_file" => {
            config.env_files = match (&value.kind, text) {
                (_, Some(one)) => Some(vec![one]),
                (ExprKind::List(items) | ExprKind::Tuple(items), _) => Some(
                    items
                        .iter()
                        .filter_map(|i| i.text().map(str::to_string))
                        .collect(),
                ),
                _ => None,
            }
        }
        "env_file_encoding" => config.env_file_encoding = text,
        "case_sensitive" => config.case_sensitive = flag.unwrap_or(false),
        "env_nested_delimiter" => config.env_nested_delimiter = text.filter(|t| !t.is_empty()),
        "env_ignore_empty" => config.env_ignore_empty = flag.unwrap_or(false),
        "extra" => {
            config.extra = match text.as_deref() {
                Some("ignore") => Extra::Ignore,
                Some("allow") => Extra::Allow,
                _ => Extra::Forbid,
            }
        }
        _ => {}
    }
}

/// The type an annotation names.
fn annotation_type(program: &Program, module: &Module, annotation: &Expr) -> Result<Type> {
    Ok(match &annotation.kind {
        ExprKind::Name(parts) => {
            let last = parts.last().map_or("", String::as_str);
            match last {
                "str" => Type::Str,
                "int" => Type::Int,
                "float" => Type::Float,
                "bool" => Type::Bool,
                "SecretStr" => Type::Secret,
                "PostgresDsn" => Type::Url { postgres: true },
                "AnyUrl" => Type::Url { postgres: false },
                _ => match program.binding(module, &parts[0])? {
                    Some(Binding::Class(other_module, class)) if parts.len() == 1 => {
                        if derives_from(program, other_module, class, "BaseModel") {
                            Type::Model(read(program, other_module, class)?.fields)
                        } else {
                            Type::Unknown(format!("the class {last}"))
                        }
                    }
                    _ => Type::Unknown(format!("the type {}", parts.join("."))),
                },
            }
        }
        ExprKind::Subscript(base, index) => {
            let name = base
                .dotted()
                .and_then(|p| p.last())
                .map_or("", String::as_str);
            let items: Vec<&Expr> = match &index.kind {
                ExprKind::Tuple(items) => items.iter().collect(),
                _ => vec![index],
            };
            match name {
                "Optional" => Type::Optional(Box::new(annotation_type(program, module, index)?)),
                "Annotated" => annotation_type(program, module, items[0])?,
                "Union" => union(program, module, &items)?,
                _ => Type::Unknown(format!("the type {}[...]", name)),
            }
        }
        ExprKind::BinOp(left, "|", right) => union(program, module, &[left, right])?,
        _ => Type::Unknown(annotation.describe()),
    })
}

/// `Union[T, None]` and `T | None` are `Optional[T]`; other unions are not read.
fn union(program: &Program, module: &Module, items: &[&Expr]) -> Result<Type> {
    let others: Vec<&&Expr> = items.iter().filter(|e| !e.is_name("None")).collect();
    match others.as_slice() {
        [one] if others.len() < items.len() => Ok(Type::Optional(Box::new(annotation_type(
            program, module, one,
        )?))),
        _ => Ok(Type::Unknown("a union".to_string())),
    }
}

/// A field's default and aliases from what it is assigned: a literal, or `Field(...)`.
fn default_and_aliases(value: Option<&Expr>) -> (Default, Vec<String>) {
    let Some(value) = value else {
        return (Default::Required, Vec::new());
    };
    let known = |expr: &Expr| match &expr.kind {
        ExprKind::Ellipsis => Default::Required,
        ExprKind::Call(call) if call.arguments.is_empty() && call.complete => {
            Default::Construct(call.dotted().join("."))
        }
        _ => literal(expr).map_or_else(|| Default::Unknown(expr.describe()), Default::Value),
    };
    let Some(call) = value.call().filter(|c| c.name() == "Field") else {
        return (known(value), Vec::new());
    };
    let default = match (call.argument(0, "default"), call.keyword("default_factory")) {
        (Some(expr), _) => known(expr),
        (None, Some(factory)) => {
            Default::Unknown(format!("default_factory={}", factory.describe()))
        }
        (None, None) => Default::Required,
    };
    let aliases = |expr: &Expr| -> Vec<String> {
        match (expr.text(), expr.call()) {
            (Some(text), _) => vec![text.to_string()],
            (None, Some(choices)) if choices.name() == "AliasChoices" => choices
                .positional()
                .iter()
                .filter_map(|e| e.text().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    };
    let names = match (call.keyword("validation_alias"), call.keyword("alias")) {
        (Some(expr), _) | (None, Some(expr)) => aliases(expr),
        (None, None) => Vec::new(),
    };
    (default, names)
}
