//! Go components on the standard Go toolchain (Go 1.25 or newer; no TinyGo, no extra tools).
//!
//! `wcomp build` generates the bindings in-process with the `wit-bindgen-go` crate
//! ([`super::bindings`]), runs `GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared`, embeds the
//! world into the core module and wraps it into a component with the WASI preview1 reactor
//! adapter that ships in the `wasi-preview1-component-adapter-provider` crate.
//!
//! Who owns what: generated files (`wit_exports.go`, and `wit_bindings.go` + `empty.s` in each
//! binding package) are rewritten on every build, open with Go's `// Code generated … DO NOT
//! EDIT.` line and are listed in the project's `.gitignore`; a file without that line is never
//! overwritten. The user owns `go.mod`, `go.sum` and every other file, including their code in
//! the `export_*` packages. [`super::runtime_module`] explains where the module the bindings import
//! comes from. wcomp writes only inside the project and Go's own caches; Go's environment
//! (`GOFLAGS`, `GOCACHE`, `GOPATH`, `GOPROXY`, `GOTOOLCHAIN`, ...) is passed through untouched.

use std::path::Path;

use wit_parser::{Resolve, WorldId};

use super::bindings::{self, generate_bindings, write_bindings};
use super::runtime_module::RuntimeModule;
use super::tool::{GoError, GoToolchain};
use crate::Context;
use crate::diagnostic::{Report as _, ReportResult as _};
use crate::lang::toolchain::{
    BuiltComponent, Language, ProcessError, Project, ToolOutput, Toolchain,
};
use crate::wit::WitPackage;

impl GoToolchain {
    /// `go build` of the project into the core module `output`; Go's errors are shown with
    /// paths as seen from where wcomp runs.
    fn go_build(
        &self,
        project: &Project,
        runtime: &RuntimeModule,
        output: &Path,
        ctx: &Context,
    ) -> anyhow::Result<()> {
        let mut go = self.command(&project.dir);
        go.args([
            "build",
            "-buildmode=c-shared",
            "-ldflags=-checklinkname=0",
            "-o",
        ])
        .arg(output)
        .arg(".")
        .env("GOOS", "wasip1")
        .env("GOARCH", "wasm");
        if let RuntimeModule::Bundled { go_work } = runtime {
            go.env("GOWORK", go_work);
        }
        // Go ran in the project; show its file:line locations from where wcomp runs.
        let explain = |err: &ProcessError| {
            let prefix = project.dir.strip_prefix(&ctx.cwd).unwrap_or(&project.dir);
            let mut output = ToolOutput::from_process(err);
            output.text = relocate_go_paths(&output.text, prefix);
            for (package, name) in missing_exports(err.stderr()) {
                if !output.text.ends_with('\n') {
                    output.text.push('\n');
                }
                output.text.push_str(&format!(
                    "note: the world exports `{name}`, which package `{package}` must define: add `func {name}` to a file in `{package}/` (the call in wit_exports.go shows its signature)\n"
                ));
            }
            (output, None)
        };
        self.tool().build(&go, project, ctx, |_| {}, explain)?;
        Ok(())
    }
}

impl Toolchain for GoToolchain {
    fn language(&self) -> Language {
        Language::Go
    }

    fn version(&self, ctx: &Context) -> anyhow::Result<String> {
        Ok(self.check_version(&ctx.cwd)?.1)
    }

    fn fingerprint(&self, _ctx: &Context) -> String {
        // Upgrading Go replaces the `go` binary; these variables change what `go build` makes.
        let mut parts = vec![crate::lang::toolchain::file_fingerprint(&self.go)];
        for key in [
            "GOTOOLCHAIN",
            "GOFLAGS",
            "GOEXPERIMENT",
            "GOWASM",
            "GOPROXY",
        ] {
            parts.push(format!("{key}={}", std::env::var(key).unwrap_or_default()));
        }
        parts.join("|")
    }

    fn build(&self, project: &Project, ctx: &Context) -> anyhow::Result<BuiltComponent> {
        if !project.dir.join("go.mod").is_file() {
            return Err(GoError::NoGoMod {
                dir: project.dir.clone(),
            }
            .report());
        }
        let (go_version, go_line) = self.check_version(&project.dir)?;
        ctx.printer.verbose(format_args!("using {go_line}"));
        let work_dir = project.output_dir().join("go");

        let package = WitPackage::load(&project.wit).report_err()?;
        let world = package.world(project.world.as_deref()).report_err()?;
        let world_name = package.resolve.worlds[world].name.clone();
        if let Some(item) = crate::wit::async_function(&package.resolve, world) {
            return Err(GoError::Async { item }.report());
        }
        let mut files = generate_bindings(&package.resolve, world, false).report_err()?;
        match self.gofmt_path() {
            Some(gofmt) => bindings::gofmt(&gofmt, &work_dir, &mut files, ctx)?,
            None => ctx
                .printer
                .verbose("no gofmt beside `go`; the bindings stay unformatted"),
        }
        write_bindings(&project.dir, &files)?;
        ctx.printer.verbose(format_args!(
            "bindings for world `{world_name}` are up to date"
        ));

        let runtime = self.runtime_module(project, go_version, &go_line, ctx)?;
        let core_path = work_dir.join(format!("{}.core.wasm", project.name));
        fs_err::create_dir_all(&work_dir)?;
        self.go_build(project, &runtime, &core_path, ctx)?;

        let core = fs_err::read(&core_path)?;
        let bytes = componentize(&core, &package.resolve, world)
            .map_err(|source| GoError::Componentize {
                core: core_path.clone(),
                world: world_name.clone(),
                source,
            })
            .report_err()?;
        crate::lang::toolchain::install_component(
            project,
            &project.name,
            &bytes,
            "wcomp builds Go components with the WASI preview1 reactor adapter",
        )
    }
}

