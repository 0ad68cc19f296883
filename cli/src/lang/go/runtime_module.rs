//! Where `go.bytecodealliance.org/pkg` (imported by every generated binding) comes from.
//!
//! First choice is the Go module proxy, like any dependency: wcomp asks
//! `go mod download -json` (which answers from the module cache when it can, and honours
//! `GOPROXY`, `GOFLAGS`, `GOMODCACHE`, `GONOSUMDB`, ...) and records the checksums in the
//! project's `go.sum`. When the proxy cannot supply it (offline, a filtered proxy,
//! `GOPROXY=off`) or it asks for a newer Go than the installed one, wcomp writes the copy that
//! ships with the wit-bindgen-go crate to `target/wcomp/go/pkg` and builds through a
//! generated `target/wcomp/go/go.work` that replaces the module with it. That decision is
//! remembered beside it, keyed by the Go version and Go's environment variables, so warm
//! builds do not ask the network again; deleting `target/wcomp/go` makes wcomp ask again.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::tool::{GoToolchain, GoVersion, MIN_GO, RUNTIME_MODULE};
use crate::Context;
use crate::diagnostic::Report as _;
use crate::manifest::Project;
use crate::process::ProcessError;

mod sources {
    include!(concat!(env!("OUT_DIR"), "/go_runtime.rs"));
}

/// Where the runtime module comes from for one build.
#[derive(Debug)]
pub enum RuntimeModule {
    /// The module proxy (or Go's module cache) has it: a plain `go build`.
    Proxy,
    /// wcomp's copy, wired in through this `go.work` (passed as `GOWORK`).
    Bundled { go_work: PathBuf },
}

/// The version of [`RUNTIME_MODULE`] the generated bindings are written against (`v0.4.0`).
pub fn version() -> String {
    let line = wit_bindgen_go::remote_pkg_version();
    line.rsplit(' ').next().unwrap_or_default().to_owned()
}

/// The environment variables that change what the Go module proxy answers.
const PROXY_ENV: &[&str] = &[
    "GOPROXY",
    "GOFLAGS",
    "GOPRIVATE",
    "GONOPROXY",
    "GONOSUMDB",
    "GONOSUMCHECK",
    "GOSUMDB",
    "GOINSECURE",
    "GOTOOLCHAIN",
    "GOMODCACHE",
    "GOPATH",
];

impl GoToolchain {
    /// Decides where the runtime module comes from; see the module documentation.
    pub(super) fn runtime_module(
        &self,
        project: &Project,
        go: GoVersion,
        go_line: &str,
        ctx: &Context,
    ) -> anyhow::Result<RuntimeModule> {
        let version = version();
        let work_dir = project.output_dir().join("go");
        let marker = work_dir.join("bundled-runtime.txt");
        let fingerprint = fingerprint(go_line, &version);
        if let Ok(text) = fs_err::read_to_string(&marker)
            && let Some(reason) = text.strip_prefix(&format!("{fingerprint}\n"))
        {
            ctx.printer.verbose(format_args!(
                "{}; using the copy bundled with wcomp (delete `{}` to ask the proxy again)",
                reason.trim(),
                marker.display()
            ));
            return Ok(RuntimeModule::Bundled {
                go_work: write_bundled(project, &version)?,
            });
        }

        let reason = match self.download_runtime(project, &version)? {
            Ok(module) => match module.needs_newer_go(go) {
                None => {
                    add_go_sum(&project.dir, &module)?;
                    if marker.exists() {
                        fs_err::remove_file(&marker)?;
                    }
                    ctx.printer.verbose(format_args!(
                        "using `{RUNTIME_MODULE}@{version}` from the Go module cache"
                    ));
                    return Ok(RuntimeModule::Proxy);
                }
                Some(needed) => format!(
                    "`{RUNTIME_MODULE}@{version}` needs Go {needed} and Go {go} is installed"
                ),
            },
            Err(reason) => reason,
        };
        ctx.printer
            .verbose(format_args!("{reason}; using the copy bundled with wcomp"));
        let go_work = write_bundled(project, &version)?;
        crate::fsutil::write(&marker, format!("{fingerprint}\n{reason}\n").as_bytes())?;
        Ok(RuntimeModule::Bundled { go_work })
    }

