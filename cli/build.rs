//! Build script: embeds files that ship inside two dependencies without being exposed by them,
//! so they are embedded here rather than copied into this repository:
//!
//! - the Go sources of `go.bytecodealliance.org/pkg` in the `wit-bindgen-go` crate, so
//!   `wcomp build` can build Go components when the Go module proxy cannot supply that module
//!   (offline machines, filtered proxies, `GOPROXY=off`);
//! - the WASI 0.2 and 0.3 WIT packages (`wasi:http`, `wasi:io`, `wasi:cli`, …) in the
//!   `wasmtime-wasi-http` crate, the exact versions the embedded runtime serves, for the HTTP
//!   templates;
//! - the `wasi:keyvalue` and `wasi:config` packages in the `wasmtime-wasi-keyvalue` and
//!   `wasmtime-wasi-config` crates, the versions the runtime links, for projects whose world
//!   includes them (`wcomp new --template http --with keyvalue,config`);
//! - the `wasi:nn` package in the `wasmtime-wasi-nn` crate (`wit/wasi-nn.wit`), the version
//!   `wcomp run` and `serve` link, for components that run models.
//!
//! The crates' sources are found where cargo unpacks them, without asking cargo about the
//! dependency graph: `cargo metadata --offline` needs every package of the graph downloaded,
//! dev-dependencies included, which `cargo build` and `cargo install` never do. Cargo has
//! unpacked every dependency before any build script runs, so one of these holds each:
//!
//! - `$WCOMP_<CRATE>_DIR` (`WCOMP_WIT_BINDGEN_GO_DIR`, `WCOMP_WASMTIME_WASI_HTTP_DIR`,
//!   `WCOMP_WASMTIME_WASI_KEYVALUE_DIR`, `WCOMP_WASMTIME_WASI_CONFIG_DIR`), when set (for
//!   unusual source layouts);
//! - a sibling of this package's directory (`cargo install wcomp`, vendored sources);
//! - `$CARGO_HOME/registry/src/<index>/` (a checkout built with cargo).
//!
//! When none does, wcomp is built without those files and says so if it ever needs them; the
//! build itself never fails here.
//!
//! It also links the `wcomp` binary as a position-dependent executable on Linux ([`link_fixed`]).

// Writes into cargo's `OUT_DIR` only, which cargo owns; wcomp's own file writer is not
// available to a build script.
#![allow(clippy::disallowed_methods)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The `wit-bindgen-go` release wcomp depends on (pinned with `=` in the workspace manifest).
const WIT_BINDGEN_GO_VERSION: &str = "0.63.0";
/// The `wasmtime-wasi-http` release wcomp depends on (pinned with `=` in the workspace manifest).
const WASMTIME_WASI_HTTP_VERSION: &str = "48.0.8";
/// The `wasmtime-wasi-keyvalue` release wcomp depends on (pinned with `=` in the workspace manifest).
const WASMTIME_WASI_KEYVALUE_VERSION: &str = "48.0.8";
/// The `wasmtime-wasi-config` release wcomp depends on (pinned with `=` in the workspace manifest).
const WASMTIME_WASI_CONFIG_VERSION: &str = "48.0.8";
/// The `wasmtime-wasi-nn` release wcomp depends on (pinned with `=` in the workspace manifest).
const WASMTIME_WASI_NN_VERSION: &str = "48.0.8";

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    let manifest_dir = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    );
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    embed_go_runtime(&manifest_dir, &out_dir);
    embed_wasi_wit(&manifest_dir, &out_dir);
    link_fixed();
}

/// Links the `wcomp` binary at a fixed address (`-no-pie`) on Linux with glibc. As a
/// position-independent executable its ~95,000 pointers in read-only data are relocated by the
/// dynamic loader at every start: about 350 pages written (each a copy-on-write fault of the
/// binary's file) and 2 MB of relocation records read, a third of the CPU time of a warm
/// `wcomp run`. At a fixed address the linker resolves them once. The code is compiled as
/// before (position-independent, so nothing else is rebuilt); only address randomisation of
/// the binary itself is given up (its libraries, heap and stacks are still randomised).
fn link_fixed() {
    let var = |name| std::env::var(name).unwrap_or_default();
    if var("CARGO_CFG_TARGET_OS") == "linux" && var("CARGO_CFG_TARGET_ENV") == "gnu" {
        println!("cargo::rustc-link-arg-bins=-no-pie");
    }
}

