//! The command-line surface: clap's own consistency check and `wcomp new`'s refusals.

// Tests write their fixtures directly; wcomp itself writes only through `fsutil`.
#![allow(clippy::disallowed_methods)]

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
        lib.contains(r#"wit_bindgen::generate!({ world: "hello", path: "wit", generate_all });"#),
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

/// Completes `line` with the generated bash script, in a real bash: what a user's shell does
/// on Tab.
fn bash_complete(script: &std::path::Path, words: &[&str]) -> Vec<String> {
    let words = words
        .iter()
        .map(|w| format!("'{w}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let program = format!(
        "source '{}'; COMP_WORDS=({words}); COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 )); COMP_LINE=\"${{COMP_WORDS[*]}}\"; COMP_POINT=${{#COMP_LINE}}; _wcomp wcomp \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display()
    );
    let out = std::process::Command::new("bash")
        .args(["--norc", "-c", &program])
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn completions_complete_subcommands_and_their_flags_in_a_real_shell() {
    let temp = tempdir();
    let out = run(temp.path(), &["completions", "bash"]).success();
    let script = temp.path().join("wcomp.bash");
    std::fs::write(&script, &out.stdout).unwrap();

    let subcommands = bash_complete(&script, &["wcomp", "b"]);
    assert!(subcommands.contains(&"build".to_owned()), "{subcommands:?}");
    assert!(subcommands.contains(&"bench".to_owned()), "{subcommands:?}");
    assert!(!subcommands.contains(&"run".to_owned()), "{subcommands:?}");
    let flags = bash_complete(&script, &["wcomp", "run", "--"]);
    for flag in [
        "--invoke",
        "--allow-net",
        "--timeout",
        "--max-memory",
        "--format",
    ] {
        assert!(
            flags.contains(&flag.to_owned()),
            "{flag} missing from {flags:?}"
        );
    }
    assert!(!flags.contains(&"--plug".to_owned()), "{flags:?}");
    let values = bash_complete(&script, &["wcomp", "graph", "--as", ""]);
    assert_eq!(values, ["mermaid", "dot", "svg"]);

    for (shell, marker) in [("zsh", "#compdef wcomp"), ("fish", "complete -c wcomp")] {
        let out = run(temp.path(), &["completions", shell]).success();
        assert!(out.stdout.contains(marker), "{shell}:\n{}", out.stdout);
        assert!(out.stdout.contains("allow-net"), "{shell}:\n{}", out.stdout);
    }
}

#[test]
fn usage_mistakes_are_the_users_and_picture_formats_point_at_as() {
    let temp = tempdir();
    let out = run(temp.path(), &["graph", "--format", "mermaid"]).failure(1);
    assert!(
        out.stderr.contains("invalid value 'mermaid' for '--format"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("`wcomp graph --as mermaid`"),
        "{}",
        out.stderr
    );
    run(temp.path(), &["--version"]).success();
    run(temp.path(), &["frobnicate"]).failure(1);
}

#[test]
fn a_closed_pipe_keeps_the_exit_status() {
    let temp = tempdir();
    let diff = support::repo_root().join("tests/wit/diff/field-type-changed");
    let old = diff.join("old.wit");
    let new = diff.join("new.wit");
    let args = ["wit", "diff", old.to_str().unwrap(), new.to_str().unwrap()];
    let open = run(temp.path(), &args);
    assert_eq!(open.code, Some(1), "{}{}", open.stdout, open.stderr);
    assert!(!open.stdout.is_empty());
    let closed = support::run_with_closed_stdout(temp.path(), &args);
    assert_eq!(closed.code, Some(1), "{}", closed.stderr);
    assert!(!closed.stderr.contains("panicked"), "{}", closed.stderr);
}

/// `--with` names the packages it takes when given another, goes with `--template http`
/// only, and is refused inside a workspace (a member has no WIT of its own to add them to);
/// nothing is written in any case.
#[test]
fn new_refuses_with_where_it_does_not_apply() {
    let temp = tempdir();
    let dir = temp.path();
    let http = ["new", "hello", "--lang", "go", "--template", "http"];
    let out = run(dir, &[&http[..], &["--with", "keyvalue,sql"]].concat()).failure(1);
    assert!(
        out.stderr
            .contains("invalid value 'sql' for '--with <PACKAGE>'"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("[possible values: keyvalue, config]"),
        "{}",
        out.stderr
    );
    let out = run(dir, &["new", "hello", "--lang", "go", "--with", "config"]).failure(1);
    assert!(
        out.stderr
            .contains("error: `--with` adds WASI packages to the world of `--template http`"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("include wasi:config/imports@0.2.0-rc.1;"),
        "{}",
        out.stderr
    );
    assert!(!dir.join("hello").exists());

    run(dir, &["new", "ws", "--workspace"]).success();
    let ws = dir.join("ws");
    let before = snapshot_tree(&ws);
    let out = run(&ws, &[&http[..], &["--with", "keyvalue"]].concat()).failure(1);
    assert!(
        out.stderr
            .contains("error: `--with` is not supported for workspace components yet"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("include wasi:keyvalue/imports@0.2.0-draft;"),
        "{}",
        out.stderr
    );
    assert_eq!(snapshot_tree(&ws), before);
}
