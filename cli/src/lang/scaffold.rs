//! What every language's scaffold is made of: the files of a project prepared in memory
//! ([`ProjectFile`]), the errors `wcomp new` reports ([`ScaffoldError`]), template rendering,
//! and the files every project gets (`.gitignore`, `wcomp.toml`). Below the language folders;
//! depends on nothing of theirs.

use std::path::PathBuf;

use crate::manifest::Language;
use crate::wit::WitPackage;

/// What to do instead of an `async` function in a language whose toolchain cannot build one.
pub const ASYNC_HELP: &str = "make the function sync, or write this component in Rust or Python (`--lang rust` or `--lang python`), whose toolchains build async components";

/// Errors `wcomp new` reports before writing anything.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ScaffoldError {
    /// The destination already holds files.
    #[error("destination `{dir}` already exists and is not empty")]
    #[diagnostic(help("choose a new directory name; wcomp never overwrites existing files"))]
    NotEmpty { dir: PathBuf },
    /// The project name is not usable.
    #[error("invalid project name: {reason}")]
    #[diagnostic(help("use `--name <name>` to choose a name independent of the directory"))]
    InvalidName { reason: String },
    /// `--world` without `--wit`.
    #[error("`--world` needs `--wit` (the WIT package that defines the world)")]
    WorldWithoutWit,
    /// `--wasi` without `--template http`.
    #[error("`--wasi` chooses the WASI release of `--template http`")]
    #[diagnostic(help(
        "add `--template http`; the example and `--wit` stubs take their WASI packages from their WIT"
    ))]
    WasiWithoutHttp,
    /// `--with` without `--template http`.
    #[error("`--with` adds WASI packages to the world of `--template http`")]
    #[diagnostic(help(
        "add `--template http`; with `--wit`, give your world the line `include wasi:keyvalue/imports@{};` or `include wasi:config/imports@{};` instead",
        crate::wit::wasi::KEYVALUE.version().unwrap_or_default(),
        crate::wit::wasi::CONFIG.version().unwrap_or_default()
    ))]
    WithWithoutHttp,
    /// `--template http` brings its own world.
    #[error("`--template http` makes the project's world itself; it does not take `--wit`")]
    #[diagnostic(help(
        "drop `--wit`, or drop `--template http` and put `include wasi:http/proxy@0.2.x;` in your world"
    ))]
    HttpWithWit,
    /// `--template nn` brings its own world.
    #[error("`--template nn` makes the project's world itself; it does not take `--wit`")]
    #[diagnostic(help(
        "drop `--wit`, or drop `--template nn` and import `wasi:nn/graph` and `wasi:nn/inference` in your world"
    ))]
    NnWithWit,
    /// `--typescript` is for JavaScript projects on their own.
    #[error("`--typescript` {reason}")]
    #[diagnostic(help("{help}"))]
    TypeScript { reason: String, help: String },
    /// The language's pinned toolchain cannot build what the world asks for.
    #[error("a {language} component cannot implement `{item}`: {reason}")]
    #[diagnostic(help("{help}"))]
    LanguageCannot {
        language: String,
        item: String,
        reason: String,
        help: String,
    },
    /// The world uses something the generated skeleton cannot express yet.
    #[error("cannot generate a skeleton for `{item}`: {reason}")]
    #[diagnostic(help(
        "remove `--world`/`--wit` to start from the example, or write this export by hand"
    ))]
    Unsupported { item: String, reason: String },
}

/// One file of a project, relative to its root.
#[derive(Debug, Clone)]
pub struct ProjectFile {
    pub path: PathBuf,
    pub contents: Vec<u8>,
}

impl ProjectFile {
    pub fn new(path: impl Into<PathBuf>, contents: impl Into<Vec<u8>>) -> Self {
        Self {
            path: path.into(),
            contents: contents.into(),
        }
    }
}

/// The `.gitignore` every scaffold writes (build outputs, editors' files), plus `extra`
/// lines for what a language's tools leave beside the sources.
pub fn gitignore(extra: &[&str]) -> ProjectFile {
    let mut text = include_str!("../../../templates/common/gitignore").to_owned();
    for line in extra {
        text.push_str(line);
        text.push('\n');
    }
    ProjectFile::new(".gitignore", text)
}