/// `GO_RUNTIME_FILES`: the Go runtime module's sources, by path in the module.
fn embed_go_runtime(manifest_dir: &Path, out_dir: &Path) {
    let mut files = Vec::new();
    let found = candidates(manifest_dir, "wit-bindgen-go", WIT_BINDGEN_GO_VERSION)
        .into_iter()
        .map(|dir| dir.join("src").join("pkg"))
        .find(|pkg| pkg.join("wit").join("runtime").join("runtime.go").is_file());
    match &found {
        Some(pkg_dir) => {
            collect(pkg_dir, &pkg_dir.join("wit"), &mut files);
            files.sort();
        }
        None => println!(
            "cargo::warning=the sources of wit-bindgen-go {WIT_BINDGEN_GO_VERSION} were not found; wcomp is built without its bundled copy of the Go runtime module (set WCOMP_WIT_BINDGEN_GO_DIR to the crate's directory to include it)"
        ),
    }

    let mut out = String::from(
        "/// Files of the Go runtime module shipped with wit-bindgen-go: (path in module, contents).\n",
    );
    out.push_str("pub const GO_RUNTIME_FILES: &[(&str, &[u8])] = &[\n");
    for (relative, path) in &files {
        println!("cargo::rerun-if-changed={}", path.display());
        let _ = writeln!(
            out,
            "    ({relative:?}, include_bytes!({:?})),",
            path.display().to_string()
        );
    }
    out.push_str("];\n");
    std::fs::write(out_dir.join("go_runtime.rs"), out).expect("cannot write go_runtime.rs");
}

/// `WASI_WIT` and `WASI_P3_WIT`: the WASI 0.2 and 0.3 packages the embedded runtime
/// implements, as `(file name, text)` of each `wit/deps/*.wit` (0.2) and `src/p3/wit/deps/*.wit`
/// (0.3) of `wasmtime-wasi-http`.
fn embed_wasi_wit(manifest_dir: &Path, out_dir: &Path) {
    let crate_dir = candidates(
        manifest_dir,
        "wasmtime-wasi-http",
        WASMTIME_WASI_HTTP_VERSION,
    )
    .into_iter()
    .find(|dir| dir.join("wit").join("deps").join("http.wit").is_file());
    if crate_dir.is_none() {
        println!(
            "cargo::warning=the sources of wasmtime-wasi-http {WASMTIME_WASI_HTTP_VERSION} were not found; wcomp is built without the WASI WIT its HTTP templates use (set WCOMP_WASMTIME_WASI_HTTP_DIR to the crate's directory to include it)"
        );
    }
    let mut out =
        String::from("/// The WASI WIT packages of wasmtime-wasi-http: (file name, contents).\n");
    let p2 = crate_dir.as_ref().map(|dir| dir.join("wit").join("deps"));
    write_wit_files(&mut out, "WASI_WIT", p2.as_deref());
    let p3 = crate_dir
        .as_ref()
        .map(|dir| dir.join("src").join("p3").join("wit").join("deps"))
        .filter(|deps| deps.join("http.wit").is_file());
    if crate_dir.is_some() && p3.is_none() {
        println!(
            "cargo::warning=wasmtime-wasi-http {WASMTIME_WASI_HTTP_VERSION} has no `src/p3/wit/deps`; wcomp is built without the WASI 0.3 WIT its HTTP templates use"
        );
    }
    write_wit_files(&mut out, "WASI_P3_WIT", p3.as_deref());
    for (crate_name, version, package, constant) in [
        (
            "wasmtime-wasi-keyvalue",
            WASMTIME_WASI_KEYVALUE_VERSION,
            "keyvalue",
            "KEYVALUE_WIT",
        ),
        (
            "wasmtime-wasi-config",
            WASMTIME_WASI_CONFIG_VERSION,
            "config",
            "CONFIG_WIT",
        ),
    ] {
        let deps = package_wit_dir(manifest_dir, crate_name, version, package);
        write_wit_files(&mut out, constant, deps.as_deref());
    }
    // `wasi:nn` is one file, `wit/wasi-nn.wit`, in its crate.
    let nn = candidates(manifest_dir, "wasmtime-wasi-nn", WASMTIME_WASI_NN_VERSION)
        .into_iter()
        .map(|dir| dir.join("wit"))
        .find(|dir| dir.join("wasi-nn.wit").is_file());
    if nn.is_none() {
        println!(
            "cargo::warning=the sources of wasmtime-wasi-nn {WASMTIME_WASI_NN_VERSION} were not found; wcomp is built without the `wasi:nn` WIT its scaffolds use (set WCOMP_WASMTIME_WASI_NN_DIR to the crate's directory to include it)"
        );
    }
    write_wit_files(&mut out, "NN_WIT", nn.as_deref());
    std::fs::write(out_dir.join("wasi_wit.rs"), out).expect("cannot write wasi_wit.rs");
}

