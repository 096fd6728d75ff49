//! Accept/reject tables for the grammar, rule by rule. Each input must be
//! consumed whole by the rule to count as accepted.

use super::{Rule, ThriftParser};
use pest::Parser;

fn accepts(rule: Rule, input: &str) -> bool {
    match ThriftParser::parse(rule, input) {
        Ok(mut pairs) => pairs
            .next()
            .is_some_and(|p| p.as_span().end() == input.len()),
        Err(_) => false,
    }
}

fn table(rule: Rule, good: &[&str], bad: &[&str]) {
    for input in good {
        assert!(accepts(rule, input), "{rule:?} should accept {input:?}");
    }
    for input in bad {
        assert!(!accepts(rule, input), "{rule:?} should reject {input:?}");
    }
}

#[test]
fn identifiers() {
    table(
        Rule::identifier,
        &[
            "a",
            "_x",
            "Foo9",
            "shared.Type",
            "a.b.c",
            "a._b",
            "onewayvoid",
            "includes",
            "constX",
            "i32x",
            "structure",
            "i8.Foo",
        ],
        &[
            "9a",
            "a..b",
            "a.",
            ".a",
            "struct",
            "i32",
            "true",
            "oneway",
            "list",
            "senum",
            "php_namespace",
            "a-b",
            "",
        ],
    );
}

#[test]
fn field_names_may_be_keywords() {
    table(
        Rule::field_name,
        &[
            "name",
            "string",
            "i8",
            "list",
            "map",
            "set",
            "binary",
            "uuid",
            "required",
            "optional",
            "service",
            "enum",
            "void",
            "include",
            "namespace",
            "oneway",
            "async",
        ],
        &[
            "xsd_optional",
            "xsd_nillable",
            "xsd_attrs",
            "xsd_all",
            "cpp_type",
            "slist",
            "senum",
            "true",
            "false",
            "1x",
        ],
    );
}

#[test]
fn integers() {
    table(
        Rule::int_literal,
        &[
            "0",
            "42",
            "-7",
            "+3",
            "0x1F",
            "-0xff",
            "0xABCdef",
            "9876543210987654321",
        ],
        &["0x", "- 1", "1.5", "x1", "0X"],
    );
}

#[test]
fn doubles() {
    table(
        Rule::double_literal,
        &[
            "1.5", ".5", "-.5", "1e5", "1E5", "+1.5E+5", "-2.5e-3", "0.0", "10e0",
        ],
        &["1.", "1", "e5", ".e5", "1e", "1.5e+", "--1.0"],
    );
}

#[test]
fn string_literals() {
    table(
        Rule::literal,
        &[
            r#""""#,
            "''",
            r#""abc""#,
            r#""say \"hi\"""#,
            r"'it\'s'",
            r#""tab\tnl\n""#,
            r#""ünïcødé""#,
            r#""'single' inside""#,
            r#"'"double" inside'"#,
        ],
        &["\"open", "'open", "\"two\nlines\"", "abc"],
    );
}

#[test]
fn booleans() {
    table(
        Rule::bool_literal,
        &["true", "false"],
        &["True", "truex", "1"],
    );
}

#[test]
fn comments_and_doc_comments() {
    table(
        Rule::block_comment,
        &[
            "/* a */",
            "/**/",
            "/** doc */",
            "/* multi\nline */",
            "/* * */",
        ],
        &["/* open", "// line"],
    );
    table(
        Rule::line_comment,
        &["// a", "# b", "#!/usr/bin/thrift", "//"],
        &["/ a"],
    );
}

#[test]
fn types() {
    table(
        Rule::field_type,
        &[
            "i32",
            "byte",
            "i8",
            "uuid",
            "binary",
            "Foo",
            "shared.Foo",
            "list<i32>",
            "set<string>",
            "map<string, list<Foo>>",
            "list < map<i8,i16> >",
            "map cpp_type \"std::map\" <i32, i32>",
            "set cpp_type 'x' <i32>",
            "list cpp_type \"v\" <i32>",
            "list<i32> cpp_type \"v\"",
            "string (python.immutable = \"\")",
            "list<i32> (a, b = \"c\")",
            "slist",
        ],
        &[
            "void",
            "list",
            "list<>",
            "map<i32>",
            "list<i32",
            "set<i32, i32>",
            "struct",
            "i32<i32>",
        ],
    );
}

