//! Constant values: each is converted to the type it is declared with, and
//! references to other constants (also ones defined later) and to enum values
//! are resolved. A constant that depends on itself is an error.

use super::names::{Found, Table};
use super::{Checker, ConstState};
use crate::diag::Diagnostic;
use crate::ir::*;
use crate::source::FileId;
use crate::syntax::ast::{self, ConstExprKind};

impl Checker<'_> {
    /// The value of constant `id`, evaluated once.
    pub(super) fn constant(&mut self, id: DefId) -> Option<ConstValue> {
        let i = id.0 as usize;
        match &self.const_state[i] {
            ConstState::Done(v) => return v.clone(),
            ConstState::Busy => {
                let def = &self.ir.defs[i];
                let diag = Diagnostic::error(format!("constant `{}` depends on itself", def.name))
                    .at(def.name_span, "its value refers back to it")
                    .with_help("give one of the constants in the cycle a literal value");
                self.const_state[i] = ConstState::Done(None);
                self.error(diag);
                return None;
            }
            ConstState::Todo => {}
        }
        self.const_state[i] = ConstState::Busy;
        let ast::DefinitionKind::Const { value, .. } = &self.asts[i].kind else {
            return None;
        };
        let (module, ty) = match &self.ir.defs[i].kind {
            DefKind::Const(c) => (self.ir.defs[i].module, c.ty.clone()),
            _ => return None,
        };
        let result = self.value(module, value, &ty);
        if let (Some(v), DefKind::Const(c)) = (&result, &mut self.ir.defs[i].kind) {
            c.value = v.clone();
        }
        // A cycle through this constant has already marked it done.
        if let ConstState::Busy = self.const_state[i] {
            self.const_state[i] = ConstState::Done(result.clone());
        }
        result
    }

    /// `expr` converted to `ty`, or `None` after reporting why it cannot be.
    pub(super) fn value(
        &mut self,
        module: FileId,
        expr: &ast::ConstExpr,
        ty: &Type,
    ) -> Option<ConstValue> {
        let target = self.ir.resolve(ty).clone();
        let mismatch = |this: &Self, found: String| {
            let expected = this.ir.type_name(ty, module);
            let mut d = Diagnostic::error(format!("expected `{expected}`, found {found}"))
                .at(expr.span, format!("expected `{expected}`"));
            if target == Type::Bool {
                d = d.with_help("use `true` or `false`");
            }
            d
        };
        let value = match (&expr.kind, &target) {
            (ConstExprKind::Ref(ident), _) => return self.reference(module, ident, ty),
            (ConstExprKind::Bool(b), Type::Bool) => ConstValue::Bool(*b),
            // Apache reads `true` and `false` as the integers 1 and 0.
            (ConstExprKind::Int(n @ (0 | 1)), Type::Bool) => ConstValue::Bool(*n == 1),
            (ConstExprKind::Bool(b), t) if is_integer(t) => ConstValue::Int(i64::from(*b)),
            (ConstExprKind::Int(n), t) if is_integer(t) => {
                return self.integer(*n, t, module, ty, expr.span);
            }
            (ConstExprKind::Int(n), Type::Double) => ConstValue::Double(*n as f64),
            (ConstExprKind::Double(d), Type::Double) => ConstValue::Double(*d),
            (ConstExprKind::String(s), Type::String | Type::Binary) => {
                ConstValue::String(s.clone())
            }
            (ConstExprKind::String(s), Type::Uuid) => match parse_uuid(s) {
                Some(bytes) => ConstValue::Uuid(bytes),
                None => {
                    self.error(
                        Diagnostic::error(format!("`{s}` is not a valid uuid"))
                            .at(expr.span, "invalid uuid")
                            .with_help("write 32 hex digits as 8-4-4-4-12, e.g. \"00112233-4455-6677-8899-aabbccddeeff\""),
                    );
                    return None;
                }
            },
            (ConstExprKind::Int(n), Type::Def(id)) if self.is_enum(*id) => {
                return self.enum_number(*id, *n, expr.span);
            }
            (ConstExprKind::List(items), Type::List(elem) | Type::Set(elem)) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(self.value(module, item, elem));
                }
                ConstValue::List(out.into_iter().collect::<Option<_>>()?)
            }
            (ConstExprKind::Map(entries), Type::Map(k, v)) => {
                let mut out = Vec::with_capacity(entries.len());
                for (key, value) in entries {
                    let key = self.value(module, key, k);
                    let value = self.value(module, value, v);
                    out.push(key.zip(value));
                }
                ConstValue::Map(out.into_iter().collect::<Option<_>>()?)
            }
            // Apache reads `{}` and `[]` as an empty container of any kind.
            (ConstExprKind::Map(e), Type::List(_) | Type::Set(_)) if e.is_empty() => {
                ConstValue::List(Vec::new())
            }
            (ConstExprKind::List(e), Type::Map(..)) if e.is_empty() => ConstValue::Map(Vec::new()),
            (ConstExprKind::Map(entries), Type::Def(id)) if self.is_struct(*id) => {
                return self.struct_literal(module, *id, entries);
            }
            (kind, _) => {
                let diag = mismatch(self, describe(kind));
                self.error(diag);
                return None;
            }
        };
        Some(value)
    }

    fn integer(
        &mut self,
        n: i64,
        target: &Type,
        module: FileId,
        ty: &Type,
        span: crate::source::Span,
    ) -> Option<ConstValue> {
        let (min, max) = match target {
            Type::I8 => (i64::from(i8::MIN), i64::from(i8::MAX)),
            Type::I16 => (i64::from(i16::MIN), i64::from(i16::MAX)),
            Type::I32 => (i64::from(i32::MIN), i64::from(i32::MAX)),
            _ => (i64::MIN, i64::MAX),
        };
        if (min..=max).contains(&n) {
            return Some(ConstValue::Int(n));
        }
        let name = self.ir.type_name(ty, module);
        self.error(
            Diagnostic::error(format!("`{n}` does not fit in `{name}`"))
                .at(span, "out of range")
                .with_note(format!(
                    "`{}` holds {min} to {max}",
                    self.ir.type_name(target, module)
                )),
        );
        None
    }

    fn enum_number(&mut self, id: DefId, n: i64, span: crate::source::Span) -> Option<ConstValue> {
        let DefKind::Enum(e) = &self.ir.def(id).kind else {
            return None;
        };
        if let Some(v) = e.values.iter().find(|v| i64::from(v.value) == n) {
            return Some(ConstValue::Enum {
                def: id,
                name: v.name.clone(),
                value: v.value,
            });
        }
        let name = self.ir.def(id).name.clone();
        let values = enum_value_list(e);
        self.error(
            Diagnostic::error(format!("{n} is not a value of enum `{name}`"))
                .at(span, "no such value")
                .with_note(format!("`{name}` has {values}")),
        );
        None
    }

    /// A name used as a value: a constant, an enum value (`Enum.VALUE`,
    /// `file.Enum.VALUE`, or `VALUE` where an enum is expected).
    fn reference(&mut self, module: FileId, ident: &ast::Ident, ty: &Type) -> Option<ConstValue> {
        let target = self.ir.resolve(ty).clone();
        let name = ident.name.as_str();
        match self.find(module, name, Table::Consts) {
            Found::Def(id) => {
                self.warn_const_use(module, id, ident, ty, &target);
                let value = self.constant(id)?;
                let DefKind::Const(c) = &self.ir.def(id).kind else {
                    return None;
                };
                let from = c.ty.clone();
                return self.convert(module, value, &from, ty, ident);
            }
            Found::Broken => return None,
            Found::MissingInclude(include) => {
                let diag = self.missing_include_error(ident, include);
                self.error(diag);
                return None;
            }
            Found::NoPrefix(_) | Found::Missing => {}
        }
        // Where an enum is expected, Apache takes the value by its last name
        // segment, whatever the prefix says (`MyEnum1.X` for a `MyEnum2`).
        if let Type::Def(expected) = target {
            if let Some(found) = self.value_in_enum(module, expected, ident) {
                return found;
            }
        }
        // `Enum.VALUE` or `file.Enum.VALUE`.
        if let Some((head, value_name)) = name.rsplit_once('.') {
            match self.find(module, head, Table::Types) {
                Found::Def(id) if self.is_enum(id) => {
                    self.warn_forward(module, id, ident, "an enum whose value is used");
                    let value = self.enum_value(id, value_name, ident)?;
                    let from = Type::Def(id);
                    return self.convert(module, value, &from, ty, ident);
                }
                Found::Broken => return None,
                Found::NoPrefix(prefix) => {
                    let diag = self.no_prefix(module, &prefix, ident);
                    self.error(diag);
                    return None;
                }
                Found::MissingInclude(include) => {
                    let diag = self.missing_include_error(ident, include);
                    self.error(diag);
                    return None;
                }
                _ => {}
            }
        }
        let mut diag =
            Diagnostic::error(format!("cannot find constant `{name}`")).at(ident.span, "not found");
        if let Some(s) = self.suggest(module, name, Table::Consts) {
            diag = diag.with_help(format!("a constant with a similar name exists: `{s}`"));
        }
        self.error(diag);
        None
    }

    /// The portability warnings for constant `id` used as a value where
    /// `ty` (as written; `target` with typedefs followed) is expected.
    fn warn_const_use(
        &mut self,
        module: FileId,
        id: DefId,
        ident: &ast::Ident,
        ty: &Type,
        target: &Type,
    ) {
        // Apache resolves a constant reference where it is written.
        if self.is_forward(module, id, ident.span) {
            let def_span = self.ir.def(id).name_span;
            self.diags.push(
                Diagnostic::not_portable(
                    format!("constant `{}` is used before it is defined", ident.name),
                    "Apache's compiler needs a constant to be defined before it is used",
                )
                .at(ident.span, "defined further down")
                .with_label(def_span, "defined here")
                .with_help("move the constant above its first use"),
            );
        }
        // Apache checks the value against the type as written: a struct
        // type (not a typedef of one) takes a `{...}` literal only.
        if let Type::Def(expected) = ty {
            if self.is_struct(*expected) {
                let kind = match &self.ir.def(*expected).kind {
                    DefKind::Struct(s) => s.kind.keyword(),
                    _ => "struct",
                };
                self.diags.push(
                    Diagnostic::not_portable(
                        format!("constant `{}` is used as a {kind} value", ident.name),
                        "Apache's compiler accepts only a `{...}` literal where a struct, union or exception is expected",
                    )
                    .at(ident.span, format!("a {kind} constant"))
                    .with_help("write the value out as a literal"),
                );
            }
        }
        if let (Type::Def(expected), false) = (target, ident.name.contains('.')) {
            if self.is_enum(*expected) {
                let enum_name = self.ir.type_name(target, module);
                self.diags.push(
                    Diagnostic::not_portable(
                        format!("constant `{}` is used as an enum value", ident.name),
                        "Apache's compiler takes only a qualified `Enum.VALUE` where an enum is expected",
                    )
                    .at(ident.span, format!("a constant, not `{enum_name}.VALUE`"))
                    .with_help(format!("write the value as `{enum_name}.VALUE`")),
                );
            }
        }
    }

    /// `Enum.VALUE` or `file.Enum.VALUE` where enum `expected` is expected:
    /// `None` when `expected` has no value of that last name, else the value
    /// (or `Some(None)` after reporting a bare `VALUE`, which Apache refuses).
    fn value_in_enum(
        &mut self,
        module: FileId,
        expected: DefId,
        ident: &ast::Ident,
    ) -> Option<Option<ConstValue>> {
        let DefKind::Enum(e) = &self.ir.def(expected).kind else {
            return None;
        };
        let (head, last) = match ident.name.rsplit_once('.') {
            Some((h, l)) => (Some(h), l),
            None => (None, ident.name.as_str()),
        };
        let v = e.values.iter().find(|v| v.name == last)?;
        let value = ConstValue::Enum {
            def: expected,
            name: v.name.clone(),
            value: v.value,
        };
        let enum_name = self.ir.type_name(&Type::Def(expected), module);
        let Some(head) = head else {
            self.diags.push(
                Diagnostic::error(format!("enum value `{last}` must be qualified"))
                    .at(ident.span, format!("write `{enum_name}.{last}`"))
                    .with_note("Apache's compiler refuses unqualified enum values too"),
            );
            return Some(None);
        };
        let names_expected =
            matches!(self.find(module, head, Table::Types), Found::Def(id) if id == expected);
        // `file.VALUE` for an enum of the included `file` is Apache's too.
        let enum_module = self.ir.def(expected).module;
        let names_file = self.includes[module.0 as usize].get(head) == Some(&enum_module);
        if !names_expected && !names_file {
            self.diags.push(
                Diagnostic::warning(format!("`{}` is read as `{enum_name}.{last}`", ident.name))
                    .at(ident.span, format!("`{head}` is not `{enum_name}`"))
                    .with_note("Apache's compiler takes an enum value by its name alone")
                    .with_help(format!("write `{enum_name}.{last}`")),
            );
        }
        Some(Some(value))
    }

    fn enum_value(
        &mut self,
        id: DefId,
        value_name: &str,
        ident: &ast::Ident,
    ) -> Option<ConstValue> {
        let def = self.ir.def(id);
        let DefKind::Enum(e) = &def.kind else {
            return None;
        };
        if let Some(v) = e.values.iter().find(|v| v.name == value_name) {
            return Some(ConstValue::Enum {
                def: id,
                name: v.name.clone(),
                value: v.value,
            });
        }
        let mut diag =
            Diagnostic::error(format!("enum `{}` has no value `{value_name}`", def.name))
                .at(ident.span, "no such value")
                .with_label(def.name_span, format!("`{}` is defined here", def.name))
                .with_note(format!("`{}` has {}", def.name, enum_value_list(e)));
        let names = e.values.iter().map(|v| v.name.clone());
        if let Some(s) = super::names::closest(value_name, names) {
            diag = diag.with_help(format!("a value with a similar name exists: `{s}`"));
        }
        self.error(diag);
        None
    }

    /// A constant's value, declared as `from`, used where `to` is expected.
    fn convert(
        &mut self,
        module: FileId,
        value: ConstValue,
        from: &Type,
        to: &Type,
        ident: &ast::Ident,
    ) -> Option<ConstValue> {
        let (rf, rt) = (self.ir.resolve(from).clone(), self.ir.resolve(to).clone());
        if self.same_type(&rf, &rt) {
            return Some(value);
        }
        match (value, &rt) {
            (ConstValue::Int(n), t) if is_integer(t) => self.integer(n, t, module, to, ident.span),
            // Enum values are i32 constants in Apache's compiler.
            (ConstValue::Enum { value, .. }, t) if is_integer(t) => {
                self.integer(i64::from(value), t, module, to, ident.span)
            }
            (ConstValue::Int(n), Type::Double) => Some(ConstValue::Double(n as f64)),
            (ConstValue::String(s), Type::String | Type::Binary) => Some(ConstValue::String(s)),
            _ => {
                let expected = self.ir.type_name(to, module);
                let found = self.ir.type_name(from, module);
                self.error(
                    Diagnostic::error(format!(
                        "expected `{expected}`, found `{}` of type `{found}`",
                        ident.name
                    ))
                    .at(ident.span, format!("expected `{expected}`")),
                );
                None
            }
        }
    }

    /// Type equality with typedefs followed at every level.
    fn same_type(&self, a: &Type, b: &Type) -> bool {
        let (a, b) = (self.ir.resolve(a), self.ir.resolve(b));
        match (a, b) {
            (Type::List(x), Type::List(y)) | (Type::Set(x), Type::Set(y)) => self.same_type(x, y),
            (Type::Map(k1, v1), Type::Map(k2, v2)) => {
                self.same_type(k1, k2) && self.same_type(v1, v2)
            }
            _ => a == b,
        }
    }

    fn struct_literal(
        &mut self,
        module: FileId,
        id: DefId,
        entries: &[(ast::ConstExpr, ast::ConstExpr)],
    ) -> Option<ConstValue> {
        let DefKind::Struct(s) = &self.ir.def(id).kind else {
            return None;
        };
        let fields: Vec<(String, i16, Type)> = s
            .fields
            .iter()
            .map(|f| (f.name.clone(), f.id, f.ty.clone()))
            .collect();
        let struct_name = self.ir.def(id).name.clone();
        let name_span = self.ir.def(id).name_span;
        let mut out = Vec::new();
        let mut ok = true;
        for (key, value) in entries {
            let ConstExprKind::String(field_name) = &key.kind else {
                self.error(
                    Diagnostic::error(format!(
                        "expected a field name of `{struct_name}`, found {}",
                        describe(&key.kind)
                    ))
                    .at(key.span, "not a string")
                    .with_help("name fields as strings: `{\"name\": value}`"),
                );
                ok = false;
                continue;
            };
            let Some((_, field_id, field_ty)) = fields.iter().find(|(n, _, _)| n == field_name)
            else {
                let known: Vec<String> = fields.iter().map(|(n, _, _)| format!("`{n}`")).collect();
                let mut diag =
                    Diagnostic::error(format!("`{struct_name}` has no field `{field_name}`"))
                        .at(key.span, "unknown field")
                        .with_label(name_span, format!("`{struct_name}` is defined here"));
                if !known.is_empty() {
                    diag = diag.with_note(format!("its fields are {}", known.join(", ")));
                }
                let names = fields.iter().map(|(n, _, _)| n.clone());
                if let Some(s) = super::names::closest(field_name, names) {
                    diag = diag.with_help(format!("a field with a similar name exists: `{s}`"));
                }
                self.error(diag);
                ok = false;
                continue;
            };
            let (field_id, field_ty) = (*field_id, field_ty.clone());
            match self.value(module, value, &field_ty) {
                Some(v) => out.push((field_id, v)),
                None => ok = false,
            }
        }
        ok.then_some(ConstValue::Struct {
            def: id,
            fields: out,
        })
    }

    fn is_enum(&self, id: DefId) -> bool {
        matches!(self.ir.def(id).kind, DefKind::Enum(_))
    }

    fn is_struct(&self, id: DefId) -> bool {
        matches!(self.ir.def(id).kind, DefKind::Struct(_))
    }
}

