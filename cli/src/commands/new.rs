use std::path::PathBuf;

use serde_json::{Value, json};

use crate::diagnostic::Report as _;
use crate::manifest::Language;
use crate::printer::{Message, Printer};
use crate::scaffold::{self, NewOptions, Scaffolded, Template, WasiVersion};
use crate::workspace::Workspace;
use crate::{Context, ExitStatus};

/// Create a new component project or workspace.
///
/// Without `--wit`, the project implements a small example world that builds as is.
/// With `--wit` (a `.wit` file or a directory with `deps/`) and `--world`, the WIT is
/// copied into the project and every export of the world gets a compiling stub.
///
/// `--workspace` creates a workspace instead: a `wcomp.toml`, a shared `wit/` and a
/// README. Inside a workspace, `wcomp new <name> --lang <lang> --world <world>` adds a
/// component that uses the shared WIT and registers it in `wcomp.toml`.
///
/// The destination must not exist or must be empty: `new` never overwrites anything.
///
/// Examples:
///
///   wcomp new greeter --lang rust
///
///   wcomp new hello --lang go --template http && wcomp serve hello/target/wcomp/hello.wasm
///
///   wcomp new hello --lang python --template http --wasi 0.3
///
///   wcomp new analyzer --lang rust --wit ../wit --world analyzer
///
///   wcomp new reporter --lang js --wit ../wit --world reporter
///
///   wcomp new textstats --workspace && cd textstats && wcomp new analyzer --lang rust --world analyzer
#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// Directory to create; its name becomes the project name.
    pub dir: PathBuf,

    /// Language of the component.
    #[arg(long, value_enum, required_unless_present = "workspace")]
    pub lang: Option<LanguageArg>,

    /// Create a workspace (wcomp.toml and a shared wit/) instead of a component.
    #[arg(long, conflicts_with_all = ["lang", "world"])]
    pub workspace: bool,

    /// Project name, when it should differ from the directory name.
    #[arg(long)]
    pub name: Option<String>,

    /// WIT file or directory defining the world to implement (or to seed a workspace with).
    #[arg(long)]
    pub wit: Option<PathBuf>,

    /// World to implement (optional when the WIT package defines exactly one).
    #[arg(long)]
    pub world: Option<String>,

    /// What the project starts as: the example world, or an HTTP handler for `wcomp serve`.
    #[arg(long, value_enum, default_value_t = TemplateArg::Example)]
    pub template: TemplateArg,

    /// With `--template http`: the WASI release of the handler. 0.2 (the default) builds in
    /// every language and gets a fresh instance per request from `wcomp serve`; 0.3 (Rust and
    /// Python) is an `async` handler with streaming bodies.
    #[arg(long, value_enum, value_name = "VERSION", conflicts_with = "workspace")]
    pub wasi: Option<WasiArg>,

    /// With `--lang js`: write `app.ts` and the world's types; `wcomp build` writes the types
    /// again from the WIT and compiles `app.ts` with the TypeScript compiler.
    #[arg(long)]
    pub typescript: bool,
}

/// Project templates.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum TemplateArg {
    /// A small example world (or stubs of `--wit --world`).
    Example,
    /// An HTTP handler (`wasi:http/incoming-handler`, or `wasi:http/handler` with `--wasi 0.3`)
    /// answering `GET /`.
    Http,
}

/// WASI releases an HTTP template can target.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum WasiArg {
    /// WASI 0.2: the `wasi:http/proxy` world.
    #[value(name = "0.2")]
    P2,
    /// WASI 0.3: the `wasi:http/service` world (Rust and Python).
    #[value(name = "0.3")]
    P3,
}

impl From<WasiArg> for WasiVersion {
    fn from(value: WasiArg) -> Self {
        match value {
            WasiArg::P2 => WasiVersion::P2,
            WasiArg::P3 => WasiVersion::P3,
        }
    }
}