#[test]
fn annotations() {
    table(
        Rule::annotations,
        &[
            "()",
            "(a)",
            "(a = \"b\")",
            "(a = 'b', c; d)",
            "(cpp.type = \"x\", go.tag = 'json:\"a\"')",
        ],
        &["(a = b)", "(= \"b\")", "(a", "a = \"b\""],
    );
}

#[test]
fn constant_values() {
    table(
        Rule::const_list,
        &[
            "[]",
            "[1, 2, 3]",
            "[1; 2; 3,]",
            "[1 2 3]",
            "[[1], [2]]",
            "['a', \"b\"]",
            "[A.B, c]",
        ],
        &["[", "[1,,2]", "[1 : 2]"],
    );
    table(
        Rule::const_map,
        &[
            "{}",
            "{1: 2}",
            "{'a': [1], 'b': {}}",
            "{\"x\": 1, \"y\": 2,}",
            "{A.B: C.D; 1: 2}",
        ],
        &["{1}", "{1: }", "{: 2}", "{1: 2"],
    );
}

#[test]
fn fields() {
    table(
        Rule::field,
        &[
            "1: i32 a",
            "i32 a",
            "1: required string name",
            "2: optional list<i32> xs = [1, 2],",
            "-1: i32 neg;",
            "3: Tree & left",
            "4: string s = \"x\" xsd_optional xsd_nillable",
            "5: string s xsd_attrs { 1: i32 a }",
            "6: i32 a (go.tag = \"x\")",
            "7: string string",
            "8: list<i8> list",
            "9: required string required",
            "10: i32 x = 0x10",
        ],
        &[
            "1: void x",
            "1: i32",
            "1 i32 a",
            "9: required required",
            "1: i32 a = ",
            "1: xsd_optional a",
            "required 1: i32 a",
        ],
    );
}

#[test]
fn functions() {
    table(
        Rule::function,
        &[
            "void ping()",
            "oneway void log(1: string m)",
            "async void old()",
            "i32 add(1: i32 a, 2: i32 b)",
            "list<Foo> all() throws (1: Err e)",
            "void f() (a = \"b\");",
            "Foo get(1: i32 id,) throws (1: E e,),",
            "onewayvoid f()",
        ],
        &[
            "ping()",
            "void ()",
            "void f(",
            "void f() throws",
            "oneway oneway void f()",
        ],
    );
}

#[test]
fn definitions() {
    table(
        Rule::const_def,
        &[
            "const i32 X = 1",
            "const list<i32> L = [1];",
            "const Foo F = {\"a\": 1},",
        ],
        &["const X = 1", "const i32 X", "const i32 = 1"],
    );
    table(
        Rule::typedef_def,
        &[
            "typedef i32 Id",
            "typedef list<Foo> Foos (a);",
            "typedef shared.T T",
        ],
        &["typedef Id", "typedef i32"],
    );
    table(
        Rule::enum_def,
        &[
            "enum E {}",
            "enum E { A, B = 2, C = 0x10; D = -1 }",
            "enum E { A (x = \"y\") } (z)",
        ],
        &["enum { A }", "enum E { A = B }", "enum E { A = 1.5 }"],
    );
    table(
        Rule::senum_def,
        &["senum S { \"a\", \"b\" }"],
        &["senum S { a }"],
    );
    table(
        Rule::struct_def,
        &[
            "struct S {}",
            "struct S xsd_all { 1: i32 a }",
            "struct S { 1: i32 a; 2: i32 b, } (x)",
            "struct S {};",
        ],
        &["struct {}", "struct S { 1: i32 a", "struct S ()"],
    );
    table(
        Rule::union_def,
        &["union U { 1: i32 a 2: string b }"],
        &["union U"],
    );
    table(
        Rule::exception_def,
        &["exception E { 1: string message }"],
        &["exception E xsd_all {}"],
    );
    table(
        Rule::service_def,
        &[
            "service S {}",
            "service S extends shared.Base { void ping() }",
            "service S { void a(), i32 b(); }",
        ],
        &["service S extends {}", "service S { 1: i32 a }"],
    );
}

