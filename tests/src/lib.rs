//! Integration tests across the workspace; the tests live in `tests/`.
//!
//! Helpers shared by them are here.

use std::path::{Path, PathBuf};

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
