//! Docs cite only files that exist: every path of the tree named in a doc comment (`//!`, `///`)
//! or in the project's guides (README.md, docs/, the HAR's and the emulator's READMEs) is there.
//! History (CHANGELOG.md, bench/RESULTS.md) may name what was, and is not read.

use std::fs;
use std::path::{Path, PathBuf};

/// What builds make (not in the tree until then).
const GENERATED: &[&str] = &["ohos-package/libs/", "dist/"];

/// The folders whose names start a cited path.
const ROOTS: &[&str] = &[
    "src/",
    "tests/",
    "emulator/",
    "docs/",
    "bench/",
    "ohos-package/",
    "scripts/",
    "fuzz/",
    "examples/",
    "benches/",
];

#[test]
fn cited_files_exist() {
    let mut missing = Vec::new();
    let mut sources = Vec::new();
    for dir in [
        "src",
        "emulator/src",
        "tests",
        "examples",
        "benches",
        "fuzz",
    ] {
        collect(Path::new(dir), "rs", &mut sources);
    }
    for file in &sources {
        let text = fs::read_to_string(file).unwrap();
        let docs: String = text
            .lines()
            .map(str::trim_start)
            .filter(|l| l.starts_with("//!") || l.starts_with("///"))
            .collect::<Vec<_>>()
            .join("\n");
        check(file, &docs, &base_of(file), &mut missing);
    }
    let mut guides = vec![PathBuf::from("README.md")];
    collect(Path::new("docs"), "md", &mut guides);
    for file in &guides {
        check(
            file,
            &fs::read_to_string(file).unwrap(),
            Path::new(""),
            &mut missing,
        );
    }
    // These two write their own files' paths relative to their folder.
    for (readme, base) in [
        ("emulator/README.md", "emulator"),
        ("ohos-package/README.md", "ohos-package"),
    ] {
        let text = fs::read_to_string(readme).unwrap();
        check(Path::new(readme), &text, Path::new(base), &mut missing);
    }
    assert!(
        missing.is_empty(),
        "docs cite files that are not in the tree:\n{}",
        missing.join("\n")
    );
}

/// Paths in the emulator's sources are written relative to the emulator crate when they start
/// with `src/`; everything else is relative to the workspace root.
fn base_of(file: &Path) -> PathBuf {
    if file.starts_with("emulator") {
        PathBuf::from("emulator")
    } else {
        PathBuf::new()
    }
}

/// Every backticked path of the tree in `text` must exist under the workspace root, or under
/// `base` for paths starting `src/`.
fn check(file: &Path, text: &str, base: &Path, missing: &mut Vec<String>) {
    for cited in text.split('`').skip(1).step_by(2) {
        let path = cited.split([':', ' ', '#']).next().unwrap_or_default();
        if !ROOTS.iter().any(|r| path.starts_with(r))
            || GENERATED.iter().any(|g| path.starts_with(g))
            || path.contains(['*', '<', '{', '$'])
        {
            continue;
        }
        let exists =
            Path::new(path).exists() || (path.starts_with("src/") && base.join(path).exists());
        if !exists {
            missing.push(format!("{}: `{path}`", file.display()));
        }
    }
}

fn collect(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if !path.ends_with("node_modules") && !path.ends_with("target") {
                collect(&path, ext, out);
            }
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}
