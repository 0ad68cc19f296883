//! Go components end to end with the real Go toolchain and cargo: scaffold, build, compose
//! with Rust components in both directions, run; plus the failures a Go user meets first.

// Tests write their fixtures directly; wcomp itself writes only through `fsutil`.
#![allow(clippy::disallowed_methods)]

mod support;

use std::path::{Path, PathBuf};

use support::server::{Reply, Server, curl, requests};
use support::text::{GO_ANALYZER, RENDERED, RUST_REPORTER_BODY};
use support::{Run, run, tempdir, wcomp};

/// One WIT package, two worlds: `analyzer` exports `stats`, `reporter` imports it and exports
/// `report`. Records, options, lists and results cross the component boundary.
const TEXT_WIT: &str = r#"package acme:text@0.1.0;

interface stats {
    record summary {
        words: u32,
        longest: option<string>,
        lengths: list<u32>,
    }
    analyze: func(text: string) -> summary;
}

interface report {
    render: func(text: string) -> result<string, string>;
}

world analyzer {
    export stats;
}

world reporter {
    import stats;
    export report;
}
"#;

const GO_REPORTER: &str = r#"package export_acme_text_report

import (
	"strconv"
	"strings"

	witTypes "go.bytecodealliance.org/pkg/wit/types"
	"wit_component/acme_text_stats"
)

func Render(text string) witTypes.Result[string, string] {
	summary := acme_text_stats.Analyze(text)
	if summary.Longest.IsNone() {
		return witTypes.Err[string, string]("no words")
	}
	lengths := make([]string, 0, len(summary.Lengths))
	for _, n := range summary.Lengths {
		lengths = append(lengths, strconv.Itoa(int(n)))
	}
	line := strconv.Itoa(int(summary.Words)) + " words, longest: " + summary.Longest.Some() +
		", lengths: " + strings.Join(lengths, ",")
	return witTypes.Ok[string, string](line)
}
"#;

const RUST_ANALYZER_BODY: &str = r#"let mut longest: Option<String> = None;
        for word in text.split_whitespace() {
            if longest.as_ref().is_none_or(|l| word.chars().count() > l.chars().count()) {
                longest = Some(word.to_owned());
            }
        }
        exports::acme::text::stats::Summary {
            words: text.split_whitespace().count() as u32,
            longest,
            lengths: text.split_whitespace().map(|w| w.chars().count() as u32).collect(),
        }"#;

#[test]
fn go_imports_from_rust_and_the_composition_runs() {
    let temp = tempdir();
    let dir = temp.path();
    let wit = write_wit(dir);
    new_rust(dir, &wit, "analyzer", RUST_ANALYZER_BODY);
    new_go(
        dir,
        &wit,
        "reporter",
        "export_acme_text_report/report.go",
        GO_REPORTER,
    );

    build(dir, "analyzer");
    let reporter = build(dir, "reporter");
    let composed = run(
        dir,
        &[
            "compose",
            &reporter,
            "--plug",
            "analyzer/target/wcomp/analyzer.wasm",
            "-o",
            "app.wasm",
        ],
    )
    .success();
    assert_eq!(
        composed.stdout.trim(),
        dir.join("app.wasm").display().to_string()
    );

    let out = run(
        dir,
        &[
            "run",
            "app.wasm",
            "--invoke",
            r#"render("Hello brave new world")"#,
        ],
    )
    .success();
    assert_eq!(out.stdout, RENDERED);
    let out = run(
        dir,
        &[
            "run",
            "app.wasm",
            "--invoke",
            r#"acme:text/report#render("   ")"#,
        ],
    )
    .success();
    assert_eq!(out.stdout, "err(\"no words\")\n");
}

