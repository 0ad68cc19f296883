use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::commands::build::current_component;
use crate::commands::registry::{RegistryFlags, component_path};
use crate::diagnostic::{Diagnosed, ReportResult as _};
use crate::printer::{Message, Printer, Verbosity};
use crate::runtime::profile::RunProfile;
use crate::runtime::{
    self, CacheMode, ConfigValue, DirGrant, EnvGrant, Events, KvGrant, Limits, NetGrant, RunEvent,
    RunOptions, RunOutcome, Sandbox, cache,
};
use crate::watch::WatchLoop;
use crate::workspace::{MANIFEST, Manifest};
use crate::{Context, ExitStatus};

/// Run a component on the embedded wasmtime, sandboxed.
///
/// Without `--invoke`, runs the component's `wasi:cli/run` export and exits with the
/// guest's exit code. With `--invoke`, calls one exported function with WAVE arguments
/// (the syntax of `wasmtime run --invoke`) and prints each result as WAVE on stdout.
/// A function may be named bare when unambiguous, or qualified with its interface:
/// `report#render(...)`, `acme:text/report@0.1.0#render(...)`.
///
/// In a workspace, with no component given, runs the composed workspace (building and
/// composing first whatever is stale).
///
/// The guest gets stdio and its arguments, and nothing else unless granted: no files
/// (`--dir`), no environment variables (`--env`), no network or name lookup
/// (`--allow-net`). A denied access fails inside the guest with the WASI error; `-v` shows
/// the grants and each denied network address. The same grants and limits can be set under
/// `[run]` in wcomp.toml (keys `dirs`, `env`, `allow-net`, `timeout`, `fuel`,
/// `max-memory`); flags add to the grants and override the limits.
///
/// Compiled code is cached in wcomp's cache directory (see `wcomp cache dir`), so the
/// second run of a component does not compile it again.
///
/// Exit codes: the guest's own code for commands; 0 when `--invoke` returns; 1 when the
/// guest traps or the input is wrong; 122 when the guest exceeds `--max-memory`, 123 when
/// it runs out of `--fuel`, 124 when it exceeds `--timeout`.
///
/// Examples:
///
///   wcomp run app.wasm --invoke 'render("Hello brave new world")'
///
///   wcomp run tool.wasm --dir data::/data --dir out::/out:rw -- --input /data/in.txt
///
///   wcomp run server.wasm --allow-net 127.0.0.1:8080 --env LOG=debug --timeout none
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The component to run (default in a workspace: the composed workspace, composed first
    /// if anything changed; in a project: its component, built first if stale).
    pub component: Option<PathBuf>,

    /// A WAVE function call, e.g. `render("hi")` or `iface#add(1, 2)`.
    #[arg(long)]
    pub invoke: Option<String>,

    #[command(flatten)]
    pub guest: GuestFlags,

    #[command(flatten)]
    pub registry: RegistryFlags,

    /// Compile the component even if its compiled code is cached, and cache nothing.
    #[arg(long)]
    pub no_cache: bool,

    /// Run, then rebuild and run again whenever a source of the workspace or project is
    /// saved, until Ctrl-C.
    #[arg(long, conflicts_with = "component")]
    pub watch: bool,

    /// Arguments for the guest (after `--`).
    #[arg(last = true)]
    pub args: Vec<String>,
}

/// What a guest may touch and the limits it is held to, as flags (`run` and `serve`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct GuestFlags {
    /// Grant a host directory: `<host>[::<guest>]`, read-only unless suffixed `:rw`.
    #[arg(long = "dir", value_name = "HOST[::GUEST][:rw]")]
    pub dirs: Vec<String>,

    /// Grant an environment variable: `KEY` passes the host's value, `KEY=VALUE` sets one.
    #[arg(long = "env", value_name = "KEY[=VALUE]")]
    pub env: Vec<String>,

    /// Allow sockets to these addresses (and name lookup): `127.0.0.1:8080`, `*:443`,
    /// `10.0.0.0/8:*`, `[::1]:8000-8099`, `localhost:5432`.
    #[arg(long = "allow-net", value_name = "HOST:PORT")]
    pub allow_net: Vec<String>,

    /// Grant a `wasi:keyvalue` bucket: `<bucket>` on the embedded store (in `--state-dir`),
    /// `<bucket>=memory`, or `<bucket>=redis://<host>:<port>/<db>` (Redis or Valkey).
    #[arg(long = "kv", value_name = "BUCKET[=BACKEND]")]
    pub kv: Vec<String>,

    /// Where the embedded keyvalue store lives [default: `.wcomp/state` beside wcomp.toml,
    /// or in the current directory].
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,

    /// A `wasi:config` value: `<key>=<value>` (adds to `[config]` in wcomp.toml).
    #[arg(long = "config", value_name = "KEY=VALUE")]
    pub config: Vec<String>,

    /// `wasi:config` values from the environment: every variable `<PREFIX>_<KEY>`, read as
    /// `<key>` in lower case; they are treated as secrets (never logged).
    #[arg(long = "config-env", value_name = "PREFIX")]
    pub config_env: Vec<String>,

    /// Preload an ONNX model guests load by name with `wasi:nn`'s `load-by-name`:
    /// `<name>=<model.onnx>`. It is compiled once, when the run or server starts.
    #[arg(long = "nn-graph", value_name = "NAME=MODEL")]
    pub nn_graph: Vec<String>,

    /// Let guests load ONNX models from bytes with `wasi:nn`'s `load` (denied by default).
    #[arg(long)]
    pub allow_nn_load: bool,

    /// Wall-clock limit for the guest: `500ms`, `1s`, `2m`, or `none` [default: 30s].
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,

    /// Fuel for the guest (about one unit per WebAssembly instruction) [default: unlimited].
    #[arg(long, value_name = "N")]
    pub fuel: Option<u64>,

    /// Limit on the guest's memories and tables together: `64MiB`, `1GiB` [default: 1GiB].
    #[arg(long, value_name = "SIZE")]
    pub max_memory: Option<String>,
}

