//! All terminal output goes through [`Printer`]: data on stdout, everything meant for people
//! on stderr, and with `--format json` one JSON object per line (each with a `reason`).
//! Nothing else in the crate prints. The printer also owns every progress spinner, so status
//! lines never tear through a spinner and two operations never draw competing bars.
//!
//! Commands report what happened as typed [`Message`]s, each with its JSON object and its
//! human lines; [`Printer::emit`] picks the form, so no command can print one and forget the
//! other. It takes plain values ([`Printer::new`]); how the command line spells them is the
//! CLI layer's business. It depends on nothing else in the crate.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fmt::Display;
use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Value, json};

/// How chatty status output is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
    VeryVerbose,
}

/// Output style for status, results and errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Human,
    /// One JSON object per line, each with a `reason`.
    Json,
    /// A SARIF 2.1.0 log on stdout (`wit check` only; other commands print as `human`).
    Sarif,
}

/// Something a command reports, in both of its forms: the JSON object `--format json` prints
/// (with its `reason`), and the lines people read otherwise. Commands report by
/// [`Printer::emit`]ting one, so neither form can be forgotten.
pub trait Message {
    /// The JSON object, `reason` included.
    fn to_json(&self) -> Value;
    /// The human form, through the printer's status, data and warning lines.
    fn show(&self, printer: &Printer);
}

/// Writes everything wcomp shows to the user.
#[derive(Debug, Clone)]
pub struct Printer {
    verbosity: Verbosity,
    format: OutputFormat,
    color: bool,
    /// Data goes to stderr: stdout carries something else (a binary component).
    stdout_reserved: bool,
    /// Set once stdout turns out to be a closed pipe (`wcomp … | head`): later data is
    /// dropped and the command finishes normally, keeping its exit status.
    stdout_closed: Arc<AtomicBool>,
    /// Every spinner is drawn through this one; hidden unless [`Printer::shows_progress`].
    progress: MultiProgress,
    /// Lines for stderr held back by [`Printer::batched`], written together.
    held: Option<Arc<std::sync::Mutex<String>>>,
}

