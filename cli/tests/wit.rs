//! File-driven tests for `wcomp wit check | fmt | diff`.
//!
//! Every directory under `tests/wit/{check,lint,diff}` holding a `cmd` file is one case: the
//! binary runs with the arguments in `cmd` from inside that directory, and its exit code,
//! stdout and stderr must equal `expected.txt` beside it. `tests/wit/fmt/<case>/input.wit` is
//! formatted and compared with `expected.wit`. Run with `BLESS=1` to rewrite the expected
//! files from the current output (then review the diff).
//!
//! The WASI 0.2 WIT shipped in the `wasmtime-wasi` crate is a second corpus: it must check
//! cleanly and format without refusal, and so must copies of it with comments injected at
//! every token boundary.

// Tests write their fixtures directly; wcomp itself writes only through `fsutil`.
#![allow(clippy::disallowed_methods)]
// Tests report skips and counts on stderr, which the workspace lint otherwise denies.
#![allow(clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("cli/ has a parent")
        .to_owned()
}

fn fixtures() -> PathBuf {
    repo_root().join("tests").join("wit")
}

fn bless() -> bool {
    std::env::var_os("BLESS").is_some_and(|v| v != "0")
}

fn wcomp(args: &[&str], cwd: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_wcomp"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env_remove("CARGO_TERM_COLOR")
        .output()
        .expect("run wcomp")
}

/// Replaces machine-specific paths so expected files are the same everywhere.
fn redact(text: &str, dir: &Path) -> String {
    let mut text = text.replace(&dir.display().to_string(), "$DIR");
    if let Some(corpus) = wasi_corpus() {
        text = text.replace(&corpus.display().to_string(), "$CORPUS");
    }
    text.replace(
        &format!("\"version\": \"{}\"", env!("CARGO_PKG_VERSION")),
        "\"version\": \"$VERSION\"",
    )
}

/// Directories below `root` that contain a file named `marker`, sorted.
fn cases(root: &Path, marker: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        if dir.join(marker).is_file() {
            found.push(dir.clone());
        }
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if entry.path().is_dir() {
                stack.push(entry.path());
            }
        }
    }
    found.sort();
    found
}

/// Compares `actual` with the file at `expected` (or writes it under `BLESS=1`); returns a
/// failure description.
fn compare(expected: &Path, actual: &str) -> Option<String> {
    if bless() {
        std::fs::write(expected, actual).expect("write expected file");
        return None;
    }
    let wanted = std::fs::read_to_string(expected).unwrap_or_default();
    (wanted != actual).then(|| {
        let diff = similar::TextDiff::from_lines(wanted.as_str(), actual);
        format!(
            "{}:\n{}",
            expected.display(),
            diff.unified_diff().header("expected", "actual")
        )
    })
}

fn run_cli_cases(kind: &str) {
    let root = fixtures().join(kind);
    let cases = cases(&root, "cmd");
    assert!(!cases.is_empty(), "no cases under {}", root.display());
    let mut failures = Vec::new();
    for case in &cases {
        let cmd = std::fs::read_to_string(case.join("cmd")).expect("read cmd");
        let args: Vec<&str> = cmd.split_whitespace().collect();
        let output = wcomp(&args, case);
        let actual = format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            output
                .status
                .code()
                .map_or("signal".to_owned(), |c| c.to_string()),
            redact(&String::from_utf8_lossy(&output.stdout), case),
            redact(&String::from_utf8_lossy(&output.stderr), case),
        );
        failures.extend(compare(&case.join("expected.txt"), &actual));
    }
    assert!(
        failures.is_empty(),
        "{} of {} `{kind}` cases differ (BLESS=1 to update):\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn check_cases() {
    run_cli_cases("check");
}

#[test]
fn lint_cases() {
    run_cli_cases("lint");
    // Each rule has a case where it fires and one where it does not.
    for rule in wcomp::wit::lint::RULES {
        let dir = fixtures().join("lint").join(rule.id);
        let fires = std::fs::read_to_string(dir.join("fires/expected.txt")).unwrap_or_default();
        let clean = std::fs::read_to_string(dir.join("clean/expected.txt")).unwrap_or_default();
        assert!(
            fires.contains(&format!("[{}]", rule.id)),
            "`{}` does not fire in its `fires` case",
            rule.id
        );
        assert!(
            !clean.contains(&format!("[{}]", rule.id)),
            "`{}` fires in its `clean` case",
            rule.id
        );
        assert!(
            clean.starts_with("exit: 0\n"),
            "`{}` clean case is not clean",
            rule.id
        );
    }
}

