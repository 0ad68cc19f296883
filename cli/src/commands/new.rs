use std::path::PathBuf;

use serde_json::{Value, json};

use crate::diagnostic::Report as _;
use crate::manifest::Language;
use crate::printer::{Message, Printer};
use crate::scaffold::{self, HttpTemplate, NewOptions, Scaffolded, Template, WasiVersion};
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
///   wcomp new counter --lang rust --template http --with keyvalue,config
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

    /// With `--template http`: WASI packages the handler's world also includes, comma-separated
    /// or repeated: `keyvalue` (`wasi:keyvalue/imports`: buckets of key-value state) and
    /// `config` (`wasi:config/imports`: configuration values). Their WIT goes under
    /// `wit/deps/`, from wcomp's own copy.
    #[arg(
        long,
        value_enum,
        value_name = "PACKAGE",
        value_delimiter = ',',
        conflicts_with = "workspace"
    )]
    pub with: Vec<WithArg>,

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
    /// A component that runs ONNX models through `wasi:nn` (Rust and Python): `infer` and
    /// `classify` a graph granted by name (`wcomp run --nn-graph <name>=<model.onnx>`).
    Nn,
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

/// WASI packages `--with` adds to an HTTP handler's world.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WithArg {
    /// `wasi:keyvalue/imports`: key-value buckets (`store`, `atomics`, `batch`).
    Keyvalue,
    /// `wasi:config/imports`: configuration values (`store`).
    Config,
}

/// The template `--template`, `--wasi` and `--with` ask for; `--wasi` and `--with` go with
/// `--template http` only.
fn template(args: &NewArgs) -> anyhow::Result<Template> {
    match (args.template, args.wasi) {
        (TemplateArg::Example, Some(_)) => Err(scaffold::ScaffoldError::WasiWithoutHttp.report()),
        (TemplateArg::Example, None) if !args.with.is_empty() => {
            Err(scaffold::ScaffoldError::WithWithoutHttp.report())
        }
        (TemplateArg::Example, None) => Ok(Template::Example),
        (TemplateArg::Nn, Some(_)) => Err(scaffold::ScaffoldError::WasiWithoutHttp.report()),
        (TemplateArg::Nn, None) if !args.with.is_empty() => {
            Err(scaffold::ScaffoldError::WithWithoutHttp.report())
        }
        (TemplateArg::Nn, None) => Ok(Template::Nn),
        (TemplateArg::Http, wasi) => Ok(Template::Http(HttpTemplate {
            wasi: wasi.map(Into::into).unwrap_or_default(),
            keyvalue: args.with.contains(&WithArg::Keyvalue),
            config: args.with.contains(&WithArg::Config),
        })),
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

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;
    use crate::cli::{Cli, Command};

    /// `wcomp new hello <args>`, the arguments split at spaces.
    fn parse(args: &str) -> Result<NewArgs, clap::Error> {
        let args = ["wcomp", "new", "hello"].into_iter().chain(args.split(' '));
        match Cli::try_parse_from(args)?.command {
            Command::New(args) => Ok(args),
            other => panic!("parsed as {other:?}"),
        }
    }

    fn http(args: &str) -> HttpTemplate {
        match template(&parse(args).unwrap()).unwrap() {
            Template::Http(http) => http,
            Template::Example | Template::Nn => panic!("not an HTTP template"),
        }
    }

    #[test]
    fn with_takes_a_list_or_repeats() {
        assert_eq!(http("--lang go --template http"), HttpTemplate::default());
        let both = HttpTemplate {
            keyvalue: true,
            config: true,
            ..HttpTemplate::default()
        };
        for with in [
            "--with keyvalue,config",
            "--with config --with keyvalue",
            "--with keyvalue --with keyvalue,config",
        ] {
            assert_eq!(http(&format!("--lang rust --template http {with}")), both);
        }
        let p3 = http("--lang python --template http --wasi 0.3 --with config");
        assert_eq!(
            (p3.wasi, p3.keyvalue, p3.config),
            (WasiVersion::P3, false, true)
        );
    }

    #[test]
    fn with_names_the_accepted_packages_when_given_another() {
        let err = parse("--lang rust --template http --with keyvalue,redis").unwrap_err();
        let err = err.to_string();
        assert!(err.contains("invalid value 'redis' for '--with"), "{err}");
        assert!(err.contains("[possible values: keyvalue, config]"), "{err}");
    }

    #[test]
    fn with_goes_with_the_http_template_only() {
        let args = parse("--lang rust --with keyvalue").unwrap();
        let err = format!("{:#}", template(&args).unwrap_err());
        assert!(
            err.contains("`--with` adds WASI packages to the world of `--template http`"),
            "{err}"
        );
        let err = parse("--workspace --with config").unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
    }
}