fn is_integer(t: &Type) -> bool {
    matches!(t, Type::I8 | Type::I16 | Type::I32 | Type::I64)
}

/// What a value looks like, for "expected `i32`, found ...".
fn describe(kind: &ConstExprKind) -> String {
    match kind {
        ConstExprKind::Int(n) => format!("integer `{n}`"),
        ConstExprKind::Double(d) => format!("floating-point number `{d}`"),
        ConstExprKind::String(s) => format!("string `{s:?}`"),
        ConstExprKind::Bool(b) => format!("`{b}`"),
        ConstExprKind::Ref(r) => format!("`{}`", r.name),
        ConstExprKind::List(_) => "a list".to_string(),
        ConstExprKind::Map(_) => "a map".to_string(),
    }
}

fn enum_value_list(e: &Enum) -> String {
    if e.values.is_empty() {
        return "no values".to_string();
    }
    let names: Vec<String> = e
        .values
        .iter()
        .take(8)
        .map(|v| format!("`{}` ({})", v.name, v.value))
        .collect();
    let more = if e.values.len() > 8 { ", ..." } else { "" };
    format!("{}{more}", names.join(", "))
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, optionally in braces, as Apache
/// accepts it.
fn parse_uuid(s: &str) -> Option<[u8; 16]> {
    let s = s
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or(s);
    let groups: Vec<&str> = s.split('-').collect();
    let lens: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    if lens != [8, 4, 4, 4, 12] {
        return None;
    }
    let hex: String = groups.concat();
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::parse_uuid;

    #[test]
    fn uuids() {
        let u = parse_uuid("00112233-4455-6677-8899-aabbccddeeff").unwrap();
        assert_eq!(u[0], 0x00);
        assert_eq!(u[15], 0xff);
        assert!(parse_uuid("{00112233-4455-6677-8899-AABBCCDDEEFF}").is_some());
        assert!(parse_uuid("not-a-uuid").is_none());
        assert!(parse_uuid("0011223-34455-6677-8899-aabbccddeeff").is_none());
        assert!(parse_uuid("0011223g-4455-6677-8899-aabbccddeeff").is_none());
    }
}
