//! `wcomp.toml` and the project it describes: the manifest model (parsed with spans so every
//! problem is reported at its line and column), [`Language`], [`Project`] and the naming rules.
//! A leaf: toolchains, workspaces, WIT, the runtime and testing all read these types, and this
//! module depends on nothing of theirs.

pub mod language;
pub mod names;
pub mod project;

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use miette::{NamedSource, SourceSpan};
use serde::Deserialize;
use toml::Spanned;

use crate::diagnostic::ReportResult as _;

pub use language::Language;
pub use project::{Project, ProjectError};

/// A problem in `wcomp.toml`, pointing at where it is.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{message}")]
pub struct ManifestError {
    pub message: String,
    #[source_code]
    pub src: NamedSource<String>,
    #[label("{label}")]
    pub span: SourceSpan,
    pub label: String,
    #[help]
    pub help: Option<String>,
}

/// The parsed manifest, with the source kept for later diagnostics.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub path: PathBuf,
    pub source: String,
    pub workspace: Option<WorkspaceTable>,
    pub component: Option<Spanned<ComponentEntry>>,
    pub components: BTreeMap<String, Spanned<ComponentEntry>>,
    pub compose: ComposeTable,
    /// Grants and limits for `wcomp run` (see `runtime::profile`).
    pub run: RunTable,
    /// Defaults of `wcomp serve`.
    pub serve: ServeTable,
    /// `[config]`: the values guests read through `wasi:config`.
    pub config: BTreeMap<String, Spanned<ConfigEntry>>,
    /// Read by `wcomp wit check`; kept here so it is not an unknown key.
    pub lint: Option<toml::Table>,
    /// `[[test]]` smoke tests run by `wcomp test`.
    pub tests: Vec<Spanned<TestEntry>>,
    /// `[python]` of a single Python project, read by the Python toolchain.
    pub python: Option<toml::Table>,
    /// `[registry]`: the OCI registry each WIT namespace is fetched from and published to.
    pub registry: BTreeMap<String, Spanned<RegistryEntry>>,
}

/// One `[registry]` entry: `acme = "ghcr.io/acme"` (a registry and a repository prefix), or
/// `acme = { oci = "localhost:5000/wit", insecure = true }` for plain HTTP on this machine.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RegistryEntry {
    Plain(String),
    Table {
        oci: String,
        #[serde(default)]
        insecure: bool,
    },
}

impl RegistryEntry {
    /// `(registry[/prefix], insecure)`.
    pub fn parts(&self) -> (&str, bool) {
        match self {
            Self::Plain(oci) => (oci, false),
            Self::Table { oci, insecure } => (oci, *insecure),
        }
    }
}

/// One `[[test]]`: a single call, or several `steps` on one instance.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TestEntry {
    pub name: Spanned<String>,
    /// Test this component alone (its unsatisfied imports stubbed) instead of the
    /// composition.
    pub component: Option<Spanned<String>>,
    pub invoke: Option<String>,
    pub expect: Option<String>,
    pub expect_trap: Option<String>,
    pub expect_error: Option<String>,
    #[serde(default)]
    pub steps: Vec<StepEntry>,
    /// An HTTP request to the component (`"GET /"`, `"POST /stats"`), answered in-process by
    /// a fresh instance.
    pub request: Option<Spanned<String>>,
    /// Request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The request body, or a file holding it (relative to the manifest).
    pub body: Option<String>,
    pub body_file: Option<Spanned<PathBuf>>,
    pub expect_status: Option<u16>,
    /// The whole response body.
    pub expect_body: Option<String>,
    /// Text the response body contains.
    pub expect_body_contains: Option<String>,
    /// Response headers and their values.
    #[serde(default)]
    pub expect_header: BTreeMap<String, String>,
    /// Keyvalue entries set before the test: `{ default = { hits = "0" } }`. The buckets of a
    /// `wcomp test` run are in memory, shared by its tests in order.
    #[serde(default)]
    pub kv: BTreeMap<String, BTreeMap<String, String>>,
    /// Keyvalue entries the test must leave, in the same form.
    #[serde(default)]
    pub expect_kv: BTreeMap<String, BTreeMap<String, String>>,
}

impl TestEntry {
    /// The steps of the test: `steps`, or the single call written inline.
    pub fn all_steps(&self) -> Vec<StepEntry> {
        if !self.steps.is_empty() {
            return self.steps.clone();
        }
        vec![StepEntry {
            invoke: self.invoke.clone(),
            expect: self.expect.clone(),
            expect_trap: self.expect_trap.clone(),
            expect_error: self.expect_error.clone(),
        }]
    }
}