    /// `go mod download -json <module>@<version>` in the project: the download record, or
    /// why the proxy could not supply it.
    fn download_runtime(
        &self,
        project: &Project,
        version: &str,
    ) -> anyhow::Result<Result<ModuleDownload, String>> {
        let mut download = self.command(&project.dir);
        download
            .args(["mod", "download", "-json"])
            .arg(format!("{RUNTIME_MODULE}@{version}"));
        if std::env::var_os("GOTOOLCHAIN").is_none() {
            // Go's default (`auto`) would fetch a whole newer toolchain when the module asks
            // for one, only for wcomp to prefer its bundled copy that the installed Go builds.
            download.env("GOTOOLCHAIN", "local");
        }
        Ok(match download.output() {
            Ok(out) => serde_json::from_str::<ModuleDownload>(&out.stdout)
                .map_err(|err| format!("`{download}` printed something unexpected: {err}")),
            Err(ProcessError::NotFound { .. }) => return Err(GoToolchain::missing().report()),
            Err(ProcessError::Failed { stdout, stderr, .. }) => {
                // Go reports the failure in the JSON record, or on stderr before it has one.
                let detail = serde_json::from_str::<ModuleDownload>(&stdout)
                    .ok()
                    .and_then(|module| module.error)
                    .unwrap_or_else(|| stderr.trim().to_owned());
                Err(format!(
                    "the Go module proxy cannot supply `{RUNTIME_MODULE}@{version}`: {detail}"
                ))
            }
            Err(err) => {
                return Err(err).context("cannot ask Go to download the runtime module");
            }
        })
    }
}

/// What the proxy's answer depends on, as one line.
fn fingerprint(go_line: &str, version: &str) -> String {
    let mut line = format!("{go_line}; {RUNTIME_MODULE}@{version}");
    for key in PROXY_ENV {
        if let Some(value) = std::env::var_os(key) {
            line.push_str(&format!(
                "; {key}={}",
                value.to_string_lossy().replace('\n', " ")
            ));
        }
    }
    line
}

/// A `go mod download -json` record.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ModuleDownload {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    version: String,
    #[serde(default)]
    sum: Option<String>,
    #[serde(default)]
    go_mod_sum: Option<String>,
    /// The module's `go.mod` in the module cache.
    #[serde(default)]
    go_mod: Option<PathBuf>,
}

impl ModuleDownload {
    /// The Go release the module's `go` line asks for, when newer than `installed`.
    fn needs_newer_go(&self, installed: GoVersion) -> Option<String> {
        let text = fs_err::read_to_string(self.go_mod.as_ref()?).ok()?;
        let needed = go_directive(&text)?;
        (GoVersion::parse(&needed)? > installed).then_some(needed)
    }
}

/// The version on the `go` line of a `go.mod` or `go.work`.
fn go_directive(text: &str) -> Option<String> {
    text.lines()
        .find_map(|line| line.trim().strip_prefix("go ").map(|v| v.trim().to_owned()))
}

/// Records the runtime module's checksums in the project's `go.sum`, as `go mod tidy` would.
fn add_go_sum(dir: &Path, module: &ModuleDownload) -> anyhow::Result<()> {
    let path = dir.join("go.sum");
    let existing = if path.is_file() {
        fs_err::read_to_string(&path)?
    } else {
        String::new()
    };
    let mut text = existing.clone();
    let lines = [
        module
            .sum
            .as_ref()
            .map(|sum| format!("{RUNTIME_MODULE} {} {sum}", module.version)),
        module
            .go_mod_sum
            .as_ref()
            .map(|sum| format!("{RUNTIME_MODULE} {}/go.mod {sum}", module.version)),
    ];
    for line in lines.into_iter().flatten() {
        if !existing.lines().any(|l| l.trim() == line) {
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(&line);
            text.push('\n');
        }
    }
    if text != existing {
        crate::fsutil::write(&path, text.as_bytes())?;
    }
    Ok(())
}

