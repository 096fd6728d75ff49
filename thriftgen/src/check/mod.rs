//! Checks: name resolution, field ids, enum values, constant types, service
//! rules; the checked program comes out as [`Ir`].
//!
//! Every problem becomes a diagnostic and checking goes on, so one run reports
//! all of them. A file whose syntax was broken contributes no definitions, and
//! names that would have come from it are not reported again.

mod consts;
mod names;

use crate::diag::Diagnostic;
use crate::ir::*;
use crate::load::Loaded;
use crate::source::{FileId, Span};
use crate::syntax::ast;
use std::collections::HashMap;

/// Checks everything `loaded` holds. The IR is complete only when no error
/// was added to `diags`.
pub fn check(loaded: &Loaded, diags: &mut Vec<Diagnostic>) -> Ir {
    let mut checker = Checker::new(loaded, diags);
    checker.register();
    checker.resolve_definitions();
    checker.check_typedef_cycles();
    checker.check_throws();
    checker.check_services();
    checker.evaluate_constants();
    checker.ir
}

/// Where a field with a default value lives, so its value can be filled in
/// once constants are evaluated.
#[derive(Clone, Copy)]
enum FieldLoc {
    Struct(DefId, usize),
    Param(DefId, usize, usize),
    Throws(DefId, usize, usize),
}

/// What a list of fields belongs to; the rules differ a little.
#[derive(Clone, Copy, PartialEq)]
enum FieldsOf {
    Struct(StructKind),
    Params,
    Throws,
}

enum ConstState {
    Todo,
    Busy,
    Done(Option<ConstValue>),
}

pub(crate) struct Checker<'a> {
    loaded: &'a Loaded,
    diags: &'a mut Vec<Diagnostic>,
    ir: Ir,
    /// The syntax of each definition, indexed by [`DefId`].
    asts: Vec<&'a ast::Definition>,
    /// Per module: types and services by name (one namespace, as in Apache).
    types: Vec<HashMap<&'a str, DefId>>,
    /// Per module: constants by name.
    consts: Vec<HashMap<&'a str, DefId>>,
    /// Per module: included modules by prefix.
    includes: Vec<HashMap<&'a str, FileId>>,
    /// Modules whose syntax was broken: lookups into them fail silently.
    broken: Vec<bool>,
    const_state: Vec<ConstState>,
    defaults: Vec<(FieldLoc, FileId, Type, &'a ast::ConstExpr)>,
    throws: Vec<(FileId, Type, Span)>,
}