/// A call and what it must produce.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct StepEntry {
    /// A WAVE call, e.g. `render("hi")`.
    pub invoke: Option<String>,
    /// The result, as WAVE.
    pub expect: Option<String>,
    /// The call must trap, with this text in the trap message or the guest's stderr.
    pub expect_trap: Option<String>,
    /// The call must return `result::err`, with this payload (WAVE; empty for none).
    pub expect_error: Option<String>,
}

/// `[workspace]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceTable {
    pub name: Spanned<String>,
    /// The shared WIT directory, relative to the manifest.
    #[serde(default = "default_wit")]
    pub wit: Spanned<PathBuf>,
    /// Published as `org.opencontainers.image.version` by `wcomp publish`.
    pub version: Option<String>,
    /// Published as `org.opencontainers.image.description`.
    pub description: Option<String>,
    /// Where the source lives (a repository URL): `org.opencontainers.image.source`.
    pub source: Option<String>,
}

fn default_wit() -> Spanned<PathBuf> {
    Spanned::new(0..0, PathBuf::from("wit"))
}

/// `[component.<name>]` in a workspace, or `[component]` in a single project.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentEntry {
    /// Only in a single-project manifest (a workspace uses the table key).
    pub name: Option<String>,
    /// The language; absent for a component taken from a registry (`oci`).
    pub lang: Option<Spanned<Language>>,
    /// Take the component from an OCI registry instead of building it: `ghcr.io/acme/x:1.2.0`
    /// (workspace only; pinned by digest in `wcomp.lock`).
    pub oci: Option<Spanned<String>>,
    /// Reach that registry over plain HTTP (a registry on this machine only).
    #[serde(default)]
    pub insecure: bool,
    /// Directory relative to the manifest (workspace; default: the name).
    pub path: Option<Spanned<PathBuf>>,
    pub world: Option<Spanned<String>>,
    /// WIT directory (single project; default `wit`).
    pub wit: Option<PathBuf>,
    /// What the component may use of WASI inside the workspace's composition (`"env:HOME"`,
    /// `"fs:data"`, `"http:api.example.com"`, `"kv:cache"`, …); once any component says,
    /// one that does not gets only clocks, random numbers and standard streams.
    pub allow: Option<Spanned<Vec<Spanned<String>>>>,
}

impl ComponentEntry {
    /// The `allow` entries limited by a scope for the capability `word` (`fs` gives `data` of
    /// `"fs:data"`), each with the span of its entry.
    pub fn scoped<'a>(&'a self, word: &'a str) -> impl Iterator<Item = (&'a str, Range<usize>)> {
        self.allow
            .iter()
            .flat_map(|allow| allow.get_ref())
            .filter_map(move |entry| {
                let (kind, scope) = entry.get_ref().trim().split_once(':')?;
                (kind == word && !scope.is_empty()).then(|| (scope, entry.span()))
            })
    }
}

/// `[compose]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComposeTable {
    pub root: Option<Spanned<String>>,
    pub output: Option<PathBuf>,
    /// A `.wac` file (relative to the manifest) that says how to compose, instead of
    /// automatic plugging; members are its packages as `<workspace>:<component>`.
    pub wac: Option<Spanned<PathBuf>>,
    /// `importer -> { import -> exporter }`, overriding automatic plugging.
    #[serde(default)]
    pub wire: BTreeMap<String, Spanned<BTreeMap<String, Spanned<String>>>>,
}

/// `[run]`: what `wcomp run` grants the guest and the limits it holds it to, in the forms the
/// command-line flags take. Command-line grants add to these; command-line limits override.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RunTable {
    /// `--dir` grants: `"data"`, `"out::/out:rw"` (host paths relative to the manifest).
    #[serde(default)]
    pub dirs: Vec<Spanned<String>>,
    /// `--env` grants: `"HOME"`, `"MODE=fast"`.
    #[serde(default)]
    pub env: Vec<Spanned<String>>,
    /// `--allow-net` grants: `"127.0.0.1:8080"`.
    #[serde(default)]
    pub allow_net: Vec<Spanned<String>>,
    /// `"500ms"`, `"2m"`, `"none"`.
    pub timeout: Option<Spanned<String>>,
    pub fuel: Option<Spanned<u64>>,
    /// `"64MiB"`, `"1GiB"`.
    pub max_memory: Option<Spanned<String>>,
    /// `[run.keyvalue]`: `--kv` grants, bucket = backend (`"embedded"`, `"memory"`,
    /// `"redis://127.0.0.1:6379/0"`).
    #[serde(default)]
    pub keyvalue: BTreeMap<String, Spanned<String>>,
    /// `--state-dir`, relative to the manifest (default `.wcomp/state`).
    pub state_dir: Option<Spanned<String>>,
    /// `[run.nn]`: `--nn-graph` grants, graph name = ONNX model (relative to the manifest).
    #[serde(default)]
    pub nn: BTreeMap<String, Spanned<String>>,
    /// `--allow-nn-load`: guests may load models from bytes.
    #[serde(default)]
    pub allow_nn_load: bool,
}

