//! Content hashes of a component's inputs (its sources, the WIT, its manifest entry, the
//! toolchain, wcomp itself) and the record of the last successful build, so unchanged
//! components are neither rebuilt nor handed to a toolchain.
//!
//! Sources are the files git would see: `.gitignore` files (the ones the scaffolds write, and
//! any the user adds, in the project and its parents) are honoured even outside a git
//! repository, so editor backups, `__pycache__` and generated bindings never make a component
//! stale. `target/` and `.git/` are never inputs.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Lock files that tools write beside a project's sources while building it (cargo's, Go's,
/// and wcomp's own for registry components and WIT packages): inputs of the next build, but
/// never a person's edit during this one.
pub const TOOL_WRITTEN: &[&str] = &["Cargo.lock", "go.sum", "wcomp.lock", "wkg.lock"];

/// Directories that are never inputs, whatever the ignore files say.
const ALWAYS_SKIPPED: &[&str] = &["target", ".git", ".wcomp"];

/// The input files under `dir`, sorted, with `exclude`d subtrees left out.
pub fn input_files(dir: &Path, exclude: &[&Path]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in walk(dir, exclude, |_| true)
        .sort_by_file_name(std::cmp::Ord::cmp)
        .build()
    {
        let entry = entry?;
        if entry.file_type().is_some_and(|t| t.is_file()) {
            files.push(entry.into_path());
        }
    }
    Ok(files)
}

/// Whether `path` is one of the [`input_files`] of `dir`, or a directory holding one. Only
/// the directories on the way to `path` (and below it) are read, by the same walk, so the
/// answer follows the same rules; a path that no longer exists is no input.
pub fn holds_inputs(dir: &Path, exclude: &[&Path], path: &Path) -> bool {
    if !path.starts_with(dir) {
        return false;
    }
    let target = path.to_owned();
    let on_the_way = move |entry: &Path| target.starts_with(entry) || entry.starts_with(&target);
    walk(dir, exclude, on_the_way)
        .build()
        .flatten()
        .any(|entry| {
            entry.file_type().is_some_and(|t| t.is_file()) && entry.path().starts_with(path)
        })
}

/// The walk that finds inputs: `.gitignore` and `.ignore` rules (of `dir` and its parents),
/// never into [`ALWAYS_SKIPPED`] directories or `exclude`d subtrees, nor into what `keep`
/// rejects.
fn walk(
    dir: &Path,
    exclude: &[&Path],
    keep: impl Fn(&Path) -> bool + Send + Sync + 'static,
) -> ignore::WalkBuilder {
    let exclude: Vec<PathBuf> = exclude.iter().map(|p| p.to_path_buf()).collect();
    let mut builder = ignore::WalkBuilder::new(dir);
    builder
        .standard_filters(false)
        .git_ignore(true)
        .git_exclude(false)
        .git_global(false)
        .require_git(false)
        .parents(true)
        .ignore(true)
        .filter_entry(move |entry| {
            let is_skipped_dir = entry.depth() > 0
                && entry.file_type().is_some_and(|t| t.is_dir())
                && ALWAYS_SKIPPED.iter().any(|s| entry.file_name() == *s);
            !is_skipped_dir && !exclude.iter().any(|ex| entry.path() == ex) && keep(entry.path())
        });
    builder
}

/// Hashes every input file under `dir` (relative path and contents); see [`input_files`].
pub fn hash_tree(hasher: &mut Sha256, dir: &Path, exclude: &[&Path]) -> anyhow::Result<()> {
    for path in input_files(dir, exclude)? {
        let relative = path.strip_prefix(dir).unwrap_or(&path);
        hasher.update(relative.to_string_lossy().as_bytes());
        hasher.update([0]);
        let contents = fs_err::read(&path)?;
        hasher.update((contents.len() as u64).to_le_bytes());
        hasher.update(&contents);
    }
    Ok(())
}