impl<'a> Checker<'a> {
    fn new(loaded: &'a Loaded, diags: &'a mut Vec<Diagnostic>) -> Checker<'a> {
        let n = loaded.files.len();
        Checker {
            loaded,
            diags,
            ir: Ir {
                roots: loaded.roots.clone(),
                ..Ir::default()
            },
            asts: Vec::new(),
            types: vec![HashMap::new(); n],
            consts: vec![HashMap::new(); n],
            includes: vec![HashMap::new(); n],
            broken: loaded.files.iter().map(|f| f.ast.is_none()).collect(),
            const_state: Vec::new(),
            defaults: Vec::new(),
            throws: Vec::new(),
        }
    }

    fn error(&mut self, diag: Diagnostic) {
        self.diags.push(diag);
    }

    // -------------------------------------------------------- registration

    /// Gives every definition a [`DefId`] and enters it into its module's
    /// scope; builds modules with their namespaces and includes.
    fn register(&mut self) {
        for file in &self.loaded.files {
            let m = file.id.0 as usize;
            let stem = crate::load::include_prefix(&self.loaded.sources.file(file.id).name);
            let mut module = Module {
                file: file.id,
                stem,
                namespaces: Vec::new(),
                includes: Vec::new(),
                defs: Vec::new(),
                doc: None,
            };
            for inc in &file.includes {
                match self.includes[m].get(inc.prefix.as_str()) {
                    Some(&other) if other != inc.file => self.diags.push(
                        Diagnostic::error(format!("two included files are named `{}`", inc.prefix))
                            .at(inc.span, "second file with this name")
                            .with_label(
                                file.includes
                                    .iter()
                                    .find(|i| i.file == other)
                                    .map_or(inc.span, |i| i.span),
                                "first file with this name",
                            )
                            .with_note(format!(
                                "definitions of both would be named `{}.Name`",
                                inc.prefix
                            ))
                            .with_help("rename one of the files"),
                    ),
                    Some(_) => {}
                    None => {
                        self.includes[m].insert(&inc.prefix, inc.file);
                        module.includes.push(inc.file);
                    }
                }
            }
            if let Some(doc) = &file.ast {
                module.doc = doc.doc.clone();
                for header in &doc.headers {
                    if let ast::Header::Namespace(ns) = header {
                        module
                            .namespaces
                            .push((ns.scope.name.clone(), ns.name.name.clone()));
                    }
                }
                for def in &doc.definitions {
                    let id = DefId(self.asts.len() as u32);
                    self.asts.push(def);
                    self.const_state.push(ConstState::Todo);
                    module.defs.push(id);
                    self.declare(file.id, id, def);
                }
            }
            self.ir.modules.push(module);
        }
    }

    fn declare(&mut self, module: FileId, id: DefId, def: &'a ast::Definition) {
        let m = module.0 as usize;
        let name = def.name.name.as_str();
        let is_const = matches!(def.kind, ast::DefinitionKind::Const { .. });
        let table = if is_const {
            &mut self.consts[m]
        } else {
            &mut self.types[m]
        };
        if let Some(&first) = table.get(name) {
            let first_span = self.asts[first.0 as usize].name.span;
            let what = if is_const { "constant" } else { "type" };
            self.diags.push(
                Diagnostic::error(format!("the {what} `{name}` is defined twice"))
                    .at(def.name.span, "defined again here")
                    .with_label(first_span, "first defined here")
                    .with_help("rename or remove one of them"),
            );
        } else {
            table.insert(name, id);
        }
        names::warn_reserved(self.diags, &def.name);
        // A placeholder until `resolve_definitions` fills in the real kind.
        self.ir.defs.push(Def {
            id,
            module,
            name: def.name.name.clone(),
            doc: def.doc.clone(),
            annotations: annotations(&def.annotations),
            span: def.span,
            name_span: def.name.span,
            kind: DefKind::Typedef(Typedef { target: Type::Bool }),
        });
    }

    // -------------------------------------------------------------- types

    /// Resolves the types of every definition: typedef targets, fields,
    /// function signatures, `extends`; collects default values for later.
    fn resolve_definitions(&mut self) {
        for index in 0..self.asts.len() {
            let id = DefId(index as u32);
            let def = self.asts[index];
            let module = self.ir.defs[index].module;
            let kind = match &def.kind {
                ast::DefinitionKind::Const { ty, .. } => {
                    self.warn_forward_types(module, ty, "the type of a constant");
                    let ty = self.resolve_type(module, ty).unwrap_or(Type::Bool);
                    DefKind::Const(Const {
                        ty,
                        value: ConstValue::Bool(false),
                    })
                }
                ast::DefinitionKind::Typedef { ty } => {
                    let target = self.resolve_type(module, ty).unwrap_or(Type::Bool);
                    DefKind::Typedef(Typedef { target })
                }
                ast::DefinitionKind::Enum { values } => {
                    DefKind::Enum(self.enumeration(def, values))
                }
                ast::DefinitionKind::Struct { kind, fields } => {
                    let owner = format!("{} `{}`", kind.keyword(), def.name.name);
                    let fields =
                        self.fields(module, &owner, fields, FieldsOf::Struct(*kind), |i| {
                            FieldLoc::Struct(id, i)
                        });
                    DefKind::Struct(Struct {
                        kind: *kind,
                        fields,
                    })
                }
                ast::DefinitionKind::Service { extends, functions } => {
                    let extends = extends
                        .as_ref()
                        .and_then(|e| self.resolve_service(module, e));
                    let functions = self.functions(module, id, functions);
                    DefKind::Service(Service { extends, functions })
                }
            };
            self.ir.defs[index].kind = kind;
        }
    }

    /// An IDL type to an IR type; `None` (after reporting) when a name does
    /// not resolve to a type.
    fn resolve_type(&mut self, module: FileId, t: &ast::TypeExpr) -> Option<Type> {
        use ast::BaseType as B;
        Some(match &t.kind {
            ast::TypeExprKind::Base(b) => match b {
                B::Bool => Type::Bool,
                B::I8 => Type::I8,
                B::I16 => Type::I16,
                B::I32 => Type::I32,
                B::I64 => Type::I64,
                B::Double => Type::Double,
                B::String => Type::String,
                B::Binary => Type::Binary,
                B::Uuid => Type::Uuid,
            },
            ast::TypeExprKind::List(e) => Type::List(Box::new(self.resolve_type(module, e)?)),
            ast::TypeExprKind::Set(e) => Type::Set(Box::new(self.resolve_type(module, e)?)),
            ast::TypeExprKind::Map(k, v) => {
                let k = self.resolve_type(module, k);
                let v = self.resolve_type(module, v);
                Type::Map(Box::new(k?), Box::new(v?))
            }
            ast::TypeExprKind::Named(name) => {
                let id = self.lookup_type(module, name, false)?;
                if let ast::DefinitionKind::Service { .. } = self.asts[id.0 as usize].kind {
                    self.error(
                        Diagnostic::error(format!("`{}` is a service, not a type", name.name))
                            .at(name.span, "not a type")
                            .with_label(
                                self.ir.defs[id.0 as usize].name_span,
                                "service defined here",
                            )
                            .with_note("fields, parameters and constants cannot hold a service"),
                    );
                    return None;
                }
                Type::Def(id)
            }
        })
    }

    fn resolve_service(&mut self, module: FileId, name: &ast::Ident) -> Option<DefId> {
        let id = self.lookup_type(module, name, true)?;
        let def = self.asts[id.0 as usize];
        if let ast::DefinitionKind::Service { .. } = def.kind {
            self.warn_forward(module, id, name, "a base service");
            return Some(id);
        }
        let what = describe_def(def);
        self.error(
            Diagnostic::error(format!("`{}` is not a service", name.name))
                .at(name.span, "`extends` needs a service")
                .with_label(
                    self.ir.defs[id.0 as usize].name_span,
                    format!("`{}` is {what}", def.name.name),
                ),
        );
        None
    }

    /// Warns about each name in `ty` that refers to a definition further
    /// down the same file, where Apache's compiler needs `what` (the type
    /// of a constant, ...) to be defined already.
    fn warn_forward_types(&mut self, module: FileId, ty: &ast::TypeExpr, what: &str) {
        match &ty.kind {
            ast::TypeExprKind::Base(_) => {}
            ast::TypeExprKind::List(e) | ast::TypeExprKind::Set(e) => {
                self.warn_forward_types(module, e, what)
            }
            ast::TypeExprKind::Map(k, v) => {
                self.warn_forward_types(module, k, what);
                self.warn_forward_types(module, v, what);
            }
            ast::TypeExprKind::Named(name) => {
                if let names::Found::Def(id) = self.find(module, &name.name, names::Table::Types) {
                    self.warn_forward(module, id, name, what);
                }
            }
        }
    }

    /// Whether `id` is defined in `module` after `at`, where it is used.
    pub(crate) fn is_forward(&self, module: FileId, id: DefId, at: Span) -> bool {
        let def = &self.ir.defs[id.0 as usize];
        def.module == module && def.span.file == at.file && def.span.start > at.start
    }

    /// The portability warning for `name`, naming definition `id` before it
    /// is defined, where Apache's compiler needs `what` to be defined already.
    pub(crate) fn warn_forward(
        &mut self,
        module: FileId,
        id: DefId,
        name: &ast::Ident,
        what: &str,
    ) {
        if !self.is_forward(module, id, name.span) {
            return;
        }
        let def_span = self.ir.defs[id.0 as usize].name_span;
        self.diags.push(
            Diagnostic::not_portable(
                format!("`{}` is used before it is defined", name.name),
                format!("Apache's compiler needs {what} to be defined before it is used"),
            )
            .at(name.span, "defined further down")
            .with_label(def_span, "defined here")
            .with_help("move the definition above its first use"),
        );
    }

    // ------------------------------------------------------------- enums

    fn enumeration(&mut self, def: &'a ast::Definition, values: &'a [ast::EnumValue]) -> Enum {
        let mut out = Vec::new();
        let mut names: HashMap<&str, Span> = HashMap::new();
        let mut next: i64 = 0;
        for v in values {
            names::warn_reserved(self.diags, &v.name);
            let number = match v.value {
                Some((n, span)) => match i32::try_from(n) {
                    Ok(n) => n,
                    Err(_) => {
                        self.error(
                            Diagnostic::error(format!(
                                "value {n} of `{}.{}` does not fit in `i32`",
                                def.name.name, v.name.name
                            ))
                            .at(span, "out of range")
                            .with_note("enum values are 32-bit signed on the wire: -2147483648 to 2147483647"),
                        );
                        next = 0;
                        continue;
                    }
                },
                None => match i32::try_from(next) {
                    Ok(n) => n,
                    Err(_) => {
                        self.error(
                            Diagnostic::error(format!(
                                "the implicit value of `{}.{}` does not fit in `i32`",
                                def.name.name, v.name.name
                            ))
                            .at(v.name.span, "would be 2147483648")
                            .with_help("give it an explicit value"),
                        );
                        continue;
                    }
                },
            };
            next = i64::from(number) + 1;
            if let Some(&first) = names.get(v.name.name.as_str()) {
                self.error(
                    Diagnostic::error(format!(
                        "enum `{}` has two values named `{}`",
                        def.name.name, v.name.name
                    ))
                    .at(v.name.span, "defined again here")
                    .with_label(first, "first defined here"),
                );
                continue;
            }
            names.insert(&v.name.name, v.name.span);
            out.push(EnumValue {
                name: v.name.name.clone(),
                value: number,
                doc: v.doc.clone(),
                annotations: annotations(&v.annotations),
                span: v.span,
            });
        }
        Enum { values: out }
    }

    // ------------------------------------------------------------ fields

    /// Checks a list of fields (struct, parameters or `throws`): ids, names,
    /// requiredness, types; remembers default values for later.
    fn fields(
        &mut self,
        module: FileId,
        owner: &str,
        fields: &'a [ast::Field],
        of: FieldsOf,
        loc: impl Fn(usize) -> FieldLoc,
    ) -> Vec<Field> {
        let mut out = Vec::new();
        let mut ids: HashMap<i16, Span> = HashMap::new();
        let mut names: HashMap<&str, Span> = HashMap::new();
        // Apache numbers fields without an id -1, -2, ... in order.
        let mut next_assigned: i32 = -1;
        for f in fields {
            names::warn_reserved(self.diags, &f.name);
            let (id, assigned, id_span) = match f.id {
                Some((n, span)) if n > 0 => match i16::try_from(n) {
                    Ok(n) => (n, false, span),
                    Err(_) => {
                        self.error(
                            Diagnostic::error(format!("field id {n} is out of range"))
                                .at(span, "not a 16-bit id")
                                .with_note(
                                    "field ids are 16-bit signed on the wire; use 1 to 32767",
                                ),
                        );
                        continue;
                    }
                },
                explicit => {
                    let Ok(assigned) = i16::try_from(next_assigned) else {
                        self.error(
                            Diagnostic::error(format!("{owner} has too many fields without ids"))
                                .at(f.name.span, "no id left to assign"),
                        );
                        continue;
                    };
                    next_assigned -= 1;
                    let diag = match explicit {
                        Some((n, span)) => Diagnostic::warning(format!(
                            "field id {n} of `{}` is not positive",
                            f.name.name
                        ))
                        .at(span, format!("treated as {assigned}, as Apache does"))
                        .with_help("field ids start at 1"),
                        None => Diagnostic::warning(format!("field `{}` has no id", f.name.name))
                            .at(f.name.span, format!("assigned id {assigned}, as Apache does"))
                            .with_note("assigned ids change when fields are added before this one, which breaks compatibility")
                            .with_help(format!("write an explicit id, e.g. `1: {}`", self.field_text(f))),
                    };
                    self.diags.push(diag);
                    (assigned, true, f.span)
                }
            };
            if let Some(&first) = ids.get(&id) {
                self.error(
                    Diagnostic::error(format!("duplicate field id {id} in {owner}"))
                        .at(id_span, "used again here")
                        .with_label(first, "first used here")
                        .with_help("give each field its own id"),
                );
            } else {
                ids.insert(id, id_span);
            }
            if let Some(&first) = names.get(f.name.name.as_str()) {
                self.error(
                    Diagnostic::error(format!("duplicate field name `{}` in {owner}", f.name.name))
                        .at(f.name.span, "used again here")
                        .with_label(first, "first used here"),
                );
            } else {
                names.insert(&f.name.name, f.name.span);
            }
            let requiredness = match (f.requiredness, of) {
                (
                    Some((ast::Requiredness::Required, span)),
                    FieldsOf::Struct(StructKind::Union),
                ) => {
                    self.error(
                        Diagnostic::error(format!("union field `{}` cannot be `required`", f.name.name))
                            .at(span, "not allowed in a union")
                            .with_note("exactly one field of a union is set, so no field can always be present")
                            .with_help("remove `required`"),
                    );
                    Requiredness::Default
                }
                (Some((ast::Requiredness::Required, _)), _) => Requiredness::Required,
                (Some((ast::Requiredness::Optional, _)), _) => Requiredness::Optional,
                (None, _) => Requiredness::Default,
            };
            if of == FieldsOf::Throws {
                self.warn_forward_types(module, &f.ty, "the types in `throws`");
            } else if f.default.is_some() {
                self.warn_forward_types(module, &f.ty, "the type of a field with a default value");
            }
            let Some(ty) = self.resolve_type(module, &f.ty) else {
                continue;
            };
            if of == FieldsOf::Throws {
                // Checked once every typedef is resolved.
                self.throws.push((module, ty.clone(), f.ty.span));
            }
            let index = out.len();
            if let Some(default) = &f.default {
                self.defaults
                    .push((loc(index), module, ty.clone(), default));
            }
            out.push(Field {
                id,
                id_assigned: assigned,
                name: f.name.name.clone(),
                ty,
                requiredness,
                default: None,
                doc: f.doc.clone(),
                annotations: annotations(&f.annotations),
                type_annotations: annotations(&f.ty.annotations),
                span: f.span,
            });
        }
        out
    }

    /// The field's text from its type on, for help messages.
    fn field_text(&self, f: &ast::Field) -> String {
        let span = f.ty.span.to(f.name.span);
        self.loaded.sources.snippet(span).to_string()
    }

    /// Every type in a `throws` clause must be an exception.
    fn check_throws(&mut self) {
        for (module, ty, span) in std::mem::take(&mut self.throws) {
            if self.is_exception(&ty) {
                continue;
            }
            let what = match self.ir.resolve(&ty) {
                Type::Def(id) => describe_def(self.asts[id.0 as usize]),
                _ => "not an exception",
            };
            let name = self.ir.type_name(&ty, module);
            self.error(
                Diagnostic::error(format!("`{name}` is not an exception"))
                    .at(span, format!("this is {what}"))
                    .with_note("`throws` lists exceptions only"),
            );
        }
    }

    fn is_exception(&self, ty: &Type) -> bool {
        match self.ir.resolve(ty) {
            Type::Def(id) => matches!(
                self.asts[id.0 as usize].kind,
                ast::DefinitionKind::Struct {
                    kind: StructKind::Exception,
                    ..
                }
            ),
            _ => false,
        }
    }

    // ---------------------------------------------------------- services

    fn functions(
        &mut self,
        module: FileId,
        service: DefId,
        functions: &'a [ast::Function],
    ) -> Vec<Function> {
        let owner_name = &self.asts[service.0 as usize].name.name;
        let mut out = Vec::new();
        let mut names: HashMap<&str, Span> = HashMap::new();
        for (fi, f) in functions.iter().enumerate() {
            names::warn_reserved(self.diags, &f.name);
            if let Some(&first) = names.get(f.name.name.as_str()) {
                self.error(
                    Diagnostic::error(format!(
                        "service `{owner_name}` defines `{}` twice",
                        f.name.name
                    ))
                    .at(f.name.span, "defined again here")
                    .with_label(first, "first defined here")
                    .with_note(
                        "a method name is what a call carries on the wire, so it must be unique",
                    ),
                );
            } else {
                names.insert(&f.name.name, f.name.span);
            }
            self.check_idempotent(f);
            if let (Some(span), true) = (f.oneway, f.is_async) {
                self.diags.push(
                    Diagnostic::warning("`async` is deprecated")
                        .at(span, "old spelling")
                        .with_help("write `oneway`"),
                );
            }
            let returns = f
                .returns
                .as_ref()
                .and_then(|t| self.resolve_type(module, t));
            if f.oneway.is_some() && f.returns.is_some() {
                self.error(
                    Diagnostic::error(format!(
                        "oneway function `{}` must return `void`",
                        f.name.name
                    ))
                    .at(f.returns_span, "returns a value")
                    .with_note("a oneway call gets no reply, so nothing can carry the result")
                    .with_help("return `void`, or remove `oneway`"),
                );
            }
            if let (Some(_), Some((throws, span))) = (f.oneway, &f.throws) {
                if !throws.is_empty() {
                    self.error(
                        Diagnostic::error(format!(
                            "oneway function `{}` cannot throw",
                            f.name.name
                        ))
                        .at(*span, "declares exceptions")
                        .with_note(
                            "a oneway call gets no reply, so nothing can carry the exception",
                        )
                        .with_help("remove the `throws` clause, or remove `oneway`"),
                    );
                }
            }
            let fname = &f.name.name;
            let params = self.fields(
                module,
                &format!("the parameters of `{fname}`"),
                &f.params,
                FieldsOf::Params,
                |i| FieldLoc::Param(service, fi, i),
            );
            let throws = match &f.throws {
                Some((fields, _)) => self.fields(
                    module,
                    &format!("the exceptions of `{fname}`"),
                    fields,
                    FieldsOf::Throws,
                    |i| FieldLoc::Throws(service, fi, i),
                ),
                None => Vec::new(),
            };
            out.push(Function {
                name: f.name.name.clone(),
                oneway: f.oneway.is_some(),
                returns,
                params,
                throws,
                doc: f.doc.clone(),
                annotations: annotations(&f.annotations),
                span: f.span,
            });
        }
        out
    }

    /// `(idempotent = "...")` on a function: warns about a value that is
    /// neither yes (`"true"`, `"1"`) nor no (`"false"`, `"0"`), and about
    /// the annotation on a `oneway` function, where it changes nothing.
    fn check_idempotent(&mut self, f: &ast::Function) {
        for a in f.annotations.iter().filter(|a| a.key.name == IDEMPOTENT) {
            let value = a.value.as_ref().map_or("1", |v| v.value.as_str());
            if !IDEMPOTENT_YES.contains(&value) && !IDEMPOTENT_NO.contains(&value) {
                let span = a.value.as_ref().map_or(a.span, |v| v.span);
                self.diags.push(
                    Diagnostic::warning(format!(
                        "unknown value {value:?} of annotation `{IDEMPOTENT}` on `{}`",
                        f.name.name
                    ))
                    .at(span, "expected \"true\" or \"false\"")
                    .with_note("the function is not marked idempotent")
                    .with_help(format!(
                        "write `{IDEMPOTENT} = \"true\"` or remove the annotation"
                    )),
                );
            } else if let (Some(_), true) = (f.oneway, IDEMPOTENT_YES.contains(&value)) {
                self.diags.push(
                    Diagnostic::warning(format!(
                        "`{IDEMPOTENT}` has no effect on oneway function `{}`",
                        f.name.name
                    ))
                    .at(a.span, "ignored")
                    .with_note(
                        "a oneway call is never sent again once it may have reached a server",
                    ),
                );
            }
        }
    }

    /// `extends` cycles, and functions that redefine an inherited one.
    fn check_services(&mut self) {
        let services: Vec<DefId> = (0..self.ir.defs.len())
            .map(|i| DefId(i as u32))
            .filter(|&id| matches!(self.ir.def(id).kind, DefKind::Service(_)))
            .collect();
        let mut in_cycle = vec![false; self.ir.defs.len()];
        for &id in &services {
            // Walk the chain of bases; at most one step per service.
            let mut chain = vec![id];
            let mut current = id;
            while let Some(base) = self.extends(current) {
                if base == id {
                    if !in_cycle[id.0 as usize] {
                        for &c in &chain {
                            in_cycle[c.0 as usize] = true;
                        }
                        let names: Vec<String> = chain
                            .iter()
                            .chain(std::iter::once(&id))
                            .map(|c| format!("`{}`", self.ir.def(*c).name))
                            .collect();
                        let ext = self.extends_span(id);
                        self.error(
                            Diagnostic::error(format!(
                                "service `{}` extends itself",
                                self.ir.def(id).name
                            ))
                            .at(ext, "closes the cycle")
                            .with_note(format!("the chain is {}", names.join(" extends "))),
                        );
                    }
                    break;
                }
                if chain.contains(&base) || chain.len() > services.len() {
                    break; // a cycle further up; reported from one of its members
                }
                chain.push(base);
                current = base;
            }
        }
        for &id in &services {
            if in_cycle[id.0 as usize] {
                continue;
            }
            let mut inherited: HashMap<String, (DefId, Span)> = HashMap::new();
            let mut base = self.extends(id);
            let mut steps = 0;
            while let Some(b) = base {
                if in_cycle[b.0 as usize] || steps > services.len() {
                    break;
                }
                if let DefKind::Service(s) = &self.ir.def(b).kind {
                    for f in &s.functions {
                        inherited.entry(f.name.clone()).or_insert((b, f.span));
                    }
                }
                base = self.extends(b);
                steps += 1;
            }
            let DefKind::Service(s) = &self.ir.def(id).kind else {
                continue;
            };
            let mut clashes = Vec::new();
            for (fi, f) in s.functions.iter().enumerate() {
                if let Some(&(from, span)) = inherited.get(&f.name) {
                    clashes.push((fi, f.name.clone(), from, span));
                }
            }
            for (fi, name, from, span) in clashes {
                let own = match &self.asts[id.0 as usize].kind {
                    ast::DefinitionKind::Service { functions, .. } => functions[fi].name.span,
                    _ => continue,
                };
                let service = self.ir.def(id).name.clone();
                let base = self.ir.def(from).name.clone();
                self.error(
                    Diagnostic::error(format!(
                        "service `{service}` redefines `{name}`, which it inherits from `{base}`"
                    ))
                    .at(own, "defined again here")
                    .with_label(span, format!("inherited from `{base}`"))
                    .with_note("a method name is what a call carries on the wire, so one service cannot have two")
                    .with_help("rename the function"),
                );
            }
        }
    }

    fn extends(&self, id: DefId) -> Option<DefId> {
        match &self.ir.def(id).kind {
            DefKind::Service(s) => s.extends,
            _ => None,
        }
    }

    fn extends_span(&self, id: DefId) -> Span {
        match &self.asts[id.0 as usize].kind {
            ast::DefinitionKind::Service {
                extends: Some(e), ..
            } => e.span,
            _ => self.ir.def(id).name_span,
        }
    }

    // ---------------------------------------------------------- typedefs

    /// A typedef that refers to itself, directly or through containers and
    /// other typedefs, is an error; its target is then cut, so later passes
    /// can follow typedefs without looping.
    fn check_typedef_cycles(&mut self) {
        let n = self.ir.defs.len();
        // 0 = not visited, 1 = on the current path, 2 = done.
        let mut state = vec![0u8; n];
        for start in 0..n {
            if !matches!(self.ir.defs[start].kind, DefKind::Typedef(_)) || state[start] != 0 {
                continue;
            }
            let mut path = Vec::new();
            self.visit_typedef(DefId(start as u32), &mut state, &mut path);
        }
    }

    fn visit_typedef(&mut self, id: DefId, state: &mut [u8], path: &mut Vec<DefId>) {
        let i = id.0 as usize;
        match state[i] {
            2 => return,
            1 => {
                let at = path.iter().position(|&p| p == id).unwrap_or(0);
                let mut names: Vec<String> = path[at..]
                    .iter()
                    .map(|p| format!("`{}`", self.ir.def(*p).name))
                    .collect();
                names.push(format!("`{}`", self.ir.def(id).name));
                let last = *path.last().unwrap_or(&id);
                let span = match &self.asts[last.0 as usize].kind {
                    ast::DefinitionKind::Typedef { ty } => ty.span,
                    _ => self.ir.def(last).name_span,
                };
                self.error(
                    Diagnostic::error(format!("typedef `{}` refers to itself", self.ir.def(id).name))
                        .at(span, "closes the cycle")
                        .with_note(format!("the chain is {}", names.join(" -> ")))
                        .with_help("a typedef is another name for a type; use a struct to build a recursive type"),
                );
                self.ir.defs[last.0 as usize].kind =
                    DefKind::Typedef(Typedef { target: Type::Bool });
                return;
            }
            _ => {}
        }
        let DefKind::Typedef(t) = &self.ir.defs[i].kind else {
            return;
        };
        state[i] = 1;
        path.push(id);
        let mut refs = Vec::new();
        collect_defs(&t.target, &mut refs);
        for r in refs {
            if matches!(self.ir.def(r).kind, DefKind::Typedef(_)) {
                self.visit_typedef(r, state, path);
            }
        }
        path.pop();
        state[i] = 2;
    }

    // --------------------------------------------------------- constants

    /// Evaluates every constant and every default value against its type.
    fn evaluate_constants(&mut self) {
        for index in 0..self.asts.len() {
            if let ast::DefinitionKind::Const { .. } = self.asts[index].kind {
                self.constant(DefId(index as u32));
            }
        }
        for (loc, module, ty, expr) in std::mem::take(&mut self.defaults) {
            let value = self.value(module, expr, &ty);
            let field = match loc {
                FieldLoc::Struct(def, i) => match &mut self.ir.defs[def.0 as usize].kind {
                    DefKind::Struct(s) => &mut s.fields[i],
                    _ => continue,
                },
                FieldLoc::Param(def, f, i) | FieldLoc::Throws(def, f, i) => {
                    match &mut self.ir.defs[def.0 as usize].kind {
                        DefKind::Service(s) => {
                            let func = &mut s.functions[f];
                            if matches!(loc, FieldLoc::Param(..)) {
                                &mut func.params[i]
                            } else {
                                &mut func.throws[i]
                            }
                        }
                        _ => continue,
                    }
                }
            };
            field.default = value;
        }
    }
}