const GREEN: &str = "\x1b[1;32m";
const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[1;33m";
const CYAN: &str = "\x1b[1;36m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// Whether stderr should get colors when the user did not say: a terminal, and no `NO_COLOR`.
pub fn auto_color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

impl Printer {
    pub fn new(verbosity: Verbosity, format: OutputFormat, color: bool) -> Self {
        let shows = format != OutputFormat::Json
            && verbosity == Verbosity::Normal
            && std::io::stderr().is_terminal();
        let target = if shows {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        Self {
            verbosity,
            format,
            color,
            stdout_reserved: false,
            stdout_closed: Arc::new(AtomicBool::new(false)),
            progress: MultiProgress::with_draw_target(target),
            held: None,
        }
    }

    /// Runs `show` with a printer whose stderr lines are held back, then writes them all at
    /// once: one write for many lines (a server's access log under load), where each line on
    /// its own would be a system call or two.
    pub fn batched(&self, show: impl FnOnce(&Printer)) {
        let held = Arc::new(std::sync::Mutex::new(String::new()));
        show(&Self {
            held: Some(held.clone()),
            ..self.clone()
        });
        let text = std::mem::take(&mut *held.lock().unwrap_or_else(|e| e.into_inner()));
        if !text.is_empty() {
            self.progress.suspend(|| {
                let _ = std::io::stderr().lock().write_all(text.as_bytes());
            });
        }
    }

    /// A plain printer for errors raised before the flags are known.
    pub fn stderr_only() -> Self {
        Self::new(Verbosity::Normal, OutputFormat::Human, false)
    }

    /// The same printer, with every line of data (and JSON) sent to stderr, for a command
    /// whose stdout carries binary output.
    pub fn with_stdout_reserved(&self) -> Self {
        Self {
            stdout_reserved: true,
            ..self.clone()
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

    /// Whether progress spinners are drawn: a terminal, human output, neither `-q` nor `-v`
    /// (under `-v` the detail lines tell the story instead).
    pub fn shows_progress(&self) -> bool {
        !self.progress.is_hidden()
    }

    /// A spinner labelled `prefix`, drawn with the others of this printer (or not at all when
    /// progress is hidden).
    pub fn spinner(&self, prefix: &str, message: &str) -> Spinner {
        if !self.shows_progress() {
            return Spinner(None);
        }
        let style =
            ProgressStyle::with_template("{spinner:.green} {prefix:>12.bold} {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
        let bar = self
            .progress
            .add(ProgressBar::new_spinner().with_style(style));
        bar.set_prefix(prefix.to_owned());
        bar.set_message(message.to_owned());
        bar.enable_steady_tick(Duration::from_millis(100));
        Spinner(Some(bar))
    }

    fn paint(&self, style: &str, text: &str) -> String {
        if self.color {
            format!("{style}{text}{RESET}")
        } else {
            text.to_owned()
        }
    }

    /// Writes a line to stderr without tearing any spinner.
    fn eprint_line(&self, line: &str) {
        if let Some(held) = &self.held {
            let mut held = held.lock().unwrap_or_else(|e| e.into_inner());
            held.push_str(line);
            held.push('\n');
            return;
        }
        self.progress.suspend(|| {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "{line}");
        });
    }

    /// A cargo-style status line: `   Compiling thing`.
    pub fn status(&self, verb: &str, message: impl Display) {
        if self.is_json() {
            self.json(json!({"reason": "status", "verb": verb, "message": message.to_string()}));
        } else if self.verbosity >= Verbosity::Normal {
            self.eprint_line(&format!(
                "{} {message}",
                self.paint(GREEN, &format!("{verb:>12}"))
            ));
        }
    }

    /// Detail shown with `-v`.
    pub fn verbose(&self, message: impl Display) {
        if self.verbosity >= Verbosity::Verbose {
            if self.is_json() {
                self.json(json!({"reason": "verbose", "message": message.to_string()}));
            } else {
                self.eprint_line(&format!(
                    "{} {message}",
                    self.paint(BOLD, &format!("{:>12}", "Info"))
                ));
            }
        }
    }

    pub fn warning(&self, message: impl Display) {
        if self.is_json() {
            self.json(json!({"reason": "warning", "message": message.to_string()}));
        } else if self.verbosity >= Verbosity::Normal {
            self.eprint_line(&format!("{}: {message}", self.paint(YELLOW, "warning")));
        }
    }

    pub fn note(&self, message: impl Display) {
        if !self.is_json() && self.verbosity >= Verbosity::Normal {
            self.eprint_line(&format!("{}: {message}", self.paint(CYAN, "note")));
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
        let mut block = format!("{}: {message}\n", self.paint(RED, "error"));
        if !causes.is_empty() {
            block.push_str(&format!("\n{}\n", self.paint(BOLD, "Caused by:")));
            for line in causes.iter().flat_map(|cause| cause.lines()) {
                block.push_str(&format!("    {line}\n"));
            }
        }
        if let Some(snippet) = snippet {
            block.push_str(snippet);
        }
        if let Some(hint) = hint {
            block.push_str(&format!("{}: {hint}\n", self.paint(CYAN, "hint")));
        }
        self.eprint_line(block.trim_end_matches('\n'));
    }

    /// A pre-rendered block for stderr (diagnostics with source snippets, tool output).
    pub fn raw_stderr(&self, text: &str) {
        if self.is_json() {
            self.json(json!({"reason": "diagnostic", "rendered": text}));
        } else {
            self.eprint_line(text.strip_suffix('\n').unwrap_or(text));
        }
    }

    /// Reports `message` in the form the user asked for.
    pub fn emit(&self, message: &dyn Message) {
        if self.is_json() {
            self.json(message.to_json());
        } else {
            message.show(self);
        }
    }

    /// Reports `message` only with `-v`, in the form the user asked for.
    pub fn emit_verbose(&self, message: &dyn Message) {
        if self.verbosity >= Verbosity::Verbose {
            self.emit(message);
        }
    }

    /// One line of data on stdout.
    pub fn data(&self, line: impl Display) {
        self.write_data(&format!("{line}\n"));
    }

    /// One JSON object on stdout.
    pub fn json(&self, value: Value) {
        self.write_data(&format!("{value}\n"));
    }

    /// Whether colors are enabled (for renderers that style their own output).
    pub fn color(&self) -> bool {
        self.color
    }

    /// Writes data to stdout (stderr when stdout is reserved). A closed pipe is remembered and
    /// later data dropped: the command runs to its end and keeps its exit status.
    fn write_data(&self, text: &str) {
        if self.stdout_reserved {
            self.eprint_line(text.strip_suffix('\n').unwrap_or(text));
            return;
        }
        if self.stdout_closed.load(Ordering::Relaxed) {
            return;
        }
        self.progress.suspend(|| {
            let mut out = std::io::stdout().lock();
            let result = out.write_all(text.as_bytes()).and_then(|()| out.flush());
            if let Err(err) = result
                && err.kind() == std::io::ErrorKind::BrokenPipe
            {
                self.stdout_closed.store(true, Ordering::Relaxed);
            }
        });
    }

    /// Writes binary output (a component) to stdout.
    pub fn write_binary(&self, bytes: &[u8]) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        match out.write_all(bytes).and_then(|()| out.flush()) {
            Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => {
                self.stdout_closed.store(true, Ordering::Relaxed);
                Ok(())
            }
            other => other,
        }
    }

    /// Whether stdout is a terminal (binary output refuses one).
    pub fn stdout_is_terminal(&self) -> bool {
        std::io::stdout().is_terminal()
    }
}

/// One spinner of a [`Printer`]; does nothing when progress is hidden.
#[derive(Debug)]
pub struct Spinner(Option<ProgressBar>);

impl Spinner {
    pub fn message(&self, message: impl Into<String>) {
        if let Some(bar) = &self.0 {
            bar.set_message(message.into());
        }
    }

    /// Stops the spinner, leaving `message` on its line.
    pub fn finish_with(&self, message: impl Into<String>) {
        if let Some(bar) = &self.0 {
            bar.finish_with_message(message.into());
        }
    }

    /// Stops the spinner and removes its line.
    pub fn clear(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        if let Some(bar) = &self.0
            && !bar.is_finished()
        {
            bar.finish_and_clear();
        }
    }
}