#[test]
fn rust_imports_from_go_and_the_composition_runs() {
    let temp = tempdir();
    let dir = temp.path();
    let wit = write_wit(dir);
    new_go(
        dir,
        &wit,
        "analyzer",
        "export_acme_text_stats/stats.go",
        GO_ANALYZER,
    );
    new_rust(dir, &wit, "reporter", RUST_REPORTER_BODY);

    let analyzer = build(dir, "analyzer");
    build(dir, "reporter");
    // The Go component on its own: a record with an option and a list comes back.
    let out = run(
        dir,
        &[
            "run",
            &analyzer,
            "--invoke",
            r#"analyze("Hello brave new world")"#,
        ],
    )
    .success();
    assert_eq!(
        out.stdout,
        "{words: 4, longest: some(\"Hello\"), lengths: [5, 5, 3, 5]}\n"
    );
    let out = run(dir, &["run", &analyzer, "--invoke", r#"analyze("")"#]).success();
    // WAVE leaves out record fields that are `none`.
    assert_eq!(out.stdout, "{words: 0, lengths: []}\n");

    run(
        dir,
        &[
            "compose",
            "reporter/target/wcomp/reporter.wasm",
            "--plug",
            &analyzer,
            "-o",
            "app.wasm",
        ],
    )
    .success();
    let out = run(
        dir,
        &[
            "run",
            "app.wasm",
            "--invoke",
            r#"render("Hello brave new world")"#,
        ],
    )
    .success();
    assert_eq!(out.stdout, RENDERED);
}

/// The whole journey with nothing but Go and wcomp: two Go components, composed, run.
#[test]
fn two_go_components_compose_and_run() {
    let temp = tempdir();
    let dir = temp.path();
    let wit = write_wit(dir);
    new_go(
        dir,
        &wit,
        "analyzer",
        "export_acme_text_stats/stats.go",
        GO_ANALYZER,
    );
    new_go(
        dir,
        &wit,
        "reporter",
        "export_acme_text_report/report.go",
        GO_REPORTER,
    );
    let analyzer = build(dir, "analyzer");
    let reporter = build(dir, "reporter");
    run(
        dir,
        &["compose", &reporter, "--plug", &analyzer, "-o", "app.wasm"],
    )
    .success();
    let out = run(
        dir,
        &[
            "run",
            "app.wasm",
            "--invoke",
            r#"render("Hello brave new world")"#,
        ],
    )
    .success();
    assert_eq!(out.stdout, RENDERED);
}

/// Go components as workspace members: shared WIT, incremental builds, composition.
#[test]
fn go_components_in_a_workspace_build_incrementally_and_compose() {
    let temp = tempdir();
    let dir = temp.path();
    run(dir, &["new", "ws", "--workspace"]).success();
    let ws = dir.join("ws");
    std::fs::write(ws.join("wit/text.wit"), TEXT_WIT).unwrap();
    for entry in std::fs::read_dir(ws.join("wit")).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name() != Some("text.wit".as_ref()) {
            std::fs::remove_file(path).unwrap();
        }
    }
    for (name, user_file, code) in [
        ("analyzer", "export_acme_text_stats/stats.go", GO_ANALYZER),
        ("reporter", "export_acme_text_report/report.go", GO_REPORTER),
    ] {
        run(&ws, &["new", name, "--lang", "go", "--world", name]).success();
        let path = ws.join(name).join(user_file);
        assert!(path.is_file(), "no stub at `{}`", path.display());
        std::fs::write(path, code).unwrap();
        // The member keeps Go's own ignore list; the WIT stays shared.
        let gitignore = std::fs::read_to_string(ws.join(name).join(".gitignore")).unwrap();
        assert!(gitignore.contains("wit_bindings.go"), "{gitignore}");
        assert!(!ws.join(name).join("wit").exists());
    }
    run(&ws, &["build"]).success();
    // Regenerated bindings do not make the next build look stale.
    let again = run(&ws, &["build"]).success();
    assert!(
        again.stderr.contains("0 built, 2 fresh"),
        "{}",
        again.stderr
    );
    run(&ws, &["compose"]).success();
    let out = run(
        &ws,
        &["run", "--invoke", r#"render("Hello brave new world")"#],
    )
    .success();
    assert_eq!(out.stdout, RENDERED);
}

#[test]
fn go_example_builds_runs_and_rebuilds_without_touching_user_files() {
    let temp = tempdir();
    let dir = temp.path();
    run(dir, &["new", "hello", "--lang", "go"]).success();
    let project = dir.join("hello");
    let user_file = project.join("export_example_hello_text/text.go");
    let user_code =
        std::fs::read_to_string(&user_file).expect("the example's code is in its export package");
    assert!(
        user_code.starts_with("// Package export_example_hello_text implements"),
        "{user_code}"
    );
    let manifest = std::fs::read_to_string(project.join("wcomp.toml")).unwrap();
    assert!(
        manifest.contains("lang = \"go\"") && manifest.contains("world = \"hello\""),
        "{manifest}"
    );
    let go_mod = std::fs::read_to_string(project.join("go.mod")).unwrap();
    assert!(
        go_mod.contains("module wit_component")
            && go_mod.contains("require go.bytecodealliance.org/pkg v"),
        "{go_mod}"
    );
    let gitignore = std::fs::read_to_string(project.join(".gitignore")).unwrap();
    for ignored in ["/target", "/wit_exports.go", "wit_bindings.go", "empty.s"] {
        assert!(
            gitignore.lines().any(|line| line == ignored),
            "{ignored} not in:\n{gitignore}"
        );
    }

    let component = build(dir, "hello");
    assert_eq!(
        component,
        project
            .join("target/wcomp/hello.wasm")
            .display()
            .to_string()
    );
    let out = run(
        dir,
        &[
            "run",
            &component,
            "--invoke",
            r#"describe("Hello brave new world")"#,
        ],
    )
    .success();
    assert_eq!(out.stdout, "\"4 words, 21 characters\"\n");

    // Every binding file carries Go's generated-code marker; the user's file does not.
    let generated = std::fs::read_to_string(project.join("wit_exports.go")).unwrap();
    assert!(
        generated.starts_with("// Code generated by wcomp")
            && generated.lines().next().unwrap().ends_with("DO NOT EDIT.")
    );
    assert!(!user_code.starts_with("// Code generated"));

    // Generated bindings are outputs (git-ignored, so not inputs of the fingerprint): a
    // changed binding file alone leaves the component fresh, and a rebuild regenerates the
    // bindings and leaves the user's code alone.
    std::fs::write(
        project.join("wit_exports.go"),
        "// Code generated by wcomp; DO NOT EDIT.\npackage main\n",
    )
    .unwrap();
    let fresh = run(dir, &["build", "hello", "--format", "json"]).success();
    assert!(fresh.stdout.contains("component-fresh"), "{}", fresh.stdout);
    run(dir, &["build", "hello", "--force"]).success();
    assert_eq!(
        std::fs::read_to_string(project.join("wit_exports.go")).unwrap(),
        generated
    );
    assert_eq!(std::fs::read_to_string(&user_file).unwrap(), user_code);

    // A file in a binding's place that wcomp did not write is never overwritten (a build
    // that writes bindings refuses; `--force`, since the file is git-ignored, not an input).
    std::fs::write(project.join("wit_exports.go"), "package main\n").unwrap();
    let out = run(dir, &["build", "hello", "--force"]).failure(1);
    assert!(
        out.stderr
            .contains("was not generated by wcomp; refusing to overwrite it"),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read_to_string(project.join("wit_exports.go")).unwrap(),
        "package main\n"
    );
}

#[test]
fn go_stubs_for_resources_and_world_functions_build() {
    let temp = tempdir();
    let dir = temp.path();
    let wit = dir.join("shapes.wit");
    std::fs::write(
        &wit,
        r#"package acme:shapes@0.1.0;

interface geometry {
    record point { x: f64, y: f64 }
    resource polygon {
        constructor(points: list<point>);
        area: func() -> f64;
    }
    perimeter: func(p: borrow<polygon>) -> f64;
}

world shapes {
    export geometry;
    export version: func() -> tuple<u32, u32>;
}
"#,
    )
    .unwrap();
    run(
        dir,
        &[
            "new",
            "shapes",
            "--lang",
            "go",
            "--wit",
            wit.to_str().unwrap(),
        ],
    )
    .success();
    let project = dir.join("shapes");
    let geometry =
        std::fs::read_to_string(project.join("export_acme_shapes_geometry/geometry.go")).unwrap();
    assert!(geometry.contains("type Polygon struct {"), "{geometry}");
    assert!(
        geometry.contains("func MakePolygon(_points []acme_shapes_geometry.Point) *Polygon {"),
        "{geometry}"
    );
    assert!(
        geometry.contains("func (self *Polygon) Area() float64 {"),
        "{geometry}"
    );
    // The resource's handle plumbing stays in the generated file, not in the user's.
    assert!(!geometry.contains("TakeHandle"), "{geometry}");
    let world = std::fs::read_to_string(project.join("export_wit_world/shapes.go")).unwrap();
    assert!(
        world.contains("func Version() (uint32, uint32) {"),
        "{world}"
    );

    let component = build(dir, "shapes");
    let out = run(dir, &["run", &component, "--invoke", "version()"]).failure(1);
    assert!(
        out.stderr.contains("panic: not implemented"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("export_wit_world/shapes.go:"),
        "{}",
        out.stderr
    );
}

#[test]
fn go_compile_errors_point_at_the_users_file_and_line() {
    let temp = tempdir();
    let dir = temp.path();
    run(dir, &["new", "broken", "--lang", "go"]).success();
    let file = dir.join("broken/export_example_broken_text/text.go");
    let mut code = std::fs::read_to_string(&file).unwrap();
    code.push_str("\nvar count int = \"three\"\n");
    let line = code.lines().count();
    std::fs::write(&file, code).unwrap();

    let out = run(dir, &["build", "broken"]).failure(1);
    // Go's own message, with the path as seen from where wcomp ran.
    let location = format!("broken/export_example_broken_text/text.go:{line}:");
    assert!(
        out.stderr.contains(&location),
        "expected `{location}` in:\n{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("cannot use \"three\""),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("error: go failed to build"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty(), "{}", out.stdout);

    // An export the world needs but the user's package lacks gets a note saying where it goes.
    let code = std::fs::read_to_string(&file)
        .unwrap()
        .replace("var count int = \"three\"\n", "");
    std::fs::write(&file, code.replace("func Describe(", "func describe(")).unwrap();
    let out = run(dir, &["build", "broken"]).failure(1);
    assert!(
        out.stderr.contains("broken/wit_exports.go:"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("undefined: export_example_broken_text.Describe"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("note: the world exports `Describe`, which package `export_example_broken_text` must define"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_path_without_go_gives_the_install_hint() {
    let temp = tempdir();
    let dir = temp.path();
    run(dir, &["new", "nogo", "--lang", "go"]).success();
    let empty = dir.join("empty-path");
    std::fs::create_dir(&empty).unwrap();
    let output = wcomp(dir)
        .args(["build", "nogo"])
        .env("PATH", &empty)
        .env_remove("GO")
        .output()
        .unwrap();
    let out = Run::from_output(output).failure(1);
    assert!(
        out.stderr.contains("`go` is not installed or not on PATH"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("hint: install Go 1.25 or newer from https://go.dev/dl/"),
        "{}",
        out.stderr
    );
}

// --- helpers ---

fn write_wit(dir: &Path) -> PathBuf {
    let wit = dir.join("text.wit");
    std::fs::write(&wit, TEXT_WIT).unwrap();
    wit
}

/// `wcomp build <name>`, returning the component path it printed.
#[track_caller]
fn build(dir: &Path, name: &str) -> String {
    let out = run(dir, &["build", name]).success();
    let path = out.stdout.trim().to_owned();
    assert!(Path::new(&path).is_file(), "`{path}` was not written");
    path
}

/// Scaffolds a Rust component for `world` and replaces the body of its one stub.
fn new_rust(dir: &Path, wit: &Path, world: &str, body: &str) {
    run(
        dir,
        &[
            "new",
            world,
            "--lang",
            "rust",
            "--wit",
            wit.to_str().unwrap(),
            "--world",
            world,
        ],
    )
    .success();
    let lib = dir.join(world).join("src/lib.rs");
    let code = std::fs::read_to_string(&lib).unwrap();
    let stubs: Vec<&str> = code
        .lines()
        .filter(|line| line.contains("unimplemented!("))
        .collect();
    assert_eq!(stubs.len(), 1, "one stub expected in:\n{code}");
    std::fs::write(&lib, code.replace(stubs[0], &format!("        {body}"))).unwrap();
}

/// Scaffolds a Go component for `world`, checks its stub file is where Go users expect it,
/// and replaces it with `code`.
fn new_go(dir: &Path, wit: &Path, world: &str, user_file: &str, code: &str) {
    run(
        dir,
        &[
            "new",
            world,
            "--lang",
            "go",
            "--wit",
            wit.to_str().unwrap(),
            "--world",
            world,
        ],
    )
    .success();
    let path = dir.join(world).join(user_file);
    let stub = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("no stub at `{}`: {err}", path.display()));
    assert!(stub.contains("panic(\"not implemented\")"), "{stub}");
    std::fs::write(&path, code).unwrap();
}

/// When the Go module proxy serves `go.bytecodealliance.org/pkg`, wcomp builds against it like
/// any Go dependency (checksums in go.sum, no go.work); when the module asks for a newer Go than
/// the installed one, wcomp falls back to its bundled copy. A `file://` proxy built from the
/// bundled sources stands in for proxy.golang.org, with a private module cache.
#[test]
fn the_runtime_module_comes_from_the_go_proxy_when_it_has_it() {
    let temp = tempdir();
    let dir = temp.path();
    run(dir, &["new", "viaproxy", "--lang", "go"]).success();
    let project = dir.join("viaproxy");
    let go_mod = std::fs::read_to_string(project.join("go.mod")).unwrap();
    let version = go_mod
        .lines()
        .find_map(|l| l.strip_prefix("require go.bytecodealliance.org/pkg "))
        .unwrap()
        .to_owned();

    // Without a proxy, the bundled copy is used (and written where the proxy can be made from).
    let out = run_with(
        dir,
        &["build", "-v", "viaproxy"],
        &[("GOPROXY", "off".into())],
    )
    .success();
    assert!(
        out.stderr.contains("using the copy bundled with wcomp"),
        "{}",
        out.stderr
    );
    let bundled = project.join("target/wcomp/go/pkg");
    assert!(bundled.join("wit/runtime/runtime.go").is_file());
    assert!(!project.join("go.sum").exists());

    for (go_line, from_proxy) in [("1.25", true), ("1.999", false)] {
        let proxy = dir.join(format!("proxy-{go_line}"));
        let cache = dir.join(format!("modcache-{go_line}"));
        write_file_proxy(&proxy, &bundled, &version, go_line);
        let env = [
            ("GOPROXY", format!("file://{}", proxy.display())),
            ("GOMODCACHE", cache.display().to_string()),
            ("GOSUMDB", "off".into()),
            ("GOTOOLCHAIN", "local".into()),
            // Module caches are read-only by default; the temp dir must be removable.
            ("GOFLAGS", "-modcacherw".into()),
        ];
        let out = run_with(dir, &["build", "-v", "viaproxy"], &env).success();
        let component = out.stdout.trim().to_owned();
        let go_sum = std::fs::read_to_string(project.join("go.sum")).unwrap_or_default();
        if from_proxy {
            assert!(
                out.stderr.contains("from the Go module cache"),
                "{}",
                out.stderr
            );
            assert!(
                go_sum.contains(&format!("go.bytecodealliance.org/pkg {version} h1:")),
                "{go_sum}"
            );
            assert!(
                go_sum.contains(&format!("go.bytecodealliance.org/pkg {version}/go.mod h1:")),
                "{go_sum}"
            );
            assert!(
                cache
                    .join(format!(
                        "go.bytecodealliance.org/pkg@{version}/wit/runtime/runtime.go"
                    ))
                    .is_file()
            );
        } else {
            assert!(
                out.stderr.contains("requires go >= 1.999"),
                "{}",
                out.stderr
            );
            assert!(
                out.stderr.contains("using the copy bundled with wcomp"),
                "{}",
                out.stderr
            );
        }
        let out = run(
            dir,
            &[
                "run",
                &component,
                "--invoke",
                r#"describe("via the proxy")"#,
            ],
        )
        .success();
        assert_eq!(out.stdout, "\"3 words, 13 characters\"\n");
        std::fs::remove_file(project.join("go.sum")).ok();
    }
}

fn run_with(cwd: &Path, args: &[&str], env: &[(&str, String)]) -> Run {
    let mut command = wcomp(cwd);
    command.args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    Run::from_output(command.output().expect("the wcomp binary runs"))
}

/// A Go module proxy on disk (the GOPROXY protocol's file layout) serving the module in `source`
/// at `version`, its go.mod asking for Go `go_line`.
fn write_file_proxy(proxy: &Path, source: &Path, version: &str, go_line: &str) {
    let module = "go.bytecodealliance.org/pkg";
    let at = proxy.join(module).join("@v");
    std::fs::create_dir_all(&at).unwrap();
    let go_mod = format!("module {module}\n\ngo {go_line}\n");
    std::fs::write(at.join("list"), format!("{version}\n")).unwrap();
    std::fs::write(
        at.join(format!("{version}.info")),
        format!("{{\"Version\":\"{version}\",\"Time\":\"2025-01-01T00:00:00Z\"}}"),
    )
    .unwrap();
    std::fs::write(at.join(format!("{version}.mod")), &go_mod).unwrap();
    let mut entries = vec![(format!("{module}@{version}/go.mod"), go_mod.into_bytes())];
    for entry in walkdir::WalkDir::new(source).sort_by_file_name() {
        let entry = entry.unwrap();
        let relative = entry.path().strip_prefix(source).unwrap();
        if entry.file_type().is_file() && relative != Path::new("go.mod") {
            let name = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            entries.push((
                format!("{module}@{version}/{name}"),
                std::fs::read(entry.path()).unwrap(),
            ));
        }
    }
    std::fs::write(at.join(format!("{version}.zip")), stored_zip(&entries)).unwrap();
}

/// A zip archive with uncompressed entries: all a module zip needs.
fn stored_zip(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &byte in data {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    const DOS_DATE_1980_01_01: u16 = (1 << 5) | 1;
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in entries {
        let offset = u32::try_from(out.len()).unwrap();
        let (crc, size, name_len) = (
            crc32(data),
            u32::try_from(data.len()).unwrap(),
            u16::try_from(name.len()).unwrap(),
        );
        let common = |buf: &mut Vec<u8>| {
            buf.extend_from_slice(&20u16.to_le_bytes()); // version needed
            buf.extend_from_slice(&0u16.to_le_bytes()); // flags
            buf.extend_from_slice(&0u16.to_le_bytes()); // stored
            buf.extend_from_slice(&0u16.to_le_bytes()); // time
            buf.extend_from_slice(&DOS_DATE_1980_01_01.to_le_bytes());
            buf.extend_from_slice(&crc.to_le_bytes());
            buf.extend_from_slice(&size.to_le_bytes());
            buf.extend_from_slice(&size.to_le_bytes());
            buf.extend_from_slice(&name_len.to_le_bytes());
            buf.extend_from_slice(&0u16.to_le_bytes()); // extra length
        };
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        common(&mut out);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);

        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes()); // version made by
        common(&mut central);
        central.extend_from_slice(&[0; 6]); // comment length, disk, internal attributes
        central.extend_from_slice(&0u32.to_le_bytes()); // external attributes
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let (central_offset, central_size) = (
        u32::try_from(out.len()).unwrap(),
        u32::try_from(central.len()).unwrap(),
    );
    let count = u16::try_from(entries.len()).unwrap();
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]); // disk numbers
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&central_size.to_le_bytes());
    out.extend_from_slice(&central_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // comment length
    out
}

/// A world with an `async` function is refused at `new` and at `build`, with what to use
/// instead.
#[test]
fn async_functions_are_refused_with_what_to_use_instead() {
    support::assert_async_refused("go", "Go", "the standard Go linker crashes");
}

/// A WASI 0.3 HTTP handler is refused at `new`, with why and what to use instead.
#[test]
fn the_wasi_0_3_http_template_is_refused_with_what_to_use_instead() {
    support::assert_wasi_0_3_http_refused("go", "Go", "the standard Go linker crashes");
}

/// A Go WASI 0.2 HTTP handler in a workspace keeps its Go package names when a WASI 0.3
/// member brings the 0.3 packages into the shared WIT: one scaffolded before the 0.3 member
/// joined still builds, and one scaffolded after gets the same names and the template's
/// handler.
#[test]
fn go_http_handlers_keep_their_names_beside_a_wasi_0_3_member() {
    let temp = tempdir();
    run(temp.path(), &["new", "ws", "--workspace"]).success();
    let ws = temp.path().join("ws");
    let http = ["--lang", "go", "--template", "http"];
    run(&ws, &[&["new", "before"][..], &http].concat()).success();
    let p3 = ["--lang", "python", "--template", "http", "--wasi", "0.3"];
    run(&ws, &[&["new", "p3"][..], &p3].concat()).success();
    run(&ws, &[&["new", "after"][..], &http].concat()).success();
    for member in ["before", "after"] {
        let handler = ws
            .join(member)
            .join("export_wasi_http_incoming_handler/incominghandler.go");
        let code = std::fs::read_to_string(&handler).unwrap();
        assert!(code.contains("Hello from Go!"), "{member}: {code}");
        run(&ws, &["build", member]).success();
        assert!(ws.join(member).join("wasi_http_types").is_dir(), "{member}");
    }
}

/// `--template http --with keyvalue,config`: the world includes both packages, and the Go
/// handler, on the bindings wit-bindgen-go generates for them, builds unmodified into a
/// component that imports what it calls: `wasi:config/store` for its greeting,
/// `wasi:keyvalue/store` and `atomics` for `/visits`. `batch`, which it never calls, is not
/// imported: the Go linker drops the unused functions and wit-component keeps only the imports
/// the code uses. Served, it answers `GET /` without grants, and with them reads its
/// configuration and counts in its bucket.
#[test]
fn the_http_template_with_keyvalue_and_config_builds_and_imports_them() {
    let temp = tempdir();
    let case = support::WithTemplate {
        name: "kv-go",
        lang: "go",
        extra: &[],
        greeting: "Hello from Go!\n",
        imports_whole_world: false,
    };
    support::check_http_template_with_keyvalue_and_config(temp.path(), &case);
}

/// The route `large_bodies_are_read_and_written_whole` adds to the Go HTTP template: the
/// request's body back, read the way a handler reads one (`blocking-read`, 64 KiB at a time,
/// until the stream closes) and sent by the template's own writing.
const GO_ECHO: &str = r#"
// echo is the request's body, read to its end.
func echo(request *IncomingRequest) string {
	body := request.Consume().Ok()
	stream := body.Stream().Ok()
	var data []byte
	for {
		chunk := stream.BlockingRead(64 * 1024)
		if chunk.IsErr() {
			break
		}
		data = append(data, chunk.Ok()...)
	}
	stream.Drop()
	IncomingBodyFinish(body).Drop()
	return string(data)
}
"#;

/// A Go HTTP handler takes request bodies of megabytes and answers as large a body, served by
/// `wcomp serve`: the first 1 MB body used to trap in the bindings' `blocking-read` (Go's
/// collector ran inside `cabi_realloc` and read the clock, an import the component model
/// forbids there: "cannot leave component instance"), and an answer over 4096 bytes in the
/// template's one `blocking-write-and-flush`.
#[test]
fn large_bodies_are_read_and_written_whole() {
    let temp = tempdir();
    let dir = temp.path();
    run(dir, &["new", "big", "--lang", "go", "--template", "http"]).success();
    add_go_route(&dir.join("big"), "/echo", "echo(request)", &[], GO_ECHO);
    let component = build(dir, "big");

    let server = Server::start(
        dir,
        Path::new(&component),
        &["--max-body", "8MiB", "--max-memory", "256MiB"],
    );
    // The issue's 1,000,012-byte JSON, and 4 MiB.
    let bodies = [
        format!("{{\"text\": \"{}\"}}", letters(1_000_000)),
        letters(4 << 20),
    ];
    for body in &bodies {
        let reply = post(&server, "/echo", dir, body);
        assert_eq!(reply.status, 200, "{}\n{}", reply.headers, server.log());
        assert!(reply.body == *body, "{} bytes back", reply.body.len());
    }
    let hello = curl(&server, "/", &[]);
    assert_eq!(hello.body, "Hello from Go!\n");
    let log = server.log_when("3 requests", |records| records.len() >= 3);
    let records = requests(&log);
    assert_eq!(records.len(), 3, "{log}");
    for record in records {
        assert_eq!(record["status"], 200, "{log}");
        assert!(
            record["error"].is_null() && record["note"].is_null(),
            "{log}"
        );
    }
}

/// A Go HTTP handler that hands each 64 KiB of a 4 MiB body to another Go component, composed
/// with it: the host places each chunk in the other's memory with its `cabi_realloc`, before
/// its export runs, which used to trap as soon as one of its collections was under way.
#[test]
fn go_components_take_large_lists_from_each_other() {
    let temp = tempdir();
    run(temp.path(), &["new", "ws", "--workspace"]).success();
    let ws = temp.path().join("ws");
    run(&ws, &["new", "front", "--lang", "go", "--template", "http"]).success();
    edit(&ws.join("wit/front.wit"), |wit| {
        let world = "  include wasi:http/proxy@0.2.12;\n";
        assert!(wit.contains(world), "{wit}");
        wit.replace(world, &format!("{world}  import sink;\n")) + SINK_WIT
    });
    run(&ws, &["new", "sinker", "--lang", "go", "--world", "sinker"]).success();
    std::fs::write(ws.join("sinker/export_example_ws_sink/sink.go"), GO_SINK).unwrap();
    let imports = ["strconv", "wit_component/example_ws_sink"];
    add_go_route(&ws.join("front"), "/sum", "sum(request)", &imports, GO_SUM);
    edit(&ws.join("wcomp.toml"), |toml| {
        toml.replace("# root = \"<component>\"", "root = \"front\"")
    });
    run(&ws, &["build"]).success();
    let composed = run(&ws, &["compose"]).success();

    let server = Server::start(
        &ws,
        Path::new(composed.stdout.trim()),
        &["--max-body", "8MiB", "--max-memory", "256MiB"],
    );
    let body = letters(4 << 20);
    let expected: u64 = body.bytes().map(u64::from).sum();
    for _ in 0..2 {
        let reply = post(&server, "/sum", temp.path(), &body);
        assert_eq!(reply.status, 200, "{}\n{}", reply.headers, server.log());
        assert_eq!(reply.body, format!("{expected}\n"));
    }
}

/// `sink`, exported by a Go component and imported by a Go HTTP handler.
const SINK_WIT: &str = "
interface sink {
  take: func(data: list<u8>) -> u32;
}

world sinker {
  export sink;
}
";

/// `take` keeps copies of the last chunks, so its heap grows and its collector runs, and
/// answers the sum of the chunk's bytes.
const GO_SINK: &str = r#"package export_example_ws_sink

var kept [][]byte

func Take(data []uint8) uint32 {
	kept = append(kept, append([]byte(nil), data...))
	if len(kept) > 8 {
		kept = kept[1:]
	}
	var sum uint32
	for _, b := range data {
		sum += uint32(b)
	}
	return sum
}
"#;

/// The route `go_components_take_large_lists_from_each_other` adds to the HTTP template: the
/// sum of the body's bytes, 64 KiB at a time by `sink`.
const GO_SUM: &str = r#"
func sum(request *IncomingRequest) string {
	body := request.Consume().Ok()
	stream := body.Stream().Ok()
	var total uint64
	for {
		chunk := stream.BlockingRead(64 * 1024)
		if chunk.IsErr() {
			break
		}
		total += uint64(example_ws_sink.Take(chunk.Ok()))
	}
	stream.Drop()
	IncomingBodyFinish(body).Drop()
	return strconv.FormatUint(total, 10) + "\n"
}
"#;

/// `len` letters and spaces from a fixed sequence, so a misplaced chunk shows.
fn letters(len: usize) -> String {
    let mut state = 12345u32;
    (0..len)
        .map(|_| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            b"abcdefghijklmnopqrstuvwxyz    "[(state >> 16) as usize % 30] as char
        })
        .collect()
}

/// POSTs `body` (through a file in `dir`) to `path` on `server`.
fn post(server: &Server, path: &str, dir: &Path, body: &str) -> Reply {
    let file = dir.join("body");
    std::fs::write(&file, body).unwrap();
    let data = format!("@{}", file.display());
    // No `Expect: 100-continue` (curl's over 1 MiB): one header block to read.
    curl(server, path, &["--data-binary", &data, "-H", "Expect:"])
}

/// Adds the route `path` to the Go HTTP template's handler in `project`: `case "<path>"`
/// answers 200 with `call`, which `code` (appended, with `imports`) defines.
fn add_go_route(project: &Path, path: &str, call: &str, imports: &[&str], code: &str) {
    let handler = project.join("export_wasi_http_incoming_handler/incominghandler.go");
    edit(&handler, |text| {
        let switch = "\tswitch request.PathWithQuery().SomeOr(\"\") {\n";
        assert!(text.contains(switch), "{text}");
        let case = format!("{switch}\tcase {path:?}:\n\t\tstatus, text = 200, {call}\n");
        let imports: String = imports.iter().map(|i| format!("\t{i:?}\n")).collect();
        text.replace(switch, &case)
            .replacen("import (\n", &format!("import (\n{imports}"), 1)
            + code
    });
}

/// Rewrites the file at `path` with `change`.
fn edit(path: &Path, change: impl FnOnce(String) -> String) {
    let text = std::fs::read_to_string(path).unwrap();
    std::fs::write(path, change(text)).unwrap();
}