/// Every definition a type mentions, through containers.
fn collect_defs(ty: &Type, out: &mut Vec<DefId>) {
    match ty {
        Type::Def(id) => out.push(*id),
        Type::List(t) | Type::Set(t) => collect_defs(t, out),
        Type::Map(k, v) => {
            collect_defs(k, out);
            collect_defs(v, out);
        }
        _ => {}
    }
}

fn annotations(list: &[ast::Annotation]) -> Vec<Annotation> {
    list.iter()
        .map(|a| Annotation {
            key: a.key.name.clone(),
            value: a
                .value
                .as_ref()
                .map_or_else(|| "1".to_string(), |v| v.value.clone()),
        })
        .collect()
}

/// "a struct", "an enum", ... for messages.
fn describe_def(def: &ast::Definition) -> &'static str {
    match &def.kind {
        ast::DefinitionKind::Const { .. } => "a constant",
        ast::DefinitionKind::Typedef { .. } => "a typedef",
        ast::DefinitionKind::Enum { .. } => "an enum",
        ast::DefinitionKind::Struct { kind, .. } => match kind {
            StructKind::Struct => "a struct",
            StructKind::Union => "a union",
            StructKind::Exception => "an exception",
        },
        ast::DefinitionKind::Service { .. } => "a service",
    }
}