pub fn run(args: RunArgs, ctx: &Context) -> anyhow::Result<ExitStatus> {
    if args.watch {
        let stop = std::sync::atomic::AtomicBool::new(false);
        let dir = ctx.cwd.clone();
        return WatchLoop::new(&dir, ctx, crate::error::report)?.run(ctx, &stop, |ctx| {
            let component = current_component(&dir, None, "run", ctx)?;
            run_once(&args, component, ctx)
        });
    }
    let component = match &args.component {
        Some(component) => component_path(component, &args.registry.access_in(ctx)?, ctx)?,
        None => current_component(&ctx.cwd, None, "run", ctx)?,
    };
    run_once(&args, component, ctx)
}

fn run_once(args: &RunArgs, component: PathBuf, ctx: &Context) -> anyhow::Result<ExitStatus> {
    let profile = match nearest_manifest(&ctx.cwd) {
        Some(path) => {
            let manifest = Manifest::load(&path)?;
            ctx.printer.verbose(format_args!(
                "grants and limits from `{}` [run]",
                path.display()
            ));
            RunProfile::from_manifest(&manifest).report_err()?
        }
        None => RunProfile::default(),
    };
    let (sandbox, limits) = sandbox_and_limits(&args.guest, ctx, profile)?;
    let cache = if args.no_cache {
        CacheMode::Disabled
    } else {
        CacheMode::Dir(cache::compiled_dir(&ctx.cache_dir))
    };
    let options = RunOptions {
        component,
        invoke: args.invoke.clone(),
        args: args.args.clone(),
        sandbox,
        limits,
        cache,
        events: printer_events(ctx),
        skip_teardown: true,
        ..RunOptions::default()
    };
    match runtime::run(&options)? {
        RunOutcome::Returned(results) => {
            ctx.printer.emit(&Returned(&results));
            Ok(ExitStatus::Success)
        }
        RunOutcome::Exited(0) => Ok(ExitStatus::Success),
        RunOutcome::Exited(code) => {
            ctx.printer
                .verbose(format_args!("guest exited with code {code}"));
            Ok(ExitStatus::Code(u8::try_from(code).unwrap_or(1)))
        }
    }
}

/// The manifest (workspace or project) at or above `dir`, whose `[run]` table applies.
pub fn nearest_manifest(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .map(|dir| dir.join(MANIFEST))
        .find(|path| path.is_file())
}

/// The manifest's profile with the flags on top: flags add grants and override limits.
pub fn sandbox_and_limits(
    args: &GuestFlags,
    ctx: &Context,
    profile: RunProfile,
) -> anyhow::Result<(Sandbox, Limits)> {
    Ok(profile.overlay(args.profile(ctx)?).resolve())
}