/// What the last successful build of a component left behind.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Record {
    /// Hash of the inputs the output was built from.
    pub inputs: String,
    pub output: PathBuf,
    /// Size and modification time of the output when it was written, to notice tampering.
    pub output_stamp: String,
}

/// `size:mtime` of a file, or `None` when it is missing.
pub fn stamp(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    let modified = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_nanos();
    Some(format!("{}:{modified}", meta.len()))
}

impl Record {
    /// Reads a record; a missing or unreadable one means "never built".
    pub fn read(path: &Path) -> Option<Self> {
        let text = std::fs::read_to_string(path).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Writes the record atomically.
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        crate::fsutil::write(path, serde_json::to_string_pretty(self)?.as_bytes())
    }

    /// True when `inputs` match and the output is still the file that was written.
    pub fn is_fresh(&self, inputs: &str) -> bool {
        self.inputs == inputs && stamp(&self.output).as_deref() == Some(self.output_stamp.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        input_files(dir, &[])
            .unwrap()
            .iter()
            .map(|p| {
                p.strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/")
            })
            .collect()
    }

    #[test]
    fn inputs_follow_gitignore_without_a_repository() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path();
        fs_err::write(dir.join(".gitignore"), "/target\n*.swp\n__pycache__/\n").unwrap();
        fs_err::write(dir.join("app.py"), "x = 1\n").unwrap();
        fs_err::write(dir.join(".app.py.swp"), "junk").unwrap();
        fs_err::create_dir_all(dir.join("__pycache__")).unwrap();
        fs_err::write(dir.join("__pycache__/app.pyc"), "junk").unwrap();
        fs_err::create_dir_all(dir.join("target/wcomp")).unwrap();
        fs_err::write(dir.join("target/wcomp/app.wasm"), "out").unwrap();
        fs_err::create_dir_all(dir.join("wit")).unwrap();
        fs_err::write(dir.join("wit/world.wit"), "package a:b;").unwrap();
        assert_eq!(names(dir), [".gitignore", "app.py", "wit/world.wit"]);
    }

    #[test]
    fn output_directories_are_skipped_without_any_ignore_file() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path();
        fs_err::create_dir_all(dir.join("target")).unwrap();
        fs_err::write(dir.join("target/x"), "out").unwrap();
        fs_err::create_dir_all(dir.join(".git")).unwrap();
        fs_err::write(dir.join(".git/HEAD"), "ref").unwrap();
        fs_err::write(dir.join("lib.rs"), "").unwrap();
        assert_eq!(names(dir), ["lib.rs"]);
    }

    #[test]
    fn holds_inputs_agrees_with_the_walk() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path();
        fs_err::write(dir.join(".gitignore"), "*.log\n/gen/\n!keep.log\n").unwrap();
        for sub in ["src/nested", "gen", "target", "wit", "empty"] {
            fs_err::create_dir_all(dir.join(sub)).unwrap();
        }
        for file in [
            "src/lib.rs",
            "src/nested/a.rs",
            "src/run.log",
            "keep.log",
            "gen/bindings.rs",
            "target/out.wasm",
            "wit/world.wit",
        ] {
            fs_err::write(dir.join(file), "").unwrap();
        }
        let wit = dir.join("wit");
        let inputs = input_files(dir, &[&wit]).unwrap();
        for file in walkdir::WalkDir::new(dir).into_iter().flatten() {
            let path = file.path();
            if file.file_type().is_file() {
                let expected = inputs.iter().any(|input| input == path);
                assert_eq!(holds_inputs(dir, &[&wit], path), expected, "{path:?}");
            }
        }
        assert!(holds_inputs(dir, &[&wit], &dir.join("src")));
        assert!(!holds_inputs(dir, &[&wit], &dir.join("empty")));
        assert!(!holds_inputs(dir, &[&wit], &dir.join("gen")));
        assert!(!holds_inputs(dir, &[&wit], &dir.join("src/gone.rs")));
        assert!(!holds_inputs(dir, &[], Path::new("/elsewhere/lib.rs")));
    }
}