/// The text of the file at `name` among `files`, for tests of the scaffolds.
#[cfg(test)]
pub fn file_text<'f>(files: &'f [ProjectFile], name: &str) -> &'f str {
    let file = files
        .iter()
        .find(|f| f.path.to_str() == Some(name))
        .unwrap_or_else(|| panic!("no {name}"));
    std::str::from_utf8(&file.contents).unwrap()
}

/// The WIT package `files` (paths under `wit/`) make, resolved in a temporary directory;
/// `item` names it in errors.
pub fn resolved(files: &[ProjectFile], item: &str) -> Result<WitPackage, ScaffoldError> {
    let unsupported = |err: &dyn std::fmt::Display| ScaffoldError::Unsupported {
        item: item.into(),
        reason: err.to_string(),
    };
    let temp = stage_wit(files).map_err(|err| unsupported(&err))?;
    WitPackage::load(temp.path()).map_err(|err| unsupported(&err))
}

/// `files` (paths under `wit/`) written into a fresh temporary directory, which becomes a WIT
/// package directory: `wit/world.wit` is `<temp>/world.wit`, `wit/deps/…` `<temp>/deps/…`.
pub fn stage_wit(files: &[ProjectFile]) -> anyhow::Result<tempfile::TempDir> {
    let temp = tempfile::tempdir()?;
    for file in files {
        let path = temp
            .path()
            .join(file.path.strip_prefix("wit").unwrap_or(&file.path));
        if let Some(parent) = path.parent() {
            fs_err::create_dir_all(parent)?;
        }
        crate::fsutil::write(&path, &file.contents)?;
    }
    Ok(temp)
}

/// Replaces `{{key}}` placeholders in a template (see [`render_sections`] for optional parts).
pub fn render(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (key, value) in values {
        out = out.replace(&format!("{{{{{key}}}}}"), value);
    }
    out
}

/// Keeps or drops the optional parts of a template: the lines between `{{#name}}` and
/// `{{/name}}` stay when `name` is in `enabled`, those between `{{^name}}` and `{{/name}}` when
/// it is not. Each marker stands on a line of its own, which goes; sections may nest. A
/// template without markers comes back unchanged, so optional parts cost the plain project
/// nothing.
pub fn render_sections(template: &str, enabled: &[&str]) -> String {
    let mut out = String::with_capacity(template.len());
    // Whether each open section keeps its lines.
    let mut open: Vec<(&str, bool)> = Vec::new();
    for line in template.split_inclusive('\n') {
        let marker = line
            .trim()
            .strip_prefix("{{")
            .and_then(|rest| rest.strip_suffix("}}"));
        let marked = |sigil| marker.and_then(|m: &str| m.strip_prefix(sigil));
        if let Some(name) = marked('#') {
            open.push((name, enabled.contains(&name)));
        } else if let Some(name) = marked('^') {
            open.push((name, !enabled.contains(&name)));
        } else if let Some(name) = marked('/')
            && open.last().is_some_and(|(open, _)| *open == name)
        {
            open.pop();
        } else if open.iter().all(|(_, keep)| *keep) {
            out.push_str(line);
        }
    }
    out
}

/// The `wcomp.toml` that tells `wcomp build` a project's language and world.
pub fn component_manifest(name: &str, language: Language, world: &str) -> ProjectFile {
    ProjectFile::new(
        crate::manifest::MANIFEST,
        format!(
            "# Read by `wcomp build`: what this component is and which WIT world it implements.\n[component]\nname = \"{name}\"\nlang = \"{language}\"\nworld = \"{world}\"\n"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_keep_or_drop_their_lines() {
        let template = "a\n{{#kv}}\nkv\n{{#config}}\nboth\n{{/config}}\n{{/kv}}\n{{^kv}}\nplain\n{{/kv}}\nz {{x}}\n";
        assert_eq!(render_sections(template, &[]), "a\nplain\nz {{x}}\n");
        assert_eq!(render_sections(template, &["kv"]), "a\nkv\nz {{x}}\n");
        assert_eq!(
            render_sections(template, &["kv", "config"]),
            "a\nkv\nboth\nz {{x}}\n"
        );
        assert_eq!(
            render_sections(template, &["config"]),
            "a\nplain\nz {{x}}\n"
        );
        // Placeholders are not markers.
        assert_eq!(render_sections("{{x}}\n", &[]), "{{x}}\n");
    }
}