#[test]
fn diff_cases() {
    run_cli_cases("diff");
}

/// `--against <ref>` reads the old version from git.
#[test]
fn diff_against_a_git_revision() {
    if Command::new("git").arg("--version").output().is_err() {
        eprintln!("skipped: git is not installed");
        return;
    }
    let repo = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let output = Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@example.com",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .current_dir(repo.path())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let wit = repo.path().join("wit");
    std::fs::create_dir_all(&wit).unwrap();
    let case = fixtures().join("diff").join("field-added");
    std::fs::copy(case.join("old.wit"), wit.join("shop.wit")).unwrap();
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "v1"]);
    git(&["tag", "v1"]);
    std::fs::copy(case.join("new.wit"), wit.join("shop.wit")).unwrap();
    let output = wcomp(&["wit", "diff", "--against", "v1", "wit"], repo.path());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("field `zip` was added"), "{stdout}");
    // Without a path, the project's `wit/` is compared; an unknown revision is explained.
    assert_eq!(
        wcomp(&["wit", "diff", "--against", "HEAD"], repo.path())
            .status
            .code(),
        Some(1)
    );
    let output = wcomp(
        &["wit", "diff", "--against", "no-such-ref", "wit"],
        repo.path(),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot read `wit` at git revision `no-such-ref`"),
        "{stderr}"
    );
}

#[test]
fn fmt_cases() {
    let cases = cases(&fixtures().join("fmt"), "input.wit");
    assert!(!cases.is_empty());
    let mut failures = Vec::new();
    for case in &cases {
        let input = std::fs::read_to_string(case.join("input.wit")).unwrap();
        let formatted = format_file(&case.join("input.wit"), &input);
        failures.extend(compare(&case.join("expected.wit"), &formatted));
        assert_eq!(
            format_file(&case.join("expected.wit"), &formatted),
            formatted,
            "{}: not idempotent",
            case.display()
        );
    }
    assert!(
        failures.is_empty(),
        "fmt cases differ (BLESS=1 to update):\n{}",
        failures.join("\n")
    );
}

/// Formats one file as its own package, with every safety check.
#[track_caller]
fn format_file(path: &Path, text: &str) -> String {
    let mut sources = wcomp::wit::diagnostics::SourceFiles::new(Path::new("/"));
    match wcomp::wit::fmt::format_package(&[(path.to_owned(), text.to_owned())], &mut sources) {
        Ok(mut files) => files.remove(0).formatted,
        Err(err) => panic!("{}: {err}", path.display()),
    }
}

#[test]
fn fmt_check_reports_a_diff_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.wit");
    std::fs::write(&file, "package a:b;\ninterface i {\n    f: func( ) ;\n}\n").unwrap();
    let output = wcomp(&["wit", "fmt", "--check", "app.wit"], dir.path());
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("-    f: func( ) ;\n+  f: func();"),
        "{stdout}"
    );
    // `--check` writes nothing; plain `fmt` does, and then `--check` passes.
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains("func( ) ;")
    );
    assert_eq!(
        wcomp(&["wit", "fmt", "app.wit"], dir.path()).status.code(),
        Some(0)
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "package a:b;\n\ninterface i {\n  f: func();\n}\n"
    );
    assert_eq!(
        wcomp(&["wit", "fmt", "--check", "app.wit"], dir.path())
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn fmt_refuses_invalid_wit_and_leaves_it_alone() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.wit");
    let text = "package a:b;\ninterface i {\n  f: func(x: strin);\n}\n";
    std::fs::write(&file, text).unwrap();
    let output = wcomp(&["wit", "fmt", "app.wit"], dir.path());
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("error[unknown-name]: name `strin` does not exist")
            && stderr.contains("app.wit:3:14"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
}

/// Every fixture that is valid WIT formats without refusal, idempotently.
#[test]
fn fmt_round_trips_every_fixture() {
    let mut checked = 0;
    for entry in walkdir::WalkDir::new(fixtures()).into_iter().flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "wit") {
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap();
        let mut sources = wcomp::wit::diagnostics::SourceFiles::new(Path::new("/"));
        match wcomp::wit::fmt::format_package(&[(path.to_owned(), text.clone())], &mut sources) {
            Ok(files) => {
                let once = &files[0].formatted;
                assert_eq!(
                    &format_file(path, once),
                    once,
                    "{}: not idempotent",
                    path.display()
                );
                checked += 1;
            }
            Err(wcomp::wit::fmt::FmtError::Invalid(_)) => {} // malformed on purpose, or needs siblings
            Err(err) => panic!("{}: {err}", path.display()),
        }
    }
    assert!(checked > 30, "only {checked} fixtures formatted");
}

