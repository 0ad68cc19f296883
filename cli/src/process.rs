//! [`ProcessBuilder`]: the only way wcomp starts another program. Its `Display` is the quoted
//! command line, both pipes are read concurrently, and a failure carries the exit status with
//! everything the program printed.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

/// A program that could not be run, or ran and failed.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The program is not installed (not on `PATH`).
    #[error("`{program}` was not found")]
    NotFound { program: String },
    /// The program could not be started for another reason.
    #[error("could not start `{command}`")]
    Spawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
    /// The program ran and exited unsuccessfully.
    #[error("`{command}` failed ({status})")]
    Failed {
        command: String,
        status: ExitStatus,
        stdout: String,
        stderr: String,
    },
}

impl ProcessError {
    /// What the failed program printed on stderr (empty for other kinds).
    pub fn stderr(&self) -> &str {
        match self {
            Self::Failed { stderr, .. } => stderr,
            _ => "",
        }
    }

    /// What the failed program printed on stdout (empty for other kinds).
    pub fn stdout(&self) -> &str {
        match self {
            Self::Failed { stdout, .. } => stdout,
            _ => "",
        }
    }
}

/// Output of a successful run.
#[derive(Debug)]
pub struct ProcessOutput {
    pub stdout: String,
    pub stderr: String,
}

/// Describes one invocation of an external program.
#[derive(Debug, Clone)]
pub struct ProcessBuilder {
    program: OsString,
    args: Vec<OsString>,
    envs: Vec<(OsString, Option<OsString>)>,
    cwd: Option<PathBuf>,
}

impl ProcessBuilder {
    pub fn new(program: impl AsRef<OsStr>) -> Self {
        Self {
            program: program.as_ref().to_owned(),
            args: Vec::new(),
            envs: Vec::new(),
            cwd: None,
        }
    }

    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(&mut self, args: I) -> &mut Self {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Self {
        self.envs
            .push((key.as_ref().to_owned(), Some(value.as_ref().to_owned())));
        self
    }

    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Self {
        self.envs.push((key.as_ref().to_owned(), None));
        self
    }

    pub fn cwd(&mut self, dir: impl AsRef<Path>) -> &mut Self {
        self.cwd = Some(dir.as_ref().to_owned());
        self
    }

    pub fn program(&self) -> &OsStr {
        &self.program
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.args(&self.args);
        for (key, value) in &self.envs {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        if let Some(cwd) = &self.cwd {
            command.current_dir(cwd);
        }
        command
    }

    fn spawn_error(&self, source: std::io::Error) -> ProcessError {
        if source.kind() == std::io::ErrorKind::NotFound {
            ProcessError::NotFound {
                program: self.program.to_string_lossy().into_owned(),
            }
        } else {
            ProcessError::Spawn {
                command: self.to_string(),
                source,
            }
        }
    }

    /// Runs to completion, capturing both pipes; non-zero exit is an error.
    pub fn output(&self) -> Result<ProcessOutput, ProcessError> {
        self.run_streaming(|_| {})
    }

    /// Runs to completion, handing each stdout line to `on_line` as it arrives while stderr
    /// is captured on another thread (so neither pipe can fill up and stall the child).
    pub fn run_streaming(
        &self,
        mut on_line: impl FnMut(&str),
    ) -> Result<ProcessOutput, ProcessError> {
        let mut command = self.command();
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().map_err(|e| self.spawn_error(e))?;
        let mut stderr_pipe = child.stderr.take().expect("stderr is piped");
        let stderr_thread = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = stderr_pipe.read_to_end(&mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        });
        let mut stdout = String::new();
        let reader = BufReader::new(child.stdout.take().expect("stdout is piped"));
        for line in reader.split(b'\n') {
            let Ok(line) = line else { break };
            let line = String::from_utf8_lossy(&line);
            on_line(line.trim_end_matches('\r'));
            stdout.push_str(&line);
            stdout.push('\n');
        }
        let status = child.wait().map_err(|e| self.spawn_error(e))?;
        let stderr = stderr_thread.join().unwrap_or_default();
        if status.success() {
            Ok(ProcessOutput { stdout, stderr })
        } else {
            Err(ProcessError::Failed {
                command: self.to_string(),
                status,
                stdout,
                stderr,
            })
        }
    }
}

impl fmt::Display for ProcessBuilder {
    /// The command line as a shell would take it, with the variables set for it first
    /// (`GOOS=wasip1 go build …`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (key, value) in &self.envs {
            if let Some(value) = value {
                write!(f, "{}={} ", key.to_string_lossy(), quote(value))?;
            }
        }
        write!(f, "{}", quote(&self.program))?;
        for arg in &self.args {
            write!(f, " {}", quote(arg))?;
        }
        Ok(())
    }
}

/// Shell-style quoting, only where needed.
fn quote(arg: &OsStr) -> String {
    let text = arg.to_string_lossy();
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@+,%".contains(c));
    if plain {
        text.into_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// Finds `program` on `PATH` (with the platform's executable suffix).
pub fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(format!("{program}{}", std::env::consts::EXE_SUFFIX)))
        .find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_quotes_only_what_needs_it() {
        let mut builder = ProcessBuilder::new("cargo");
        builder.args(["build", "--target", "wasm32-wasip2", "a b", "it's"]);
        assert_eq!(
            builder.to_string(),
            r"cargo build --target wasm32-wasip2 'a b' 'it'\''s'"
        );
    }

    #[test]
    fn missing_program_is_not_found() {
        let err = ProcessBuilder::new("wcomp-no-such-program")
            .output()
            .unwrap_err();
        assert!(matches!(err, ProcessError::NotFound { .. }), "{err:?}");
    }

    #[test]
    fn failure_keeps_stderr() {
        let mut builder = ProcessBuilder::new("sh");
        builder.args(["-c", "echo out; echo oops >&2; exit 3"]);
        let err = builder.output().unwrap_err();
        assert_eq!(err.stderr().trim(), "oops");
        assert!(err.to_string().contains("exit status: 3"), "{err}");
    }
}

/// What a failing toolchain printed. The error renderer shows it verbatim, before the
/// `error:` line, the way the tool itself would have.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{text}")]
pub struct ToolOutput {
    pub text: String,
}

impl ToolOutput {
    /// The failed process's stderr, or its stdout when stderr is empty (some tools report
    /// errors there).
    pub fn from_process(err: &ProcessError) -> Self {
        let text = match err {
            ProcessError::Failed { stdout, stderr, .. } if stderr.trim().is_empty() => {
                stdout.clone()
            }
            ProcessError::Failed { stderr, .. } => stderr.clone(),
            other => other.to_string(),
        };
        Self { text }
    }
}
