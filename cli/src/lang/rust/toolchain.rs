//! Rust components: cargo with `--target wasm32-wasip2` and wit-bindgen. A `cdylib` built for
//! that target is already a component, so wcomp only locates the artifact through cargo's
//! JSON messages, validates it and copies it into place.

use std::path::{Path, PathBuf};

use cargo_metadata::{Message, TargetKind};

use crate::Context;
use crate::diagnostic::Report as _;
use crate::lang::toolchain::{
    BuiltComponent, Language, ProcessBuilder, Project, Tool, Toolchain, ToolchainError, as_printed,
    file_fingerprint, install_component,
};

pub const TARGET: &str = "wasm32-wasip2";

/// cargo and rustc, honouring `$CARGO` and `$RUSTC`.
#[derive(Debug, Clone)]
pub struct RustToolchain {
    cargo: PathBuf,
    rustc: PathBuf,
}

impl RustToolchain {
    pub fn from_env() -> Self {
        let from = |var: &str, default: &str| {
            std::env::var_os(var)
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(default))
        };
        Self {
            cargo: from("CARGO", "cargo"),
            rustc: from("RUSTC", "rustc"),
        }
    }

    fn missing(program: &str) -> ToolchainError {
        ToolchainError::Missing {
            program: program.into(),
            install: "install Rust with rustup (https://rustup.rs), then run `rustup target add wasm32-wasip2`".into(),
        }
    }

    fn cargo_tool(&self) -> Tool<'static> {
        Tool {
            name: "cargo",
            missing: &|| Self::missing("cargo"),
        }
    }

    /// What selects and identifies the toolchain: cargo and rustc, and rustup's settings and
    /// toolchain directory (its proxies stay put when toolchains change; these do not).
    fn toolchain_state(&self) -> String {
        let rustup_home = std::env::var_os("RUSTUP_HOME")
            .map(PathBuf::from)
            .or_else(|| dirs::home_dir().map(|home| home.join(".rustup")));
        let mut parts = vec![file_fingerprint(&self.cargo), file_fingerprint(&self.rustc)];
        if let Some(home) = rustup_home {
            parts.push(file_fingerprint(&home.join("settings.toml")));
            parts.push(file_fingerprint(&home.join("toolchains")));
        }
        parts.push(std::env::var("RUSTUP_TOOLCHAIN").unwrap_or_default());
        parts.join("|")
    }

    /// Fails with the `rustup target add` hint when the wasm32-wasip2 standard library is absent.
    pub fn check_target(&self, project_dir: &Path) -> anyhow::Result<()> {
        // Asking rustc costs a process through rustup's proxy; a watch loop builds the same
        // project again and again. What was found stays found while nothing that selects the
        // toolchain changed.
        static FOUND: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
        let selection = format!(
            "{}|{}|{:?}|{:?}",
            project_dir.display(),
            self.toolchain_state(),
            std::fs::read(project_dir.join("rust-toolchain.toml")).ok(),
            std::fs::read(project_dir.join("rust-toolchain")).ok(),
        );
        let found = || FOUND.lock().unwrap_or_else(|e| e.into_inner());
        if found().contains(&selection) {
            return Ok(());
        }
        self.ask_for_target(project_dir)?;
        found().push(selection);
        Ok(())
    }

    fn ask_for_target(&self, project_dir: &Path) -> anyhow::Result<()> {
        // Ask rustc from the project directory so a rust-toolchain.toml there is honoured.
        let mut rustc = ProcessBuilder::new(&self.rustc);
        rustc.args(["--print", "sysroot"]).cwd(project_dir);
        let tool = Tool {
            name: "rustc",
            missing: &|| Self::missing("rustc"),
        };
        let sysroot = PathBuf::from(tool.query(&rustc)?.stdout.trim());
        if sysroot.join("lib").join("rustlib").join(TARGET).is_dir() {
            Ok(())
        } else {
            Err(ToolchainError::MissingRustTarget.report())
        }
    }
}

impl Toolchain for RustToolchain {
    fn language(&self) -> Language {
        Language::Rust
    }

    fn version(&self, _ctx: &Context) -> anyhow::Result<String> {
        let mut cargo = ProcessBuilder::new(&self.cargo);
        cargo.arg("--version");
        Ok(self.cargo_tool().query(&cargo)?.stdout.trim().to_owned())
    }

    fn fingerprint(&self, _ctx: &Context) -> String {
        self.toolchain_state()
    }

