//! `wcomp compose --explain` and composition errors in WIT terms: two components built from
//! different versions of one WIT package, whose record types disagree.

// Tests write their fixtures directly; wcomp itself writes only through `fsutil`.
#![allow(clippy::disallowed_methods)]

mod support;

use std::path::Path;

use support::{repo_root, run, tempdir};

/// A Rust component implementing `world` from the fixture WIT, edited by `edit`.
fn component(dir: &Path, name: &str, edit: impl Fn(&str) -> String) {
    let wit = edit(&std::fs::read_to_string(repo_root().join("tests/e2e/text/text.wit")).unwrap());
    let wit_file = dir.join(format!("{name}.wit"));
    std::fs::write(&wit_file, wit).unwrap();
    run(
        dir,
        &[
            "new",
            name,
            "--lang",
            "rust",
            "--wit",
            wit_file.to_str().unwrap(),
            "--world",
            name,
        ],
    )
    .success();
    std::fs::copy(
        repo_root().join(format!("tests/e2e/text/{name}.rs")),
        dir.join(name).join("src/lib.rs"),
    )
    .unwrap();
    run(dir, &["build", name]).success();
}

#[test]
fn type_mismatch_across_package_versions_is_explained_in_wit_terms() {
    let temp = tempdir();
    let dir = temp.path();
    // The analyzer implements 1.1.0, where `longest` is a string; the reporter was built
    // against 1.0.0, where it was a number. The names are semver-compatible, the types not.
    component(dir, "analyzer", |wit| wit.replace("@0.1.0", "@1.1.0"));
    component(dir, "reporter", |wit| {
        wit.replace("@0.1.0", "@1.0.0")
            .replace("longest: string", "longest: u32")
    });

    let out = run(
        dir,
        &[
            "compose",
            "reporter/target/wcomp/reporter.wasm",
            "--plug",
            "analyzer/target/wcomp/analyzer.wasm",
            "-o",
            "app.wasm",
        ],
    )
    .failure(1);
    assert!(
        out.stderr.contains(
            "error: plug `analyzer` satisfies no import of the socket or of the other plugs"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("`reporter` import `acme:text/stats@1.0.0` does not fit: `summary`, field `longest`: `string` in `analyzer`, `u32` in `reporter`"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("resource id"), "{}", out.stderr);

    // In a workspace the import stays open, and --explain says why.
    std::fs::write(dir.join("wcomp.toml"), "[workspace]\nname = \"mixed\"\nwit = \"analyzer/wit\"\n\n[component.analyzer]\nlang = \"rust\"\n\n[component.reporter]\nlang = \"rust\"\n\n[compose]\nroot = \"reporter\"\n").unwrap();
    let out = run(dir, &["compose", "--explain"]).success();
    assert!(
        out.stdout
            .contains("reporter (root: its exports are the composition's exports)\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("  import `acme:text/stats@1.0.0`: left as an import of the composition: the only export of that name (from `analyzer`) has an incompatible type\n      rejected `analyzer`: `summary`, field `longest`: `string` in `analyzer`, `u32` in `reporter`\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr
            .contains("warning: `reporter` import `acme:text/stats@1.0.0` stays an import"),
        "{}",
        out.stderr
    );

    let out = run(dir, &["--format", "json", "compose", "--explain"]).success();
    let explain: serde_json::Value = serde_json::from_str(
        out.stdout
            .lines()
            .find(|l| l.contains("\"explain\""))
            .unwrap(),
    )
    .unwrap();
    let import = &explain["instances"][0]["imports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "acme:text/stats@1.0.0")
        .unwrap()
        .clone();
    assert_eq!(import["status"], "import");
    assert_eq!(import["rejected"][0]["exporter"], "analyzer");
}