/// The WIT directory of the `wasmtime-wasi` crate in the cargo registry (WASI 0.2).
fn wasi_corpus() -> Option<PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
    let mut found: Vec<PathBuf> = std::fs::read_dir(home.join("registry").join("src"))
        .ok()?
        .flatten()
        .flat_map(|index| {
            std::fs::read_dir(index.path())
                .into_iter()
                .flatten()
                .flatten()
        })
        .filter(|krate| {
            krate
                .file_name()
                .to_string_lossy()
                .starts_with("wasmtime-wasi-4")
        })
        .map(|krate| krate.path().join("src").join("p2").join("wit"))
        .filter(|wit| wit.join("deps").is_dir())
        .collect();
    found.sort();
    found.pop()
}

macro_rules! corpus_or_skip {
    () => {
        match wasi_corpus() {
            Some(corpus) => corpus,
            None => {
                eprintln!("skipped: no wasmtime-wasi sources under $CARGO_HOME/registry/src (run `cargo fetch`)");
                return;
            }
        }
    };
}

#[test]
fn wasi_corpus_checks_cleanly() {
    let corpus = corpus_or_skip!();
    let dir = corpus.display().to_string();
    let output = wcomp(
        &["wit", "check", "--all-packages", "--format", "json", &dir],
        &corpus,
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut wasi_findings = Vec::new();
    let mut finished = false;
    for line in stdout.lines() {
        let value: serde_json::Value = serde_json::from_str(line).expect("json lines");
        match value["reason"].as_str() {
            // Only the WASI packages are the corpus; wasmtime's own test worlds beside them
            // (`test.wit`, `world.wit`) are not documented and may be flagged.
            Some("wit-diagnostic")
                if value["location"]["path"]
                    .as_str()
                    .is_some_and(|p| p.starts_with("deps")) =>
            {
                wasi_findings.push(value["rendered"].as_str().unwrap_or_default().to_owned());
            }
            Some("wit-check-finished") => {
                finished = true;
                assert_eq!(value["errors"], 0);
                assert!(value["files"].as_u64().unwrap() >= 6);
            }
            _ => {}
        }
    }
    assert!(finished);
    assert!(
        wasi_findings.is_empty(),
        "WASI packages should check cleanly:\n{}",
        wasi_findings.join("\n")
    );
}

fn corpus_files(corpus: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(corpus)
        .into_iter()
        .flatten()
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|e| e == "wit"))
        .collect();
    files.sort();
    files
}

