//! Rust components: cargo with `--target wasm32-wasip2` and wit-bindgen. A `cdylib` built for
//! that target is already a component, so wcomp only locates the artifact through cargo's
//! JSON messages, validates it and copies it into place.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use cargo_metadata::{Message, TargetKind};

use super::{
    BuiltComponent, Language, ProcessBuilder, ProcessError, Project, ToolOutput, Toolchain,
    ToolchainError,
};
use crate::Context;
use crate::diagnostic::Report as _;

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

    /// Fails with the `rustup target add` hint when the wasm32-wasip2 standard library is absent.
    pub fn check_target(&self, project_dir: &Path) -> anyhow::Result<()> {
        // Ask rustc from the project directory so a rust-toolchain.toml there is honoured.
        let mut rustc = ProcessBuilder::new(&self.rustc);
        rustc.args(["--print", "sysroot"]).cwd(project_dir);
        let sysroot = match rustc.output() {
            Ok(out) => PathBuf::from(out.stdout.trim()),
            Err(ProcessError::NotFound { .. }) => return Err(Self::missing("rustc").report()),
            Err(err) => return Err(err).context("cannot ask rustc for its sysroot"),
        };
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
        match ProcessBuilder::new(&self.cargo).arg("--version").output() {
            Ok(out) => Ok(out.stdout.trim().to_owned()),
            Err(ProcessError::NotFound { .. }) => Err(Self::missing("cargo").report()),
            Err(err) => Err(err.into()),
        }
    }

    fn fingerprint(&self, _ctx: &Context) -> String {
        // rustup's proxies stay put when toolchains change; its settings and toolchain
        // directory do not.
        let rustup_home = std::env::var_os("RUSTUP_HOME")
            .map(PathBuf::from)
            .or_else(|| dirs::home_dir().map(|home| home.join(".rustup")));
        let mut parts = vec![
            super::file_fingerprint(&self.cargo),
            super::file_fingerprint(&self.rustc),
        ];
        if let Some(home) = rustup_home {
            parts.push(super::file_fingerprint(&home.join("settings.toml")));
            parts.push(super::file_fingerprint(&home.join("toolchains")));
        }
        parts.push(std::env::var("RUSTUP_TOOLCHAIN").unwrap_or_default());
        parts.join("|")
    }

    fn build(&self, project: &Project, ctx: &Context) -> anyhow::Result<BuiltComponent> {
        self.check_target(&project.dir)?;
        // Held until the artifacts are read: see `lock_target_dir`.
        let _lock = lock_target_dir(&project.dir)?;
        let manifest = project.dir.join("Cargo.toml");
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
        ctx.printer.verbose(format_args!("running `{cargo}`"));

        let mut artifacts = Vec::new();
        let result = cargo.run_streaming(|line| {
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
        });
        let output = match result {
            Ok(output) => output,
            Err(ProcessError::NotFound { .. }) => return Err(Self::missing("cargo").report()),
            Err(err @ ProcessError::Failed { .. }) => {
                return Err(ToolchainError::BuildFailed {
                    tool: "cargo".into(),
                    project: project.dir.display().to_string(),
                    output: ToolOutput::from_process(&err),
                }
                .report());
            }
            Err(err) => return Err(err.into()),
        };
        if !output.stderr.trim().is_empty() {
            ctx.printer
                .verbose(format_args!("cargo said:\n{}", output.stderr.trim_end()));
        }
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
        super::validate_component(
            &path,
            &bytes,
            "build for `wasm32-wasip2` with `wit-bindgen` generating the bindings (`wit_bindgen::generate!`)",
        )?;
        let dest = project.output_dir().join(format!("{name}.wasm"));
        crate::fsutil::write_atomic(&dest, &bytes)?;
        Ok(BuiltComponent {
            name,
            language: Language::Rust,
            path: dest,
            size: bytes.len() as u64,
        })
    }
}

/// Locks the cargo target directory for one build-and-copy. cargo releases its own lock when
/// it exits, and a cdylib's file name carries no hash, so two projects sharing a
/// `CARGO_TARGET_DIR` with same-named crates could otherwise overwrite each other's `.wasm`
/// between cargo finishing and wcomp reading it.
fn lock_target_dir(project_dir: &Path) -> anyhow::Result<fs_err::File> {
    let target_dir = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => project_dir.join(dir),
        None => project_dir.join("target"),
    };
    fs_err::create_dir_all(&target_dir)?;
    let lock = fs_err::File::create(target_dir.join(".wcomp-build.lock"))?;
    lock.file()
        .lock()
        .with_context(|| format!("cannot lock `{}`", target_dir.display()))?;
    Ok(lock)
}
