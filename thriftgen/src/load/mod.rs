//! Loading: reads the files named by the user, parses them, and follows their
//! includes. Every file is read and parsed once, however often it is included.
//!
//! An include is looked up beside the including file first, then in each
//! include directory in order, as Apache's compiler does, and last in the
//! directory of the top-level file being compiled (which some trees rely on,
//! and which Apache's compiler does not search: a portability warning).
//!
//! An include that is not found is a warning, as in Apache's compiler; using
//! a name from it is an error, reported where the name is used.

use crate::diag::Diagnostic;
use crate::source::{FileId, SourceFile, SourceMap, Span};
use crate::syntax::{self, ast};
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

/// One parsed file and where its includes led.
#[derive(Debug)]
pub struct LoadedFile {
    /// The file.
    pub id: FileId,
    /// Its syntax tree; `None` when a syntax error stopped the parse.
    pub ast: Option<ast::Document>,
    /// Its includes that were found, in order.
    pub includes: Vec<Include>,
    /// Its includes that were not found (a warning until a name from one is
    /// used), in order.
    pub missing: Vec<Include>,
}

/// An `include` that was found (or, in [`LoadedFile::missing`], one that
/// was not).
#[derive(Debug, Clone)]
pub struct Include {
    /// The included file; for a missing include, the including file.
    pub file: FileId,
    /// The prefix its definitions are named with: the file name without
    /// `.thrift` (`include "a/shared.thrift"` gives `shared.Type`).
    pub prefix: String,
    /// The `include` line's path literal.
    pub span: Span,
}

/// Everything loaded in one run.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Every file read.
    pub sources: SourceMap,
    /// The parsed files, indexed by [`FileId`].
    pub files: Vec<LoadedFile>,
    /// The files the user named, in order.
    pub roots: Vec<FileId>,
}

impl Loaded {
    /// The loaded file with id `id`.
    pub fn file(&self, id: FileId) -> &LoadedFile {
        &self.files[id.0 as usize]
    }
}

/// Loads `roots` and everything they include, reporting problems to `diags`.
pub fn load(roots: &[PathBuf], include_dirs: &[PathBuf], diags: &mut Vec<Diagnostic>) -> Loaded {
    let mut loader = Loader::new(include_dirs, diags);
    for root in roots {
        loader.root_dir = root.parent().map(Path::to_path_buf).unwrap_or_default();
        match loader.read(root, display_name(root)) {
            Ok(id) => {
                if !loader.loaded.roots.contains(&id) {
                    loader.loaded.roots.push(id);
                }
            }
            Err(e) => loader.diags.push(Diagnostic::error(format!(
                "cannot read `{}`: {e}",
                root.display()
            ))),
        }
    }
    loader.loaded
}

/// Loads one file given as text (named `name`, as if read from that path)
/// and what it includes, which is read from disk.
pub fn load_source(
    name: &str,
    text: &str,
    include_dirs: &[PathBuf],
    diags: &mut Vec<Diagnostic>,
) -> Loaded {
    let mut loader = Loader::new(include_dirs, diags);
    let path = PathBuf::from(name);
    loader.root_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let id = loader.add(&path, path.clone(), name.to_string(), text.to_string());
    loader.loaded.roots.push(id);
    loader.loaded
}

struct Loader<'a> {
    include_dirs: &'a [PathBuf],
    /// The directory of the top-level file being loaded, searched last.
    root_dir: PathBuf,
    loaded: Loaded,
    /// Canonical path to file, so a file reached twice is loaded once.
    by_path: HashMap<PathBuf, FileId>,
    /// The chain of includes being followed, to find cycles.
    stack: Vec<FileId>,
    diags: &'a mut Vec<Diagnostic>,
}

