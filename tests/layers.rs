//! The architecture, kept: each crate's layers, lowest first, are written down here and nowhere
//! else (README.md's layout section and the emulator's crate docs repeat them, and this test
//! checks that they do). Two rules hold for every source file:
//!
//! 1. it names items only from its own layer or a lower one (`crate::<layer>::…`), never from a
//!    higher layer and never through the crate root's re-exports, which would hide the layer;
//! 2. no files import each other in a circle, within a layer or across.
//!
//! Imports are read as text from the code (comments and string literals left out): `use`
//! declarations and inline `crate::…` / `super::…` paths, resolved to the file that defines the
//! module named.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The layers of the client crate (`src/`), lowest first. `lib.rs` stands above all of them.
const CORE_LAYERS: &[&str] = &[
    "protocol", "io", "client", "session", "stream", "js", "napi",
];

/// The layers of the emulator crate (`emulator/src/`), lowest first; a layer may be a folder or
/// a single file. `lib.rs` and `main.rs` stand above all of them.
const EMULATOR_LAYERS: &[&str] = &[
    "clock", "errors", "staging", "routing", "store", "http", "faults", "tls", "config", "auth",
    "state", "ops", "admin", "server",
];

/// The modules of the CLI (`src/bin/oss-append/`, a crate of its own over the library), lowest
/// first. `main.rs` stands above them.
const CLI_LAYERS: &[&str] = &[
    "args",
    "credentials_command",
    "progress",
    "report",
    "stdin",
    "failure",
    "spooled",
];

#[test]
fn the_core_imports_only_downward_and_has_no_circles() {
    check_crate(Path::new("src"), CORE_LAYERS, &["bin"]);
}

#[test]
fn the_emulator_imports_only_downward_and_has_no_circles() {
    check_crate(Path::new("emulator/src"), EMULATOR_LAYERS, &[]);
}

#[test]
fn the_cli_imports_only_downward_and_has_no_circles() {
    check_crate(Path::new("src/bin/oss-append"), CLI_LAYERS, &[]);
}

#[test]
fn the_readme_and_the_emulator_docs_show_the_same_layers() {
    let readme = folded(&fs::read_to_string("README.md").unwrap());
    assert!(
        readme.contains(&layer_line(CORE_LAYERS)),
        "README.md's layout section must list the core's layers as `{}`",
        layer_line(CORE_LAYERS)
    );
    assert!(
        readme.contains(&layer_line(EMULATOR_LAYERS)),
        "README.md's layout section must list the emulator's layers as `{}`",
        layer_line(EMULATOR_LAYERS)
    );
    let emulator_docs = folded(&fs::read_to_string("emulator/src/lib.rs").unwrap());
    assert!(
        emulator_docs.contains(&layer_line(EMULATOR_LAYERS)),
        "emulator/src/lib.rs must list its layers as `{}`",
        layer_line(EMULATOR_LAYERS)
    );
}