#[test]
fn wasi_corpus_formats_losslessly() {
    let corpus = corpus_or_skip!();
    let files = corpus_files(&corpus);
    assert!(files.len() >= 6);
    let mut unchanged = 0;
    for path in files.iter().filter(|p| p.starts_with(corpus.join("deps"))) {
        let text = std::fs::read_to_string(path).unwrap();
        let formatted = format_file(path, &text);
        assert_eq!(
            format_file(path, &formatted),
            formatted,
            "{}: not idempotent",
            path.display()
        );
        unchanged += usize::from(formatted == text);
    }
    // The WASI sources are already in the canonical style, up to blank lines between items.
    assert!(
        unchanged >= 4,
        "only {unchanged} WASI files were already formatted"
    );
    // The root package is two files formatted and checked together.
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&corpus, dir.path());
    let output = wcomp(&["wit", "fmt", "."], dir.path());
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        wcomp(&["wit", "fmt", "--check", "."], dir.path())
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        wcomp(&["wit", "check", "."], dir.path()).status.code(),
        Some(0)
    );
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from).into_iter().flatten() {
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Comments of every kind at every token boundary of the WASI sources: whatever survives
/// wit-parser must format without refusal (no comment lost or moved across code) and
/// idempotently.
#[test]
fn fmt_keeps_comments_injected_at_every_token_boundary() {
    let corpus = corpus_or_skip!();
    let comments = [
        " /* inline */ ",
        "\n// own line\n",
        " // trailing\n",
        "\n\n/* spaced\n   block */\n\n",
        "\n/// doc\n",
    ];
    let mut formatted = 0;
    for path in corpus_files(&corpus)
        .iter()
        .filter(|p| p.starts_with(corpus.join("deps")))
    {
        let text = std::fs::read_to_string(path).unwrap();
        let boundaries = token_boundaries(&text);
        for (round, comment) in comments.iter().enumerate() {
            // All boundaries at once, with the comment style rotating per position.
            let mut mutated = String::new();
            let mut last = 0;
            for (i, at) in boundaries.iter().enumerate() {
                mutated.push_str(&text[last..*at]);
                mutated.push_str(comments[(i + round) % comments.len()]);
                last = *at;
            }
            mutated.push_str(&text[last..]);
            let valid = format_if_valid(path, &mutated);
            assert_eq!(
                valid,
                1,
                "{}: comments at every boundary should stay valid WIT",
                path.display()
            );
            formatted += valid;
            // And one comment per boundary, on a sample of boundaries.
            for at in boundaries.iter().skip(round).step_by(37) {
                let single = format!("{}{comment}{}", &text[..*at], &text[*at..]);
                formatted += format_if_valid(path, &single);
            }
        }
    }
    eprintln!("formatted {formatted} comment-injected variants of the WASI sources");
    assert!(
        formatted > 100,
        "only {formatted} mutated files were valid WIT"
    );
}

/// Formats `text` if wit-parser accepts it; panics if the formatter refuses it.
fn format_if_valid(path: &Path, text: &str) -> usize {
    let mut sources = wcomp::wit::diagnostics::SourceFiles::new(Path::new("/"));
    match wcomp::wit::fmt::format_package(&[(path.to_owned(), text.to_owned())], &mut sources) {
        Ok(files) => {
            let once = &files[0].formatted;
            let twice = wcomp::wit::fmt::format_text(once).expect("formatted output formats");
            assert_eq!(&twice, once, "not idempotent for:\n{text}");
            1
        }
        // A comment inside a version number (`@0.2/* */.0`) is not valid WIT.
        Err(wcomp::wit::fmt::FmtError::Invalid(diagnostic)) => {
            if std::env::var_os("WIT_TEST_DEBUG").is_some() {
                let line = diagnostic.location.as_ref().map_or(0, |l| l.line);
                let context: Vec<&str> =
                    text.lines().skip(line.saturating_sub(3)).take(5).collect();
                eprintln!(
                    "invalid: {} at line {line}:\n{}",
                    diagnostic.message,
                    context.join("\n")
                );
            }
            0
        }
        Err(err) => {
            let saved = std::env::temp_dir().join("wcomp-fmt-refused.wit");
            let _ = std::fs::write(&saved, text);
            panic!("{err}\n(input saved to {})", saved.display())
        }
    }
}

/// Byte offsets between tokens of `text`, except inside version numbers (`@0.2.0`), where a
/// comment is not valid WIT.
fn token_boundaries(text: &str) -> Vec<usize> {
    let tokens: Vec<_> = wcomp::wit::lexer::tokenize(text)
        .expect("corpus lexes")
        .into_iter()
        .filter(|t| !t.is_comment())
        .collect();
    let mut boundaries = Vec::new();
    let mut in_version = false;
    for (i, token) in tokens.iter().enumerate() {
        let previous = i.checked_sub(1).map(|p| tokens[p]);
        let starts_version = previous.is_some_and(|p| p.is("@") || p.is("="))
            && token.kind == wcomp::wit::lexer::Kind::Integer;
        let continues = in_version
            && (matches!(token.text, "." | "-" | "+")
                || previous.is_some_and(|p| matches!(p.text, "." | "-" | "+")))
            && !token.is(".{");
        if previous.is_some_and(|p| p.is("@")) || (in_version && continues) {
            in_version = starts_version || continues;
            continue;
        }
        in_version = starts_version;
        boundaries.push(token.start);
    }
    boundaries
}

#[test]
fn wit_command_line_is_consistent() {
    use clap::CommandFactory;
    wcomp::cli::Cli::command().debug_assert();
}

#[test]
fn wasi_corpus_has_no_changes_against_itself() {
    let corpus = corpus_or_skip!();
    let dir = corpus.display().to_string();
    let output = wcomp(&["wit", "diff", &dir, &dir], &corpus);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("No changes"), "{stdout}");
}