    fn build(&self, project: &Project, ctx: &Context) -> anyhow::Result<BuiltComponent> {
        self.check_target(&project.dir)?;
        // WASI packages the project's WIT names but `wit/deps/` lacks (`wasi:nn`,
        // `wasi:keyvalue`, …) are supplied before wit-bindgen reads it, as for Go and Python;
        // a WIT error is left for wit-bindgen to report in the build's own output.
        if project.wit.is_dir() {
            let _ = crate::wit::WitPackage::load(&project.wit);
        }
        // Held until the artifacts are read: see `target_dir`.
        let target_dir = target_dir(&project.dir);
        let _lock = crate::fsutil::lock(&target_dir.join(".wcomp-build.lock"), || {})?;
        let manifest = project.dir.join("Cargo.toml");
        let claim = Claim::new(&target_dir, &manifest);
        claim.take_over();
        let mut cargo = ProcessBuilder::new(&self.cargo);
        cargo
            .args([
                "build",
                "--release",
                "--target",
                TARGET,
                "--message-format=json-render-diagnostics",
            ])
            .arg("--manifest-path")
            .arg(&manifest)
            .cwd(&project.dir);
        let mut artifacts = Vec::new();
        let collect = |line: &str| {
            if let Ok(Message::CompilerArtifact(artifact)) = serde_json::from_str::<Message>(line)
                && artifact.target.kind.contains(&TargetKind::CDyLib)
                && let Some(wasm) = artifact
                    .filenames
                    .iter()
                    .find(|f| f.extension() == Some("wasm"))
            {
                artifacts.push((
                    artifact.target.name.clone(),
                    wasm.clone().into_std_path_buf(),
                ));
            }
        };
        let built = self
            .cargo_tool()
            .build(&cargo, project, ctx, collect, as_printed);
        if built.is_err() {
            forget_rustc_probe(&target_dir);
        }
        built?;
        claim.record()?;
        if artifacts.is_empty() {
            return Err(ToolchainError::NoArtifact {
                tool: "cargo".into(),
                project: project.dir.display().to_string(),
                advice: "a Rust component is a library with `crate-type = [\"cdylib\"]` under `[lib]` in Cargo.toml".into(),
            }
            .report());
        }

        // The crate's target name uses `_`; people named the package with `-`.
        let mut artifacts: Vec<(String, PathBuf)> = artifacts
            .into_iter()
            .map(|(target, path)| (target.replace('_', "-"), path))
            .collect();
        let index = match artifacts.iter().position(|(name, _)| *name == project.name) {
            Some(index) => index,
            None if artifacts.len() == 1 => 0,
            None => {
                return Err(ToolchainError::SeveralArtifacts {
                    project: project.dir.display().to_string(),
                    names: artifacts
                        .iter()
                        .map(|(name, _)| format!("`{name}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                }
                .report());
            }
        };
        let (name, path) = artifacts.swap_remove(index);
        let bytes = fs_err::read(&path)?;
        install_component(
            project,
            &name,
            &bytes,
            "build for `wasm32-wasip2` with `wit-bindgen` generating the bindings (`wit_bindgen::generate!`)",
        )
    }
}

/// The cargo target directory of a build in `project_dir`. wcomp locks it for one
/// build-and-copy: cargo releases its own lock when it exits, and a cdylib's file name carries
/// no hash, so two projects sharing a `CARGO_TARGET_DIR` with same-named crates could
/// otherwise overwrite each other's `.wasm` between cargo finishing and wcomp reading it (and
/// see [`Claim`]).
fn target_dir(project_dir: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => project_dir.join(dir),
        None => project_dir.join("target"),
    }
}

/// Which project last built a crate's component in a target directory. A cdylib's file name
/// carries no hash, so projects with same-named crates that share a `CARGO_TARGET_DIR` write
/// the same `<name>.wasm`, and cargo, finding that file newer than a project's sources, would
/// take the other project's component as this one's, up to date. So wcomp records the owner of
/// each artifact beside it, and when another project built it last, removes it first: cargo
/// builds it again, and the dependencies both share stay compiled.
struct Claim {
    /// `<target>/wasm32-wasip2/release`.
    release: PathBuf,
    /// The file name of the artifact without `.wasm` (`my_crate`), when the manifest says.
    stem: Option<String>,
    /// The project's manifest, as recorded.
    owner: String,
}

impl Claim {
    fn new(target_dir: &Path, manifest: &Path) -> Self {
        Self {
            release: target_dir.join(TARGET).join("release"),
            stem: artifact_stem(manifest),
            owner: std::fs::canonicalize(manifest)
                .unwrap_or_else(|_| manifest.to_owned())
                .display()
                .to_string(),
        }
    }

    fn owner_file(&self, stem: &str) -> PathBuf {
        self.release.join(format!(".wcomp-owner-{stem}"))
    }

    /// Removes the artifact when another project (or an unknown one) built it last.
    fn take_over(&self) {
        let Some(stem) = &self.stem else { return };
        let recorded = std::fs::read_to_string(self.owner_file(stem)).ok();
        if recorded.as_deref() == Some(self.owner.as_str()) {
            return;
        }
        let file = format!("{stem}.wasm");
        for path in [
            self.release.join(&file),
            self.release.join("deps").join(&file),
        ] {
            let _ = std::fs::remove_file(path);
        }
    }

    /// Records this project as the artifact's owner, after a successful build.
    fn record(&self) -> anyhow::Result<()> {
        match &self.stem {
            Some(stem) if self.release.is_dir() => {
                crate::fsutil::write(&self.owner_file(stem), self.owner.as_bytes())
            }
            _ => Ok(()),
        }
    }
}

/// The file name cargo gives the crate's cdylib, without `.wasm`: `[lib] name`, or the package
/// name with `-` as `_`.
fn artifact_stem(manifest: &Path) -> Option<String> {
    let table: toml::Table = fs_err::read_to_string(manifest).ok()?.parse().ok()?;
    let name = table
        .get("lib")
        .and_then(|lib| lib.get("name"))
        .or_else(|| table.get("package")?.get("name"))?
        .as_str()?;
    Some(name.replace('-', "_"))
}

/// After a failed build, drops what cargo remembers of probing rustc (`.rustc_info.json`):
/// cargo keeps a failed probe as long as rustc is unchanged, so one broken run (a damaged
/// `/dev/null` made `rustc -` read garbage) would otherwise fail every later build in that
/// target directory. cargo probes again, in a few milliseconds, on the next build.
fn forget_rustc_probe(target_dir: &Path) {
    let _ = std::fs::remove_file(target_dir.join(".rustc_info.json"));
}
