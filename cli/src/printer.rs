//! All terminal output goes through [`Printer`]: data on stdout, everything meant for people
//! on stderr, and with `--format json` one JSON object per line (each with a `reason`).
//! Nothing else in the crate prints.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fmt::Display;
use std::io::{IsTerminal, Write};

use serde_json::{Value, json};

use crate::cli::{ColorChoice, GlobalArgs, OutputFormat};

/// How chatty status output is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
    VeryVerbose,
}

/// Writes everything wcomp shows to the user.
#[derive(Debug, Clone)]
pub struct Printer {
    verbosity: Verbosity,
    format: OutputFormat,
    color: bool,
}

const GREEN: &str = "\x1b[1;32m";
const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[1;33m";
const CYAN: &str = "\x1b[1;36m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

impl Printer {
    /// Builds the printer the global flags ask for.
    pub fn new(global: &GlobalArgs) -> Self {
        let verbosity = match (global.quiet, global.verbose) {
            (true, _) => Verbosity::Quiet,
            (false, 0) => Verbosity::Normal,
            (false, 1) => Verbosity::Verbose,
            (false, _) => Verbosity::VeryVerbose,
        };
        let color = match global.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
            }
        };
        Self {
            verbosity,
            format: global.format,
            color,
        }
    }

    /// A plain printer for errors raised before the flags are known.
    pub fn stderr_only() -> Self {
        Self {
            verbosity: Verbosity::Normal,
            format: OutputFormat::Human,
            color: false,
        }
    }

    pub fn format(&self) -> OutputFormat {
        self.format
    }

    pub fn verbosity(&self) -> Verbosity {
        self.verbosity
    }

    pub fn is_json(&self) -> bool {
        self.format == OutputFormat::Json
    }

    /// Whether progress bars may be drawn: a terminal, human output, not quiet.
    pub fn shows_progress(&self) -> bool {
        !self.is_json() && self.verbosity >= Verbosity::Normal && std::io::stderr().is_terminal()
    }

    fn paint(&self, style: &str, text: &str) -> String {
        if self.color {
            format!("{style}{text}{RESET}")
        } else {
            text.to_owned()
        }
    }

    /// A cargo-style status line: `   Compiling thing`.
    pub fn status(&self, verb: &str, message: impl Display) {
        if self.is_json() {
            self.json(json!({"reason": "status", "verb": verb, "message": message.to_string()}));
        } else if self.verbosity >= Verbosity::Normal {
            eprintln!("{} {message}", self.paint(GREEN, &format!("{verb:>12}")));
        }
    }

    /// Detail shown with `-v`.
    pub fn verbose(&self, message: impl Display) {
        if self.verbosity >= Verbosity::Verbose {
            if self.is_json() {
                self.json(json!({"reason": "verbose", "message": message.to_string()}));
            } else {
                eprintln!("{} {message}", self.paint(BOLD, &format!("{:>12}", "Info")));
            }
        }
    }

    pub fn warning(&self, message: impl Display) {
        if self.is_json() {
            self.json(json!({"reason": "warning", "message": message.to_string()}));
        } else if self.verbosity >= Verbosity::Normal {
            eprintln!("{}: {message}", self.paint(YELLOW, "warning"));
        }
    }

    pub fn note(&self, message: impl Display) {
        if !self.is_json() && self.verbosity >= Verbosity::Normal {
            eprintln!("{}: {message}", self.paint(CYAN, "note"));
        }
    }

    /// The error block: `error:`, `Caused by:` and `hint:` lines.
    pub fn error(
        &self,
        message: &str,
        causes: &[String],
        snippet: Option<&str>,
        hint: Option<&str>,
    ) {
        if self.is_json() {
            self.json(json!({"reason": "error", "message": message, "causes": causes, "snippet": snippet, "hint": hint}));
            return;
        }
        eprintln!("{}: {message}", self.paint(RED, "error"));
        if !causes.is_empty() {
            eprintln!("\n{}", self.paint(BOLD, "Caused by:"));
            for line in causes.iter().flat_map(|cause| cause.lines()) {
                eprintln!("    {line}");
            }
        }
        if let Some(snippet) = snippet {
            eprint!("{snippet}");
        }
        if let Some(hint) = hint {
            eprintln!("{}: {hint}", self.paint(CYAN, "hint"));
        }
    }

    /// A pre-rendered block for stderr (diagnostics with source snippets, tool output).
    pub fn raw_stderr(&self, text: &str) {
        if self.is_json() {
            self.json(json!({"reason": "diagnostic", "rendered": text}));
        } else {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(text.as_bytes());
            if !text.ends_with('\n') {
                let _ = err.write_all(b"\n");
            }
        }
    }

    /// One line of data on stdout.
    pub fn data(&self, line: impl Display) {
        write_stdout(&format!("{line}\n"));
    }

    /// One JSON object on stdout.
    pub fn json(&self, value: Value) {
        write_stdout(&format!("{value}\n"));
    }

    /// Whether colors are enabled (for renderers that style their own output).
    pub fn color(&self) -> bool {
        self.color
    }
}

/// Writes to stdout; a closed pipe (`wcomp … | head`) ends the process quietly.
fn write_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let result = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    if let Err(err) = result
        && err.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}