/// The template `--template` and `--wasi` ask for; `--wasi` goes with `--template http` only.
fn template(args: &NewArgs) -> anyhow::Result<Template> {
    match (args.template, args.wasi) {
        (TemplateArg::Example, None) => Ok(Template::Example),
        (TemplateArg::Example, Some(_)) => Err(scaffold::ScaffoldError::WasiWithoutHttp.report()),
        (TemplateArg::Http, wasi) => Ok(Template::Http(wasi.map(Into::into).unwrap_or_default())),
    }
}

/// Languages `wcomp new` can scaffold.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LanguageArg {
    Rust,
    Go,
    Python,
    /// JavaScript (ES module) built with componentize-js.
    #[value(alias = "javascript")]
    Js,
}

impl From<LanguageArg> for Language {
    fn from(value: LanguageArg) -> Self {
        match value {
            LanguageArg::Rust => Language::Rust,
            LanguageArg::Go => Language::Go,
            LanguageArg::Python => Language::Python,
            LanguageArg::Js => Language::Js,
        }
    }
}

pub fn run(args: NewArgs, ctx: &Context) -> anyhow::Result<ExitStatus> {
    if args.workspace {
        let created = scaffold::workspace::new_workspace(
            &args.dir,
            args.name.as_deref(),
            args.wit.as_deref(),
            ctx,
        )?;
        report(ctx, &created, "workspace", &args.dir);
        return Ok(ExitStatus::Success);
    }
    let language: Language = args
        .lang
        .expect("clap requires --lang without --workspace")
        .into();
    let template = template(&args)?;
    let target = ctx.path(&args.dir);
    let workspace = target.parent().and_then(Workspace::find);
    let created = match (workspace, &args.wit) {
        // Inside a workspace, components use its WIT unless they bring their own.
        (Some(_), None) if args.typescript => {
            return Err(scaffold::ScaffoldError::TypeScript {
                reason: "is not supported for workspace components yet".into(),
                help: "create the TypeScript project outside the workspace, or drop `--typescript`"
                    .into(),
            }
            .report());
        }
        (Some(root), None) => scaffold::workspace::new_member(
            &root,
            &args.dir,
            language,
            args.name.as_deref(),
            args.world.as_deref(),
            template,
            ctx,
        )?,
        _ => {
            if args.world.is_some() && args.wit.is_none() {
                return Err(scaffold::ScaffoldError::WorldWithoutWit.report());
            }
            let options = NewOptions {
                dir: args.dir.clone(),
                language,
                name: args.name,
                wit: args.wit,
                world: args.world,
                template,
                typescript: args.typescript,
            };
            scaffold::new_project(&options, ctx)?
        }
    };
    report(ctx, &created, &language.to_string(), &args.dir);
    Ok(ExitStatus::Success)
}

fn report(ctx: &Context, created: &Scaffolded, kind: &str, dir: &std::path::Path) {
    ctx.printer.emit(&Created { created, kind, dir });
}

/// A project or workspace created; `kind` is `workspace` or the component's language.
struct Created<'a> {
    created: &'a Scaffolded,
    kind: &'a str,
    /// The directory as the user named it.
    dir: &'a std::path::Path,
}

impl Message for Created<'_> {
    fn to_json(&self) -> Value {
        json!({
            "reason": "project-created",
            "kind": self.kind,
            "dir": self.created.dir,
            "name": self.created.name,
            "world": self.created.world,
            "files": self.created.files,
        })
    }

    fn show(&self, printer: &Printer) {
        let dir = self.dir.display();
        if self.kind == "workspace" {
            printer.status(
                "Created",
                format_args!("workspace `{}` in `{dir}`", self.created.name),
            );
            printer.note(format_args!(
                "add components with `cd {dir} && wcomp new <name> --lang <rust|go|python|js> --world <world>`"
            ));
        } else {
            printer.status(
                "Created",
                format_args!(
                    "{} component `{}` (world `{}`) in `{dir}`",
                    self.kind, self.created.name, self.created.world
                ),
            );
            printer.note(format_args!("build it with `wcomp build {dir}`"));
        }
    }
}
