//! What `Options::serde` adds to the generated code, on one small IDL: the
//! derives, the `#[serde]` attributes and the enum impls; and that without
//! it nothing of serde is emitted.
//!
//! Update the snapshot with `cargo insta review` (or
//! `INSTA_UPDATE=always cargo test -p thriftgen --test serde`).

use thriftgen::codegen::{generate, GeneratedFile, Options};

const IDL: &str = r#"
typedef binary Blob

enum Kind {
  PLAIN = 1
  fancyKind = 2
}

struct Item {
  1: required i64 itemId
  2: optional string note
  3: Kind kind = Kind.PLAIN
  4: optional list<Blob> blobs
  5: required uuid key
}

union Choice {
  1: binary raw
  2: Item item
}
"#;

fn generated(serde: bool) -> Vec<GeneratedFile> {
    let checked = thriftgen::analyze_source("shop.thrift", IDL, &[] as &[&str])
        .into_result()
        .expect("valid IDL");
    let options = Options {
        serde,
        ..Options::default()
    };
    generate(&checked.ir, &checked.sources, &options).expect("generates")
}

fn file<'a>(files: &'a [GeneratedFile], name: &str) -> &'a str {
    &files
        .iter()
        .find(|f| f.name == name)
        .expect("generated file")
        .contents
}

#[test]
fn serde_attributes_are_emitted() {
    let files = generated(true);
    insta::assert_snapshot!(file(&files, "shop.rs"));
    assert!(file(&files, "mod.rs").contains("::thriftgen_runtime::__require_serde_feature!();"));
}

#[test]
fn without_serde_nothing_of_it_is_emitted() {
    for f in generated(false) {
        assert!(!f.contents.contains("serde"), "{}", f.contents);
    }
}