impl GuestFlags {
    /// The grants and limits these flags set, as a profile to lay over the manifest's.
    pub fn profile(&self, ctx: &Context) -> anyhow::Result<RunProfile> {
        let mut sandbox = Sandbox::default();
        for text in &self.dirs {
            sandbox
                .dirs
                .push(text.parse::<DirGrant>().report_err()?.relative_to(&ctx.cwd));
        }
        for text in &self.env {
            sandbox.env.push(text.parse::<EnvGrant>().report_err()?);
        }
        for text in &self.allow_net {
            sandbox.net.push(text.parse::<NetGrant>().report_err()?);
        }
        for text in &self.kv {
            sandbox.keyvalue.push(text.parse::<KvGrant>().report_err()?);
        }
        sandbox.state_dir = self.state_dir.as_ref().map(|dir| ctx.cwd.join(dir));
        for text in &self.nn_graph {
            sandbox.nn.push(
                text.parse::<runtime::nn::NnGrant>()
                    .report_err()?
                    .relative_to(&ctx.cwd),
            );
        }
        sandbox.allow_nn_load = self.allow_nn_load;
        for prefix in &self.config_env {
            sandbox
                .config
                .extend(runtime::config::from_env(prefix, std::env::vars()).report_err()?);
        }
        for text in &self.config {
            sandbox
                .config
                .push(text.parse::<ConfigValue>().report_err()?);
        }
        Ok(RunProfile {
            sandbox,
            timeout: self
                .timeout
                .as_deref()
                .map(crate::units::parse_timeout)
                .transpose()
                .report_err()?,
            fuel: self.fuel,
            max_memory: self
                .max_memory
                .as_deref()
                .map(crate::units::parse_size)
                .transpose()
                .report_err()?,
        })
    }
}

/// Shows run events: compilation and the sandbox with `-v` (as JSON objects under
/// `--format json -v`), notes and warnings always.
pub fn printer_events(ctx: &Context) -> Events {
    let printer = ctx.printer.clone();
    Events::new(move |event| {
        match event {
            RunEvent::Compiled {
                cache,
                elapsed,
                entry,
                recalled,
            } => printer.emit_verbose(&Compiled {
                cache,
                ms: elapsed.as_secs_f64() * 1e3,
                entry: entry.as_deref(),
                recalled: *recalled,
            }),
            RunEvent::CacheNotWritten { error } => {
                printer.warning(format_args!("compiled code not cached: {error}"));
            }
            RunEvent::Sandbox { line } => printer.verbose(line),
            RunEvent::Denied { what, grant } => printer.emit_verbose(&Denied { what, grant }),
            RunEvent::Note { message } => printer.note(message),
            RunEvent::Warning { message } => printer.warning(message),
            RunEvent::Overdue { limit } => {
                // The guest cannot be interrupted inside a host call; a command-line run
                // ends here rather than outliving its limit.
                let code = limit.exit_code();
                let err = anyhow::Error::new(Diagnosed::new(limit.clone()).with_exit_code(code));
                crate::error::report(&printer, &err);
                std::process::exit(i32::from(code));
            }
        }
    })
}

/// What an invoked function returned, one WAVE value per line.
struct Returned<'a>(&'a [String]);

impl Message for Returned<'_> {
    fn to_json(&self) -> Value {
        json!({"reason": "returned", "results": self.0})
    }

    fn show(&self, printer: &Printer) {
        for result in self.0 {
            printer.data(result);
        }
    }
}

/// The component's code is ready: compiled, or loaded from the cache (shown with `-v`).
struct Compiled<'a> {
    cache: &'a runtime::CacheOutcome,
    ms: f64,
    entry: Option<&'a Path>,
    /// The file was known unchanged, so it was not read.
    recalled: bool,
}

impl Message for Compiled<'_> {
    fn to_json(&self) -> Value {
        json!({
            "reason": "compiled",
            "cache": self.cache.as_str(),
            "ms": self.ms,
            "entry": self.entry,
            "path_index": self.recalled,
        })
    }

    fn show(&self, printer: &Printer) {
        let ms = self.ms;
        let message = match self.cache {
            runtime::CacheOutcome::Hit if self.recalled => format!(
                "loaded compiled code from the cache in {ms:.1} ms (the component file is unchanged since it was last seen, so it was not read)"
            ),
            runtime::CacheOutcome::Hit => {
                format!("loaded compiled code from the cache in {ms:.1} ms")
            }
            runtime::CacheOutcome::Miss => {
                format!("compiled in {ms:.1} ms (not cached yet; stored)")
            }
            runtime::CacheOutcome::Rebuilt { reason } => format!(
                "compiled in {ms:.1} ms (the cached entry was unusable: {reason}; replaced)"
            ),
            runtime::CacheOutcome::Disabled => {
                format!("compiled in {ms:.1} ms (cache disabled)")
            }
        };
        printer.verbose(message);
        if let Some(entry) = self.entry
            && printer.verbosity() >= Verbosity::VeryVerbose
        {
            printer.verbose(format_args!("cache entry `{}`", entry.display()));
        }
    }
}

/// Something the sandbox refused the guest, and the grant that would allow it (with `-v`).
struct Denied<'a> {
    what: &'a str,
    grant: &'a str,
}

impl Message for Denied<'_> {
    fn to_json(&self) -> Value {
        json!({"reason": "denied", "what": self.what, "grant": self.grant})
    }

    fn show(&self, printer: &Printer) {
        printer.verbose(format_args!(
            "denied {} (grant it with `{}`)",
            self.what, self.grant
        ));
    }
}
