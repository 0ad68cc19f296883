//! Build script: embeds the Go sources of `go.bytecodealliance.org/pkg` that ship inside the
//! `wit-bindgen-go` crate, so `wcomp build` can build Go components when the Go module proxy
//! cannot supply that module (offline machines, filtered proxies, `GOPROXY=off`). The crate
//! keeps them in `src/pkg/` without exposing them, so the script asks cargo where the crate
//! that wcomp links against lives; the files are embedded, never copied into this repository.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=Cargo.toml");
    let manifest_dir = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    );
    let lock = manifest_dir.parent().map(|root| root.join("Cargo.lock"));
    if let Some(lock) = lock.filter(|lock| lock.is_file()) {
        println!("cargo::rerun-if-changed={}", lock.display());
    }

    let pkg_dir = wit_bindgen_go_dir(&manifest_dir).join("src").join("pkg");
    let mut files = Vec::new();
    collect(&pkg_dir, &pkg_dir.join("wit"), &mut files);
    files.sort();
    assert!(
        files
            .iter()
            .any(|(relative, _)| relative == "wit/runtime/runtime.go"),
        "`{}` does not hold the Go runtime sources (wit/runtime/runtime.go)",
        pkg_dir.display()
    );

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

/// The source directory of the `wit-bindgen-go` package in this build's dependency graph.
fn wit_bindgen_go_dir(manifest_dir: &Path) -> PathBuf {
    let target = std::env::var("TARGET").expect("cargo sets TARGET");
    let metadata = cargo_metadata::MetadataCommand::new()
        .manifest_path(manifest_dir.join("Cargo.toml"))
        // Only the packages of the platform being built for are downloaded; asking about
        // others would fail offline.
        .other_options(vec![
            "--offline".to_owned(),
            "--filter-platform".to_owned(),
            target,
        ])
        .exec()
        .expect("`cargo metadata` failed; it locates the wit-bindgen-go sources");
    let package = metadata
        .packages
        .iter()
        .find(|package| package.name.as_str() == "wit-bindgen-go")
        .expect("wit-bindgen-go is a dependency of wcomp");
    package
        .manifest_path
        .parent()
        .expect("a manifest path has a parent")
        .as_std_path()
        .to_owned()
}

/// Go sources (`.go`, `.s`) under `dir`, relative to `root` with `/` separators; tests skipped.
fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|err| panic!("cannot read `{}`: {err}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
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
        if is_source {
            let relative = path.strip_prefix(root).expect("collected under root");
            let relative = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            files.push((relative, path));
        }
    }
}