impl<'a> Loader<'a> {
    fn new(include_dirs: &'a [PathBuf], diags: &'a mut Vec<Diagnostic>) -> Loader<'a> {
        Loader {
            include_dirs,
            root_dir: PathBuf::new(),
            loaded: Loaded::default(),
            by_path: HashMap::new(),
            stack: Vec::new(),
            diags,
        }
    }

    /// Reads, parses and follows the includes of `path`, unless it is loaded.
    fn read(&mut self, path: &Path, name: String) -> std::io::Result<FileId> {
        let canonical = path.canonicalize()?;
        if let Some(&id) = self.by_path.get(&canonical) {
            return Ok(id);
        }
        let bytes = std::fs::read(&canonical)?;
        let (text, lossy) = match String::from_utf8(bytes) {
            Ok(text) => (text, false),
            Err(e) => (String::from_utf8_lossy(e.as_bytes()).into_owned(), true),
        };
        if lossy {
            self.diags.push(
                Diagnostic::warning(format!("`{name}` is not valid UTF-8"))
                    .with_note("invalid bytes were replaced with U+FFFD"),
            );
        }
        Ok(self.add(path, canonical, name, text))
    }

    /// Parses a file already read and follows its includes (relative to
    /// `path`'s directory).
    fn add(&mut self, path: &Path, canonical: PathBuf, name: String, text: String) -> FileId {
        let id = self
            .loaded
            .sources
            .add(SourceFile::new(canonical.clone(), name, text));
        self.by_path.insert(canonical, id);
        let (ast, parse_diags) = syntax::parse(id, &self.loaded.sources.file(id).text);
        self.diags.extend(parse_diags);
        let includes: Vec<ast::StrLit> = ast
            .iter()
            .flat_map(|doc| &doc.headers)
            .filter_map(|h| match h {
                ast::Header::Include(lit) => Some(lit.clone()),
                _ => None,
            })
            .collect();
        self.loaded.files.push(LoadedFile {
            id,
            ast,
            includes: Vec::new(),
            missing: Vec::new(),
        });
        self.stack.push(id);
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut found = Vec::new();
        let mut missing = Vec::new();
        for lit in includes {
            match self.include(&dir, &lit) {
                Lookup::Found(include) => found.push(include),
                Lookup::Missing => missing.push(Include {
                    file: id,
                    prefix: include_prefix(&lit.value),
                    span: lit.span,
                }),
                Lookup::Failed => {}
            }
        }
        self.stack.pop();
        let file = &mut self.loaded.files[id.0 as usize];
        file.includes = found;
        file.missing = missing;
        id
    }

    /// The directories an include of `lit` is looked up in, in order, each
    /// with whether Apache's compiler searches it too.
    fn search_path(&self, dir: &Path) -> Vec<(PathBuf, bool)> {
        let mut dirs: Vec<(PathBuf, bool)> = std::iter::once(dir.to_path_buf())
            .chain(self.include_dirs.iter().cloned())
            .map(|d| (d, true))
            .collect();
        let same = |a: &Path, b: &Path| {
            a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
        };
        if !dirs.iter().any(|(d, _)| same(d, &self.root_dir)) {
            dirs.push((self.root_dir.clone(), false));
        }
        dirs
    }

    fn include(&mut self, dir: &Path, lit: &ast::StrLit) -> Lookup {
        let absolute = Path::new(&lit.value).is_absolute();
        let search = if absolute {
            vec![(PathBuf::new(), true)]
        } else {
            self.search_path(dir)
        };
        let found = search
            .iter()
            .map(|(d, apache)| (d.join(&lit.value), *apache))
            .find(|(p, _)| p.is_file());
        let Some((path, apache_finds_it)) = found else {
            // As Apache's compiler: a warning, an error only once a name
            // from the file is used (reported there).
            let mut diag =
                Diagnostic::warning(format!("cannot find included file `{}`", lit.value))
                    .at(lit.span, "not found");
            diag = if absolute {
                diag.with_note(format!("`{}` does not exist", lit.value))
            } else {
                let searched: Vec<String> = search
                    .iter()
                    .map(|(d, _)| format!("`{}`", display_dir(d)))
                    .collect();
                diag.with_note(format!("searched {}", searched.join(", ")))
                    .with_help("add the directory that holds it with `-I DIR`")
            };
            self.diags.push(diag);
            return Lookup::Missing;
        };
        if !apache_finds_it {
            self.diags.push(
                Diagnostic::not_portable(
                    format!(
                        "`{}` is found only in the directory of the top-level file",
                        lit.value
                    ),
                    "Apache's compiler looks for an include beside the including file and in the `-I` directories only",
                )
                .at(lit.span, format!("found in `{}`", display_dir(&self.root_dir)))
                .with_help(format!(
                    "pass `-I {}`, or write the path relative to the including file",
                    display_dir(&self.root_dir)
                )),
            );
        }
        let path = path.as_path();
        let prefix = include_prefix(&lit.value);
        let Ok(canonical) = path.canonicalize() else {
            return Lookup::Missing;
        };
        if let Some(&id) = self.by_path.get(&canonical) {
            if let Some(at) = self.stack.iter().position(|&f| f == id) {
                let mut chain: Vec<String> = self.stack[at..]
                    .iter()
                    .map(|&f| format!("`{}`", self.loaded.sources.file(f).name))
                    .collect();
                chain.push(format!("`{}`", self.loaded.sources.file(id).name));
                self.diags.push(
                    Diagnostic::error("include cycle")
                        .at(lit.span, "this include closes the cycle")
                        .with_note(format!("the chain is {}", chain.join(" -> ")))
                        .with_help("move what both files need into a third file that both include"),
                );
                return Lookup::Failed;
            }
        }
        match self.read(path, display_name(path)) {
            Ok(file) => Lookup::Found(Include {
                file,
                prefix,
                span: lit.span,
            }),
            Err(e) => {
                self.diags.push(
                    Diagnostic::error(format!("cannot read included file `{}`: {e}", lit.value))
                        .at(lit.span, "included here"),
                );
                Lookup::Failed
            }
        }
    }
}

/// Where the lookup of one include ended.
enum Lookup {
    Found(Include),
    /// Not found: a warning so far.
    Missing,
    /// Found but unusable (a cycle, unreadable): an error was reported.
    Failed,
}

/// The name a file's definitions are referred to by from files that include
/// it: its file name without `.thrift` (`include "a/shared.thrift"` gives
/// `shared.Type`).
pub fn include_prefix(path: &str) -> String {
    let name = Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match name.strip_suffix(".thrift") {
        Some(stem) => stem.to_string(),
        None => name,
    }
}

/// A path as shown to the user: `.` and `dir/..` folded away.
fn display_name(path: &Path) -> String {
    let mut parts: Vec<Component<'_>> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(parts.last(), Some(Component::Normal(_))) => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    let folded: PathBuf = parts.iter().collect();
    folded.to_string_lossy().into_owned()
}

fn display_dir(dir: &Path) -> String {
    if dir.as_os_str().is_empty() {
        ".".to_string()
    } else {
        display_name(dir)
    }
}
