//! The command-line surface: clap's own consistency check and `wcomp new`'s refusals.

mod support;

use clap::CommandFactory;
use support::{run, snapshot_tree, tempdir};

#[test]
fn verify_cli() {
    wcomp::cli::Cli::command().debug_assert();
}

#[test]
fn new_refuses_a_non_empty_directory_and_changes_nothing() {
    let temp = tempdir();
    let dir = temp.path().join("taken");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("Cargo.toml"), "precious = true\n").unwrap();
    std::fs::write(dir.join("src/lib.rs"), "// mine\n").unwrap();
    let before = snapshot_tree(temp.path());

    let out = run(temp.path(), &["new", "taken", "--lang", "rust"]).failure(1);
    assert!(
        out.stderr
            .contains("error: destination `taken` already exists and is not empty"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("hint: choose a new directory name"),
        "{}",
        out.stderr
    );
    assert_eq!(snapshot_tree(temp.path()), before);
}

#[test]
fn new_creates_an_example_project() {
    let temp = tempdir();
    run(temp.path(), &["new", "hello", "--lang", "rust"]).success();
    let dir = temp.path().join("hello");
    let cargo = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    assert!(cargo.contains("name = \"hello\""), "{cargo}");
    assert!(cargo.contains("crate-type = [\"cdylib\"]"), "{cargo}");
    let lib = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap();
    assert!(
        lib.contains(r#"wit_bindgen::generate!({ world: "hello", path: "wit" });"#),
        "{lib}"
    );
    let wit = std::fs::read_to_string(dir.join("wit/world.wit")).unwrap();
    assert!(wit.contains("package example:hello@0.1.0;"), "{wit}");
    assert!(dir.join(".gitignore").is_file());
    // Nothing is left behind in the parent: no staging directories.
    let siblings: Vec<_> = std::fs::read_dir(temp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(siblings, vec![std::ffi::OsString::from("hello")]);
}

#[test]
fn new_rejects_invalid_names() {
    let temp = tempdir();
    let out = run(temp.path(), &["new", "2fast", "--lang", "rust"]).failure(1);
    assert!(
        out.stderr
            .contains("invalid project name: `2fast` must start with a letter"),
        "{}",
        out.stderr
    );
    let out = run(
        temp.path(),
        &["new", "ok", "--name", "std", "--lang", "rust"],
    )
    .failure(1);
    assert!(
        out.stderr.contains("`std` is a reserved name"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read_dir(temp.path()).unwrap().count(), 0);
}

#[test]
fn new_lists_worlds_when_the_world_is_unknown() {
    let temp = tempdir();
    std::fs::write(
        temp.path().join("api.wit"),
        "package acme:api;\ninterface a { f: func(); }\nworld one { export a; }\nworld two { import a; }\n",
    )
    .unwrap();
    let out = run(
        temp.path(),
        &[
            "new", "thing", "--lang", "rust", "--wit", "api.wit", "--world", "three",
        ],
    )
    .failure(1);
    assert!(
        out.stderr
            .contains("package `acme:api` has no world named `three`"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("worlds in `acme:api`: `one`, `two`"),
        "{}",
        out.stderr
    );
    let out = run(
        temp.path(),
        &["new", "thing", "--lang", "rust", "--wit", "api.wit"],
    )
    .failure(1);
    assert!(
        out.stderr
            .contains("pass `--world <name>`; worlds: `one`, `two`"),
        "{}",
        out.stderr
    );
    assert!(!temp.path().join("thing").exists());
}

#[test]
fn new_points_at_malformed_wit() {
    let temp = tempdir();
    std::fs::write(
        temp.path().join("bad.wit"),
        "package acme:bad;\n\ninterface a {\n    f: func(x: strin);\n}\n",
    )
    .unwrap();
    let out = run(
        temp.path(),
        &["new", "thing", "--lang", "rust", "--wit", "bad.wit"],
    )
    .failure(1);
    assert!(out.stderr.contains("bad.wit:4:16"), "{}", out.stderr);
    assert!(out.stderr.contains("strin"), "{}", out.stderr);
    assert!(!temp.path().join("thing").exists());
}

#[test]
fn completions_are_generated() {
    let temp = tempdir();
    let out = run(temp.path(), &["completions", "bash"]).success();
    assert!(out.stdout.contains("wcomp"), "{}", out.stdout);
}