/// A deterministic stand-in for the cargo-fuzz target that runs with the ordinary build:
/// random token-level mutations of the fixtures and the WASI sources go through `check`
/// and `fmt`. Nothing may panic, and valid WIT must never be refused by the formatter.
/// `WIT_MUTATIONS=<n>` runs more, `WIT_MUTATION_SEED=<n>` varies them.
#[test]
fn check_and_fmt_survive_random_mutations() {
    let mut seeds: Vec<String> = walkdir::WalkDir::new(fixtures())
        .into_iter()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "wit"))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .collect();
    if let Some(corpus) = wasi_corpus() {
        seeds.extend(
            corpus_files(&corpus)
                .iter()
                .filter_map(|p| std::fs::read_to_string(p).ok()),
        );
    }
    let iterations: usize = std::env::var("WIT_MUTATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1500);
    let mut rng = std::env::var("WIT_MUTATION_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x2545_f491_4f6c_dd1du64)
        | 1;
    let mut next = move |bound: usize| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % bound.max(1) as u64) as usize
    };
    const PIECES: &[&str] = &[
        "{",
        "}",
        "(",
        ")",
        "<",
        ">",
        ",",
        ";",
        ":",
        "@",
        "/",
        ".",
        "->",
        "=",
        "_",
        "*",
        "interface",
        "world",
        "func",
        "record",
        "variant",
        "enum",
        "flags",
        "resource",
        "use",
        "type",
        "import",
        "export",
        "include",
        "with",
        "as",
        "package",
        "static",
        "constructor",
        "async",
        "list",
        "result",
        "option",
        "tuple",
        "borrow",
        "own",
        "u32",
        "string",
        "x",
        "%x",
        "a:b",
        "0",
        "1.0.0",
        "\"s\"",
        "// c\n",
        "/* c */",
        "/* a /* nested */ b */",
        "/// d\n",
        "\n",
        "\n\n",
        " ",
        "\t",
        "\r\n",
        "\r",
        "é",
        "\u{28c}",
        "\u{3}",
        "\u{202e}",
        "\u{feff}",
        "/* é */",
        "// ʌ\n",
        "/*",
        "*/",
        "\"",
    ];
    let (mut valid, mut total) = (0, 0);
    for _ in 0..iterations {
        // Every fourth input is a short string of pieces, the kind a fuzzer starts from.
        if next(4) == 0 {
            let text: String = (0..1 + next(6))
                .map(|_| PIECES[next(PIECES.len())])
                .collect();
            total += 1;
            let mut sources = wcomp::wit::diagnostics::SourceFiles::new(Path::new("/"));
            for diagnostic in
                wcomp::wit::check::check_text(Path::new("short.wit"), &text, &mut sources)
            {
                wcomp::wit::diagnostics::render_human(&diagnostic, &mut sources, false);
            }
            valid += format_if_valid(Path::new("short.wit"), &text);
            continue;
        }
        let seed = &seeds[next(seeds.len())];
        let Ok(tokens) = wcomp::wit::lexer::tokenize(seed) else {
            continue;
        };
        if tokens.is_empty() {
            continue;
        }
        let mut text = seed.clone();
        for _ in 0..1 + next(3) {
            let tokens = match wcomp::wit::lexer::tokenize(&text) {
                Ok(tokens) if !tokens.is_empty() => tokens,
                _ => break,
            };
            let token = tokens[next(tokens.len())];
            let piece = PIECES[next(PIECES.len())];
            text = match next(4) {
                0 => format!("{}{}", &text[..token.start], &text[token.end()..]),
                1 => format!("{} {piece} {}", &text[..token.start], &text[token.start..]),
                2 => format!("{}{piece}{}", &text[..token.start], &text[token.start..]),
                _ => format!(
                    "{}{}{}",
                    &text[..token.end()],
                    token.text,
                    &text[token.end()..]
                ),
            };
        }
        total += 1;
        let path = Path::new("mutated.wit");
        let mut sources = wcomp::wit::diagnostics::SourceFiles::new(Path::new("/"));
        for diagnostic in wcomp::wit::check::check_text(path, &text, &mut sources) {
            wcomp::wit::diagnostics::render_human(&diagnostic, &mut sources, false);
        }
        valid += format_if_valid(path, &text);
    }
    eprintln!("{total} mutations, {valid} valid WIT formatted");
    assert!(valid > 0);
}