/// One `[config]` value: `greeting = "hello"`, or `api-key = { value = "…", secret = true }`
/// for a value never written to logs.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ConfigEntry {
    Plain(String),
    Table {
        value: String,
        #[serde(default)]
        secret: bool,
    },
}

/// `[serve]`: defaults of `wcomp serve`, in the forms its flags take (flags override). The
/// sandbox grants come from `[run]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ServeTable {
    /// `"127.0.0.1:8080"`.
    pub addr: Option<Spanned<String>>,
    /// `--allow-http` grants: `"api.example.com"`, `"*.internal:8443"`.
    #[serde(default)]
    pub allow_http: Vec<Spanned<String>>,
    /// Per request: `"30s"`, `"none"`.
    pub timeout: Option<Spanned<String>>,
    pub fuel: Option<Spanned<u64>>,
    /// Per instance: `"256MiB"`.
    pub max_memory: Option<Spanned<String>>,
    pub max_concurrency: Option<Spanned<usize>>,
    /// Open connections at most.
    pub max_connections: Option<Spanned<usize>>,
    /// Where the metrics are served: `"127.0.0.1:9100"`.
    pub metrics: Option<Spanned<String>>,
    pub queue: Option<Spanned<usize>>,
    /// Requests one instance answers before it is dropped (1: a fresh one per request).
    pub reuse: Option<Spanned<usize>>,
    /// Requests one instance answers at once (WASI 0.3 handlers).
    pub concurrent: Option<Spanned<usize>>,
    /// `"10MiB"`.
    pub max_body: Option<Spanned<String>>,
    /// `"10s"`.
    pub header_timeout: Option<Spanned<String>>,
    /// `"30s"`.
    pub drain: Option<Spanned<String>>,
    /// `[serve.keyvalue]`: buckets added to (or replacing) `[run.keyvalue]`'s when serving.
    #[serde(default)]
    pub keyvalue: BTreeMap<String, Spanned<String>>,
    /// The state directory when serving, relative to the manifest.
    pub state_dir: Option<Spanned<String>>,
}

/// A workspace manifest as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkspace {
    workspace: WorkspaceTable,
    #[serde(default)]
    component: BTreeMap<String, Spanned<ComponentEntry>>,
    #[serde(default)]
    compose: ComposeTable,
    #[serde(default)]
    run: RunTable,
    #[serde(default)]
    serve: ServeTable,
    #[serde(default)]
    config: BTreeMap<String, Spanned<ConfigEntry>>,
    lint: Option<toml::Table>,
    #[serde(default)]
    test: Vec<Spanned<TestEntry>>,
    #[serde(default)]
    registry: BTreeMap<String, Spanned<RegistryEntry>>,
}

/// A single project's manifest as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProject {
    component: Option<Spanned<ComponentEntry>>,
    #[serde(default)]
    run: RunTable,
    #[serde(default)]
    serve: ServeTable,
    #[serde(default)]
    config: BTreeMap<String, Spanned<ConfigEntry>>,
    lint: Option<toml::Table>,
    python: Option<toml::Table>,
    #[serde(default)]
    registry: BTreeMap<String, Spanned<RegistryEntry>>,
}

/// The file name of manifests.
pub const MANIFEST: &str = "wcomp.toml";

/// The nearest directory at or above `start` whose `wcomp.toml` has a `[workspace]` table.
pub fn find_workspace(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| {
            let path = dir.join(MANIFEST);
            path.is_file()
                && std::fs::read_to_string(&path)
                    .ok()
                    .and_then(|text| text.parse::<toml::Table>().ok())
                    .is_some_and(|table| table.contains_key("workspace"))
        })
        .map(Path::to_path_buf)
}