/// `wit/deps/<package>/` of `crate_name` at `version` (where wasmtime's `wasi-*` crates keep the
/// WASI package they implement), or a warning and `None` when its sources are not found.
fn package_wit_dir(
    manifest_dir: &Path,
    crate_name: &str,
    version: &str,
    package: &str,
) -> Option<PathBuf> {
    let found = candidates(manifest_dir, crate_name, version)
        .into_iter()
        .map(|dir| dir.join("wit").join("deps").join(package))
        .find(|dir| dir.join("world.wit").is_file());
    if found.is_none() {
        let variable = format!("WCOMP_{}_DIR", crate_name.to_uppercase().replace('-', "_"));
        println!(
            "cargo::warning=the sources of {crate_name} {version} were not found; wcomp is built without the `wasi:{package}` WIT its scaffolds use (set {variable} to the crate's directory to include it)"
        );
    }
    found
}

/// `pub const <name>: &[(&str, &str)]` listing the `.wit` files of `deps`, sorted by name.
fn write_wit_files(out: &mut String, name: &str, deps: Option<&Path>) {
    let mut files: Vec<PathBuf> = deps
        .map(|deps| {
            std::fs::read_dir(deps)
                .into_iter()
                .flatten()
                .flatten()
                .map(|entry| entry.path())
                .filter(|path| path.extension().is_some_and(|e| e == "wit"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let _ = writeln!(out, "pub const {name}: &[(&str, &str)] = &[");
    for path in &files {
        println!("cargo::rerun-if-changed={}", path.display());
        let file = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "    ({file:?}, include_str!({:?})),",
            path.display().to_string()
        );
    }
    out.push_str("];\n");
}

/// Directories that may hold package `name` at `version`, most specific first.
fn candidates(manifest_dir: &Path, name: &str, version: &str) -> Vec<PathBuf> {
    let versioned = format!("{name}-{version}");
    let variable = format!("WCOMP_{}_DIR", name.to_uppercase().replace('-', "_"));
    println!("cargo::rerun-if-env-changed={variable}");
    let mut dirs = Vec::new();
    if let Some(dir) = std::env::var_os(&variable) {
        dirs.push(PathBuf::from(dir));
    }
    if let Some(parent) = manifest_dir.parent() {
        dirs.push(parent.join(&versioned));
        dirs.push(parent.join(name));
    }
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")));
    if let Some(registry) = cargo_home.map(|home| home.join("registry").join("src")) {
        let mut indexes: Vec<PathBuf> = std::fs::read_dir(&registry)
            .into_iter()
            .flatten()
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .collect();
        indexes.sort();
        dirs.extend(indexes.into_iter().map(|index| index.join(&versioned)));
    }
    dirs
}

/// Go sources (`.go`, `.s`) under `dir`, relative to `root` with `/` separators; tests skipped.
fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, files);
            continue;
        }
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let is_source =
            name.ends_with(".s") || (name.ends_with(".go") && !name.ends_with("_test.go"));
        if is_source && let Ok(relative) = path.strip_prefix(root) {
            let relative = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            files.push((relative, path));
        }
    }
}
