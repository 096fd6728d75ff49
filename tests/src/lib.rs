//! Integration tests across the workspace; the tests live in `tests/`.
//!
//! This library holds the code generated from every file of `idl/good/` (see
//! `build.rs`), and helpers the tests share.

use std::path::{Path, PathBuf};

/// Everything generated from `idl/good/`, one module per IDL module.
///
/// Generated code must compile without a single warning, whatever the IDL.
#[deny(warnings)]
pub mod gen {
    thriftgen_runtime::include_generated!();
}

/// The same, generated with `Builder::zero_copy_strings(true)`.
#[deny(warnings)]
pub mod gen_zero_copy {
    thriftgen_runtime::include_generated!("thriftgen_zero_copy");
}

/// The same, generated with `Builder::keep_unknown_fields(true)`.
pub mod gen_keep {
    thriftgen_runtime::include_generated!("thriftgen_keep");
}

/// The same, generated with `Builder::async_handlers(true)`: async handler
/// traits and `AsyncProcessor`s.
#[deny(warnings)]
pub mod gen_async {
    thriftgen_runtime::include_generated!("thriftgen_async");
}

/// The codec benchmark's message alone, generated with
/// `Builder::hasher("::foldhash::fast::RandomState")`.
#[deny(warnings)]
pub mod gen_fast_hash {
    thriftgen_runtime::include_generated!("thriftgen_fast_hash");
}

/// The codec benchmark's message alone, with zero-copy strings and the fast
/// hasher.
#[deny(warnings)]
pub mod gen_zero_copy_fast_hash {
    thriftgen_runtime::include_generated!("thriftgen_zero_copy_fast_hash");
}

/// Everything from `idl/good/` and `idl/serde/shapes.thrift`, generated
/// with `Builder::serde(true)`.
#[deny(warnings)]
pub mod gen_serde {
    thriftgen_runtime::include_generated!("thriftgen_serde");
}

/// `idl/serde/shapes.thrift`, `unions.thrift` and `basic_types.thrift` with
/// serde, zero-copy strings and unknown fields kept.
#[deny(warnings)]
pub mod gen_serde_zero_copy {
    thriftgen_runtime::include_generated!("thriftgen_serde_zero_copy");
}

pub mod fixture;

/// The workspace root, so that paths in snapshots are relative and stable.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace root")
        .to_path_buf()
}

/// `path` relative to the workspace root, for display.
pub fn relative(path: &Path) -> PathBuf {
    path.strip_prefix(workspace_root())
        .unwrap_or(path)
        .to_path_buf()
}
