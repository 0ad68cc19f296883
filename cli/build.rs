//! Build script: embeds the Go sources of `go.bytecodealliance.org/pkg` that ship inside the
//! `wit-bindgen-go` crate, so `wcomp build` can build Go components when the Go module proxy
//! cannot supply that module (offline machines, filtered proxies, `GOPROXY=off`). The crate
//! keeps them in `src/pkg/` without exposing them; the files are embedded, never copied into
//! this repository.
//!
//! The crate's sources are found where cargo unpacks them, without asking cargo about the
//! dependency graph: `cargo metadata --offline` needs every package of the graph downloaded,
//! dev-dependencies included, which `cargo build` and `cargo install` never do. Cargo has
//! unpacked every dependency before any build script runs, so one of these holds it:
//!
//! - `$WCOMP_WIT_BINDGEN_GO_DIR`, when set (for unusual source layouts);
//! - a sibling of this package's directory (`cargo install wcomp`, vendored sources);
//! - `$CARGO_HOME/registry/src/<index>/` (a checkout built with cargo).
//!
//! When none does, wcomp is built without the bundled copy and says so if a Go build ever
//! needs it; the build itself never fails here.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The `wit-bindgen-go` release wcomp depends on (pinned with `=` in the workspace manifest).
const WIT_BINDGEN_GO_VERSION: &str = "0.63.0";

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=WCOMP_WIT_BINDGEN_GO_DIR");
    let manifest_dir = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    );

    let mut files = Vec::new();
    let found = candidates(&manifest_dir)
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
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out_dir.join("go_runtime.rs"), out).expect("cannot write go_runtime.rs");
}

/// Directories that may hold the `wit-bindgen-go` package, most specific first.
fn candidates(manifest_dir: &Path) -> Vec<PathBuf> {
    let versioned = format!("wit-bindgen-go-{WIT_BINDGEN_GO_VERSION}");
    let mut dirs = Vec::new();
    if let Some(dir) = std::env::var_os("WCOMP_WIT_BINDGEN_GO_DIR") {
        dirs.push(PathBuf::from(dir));
    }
    if let Some(parent) = manifest_dir.parent() {
        dirs.push(parent.join(&versioned));
        dirs.push(parent.join("wit-bindgen-go"));
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