impl Manifest {
    /// Reads and parses `path`.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let source = fs_err::read_to_string(path)?;
        Self::parse(path, source).report_err()
    }

    /// Parses manifest text; `path` names it in diagnostics.
    pub fn parse(path: &Path, source: String) -> Result<Self, ManifestError> {
        let syntax = |err: toml::de::Error| {
            let span = err.span().unwrap_or(0..0);
            error_at(path, &source, span, err.message().to_owned(), "here", None)
        };
        // A `[workspace]` table decides which schema applies.
        let table: toml::Table = toml::from_str(&source).map_err(syntax)?;
        if table.contains_key("workspace") {
            let raw: RawWorkspace = toml::from_str(&source).map_err(syntax)?;
            Ok(Self {
                path: path.to_owned(),
                source: source.clone(),
                workspace: Some(raw.workspace),
                component: None,
                components: raw.component,
                compose: raw.compose,
                run: raw.run,
                serve: raw.serve,
                config: raw.config,
                lint: raw.lint,
                tests: raw.test,
                python: None,
                registry: raw.registry,
            })
        } else {
            let raw: RawProject = toml::from_str(&source).map_err(syntax)?;
            Ok(Self {
                path: path.to_owned(),
                source: source.clone(),
                workspace: None,
                component: raw.component,
                components: BTreeMap::new(),
                compose: ComposeTable::default(),
                run: raw.run,
                serve: raw.serve,
                config: raw.config,
                lint: raw.lint,
                tests: Vec::new(),
                python: raw.python,
                registry: raw.registry,
            })
        }
    }

    /// A diagnostic at `span` of this manifest.
    pub fn error(
        &self,
        span: Range<usize>,
        message: impl Into<String>,
        label: impl Into<String>,
        help: Option<String>,
    ) -> ManifestError {
        error_at(
            &self.path,
            &self.source,
            span,
            message.into(),
            label.into(),
            help,
        )
    }
}

fn error_at(
    path: &Path,
    source: &str,
    span: Range<usize>,
    message: String,
    label: impl Into<String>,
    help: Option<String>,
) -> ManifestError {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    ManifestError {
        message: format!("invalid `{name}`: {message}"),
        src: NamedSource::new(path.display().to_string(), source.to_owned()),
        span: span.into(),
        label: label.into(),
        help,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Manifest, ManifestError> {
        Manifest::parse(Path::new("wcomp.toml"), text.to_owned())
    }

    #[test]
    fn parses_a_workspace() {
        let manifest = parse(
            r#"
[workspace]
name = "textstats"

[component.tokenizer]
lang = "rust"
world = "tokenizer"

[component.report]
lang = "go"
path = "services/report"
world = "report"

[compose]
root = "report"

[compose.wire]
report = { "acme:textstats/stats" = "tokenizer" }

[lint]
deny = ["warnings"]

[run]
dirs = ["data::/data"]
allow-net = ["127.0.0.1:8080"]
timeout = "5s"
"#,
        )
        .unwrap();
        assert_eq!(manifest.run.dirs[0].get_ref(), "data::/data");
        assert_eq!(manifest.run.allow_net[0].get_ref(), "127.0.0.1:8080");
        assert_eq!(manifest.run.timeout.as_ref().unwrap().get_ref(), "5s");
        assert_eq!(manifest.workspace.unwrap().name.into_inner(), "textstats");
        assert_eq!(manifest.components.len(), 2);
        assert_eq!(
            *manifest.components["report"]
                .get_ref()
                .lang
                .as_ref()
                .unwrap()
                .get_ref(),
            Language::Go
        );
        assert_eq!(
            manifest.compose.wire["report"].get_ref()["acme:textstats/stats"].get_ref(),
            "tokenizer"
        );
    }

    #[test]
    fn unknown_keys_and_languages_point_at_the_text() {
        let err = parse("[workspace]\nname = \"x\"\nwitt = \"wit\"\n").unwrap_err();
        assert!(
            err.message.contains("unknown field `witt`"),
            "{}",
            err.message
        );
        assert_eq!(err.span.offset(), "[workspace]\nname = \"x\"\n".len());

        let err =
            parse("[workspace]\nname = \"x\"\n[component.a]\nlang = \"cobol\"\n").unwrap_err();
        assert!(
            err.message.contains("unknown variant `cobol`"),
            "{}",
            err.message
        );
        assert!(err.message.contains("rust"), "{}", err.message);
    }
}