#[test]
fn headers() {
    table(
        Rule::include,
        &[
            "include \"a.thrift\"",
            "include 'a.thrift';",
            "include \"a/b.thrift\",",
        ],
        &["include a.thrift", "include"],
    );
    table(
        Rule::cpp_include,
        &["cpp_include \"<vector>\""],
        &["cpp_include vector"],
    );
    table(
        Rule::namespace,
        &[
            "namespace rs my.module",
            "namespace * all",
            "namespace py.twisted x",
            "namespace java com.example (a = \"b\")",
        ],
        &["namespace rs", "namespace \"rs\" x", "namespace"],
    );
    table(
        Rule::legacy_namespace,
        &["php_namespace Foo", "java_package com.x"],
        &["php_namespace"],
    );
}

#[test]
fn documents() {
    table(
        Rule::document,
        &[
            "",
            "   \n",
            "// only a comment\n",
            "\u{FEFF}struct S {}",
            "#!/usr/bin/thrift\nstruct S {}",
            "struct S {\r\n  1: i32 a\r\n}\r\n",
            "include \"a.thrift\"\nnamespace rs a\nconst i32 X = 1\n",
            "struct S {} include \"late.thrift\"",
            "/** doc */ struct S { /** f */ 1: i32 a }",
            "struct A { 1: i32 a } struct B { 1: A a }",
        ],
        &[
            "struct S {",
            "struct S {} }",
            "/* unterminated",
            "\"str\"",
            "struct S { 1: i32 a = \"x }",
            "@",
        ],
    );
}

/// The portability warnings the AST builder gives, as `line:col message`.
fn not_portable(text: &str) -> Vec<String> {
    let file = crate::source::SourceFile::new("t".into(), "t".into(), text.to_string());
    let (doc, diags) = super::parse(crate::source::FileId(0), text);
    assert!(doc.is_some(), "{text:?} should parse: {diags:?}");
    diags
        .iter()
        .filter(|d| d.is_not_portable())
        .map(|d| {
            let (line, col) = file.line_col(d.primary.as_ref().unwrap().span.start);
            format!("{line}:{col} {}", d.message)
        })
        .collect()
}

#[test]
fn what_apache_refuses_parses_with_a_portability_warning() {
    assert_eq!(
        not_portable("include \"a.thrift\";\ncpp_include \"x\",\nnamespace py a (k = \"v\");\n"),
        [
            "1:19 `;` after the `include` line",
            "2:16 `,` after the `cpp_include` line",
            "3:25 `;` after the `namespace` line",
        ]
    );
    assert_eq!(
        not_portable(
            "struct A {};\nunion U {} (x);\nexception E {},\nenum C { A };\nservice S {};\n"
        ),
        [
            "1:12 `;` after struct `A`",
            "2:15 `;` after union `U`",
            "3:15 `,` after exception `E`",
            "4:13 `;` after enum `C`",
            "5:13 `;` after service `S`",
        ]
    );
    assert_eq!(
        not_portable("struct A { 1: string string, 2: uuid id, 3: i32 uuid }\nservice S { void f(1: i32 list) }\n"),
        [
            "1:22 field name `string` is a keyword",
            "1:33 the `uuid` type is not portable",
            "2:27 field name `list` is a keyword",
        ]
    );
    // What Apache accepts: separators after constants, typedefs, fields,
    // enum values, functions and annotations.
    assert!(not_portable(
        "const i32 A = 1;\ntypedef i32 T,\nenum E { X = 1; Y, }\nstruct S { 1: i32 a; 2: i32 b (k; l), }\nservice V { void f(); void g(), }\n"
    )
    .is_empty());
}