/// Text with comment markers dropped and white space folded, so a line that wraps still reads
/// as one.
fn folded(text: &str) -> String {
    text.replace("//!", " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// How the docs write a layer order: `a` → `b` → `c`.
fn layer_line(layers: &[&str]) -> String {
    layers
        .iter()
        .map(|l| format!("`{l}`"))
        .collect::<Vec<_>>()
        .join(" → ")
}

// --- The checks -------------------------------------------------------------------------------

fn check_crate(root: &Path, layers: &[&str], separate_crates: &[&str]) {
    let files = source_files(root, separate_crates);
    let known: BTreeSet<&str> = layers.iter().copied().collect();
    let mut problems = Vec::new();
    for file in &files {
        let top = file.module.first().map(String::as_str);
        if let Some(top) = top {
            assert!(
                known.contains(top),
                "{}: module `{top}` is in no layer: add it to the table in tests/layers.rs",
                file.path.display()
            );
        }
    }
    for top in layers {
        assert!(
            files
                .iter()
                .any(|f| f.module.first().map(String::as_str) == Some(top)),
            "layer `{top}` of tests/layers.rs has no file under {}",
            root.display()
        );
    }
    let rank = |name: &str| layers.iter().position(|l| *l == name);
    let mut edges: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
    for (i, file) in files.iter().enumerate() {
        let own_rank = file.module.first().and_then(|m| rank(m));
        for target in &file.imports {
            let Some(first) = target.first() else {
                continue;
            };
            match (own_rank, rank(first)) {
                (_, None) => problems.push(format!(
                    "{}: names `crate::{}` through the crate root; name it by its layer",
                    file.path.display(),
                    target.join("::")
                )),
                (Some(own), Some(other)) if other > own => problems.push(format!(
                    "{}: layer `{}` imports `crate::{}` from the higher layer `{first}`",
                    file.path.display(),
                    layers[own],
                    target.join("::")
                )),
                _ => {}
            }
            if let Some(j) = resolve(&files, target) {
                if j != i {
                    edges.entry(i).or_default().insert(j);
                }
            }
        }
    }
    if let Some(circle) = find_circle(files.len(), &edges) {
        let names: Vec<String> = circle
            .iter()
            .map(|&i| files[i].path.display().to_string())
            .collect();
        problems.push(format!(
            "files import each other in a circle: {}",
            names.join(" -> ")
        ));
    }
    assert!(
        problems.is_empty(),
        "{} import rule(s) broken:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// The file whose module is the longest prefix of `path` (a module path below the crate root).
fn resolve(files: &[SourceFile], path: &[String]) -> Option<usize> {
    (1..=path.len())
        .rev()
        .find_map(|n| files.iter().position(|f| f.module == path[..n]))
}

/// A circle in the import graph, as the files along it (the first repeated at the end).
fn find_circle(n: usize, edges: &BTreeMap<usize, BTreeSet<usize>>) -> Option<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    fn visit(
        i: usize,
        edges: &BTreeMap<usize, BTreeSet<usize>>,
        marks: &mut [Mark],
        path: &mut Vec<usize>,
    ) -> Option<Vec<usize>> {
        marks[i] = Mark::OnPath;
        path.push(i);
        for &j in edges.get(&i).into_iter().flatten() {
            match marks[j] {
                Mark::OnPath => {
                    let start = path.iter().position(|&p| p == j).unwrap();
                    let mut circle = path[start..].to_vec();
                    circle.push(j);
                    return Some(circle);
                }
                Mark::New => {
                    if let Some(c) = visit(j, edges, marks, path) {
                        return Some(c);
                    }
                }
                Mark::Done => {}
            }
        }
        path.pop();
        marks[i] = Mark::Done;
        None
    }
    let mut marks = vec![Mark::New; n];
    (0..n).find_map(|i| {
        if marks[i] == Mark::New {
            visit(i, edges, &mut marks, &mut Vec::new())
        } else {
            None
        }
    })
}

// --- Reading the sources ----------------------------------------------------------------------

struct SourceFile {
    path: PathBuf,
    /// Module path below the crate root (`["session", "judge"]`); empty for the root.
    module: Vec<String>,
    /// Module paths below the crate root that the file names.
    imports: BTreeSet<Vec<String>>,
}

fn source_files(root: &Path, separate_crates: &[&str]) -> Vec<SourceFile> {
    let mut paths = Vec::new();
    collect_rs(root, &mut paths);
    paths
        .into_iter()
        .filter_map(|path| {
            let relative = path.strip_prefix(root).unwrap().to_path_buf();
            let parts: Vec<String> = relative
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            if separate_crates.contains(&parts[0].as_str()) {
                return None;
            }
            let mut module: Vec<String> = parts
                .iter()
                .map(|p| p.trim_end_matches(".rs").to_owned())
                .collect();
            if module.last().is_some_and(|m| m == "mod")
                || (module.len() == 1 && (module[0] == "lib" || module[0] == "main"))
            {
                module.pop();
            }
            let folder_root = parts.last().is_some_and(|p| p == "mod.rs") || module.is_empty();
            let code = strip_comments_and_strings(&fs::read_to_string(&path).unwrap());
            let imports = imports_of(&inline_modules_as_self(&code), &module, folder_root);
            Some(SourceFile {
                path,
                module,
                imports,
            })
        })
        .collect()
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module paths a file names: `crate::a::b`, `super::x` (relative to the file's module),
/// and `use child::…` of a child module the file declares.
fn imports_of(code: &str, module: &[String], owns_folder: bool) -> BTreeSet<Vec<String>> {
    // The module `super` means: the parent of this file's module.
    let parent: Vec<String> = module[..module.len().saturating_sub(1)].to_vec();
    let children: BTreeSet<String> = code
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            let rest = l
                .strip_prefix("pub(crate) mod ")
                .or_else(|| l.strip_prefix("pub mod "))
                .or_else(|| l.strip_prefix("mod "))?;
            rest.strip_suffix(';').map(str::to_owned)
        })
        .collect();
    let mut imports = BTreeSet::new();
    for statement in use_statements(code) {
        for path in expand_use(&statement) {
            let Some(first) = path.first() else { continue };
            let absolute = match first.as_str() {
                "crate" => path[1..].to_vec(),
                "super" => [parent.clone(), path[1..].to_vec()].concat(),
                "self" => [module.to_vec(), path[1..].to_vec()].concat(),
                name if children.contains(name) && (owns_folder || module.is_empty()) => {
                    [module.to_vec(), path].concat()
                }
                _ => continue,
            };
            if !absolute.is_empty() {
                imports.insert(absolute);
            }
        }
    }
    // Inline paths in expressions and types: `crate::a::b::f(…)`, `super::x::Y`.
    for (prefix, base) in [("crate::", Vec::new()), ("super::", parent.clone())] {
        let mut rest = code;
        while let Some(at) = rest.find(prefix) {
            let preceded_by_ident = rest[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':' || c == '$');
            rest = &rest[at + prefix.len()..];
            if preceded_by_ident {
                continue;
            }
            let mut segments = Vec::new();
            let mut tail = rest;
            loop {
                let ident: String = tail
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if ident.is_empty() {
                    break;
                }
                tail = &tail[ident.len()..];
                segments.push(ident);
                match tail.strip_prefix("::") {
                    Some(more) => tail = more,
                    None => break,
                }
            }
            let mut absolute = base.clone();
            absolute.extend(segments);
            if !absolute.is_empty() {
                imports.insert(absolute);
            }
        }
    }
    imports
}

/// The text of each `use …;` declaration (rustfmt starts each on a line of its own),
/// whitespace folded.
fn use_statements(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = code.lines();
    while let Some(line) = lines.next() {
        let line = line.trim_start();
        let rest = ["pub(crate) use ", "pub(super) use ", "pub use ", "use "]
            .iter()
            .find_map(|p| line.strip_prefix(p));
        let Some(rest) = rest else { continue };
        let mut statement = rest.to_owned();
        while !statement.contains(';') {
            match lines.next() {
                Some(more) => {
                    statement.push(' ');
                    statement.push_str(more.trim());
                }
                None => break,
            }
        }
        let statement = statement.split(';').next().unwrap_or_default();
        out.push(statement.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    out
}

/// Inside an inline module (`mod tests { … }`), `super` is the file's own module: rewritten to
/// `self` so that `use super::*` in a test module is no import of the parent.
fn inline_modules_as_self(code: &str) -> String {
    let mut out = code.to_owned();
    let mut from = 0;
    while let Some(at) = find_inline_mod(&out[from..]).map(|a| a + from) {
        let open = at + out[at..].find('{').unwrap();
        let mut depth = 0;
        let mut close = out.len();
        for (i, c) in out[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        close = open + i;
                        break;
                    }
                }
                _ => {}
            }
        }
        let inner = out[open..close].replace("super::", "self::");
        out.replace_range(open..close, &inner);
        from = open + 1;
    }
    out
}

/// Where the next `mod name {` starts.
fn find_inline_mod(code: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = code[from..].find("mod ").map(|a| a + from) {
        let before_ok = code[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric() && c != '_');
        let after = &code[at + 4..];
        let name_len = after
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .count();
        if before_ok && name_len > 0 && after[name_len..].trim_start().starts_with('{') {
            return Some(at);
        }
        from = at + 4;
    }
    None
}

/// `a::{b, c::{d, e}}` → `[a, b]`, `[a, c, d]`, `[a, c, e]` (aliases and globs dropped).
fn expand_use(tree: &str) -> Vec<Vec<String>> {
    fn split_top(list: &str) -> Vec<&str> {
        let (mut depth, mut start, mut parts) = (0, 0, Vec::new());
        for (i, c) in list.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    parts.push(&list[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        parts.push(&list[start..]);
        parts
    }
    let tree = tree.trim().trim_start_matches("::");
    if let Some(open) = tree.find('{') {
        let prefix: Vec<String> = tree[..open]
            .trim_end_matches("::")
            .split("::")
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        return split_top(inner)
            .into_iter()
            .filter(|part| !part.trim().is_empty())
            .flat_map(|part| {
                expand_use(part).into_iter().map(|mut tail| {
                    if tail.first().is_some_and(|t| t == "self") {
                        tail.remove(0);
                    }
                    [prefix.clone(), tail].concat()
                })
            })
            .collect();
    }
    let path = tree.split(" as ").next().unwrap_or(tree);
    vec![path
        .split("::")
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty() && s != "*")
        .collect()]
}

/// The code with `//` and `/* */` comments and the insides of string and char literals blanked,
/// so a path in a doc comment or a message is not taken for an import.
fn strip_comments_and_strings(source: &str) -> String {
    let bytes = source.as_bytes();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < bytes.len() {
        let rest = &source[i..];
        if rest.starts_with("//") {
            let end = rest.find('\n').unwrap_or(rest.len());
            i += end;
        } else if rest.starts_with("/*") {
            let end = rest.find("*/").map_or(rest.len(), |e| e + 2);
            i += end;
        } else if let Some(raw) = raw_string_len(rest) {
            out.push_str("\"\"");
            i += raw;
        } else if bytes[i] == b'"' {
            let mut j = i + 1;
            while j < bytes.len() && bytes[j] != b'"' {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            out.push_str("\"\"");
            i = j + 1;
        } else if bytes[i] == b'\'' && char_literal_len(rest).is_some() {
            out.push_str("' '");
            i += char_literal_len(rest).unwrap();
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// Length of a raw string literal `r"…"` / `r#"…"#` / `br"…"` starting `text`.
fn raw_string_len(text: &str) -> Option<usize> {
    let body = text.strip_prefix("br").or_else(|| text.strip_prefix('r'))?;
    let hashes = body.chars().take_while(|c| *c == '#').count();
    let body = body[hashes..].strip_prefix('"')?;
    let close = format!("\"{}", "#".repeat(hashes));
    let end = body.find(&close)?;
    Some(text.len() - body.len() + end + close.len())
}

/// Length of a char literal (`'a'`, `'\n'`, `'\u{1F600}'`) starting `text`; `None` for a
/// lifetime.
fn char_literal_len(text: &str) -> Option<usize> {
    let mut chars = text.char_indices().skip(1);
    let (_, first) = chars.next()?;
    if first == '\\' {
        let end = text[2..].find('\'')?;
        return Some(end + 3);
    }
    let (at, next) = chars.next()?;
    (next == '\'').then_some(at + 1)
}

#[test]
fn the_reader_sees_what_the_rules_need() {
    let code = strip_comments_and_strings(
        "use crate::a::{b::C, d};\n// use crate::comment::X;\nlet s = \"crate::string\";\n\
         mod kid;\nuse kid::Y;\nfn f() { crate::e::g(); super::h::I }\nuse super::j;\n\
         mod tests {\n    use super::*;\n}",
    );
    let module = vec!["top".to_owned(), "me".to_owned()];
    let imports = imports_of(&inline_modules_as_self(&code), &module, true);
    let path = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<String>>();
    for seen in [
        &["a", "b", "C"][..],
        &["a", "d"],
        &["top", "me", "kid", "Y"],
        &["e", "g"],
        &["top", "h", "I"],
        &["top", "j"],
        &["top", "me"],
    ] {
        assert!(imports.contains(&path(seen)), "{seen:?} in {imports:?}");
    }
    for unseen in [&["comment", "X"][..], &["string"], &["top"]] {
        assert!(
            !imports.contains(&path(unseen)),
            "{unseen:?} in {imports:?}"
        );
    }
    // A circle is found, and a chain is not one.
    let mut edges = BTreeMap::new();
    edges.insert(0, BTreeSet::from([1]));
    edges.insert(1, BTreeSet::from([2]));
    assert_eq!(find_circle(3, &edges), None);
    edges.insert(2, BTreeSet::from([0]));
    assert_eq!(find_circle(3, &edges), Some(vec![0, 1, 2, 0]));
}