/// Writes the bundled runtime module and the `go.work` that substitutes it; returns the
/// `go.work` path.
fn write_bundled(project: &Project, version: &str) -> anyhow::Result<PathBuf> {
    if sources::GO_RUNTIME_FILES.is_empty() {
        anyhow::bail!(
            "the Go module proxy cannot supply `{RUNTIME_MODULE}@{version}`, and this wcomp was built without its bundled copy (its build did not find the wit-bindgen-go sources); allow access to the Go module proxy, or rebuild wcomp with `WCOMP_WIT_BINDGEN_GO_DIR` pointing at the wit-bindgen-go crate"
        );
    }
    let work_dir = project.output_dir().join("go");
    let module_dir = work_dir.join("pkg");
    // The copy's own `go` line names the Go its upstream repository develops with; the code
    // builds with the oldest Go wcomp supports.
    write_if_changed(
        &module_dir.join("go.mod"),
        &format!("module {RUNTIME_MODULE}\n\ngo {MIN_GO}\n"),
    )?;
    for (relative, contents) in sources::GO_RUNTIME_FILES {
        write_if_changed(
            &module_dir.join(relative),
            &String::from_utf8_lossy(contents),
        )?;
    }
    // A workspace may not ask for an older Go than a module in it.
    let project_go = fs_err::read_to_string(project.dir.join("go.mod"))
        .ok()
        .and_then(|text| go_directive(&text));
    let go_line = match project_go {
        Some(line) if GoVersion::parse(&line).is_some_and(|v| v > MIN_GO) => line,
        _ => MIN_GO.to_string(),
    };
    let go_work = work_dir.join("go.work");
    write_if_changed(
        &go_work,
        &format!(
            "// Written by `wcomp build`: builds the project with the copy of {RUNTIME_MODULE}\n// bundled in wcomp, because the Go module proxy could not supply it.\ngo {go_line}\n\nuse ../../..\n\nreplace {RUNTIME_MODULE} {version} => ./pkg\n"
        ),
    )?;
    Ok(go_work)
}

fn write_if_changed(path: &Path, contents: &str) -> anyhow::Result<()> {
    if fs_err::read_to_string(path).is_ok_and(|existing| existing == contents) {
        return Ok(());
    }
    crate::fsutil::write(path, contents.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_module_version_and_sources_are_known() {
        assert!(version().starts_with('v'), "{}", version());
        assert!(
            sources::GO_RUNTIME_FILES
                .iter()
                .any(|(path, _)| *path == "wit/runtime/runtime.go")
        );
    }

    #[test]
    fn reads_go_directives() {
        assert_eq!(
            go_directive("module m\n\ngo 1.25\n\nrequire x v1\n").as_deref(),
            Some("1.25")
        );
        assert_eq!(go_directive("module m\n").as_deref(), None);
    }

    #[test]
    fn go_sum_lines_are_added_once() {
        let temp = tempfile::tempdir().unwrap();
        fs_err::write(temp.path().join("go.sum"), "example.com/a v1.0.0 h1:abc=").unwrap();
        let module = ModuleDownload {
            error: None,
            version: "v0.4.0".into(),
            sum: Some("h1:zip=".into()),
            go_mod_sum: Some("h1:mod=".into()),
            go_mod: None,
        };
        add_go_sum(temp.path(), &module).unwrap();
        add_go_sum(temp.path(), &module).unwrap();
        assert_eq!(
            fs_err::read_to_string(temp.path().join("go.sum")).unwrap(),
            "example.com/a v1.0.0 h1:abc=\ngo.bytecodealliance.org/pkg v0.4.0 h1:zip=\ngo.bytecodealliance.org/pkg v0.4.0/go.mod h1:mod=\n"
        );
    }
}