/// Wraps a core module built by Go into a component: embeds the world's type information,
/// then encodes it with the WASI preview1 reactor adapter (Go's `c-shared` build is a
/// reactor: no `_start`, exports called after `_initialize`).
pub fn componentize(core: &[u8], resolve: &Resolve, world: WorldId) -> anyhow::Result<Vec<u8>> {
    use wasi_preview1_component_adapter_provider::{
        WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
    };
    crate::wit::component_encoder(core.to_vec(), resolve, world)?
        .adapter(
            WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME,
            WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
        )?
        .encode()
}

/// Exports the generated glue calls but the user's packages lack, from Go's
/// `wit_exports.go:27:37: undefined: export_pkg.Name` errors.
fn missing_exports(output: &str) -> Vec<(String, String)> {
    output
        .lines()
        .filter(|line| line.contains("wit_exports.go:"))
        .filter_map(|line| {
            line.split_once(": undefined: ")
                .map(|(_, what)| what.trim())
        })
        .filter_map(|what| what.split_once('.'))
        .filter(|(package, _)| package.starts_with("export_"))
        .map(|(package, name)| (package.to_owned(), name.to_owned()))
        .collect()
}

/// Rewrites the `file.go:line:col:` locations Go prints (relative to the project, where it
/// ran) so they are relative to where the user ran wcomp.
fn relocate_go_paths(output: &str, prefix: &Path) -> String {
    if prefix.as_os_str().is_empty() {
        return output.to_owned();
    }
    let mut out = String::with_capacity(output.len());
    for line in output.split_inclusive('\n') {
        let path = line.split(':').next().unwrap_or_default();
        let relative = path.strip_prefix("./").unwrap_or(path);
        let rest = &line[path.len()..];
        let is_location = path.ends_with(".go")
            && !path.contains(' ')
            && !Path::new(relative).is_absolute()
            && rest
                .strip_prefix(':')
                .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()));
        if is_location {
            out.push_str(&prefix.join(relative).display().to_string());
            out.push_str(rest);
        } else {
            out.push_str(line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::go::tool::{GoVersion, MIN_GO};

    #[test]
    fn parses_go_versions() {
        assert_eq!(
            GoVersion::parse("go1.26.8"),
            Some(GoVersion {
                major: 1,
                minor: 26,
                patch: 8
            })
        );
        assert_eq!(
            GoVersion::parse("go1.25rc2"),
            Some(GoVersion {
                major: 1,
                minor: 25,
                patch: 0
            })
        );
        assert_eq!(
            GoVersion::parse("1.25"),
            Some(GoVersion {
                major: 1,
                minor: 25,
                patch: 0
            })
        );
        assert_eq!(
            GoVersion::parse("devel go1.27-abcdef"),
            Some(GoVersion {
                major: 1,
                minor: 27,
                patch: 0
            })
        );
        assert_eq!(GoVersion::parse("nonsense"), None);
        assert!(GoVersion::parse("go1.24.9").unwrap() < MIN_GO);
        assert!(GoVersion::parse("go1.25.0").unwrap() >= MIN_GO);
        assert_eq!(MIN_GO.to_string(), "1.25");
    }

    #[test]
    fn missing_exports_are_recognised() {
        let output = "# wit_component\nwit_exports.go:27:37: undefined: export_example_text.Describe\nx.go:1:1: undefined: y\n";
        assert_eq!(
            missing_exports(output),
            [("export_example_text".to_owned(), "Describe".to_owned())]
        );
    }

    #[test]
    fn go_locations_are_made_relative_to_the_user() {
        let output = "# wit_component/export_x\nexport_x/x.go:3:2: undefined: y\n./main.go:1:1: bad\nnote: see x.go\n";
        assert_eq!(
            relocate_go_paths(output, Path::new("app")),
            "# wit_component/export_x\napp/export_x/x.go:3:2: undefined: y\napp/main.go:1:1: bad\nnote: see x.go\n"
        );
        assert_eq!(relocate_go_paths(output, Path::new("")), output);
    }
}
