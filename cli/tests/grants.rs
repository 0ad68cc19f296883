//! Capabilities granted per component inside a composition, with real Go and Python members:
//! the Go probe is allowed one environment variable and one directory, the Python front it
//! serves is allowed nothing, and each sees only its own.

// Tests write their fixtures directly; wcomp itself writes only through `fsutil`.
#![allow(clippy::disallowed_methods)]

mod support;

use std::path::Path;

use support::{Run, repo_root, run, tempdir, wcomp};

/// A workspace of `tests/e2e/grants/`: the Go `probe` (world `go-side`) under the Python
/// `front` (world `py-side`), with `allow` for the probe as given.
fn workspace(dir: &Path, allow: &str) -> std::path::PathBuf {
    run(dir, &["new", "ws", "--workspace"]).success();
    let ws = dir.join("ws");
    let fixtures = repo_root().join("tests/e2e/grants");
    std::fs::remove_file(ws.join("wit/world.wit")).unwrap();
    std::fs::copy(fixtures.join("grants.wit"), ws.join("wit/grants.wit")).unwrap();
    run(&ws, &["new", "probe", "--lang", "go", "--world", "go-side"]).success();
    run(
        &ws,
        &["new", "front", "--lang", "python", "--world", "py-side"],
    )
    .success();
    std::fs::copy(
        fixtures.join("probe.go"),
        ws.join("probe/export_test_grants_probe/probe.go"),
    )
    .unwrap();
    std::fs::copy(fixtures.join("app.py"), ws.join("front/app.py")).unwrap();
    let manifest = std::fs::read_to_string(ws.join("wcomp.toml")).unwrap();
    let manifest = manifest
        .replace("# root = \"<component>\"", "root = \"front\"")
        .replace(
            "world = \"go-side\"\n",
            &format!("world = \"go-side\"\nallow = {allow}\n"),
        );
    std::fs::write(ws.join("wcomp.toml"), manifest).unwrap();
    std::fs::create_dir_all(ws.join("data")).unwrap();
    std::fs::write(ws.join("data/hello.txt"), "hello from data").unwrap();
    ws
}

fn run_with_env(ws: &Path, args: &[&str]) -> Run {
    Run::from_output(
        wcomp(ws)
            .env("GREETING", "hi")
            .env("SECRET", "hunter2")
            .args(args)
            .output()
            .unwrap(),
    )
}

#[test]
fn each_member_reaches_only_what_it_was_granted() {
    let temp = tempdir();
    let ws = workspace(temp.path(), r#"["env:GREETING", "fs:data::/data"]"#);

    // The run grants what the members ask for together (`GREETING` from this environment,
    // `data/` as `/data`), and only the probe reaches it: Python's environment is empty and
    // its open fails, while Go reads the variable and the file; `SECRET` was granted to no one.
    let out = run_with_env(&ws, &["-q", "run", "--invoke", "report()"]).success();
    assert_eq!(
        out.stdout.trim_end(),
        r#""python: env [], file \"error: [Errno 44] No such file or directory: \'/data/hello.txt\'\"; go: GREETING=hi, SECRET=<unset>, file \'hello from data\'""#
    );

    // `--explain` says what each was granted and what the front was denied, and how.
    let explain = run_with_env(&ws, &["compose", "--explain"])
        .success()
        .stdout;
    assert!(
        explain.contains("probe\n  granted: env:GREETING, fs:data::/data\n"),
        "{explain}"
    );
    assert!(
        explain.contains("  granted nothing beyond clocks, random and stdio\n"),
        "{explain}"
    );
    for line in [
        "denied (not granted `env`): get-arguments empty, get-environment empty",
        "denied (not granted `fs`): get-directories empty",
        "denied (not granted `net`): create-tcp-socket err(access-denied)",
    ] {
        assert!(explain.contains(line), "{line}\n{explain}");
    }
    let graph = run_with_env(&ws, &["-q", "graph"]).success().stdout;
    assert!(
        graph.contains("allowed env:GREETING, fs:data::/data"),
        "{graph}"
    );
    assert!(graph.contains("n_front -.-x|"), "{graph}");

    // The same grants hold for `wcomp test`.
    let manifest = std::fs::read_to_string(ws.join("wcomp.toml")).unwrap();
    let case = format!(
        "\n[[test]]\nname = \"only the probe sees its grants\"\ninvoke = \"report()\"\nexpect = '''{}'''\n",
        out.stdout.trim_end()
    );
    std::fs::write(ws.join("wcomp.toml"), manifest + &case).unwrap();
    let tested = run_with_env(&ws, &["test"]).success();
    assert!(
        tested.stdout.contains("1 passed, 0 failed"),
        "{}",
        tested.stdout
    );
}
