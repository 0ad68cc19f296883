//! WIT lint rules. Each rule has a stable id (used by `--deny`, `[lint]` in `wcomp.toml` and
//! SARIF), runs over one resolved package, and reports warnings; [`LintLevels`] then decides
//! whether a finding is dropped, kept as a warning, or promoted to an error. Rules read the
//! resolved WIT only — they never look at formatting — and only report on the package being
//! checked, never on its dependencies (unless asked to check those too).

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use wit_parser::{
    Function, FunctionKind, Handle, PackageId, Resolve, Type, TypeDefKind, TypeId, TypeOwner,
    WorldItem, WorldKey,
};

use super::diagnostics::{Diagnostic, Location, Severity, SourceFiles};
use crate::diagnostic::{Report as _, ReportResult as _};

/// A lint rule's public description.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// Stable id; never renamed once released.
    pub id: &'static str,
    /// The level when nothing configures it.
    pub default: Level,
    /// One line: what the rule finds.
    pub summary: &'static str,
    /// Why it matters and how to fix it.
    pub help: &'static str,
}

/// Every rule, in the order they are documented. Rules that fire on the WASI 0.2 packages
/// themselves are `allow` by default: a default that flags the reference WIT would be noise.
pub const RULES: &[Rule] = &[
    Rule {
        id: "missing-docs",
        default: Level::Warn,
        summary: "a function or type a world exports (directly or through an exported interface of the package) has no doc comment",
        help: "add a `///` comment above it; exports are what implementers write and callers rely on, and binding generators copy the comment into every language",
    },
    Rule {
        id: "missing-item-docs",
        default: Level::Allow,
        summary: "any interface, world, type or function of the package has no doc comment (opt-in: WASI 0.2 itself leaves many undocumented)",
        help: "add a `///` comment above it",
    },
    Rule {
        id: "unused-type",
        default: Level::Warn,
        summary: "a type is defined but no function or other type uses it",
        help: "remove it, or use it; unused types still become part of every binding",
    },
    Rule {
        id: "unused-use",
        default: Level::Allow,
        summary: "a name brought in with `use` is never used (opt-in: WASI 0.2 itself has such imports)",
        help: "remove the name from the `use` list",
    },
    Rule {
        id: "unversioned-dependency",
        default: Level::Warn,
        summary: "a dependency package is referenced without a version while other dependencies have one",
        help: "give every dependency a version (`package ns:name@1.2.3;` in its WIT, `ns:name/iface@1.2.3` where it is used)",
    },
    Rule {
        id: "duplicate-package-version",
        default: Level::Warn,
        summary: "two semver-compatible versions of the same package are loaded together",
        help: "keep one version of the package under `deps/` so every interface refers to the same types",
    },
    Rule {
        id: "empty-interface",
        default: Level::Warn,
        summary: "an interface defines no types and no functions",
        help: "remove the interface, or add what it is meant to export",
    },
    Rule {
        id: "empty-world",
        default: Level::Warn,
        summary: "a world neither imports nor exports anything",
        help: "remove the world, or add the imports and exports a component targeting it has",
    },
    Rule {
        id: "shadows-wasi",
        default: Level::Warn,
        summary: "an interface, world or world item outside the `wasi` namespace is named like a WASI interface",
        help: "rename it; a name such as `streams` or `wall-clock` is easily confused with the WASI interface in bindings and docs",
    },
];

/// WASI 0.2 interface names a package outside the `wasi` namespace should not reuse. `types`
/// is left out on purpose: nearly every package has a `types` interface.
const WASI_INTERFACES: &[&str] = &[
    "error",
    "poll",
    "streams",
    "monotonic-clock",
    "wall-clock",
    "timezone",
    "random",
    "insecure",
    "insecure-seed",
    "preopens",
    "network",
    "instance-network",
    "ip-name-lookup",
    "tcp",
    "tcp-create-socket",
    "udp",
    "udp-create-socket",
    "environment",
    "exit",
    "run",
    "stdin",
    "stdout",
    "stderr",
    "terminal-input",
    "terminal-output",
    "terminal-stdin",
    "terminal-stdout",
    "terminal-stderr",
    "incoming-handler",
    "outgoing-handler",
];

pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|rule| rule.id == id)
}

/// What to do with a rule's findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Allow,
    Warn,
    Deny,
}

impl std::str::FromStr for Level {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "allow" => Ok(Self::Allow),
            "warn" => Ok(Self::Warn),
            "deny" => Ok(Self::Deny),
            _ => Err(()),
        }
    }
}

/// Errors in lint configuration.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum LintError {
    /// A rule id that does not exist.
    #[error("unknown lint rule `{id}` {origin}")]
    #[diagnostic(help("rules: {}; or `warnings` for all of them", rule_list()))]
    UnknownRule { id: String, origin: String },
    /// A level other than allow / warn / deny.
    #[error("invalid level `{level}` for lint `{id}` {origin}")]
    #[diagnostic(help("use \"allow\", \"warn\" or \"deny\""))]
    InvalidLevel {
        id: String,
        level: String,
        origin: String,
    },
    /// The manifest could not be read as TOML.
    #[error("invalid `{path}`")]
    #[diagnostic(help(
        "`[lint]` maps rule ids to \"allow\", \"warn\" or \"deny\", e.g. `missing-docs = \"allow\"`"
    ))]
    Manifest {
        path: PathBuf,
        #[source]
        source: toml::de::Error,
    },
}

fn rule_list() -> String {
    RULES
        .iter()
        .map(|rule| format!("`{}`", rule.id))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The level of every rule: all warn by default, then `[lint]` from `wcomp.toml`, then the
/// command line. The pseudo-rule `warnings` sets every rule still at `warn`.
#[derive(Debug, Clone, Default)]
pub struct LintLevels {
    rules: BTreeMap<String, Level>,
    warnings: Option<Level>,
}

impl LintLevels {
    /// Sets `id` (a rule id or `warnings`) to `level`.
    pub fn set(&mut self, id: &str, level: Level, origin: &str) -> Result<(), LintError> {
        if id == "warnings" {
            self.warnings = Some(level);
        } else if rule(id).is_some() {
            self.rules.insert(id.to_owned(), level);
        } else {
            return Err(LintError::UnknownRule {
                id: id.to_owned(),
                origin: origin.to_owned(),
            });
        }
        Ok(())
    }

    /// Layers `other` over `self` (later settings win).
    pub fn merged(&self, other: &LintLevels) -> LintLevels {
        let mut merged = self.clone();
        merged
            .rules
            .extend(other.rules.iter().map(|(k, v)| (k.clone(), *v)));
        if other.warnings.is_some() {
            merged.warnings = other.warnings;
        }
        merged
    }

    pub fn level(&self, id: &str) -> Level {
        let level = self
            .rules
            .get(id)
            .copied()
            .or_else(|| rule(id).map(|rule| rule.default))
            .unwrap_or(Level::Warn);
        match (level, self.warnings) {
            (Level::Warn, Some(warnings)) => warnings,
            (level, _) => level,
        }
    }

    /// Reads the `[lint]` table of a `wcomp.toml`, if it has one.
    pub fn from_manifest(path: &Path) -> anyhow::Result<LintLevels> {
        let text = fs_err::read_to_string(path)?;
        let value: toml::Table = toml::from_str(&text)
            .map_err(|source| LintError::Manifest {
                path: path.to_owned(),
                source,
            })
            .report_err()?;
        let mut levels = LintLevels::default();
        let origin = format!("in `{}`", path.display());
        if let Some(table) = value.get("lint").and_then(toml::Value::as_table) {
            for (id, level) in table {
                let parsed = level.as_str().and_then(|s| s.parse().ok());
                let Some(parsed) = parsed else {
                    return Err(LintError::InvalidLevel {
                        id: id.clone(),
                        level: level.to_string(),
                        origin,
                    }
                    .report());
                };
                levels.set(id, parsed, &origin).report_err()?;
            }
        }
        Ok(levels)
    }
}

/// Applies levels: drops allowed findings and turns denied ones into errors.
pub fn apply_levels(findings: Vec<Diagnostic>, levels: &LintLevels) -> Vec<Diagnostic> {
    findings
        .into_iter()
        .filter_map(|mut diagnostic| match levels.level(&diagnostic.code) {
            Level::Allow => None,
            Level::Warn => Some(diagnostic),
            Level::Deny => {
                diagnostic.severity = Severity::Error;
                diagnostic.notes.push(format!(
                    "`{}` is denied (`--deny` or `[lint]` in `wcomp.toml`)",
                    diagnostic.code
                ));
                Some(diagnostic)
            }
        })
        .collect()
}

/// Runs the rules `levels` does not allow over `package`. Findings are warnings; apply
/// levels afterwards. Allowed rules are skipped, not filtered, since locating a finding
/// costs more than finding it.
pub fn lint(
    resolve: &Resolve,
    package: PackageId,
    sources: &mut SourceFiles,
    levels: &LintLevels,
) -> Vec<Diagnostic> {
    let mut cx = Lint {
        resolve,
        package,
        sources,
        levels,
        out: Vec::new(),
    };
    if cx.enabled("missing-docs") {
        cx.missing_export_docs();
    }
    if cx.enabled("missing-item-docs") {
        cx.missing_item_docs();
    }
    cx.unused_types();
    cx.unversioned_dependencies();
    cx.duplicate_package_versions();
    cx.empty_items();
    cx.shadows_wasi();
    cx.out
}

struct Lint<'a> {
    resolve: &'a Resolve,
    package: PackageId,
    sources: &'a mut SourceFiles,
    levels: &'a LintLevels,
    out: Vec<Diagnostic>,
}

impl Lint<'_> {
    fn enabled(&self, id: &str) -> bool {
        self.levels.level(id) != Level::Allow
    }

    fn locate(&mut self, span: wit_parser::Span) -> Option<Location> {
        self.sources.locate_span(&self.resolve.source_map, span)
    }

    fn warn(&mut self, id: &'static str, span: wit_parser::Span, message: String, label: &str) {
        if !self.enabled(id) {
            return;
        }
        let location = self.locate(span);
        let help = rule(id).map_or("", |rule| rule.help);
        let mut diagnostic = Diagnostic::error(id, message)
            .at(location, label)
            .with_help(help);
        diagnostic.severity = Severity::Warning;
        self.out.push(diagnostic);
    }

    fn package_name(&self) -> &wit_parser::PackageName {
        &self.resolve.packages[self.package].name
    }

    /// Types of the package's interfaces and worlds, in source order, without `use` aliases.
    fn own_types(&self) -> Vec<TypeId> {
        let pkg = &self.resolve.packages[self.package];
        let mut ids: Vec<TypeId> = Vec::new();
        for iface in pkg.interfaces.values() {
            ids.extend(self.resolve.interfaces[*iface].types.values().copied());
        }
        for world in pkg.worlds.values() {
            for item in self.resolve.worlds[*world]
                .imports
                .values()
                .chain(self.resolve.worlds[*world].exports.values())
            {
                if let WorldItem::Type { id, .. } = item
                    && matches!(self.resolve.types[*id].owner, TypeOwner::World(w) if w == *world)
                {
                    ids.push(*id);
                }
            }
        }
        ids
    }

    /// True for the alias a `use` statement creates (its target lives elsewhere).
    fn is_use_alias(&self, id: TypeId) -> bool {
        let def = &self.resolve.types[id];
        match def.kind {
            TypeDefKind::Type(Type::Id(target)) => self.resolve.types[target].owner != def.owner,
            _ => false,
        }
    }

    /// `missing-docs`: what the package's worlds export.
    fn missing_export_docs(&mut self) {
        let resolve = self.resolve;
        let pkg = &resolve.packages[self.package];
        let mut seen = HashSet::new();
        for world in pkg.worlds.values() {
            for item in resolve.worlds[*world].exports.values() {
                match item {
                    WorldItem::Function(function) => self.function_docs("missing-docs", function),
                    WorldItem::Interface { id, .. }
                        if resolve.interfaces[*id].package == Some(self.package) =>
                    {
                        if !seen.insert(*id) {
                            continue;
                        }
                        let iface = &resolve.interfaces[*id];
                        for ty in iface.types.values() {
                            self.type_docs("missing-docs", *ty);
                        }
                        for function in iface.functions.values() {
                            self.function_docs("missing-docs", function);
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// `missing-item-docs`: everything the package defines.
    fn missing_item_docs(&mut self) {
        let resolve = self.resolve;
        let pkg = &resolve.packages[self.package];
        for (name, id) in &pkg.interfaces {
            let iface = &resolve.interfaces[*id];
            if iface.docs.is_empty() {
                self.warn(
                    "missing-item-docs",
                    iface.span,
                    format!("interface `{name}` has no doc comment"),
                    "undocumented",
                );
            }
            for function in iface.functions.values() {
                self.function_docs("missing-item-docs", function);
            }
        }
        for ty in self.own_types() {
            self.type_docs("missing-item-docs", ty);
        }
        for (name, id) in &pkg.worlds {
            let world = &resolve.worlds[*id];
            if world.docs.is_empty() {
                self.warn(
                    "missing-item-docs",
                    world.span,
                    format!("world `{name}` has no doc comment"),
                    "undocumented",
                );
            }
            for item in world.exports.values().chain(world.imports.values()) {
                if let WorldItem::Function(function) = item {
                    self.function_docs("missing-item-docs", function);
                }
            }
        }
    }

    fn type_docs(&mut self, rule: &'static str, ty: TypeId) {
        let def = &self.resolve.types[ty];
        if def.docs.is_empty() && !self.is_use_alias(ty) {
            let name = def.name.as_deref().unwrap_or("_");
            self.warn(
                rule,
                def.span,
                format!("{} `{name}` has no doc comment", kind_word(&def.kind)),
                "undocumented",
            );
        }
    }

    fn function_docs(&mut self, rule: &'static str, function: &Function) {
        if !function.docs.is_empty() {
            return;
        }
        let what = match &function.kind {
            FunctionKind::Constructor(resource) => {
                format!(
                    "the constructor of `{}`",
                    self.resolve.types[*resource].name.as_deref().unwrap_or("_")
                )
            }
            kind => match kind.resource() {
                Some(resource) => format!(
                    "method `{}.{}`",
                    self.resolve.types[resource].name.as_deref().unwrap_or("_"),
                    function.item_name()
                ),
                None => format!("function `{}`", function.item_name()),
            },
        };
        self.warn(
            rule,
            function.span,
            format!("{what} has no doc comment"),
            "undocumented",
        );
    }

    fn unused_types(&mut self) {
        let used = used_types(self.resolve);
        for ty in self.own_types() {
            if used.contains(&ty) {
                continue;
            }
            let def = &self.resolve.types[ty];
            let name = def.name.as_deref().unwrap_or("_");
            if self.is_use_alias(ty) {
                self.warn(
                    "unused-use",
                    def.span,
                    format!("`{name}` is brought in with `use` but never used"),
                    "unused",
                );
            } else {
                let kind = kind_word(&def.kind);
                self.warn(
                    "unused-type",
                    def.span,
                    format!("{kind} `{name}` is defined but never used"),
                    "unused",
                );
            }
        }
    }

    /// References from this package to interfaces of other packages, with where they are.
    fn foreign_references(&self) -> Vec<(PackageId, wit_parser::Span)> {
        let resolve = self.resolve;
        let pkg = &resolve.packages[self.package];
        let mut refs = Vec::new();
        let interface_package = |id: wit_parser::InterfaceId| resolve.interfaces[id].package;
        for ty in self.own_types() {
            if let TypeDefKind::Type(Type::Id(target)) = resolve.types[ty].kind
                && let TypeOwner::Interface(owner) = resolve.types[target].owner
                && let Some(p) = interface_package(owner).filter(|p| *p != self.package)
            {
                refs.push((p, resolve.types[ty].span));
            }
        }
        for world in pkg.worlds.values() {
            let world = &resolve.worlds[*world];
            for item in world.imports.values().chain(world.exports.values()) {
                if let WorldItem::Interface { id, span, .. } = item
                    && let Some(p) = interface_package(*id).filter(|p| *p != self.package)
                {
                    refs.push((p, *span));
                }
            }
        }
        refs
    }

    fn unversioned_dependencies(&mut self) {
        let refs = self.foreign_references();
        let versioned: Vec<String> = refs
            .iter()
            .filter(|(p, _)| self.resolve.packages[*p].name.version.is_some())
            .map(|(p, _)| self.resolve.packages[*p].name.to_string())
            .collect();
        let Some(example) = versioned.first().cloned() else {
            return;
        };
        let mut reported = HashSet::new();
        for (package, span) in refs {
            let name = &self.resolve.packages[package].name;
            if name.version.is_none() && reported.insert(package) {
                let message =
                    format!("dependency `{name}` has no version, but `{example}` has one");
                let mut location = self.locate(span);
                if location.is_none() {
                    // World imports of foreign interfaces carry no span after resolution;
                    // find the reference in the text of the package's worlds.
                    location = self.find_in_worlds(&format!("{}:{}/", name.namespace, name.name));
                }
                let help = rule("unversioned-dependency").map_or("", |rule| rule.help);
                let mut diagnostic = Diagnostic::error("unversioned-dependency", message)
                    .at(location, "unversioned")
                    .with_help(help);
                diagnostic.severity = Severity::Warning;
                self.out.push(diagnostic);
            }
        }
    }

    /// The first occurrence of `needle` in a file that defines one of the package's worlds.
    fn find_in_worlds(&mut self, needle: &str) -> Option<Location> {
        let spans: Vec<wit_parser::Span> = self.resolve.packages[self.package]
            .worlds
            .values()
            .map(|w| self.resolve.worlds[*w].span)
            .collect();
        for span in spans {
            let Some(world) = self.locate(span) else {
                continue;
            };
            let Some(text) = self.sources.text(&world.path) else {
                continue;
            };
            if let Some(start) = text.find(needle) {
                return self
                    .sources
                    .locate(&world.path, start..start + needle.len() - 1);
            }
        }
        None
    }

    fn duplicate_package_versions(&mut self) {
        // Releases that are not semver-compatible (`0.2.x` and `0.3.x`, `1.x` and `2.x`) are
        // different APIs, used side by side on purpose (WASI 0.2 and 0.3 in one workspace);
        // two versions of one release, or a version beside an unversioned copy, are the
        // accident this rule is about.
        let mut by_name: BTreeMap<(String, String), Vec<PackageId>> = BTreeMap::new();
        for (id, package) in self.resolve.packages.iter() {
            by_name
                .entry((package.name.namespace.clone(), package.name.name.clone()))
                .or_default()
                .push(id);
        }
        let mut groups = Vec::new();
        for ((namespace, name), ids) in by_name {
            let mut releases: BTreeMap<Option<String>, Vec<PackageId>> = BTreeMap::new();
            for id in &ids {
                // The release: `1` for `1.4.2`, `0.3` for `0.3.0`; `0.0.x` and pre-releases
                // are compatible only with themselves.
                let release = self.resolve.packages[*id].name.version.as_ref().map(|v| {
                    if !v.pre.is_empty() || (v.major == 0 && v.minor == 0) {
                        v.to_string()
                    } else if v.major == 0 {
                        format!("0.{}", v.minor)
                    } else {
                        v.major.to_string()
                    }
                });
                releases.entry(release).or_default().push(*id);
            }
            if releases.contains_key(&None) {
                groups.push((namespace, name, ids));
            } else {
                groups.extend(
                    releases
                        .into_values()
                        .map(|ids| (namespace.clone(), name.clone(), ids)),
                );
            }
        }
        for (namespace, name, ids) in groups {
            if ids.len() < 2 {
                continue;
            }
            let versions: Vec<String> = ids
                .iter()
                .map(|id| self.resolve.packages[*id].name.to_string())
                .collect();
            let location = ids
                .iter()
                .skip(1)
                .find_map(|id| self.package_declaration(*id));
            let help = rule("duplicate-package-version").map_or("", |rule| rule.help);
            let mut diagnostic = Diagnostic::error(
                "duplicate-package-version",
                format!(
                    "package `{namespace}:{name}` is loaded in {} versions: {}",
                    ids.len(),
                    versions.join(", ")
                ),
            )
            .at(location, "another version")
            .with_help(help);
            diagnostic.severity = Severity::Warning;
            self.out.push(diagnostic);
        }
    }

    /// The `package ns:name@version` declaration of `id`, found in the file of its first item.
    fn package_declaration(&mut self, id: PackageId) -> Option<Location> {
        let package = &self.resolve.packages[id];
        let span = package
            .interfaces
            .values()
            .map(|i| self.resolve.interfaces[*i].span)
            .chain(
                package
                    .worlds
                    .values()
                    .map(|w| self.resolve.worlds[*w].span),
            )
            .find(|span| span.is_known())?;
        let first_item = self.locate(span)?;
        let text = self.sources.text(&first_item.path)?;
        let needle = package.name.to_string();
        match text.find(&needle) {
            Some(start) => self
                .sources
                .locate(&first_item.path, start..start + needle.len()),
            None => Some(first_item),
        }
    }

    fn empty_items(&mut self) {
        let resolve = self.resolve;
        let pkg = &resolve.packages[self.package];
        for (name, id) in &pkg.interfaces {
            let iface = &resolve.interfaces[*id];
            if iface.types.is_empty() && iface.functions.is_empty() {
                self.warn(
                    "empty-interface",
                    iface.span,
                    format!("interface `{name}` is empty"),
                    "exports nothing",
                );
            }
        }
        // A world that only imports is a normal thing to `include` (WASI's `imports`
        // worlds are exactly that), so only a world with nothing at all is flagged.
        for (name, id) in &pkg.worlds {
            let world = &resolve.worlds[*id];
            if world.imports.is_empty() && world.exports.is_empty() {
                self.warn(
                    "empty-world",
                    world.span,
                    format!("world `{name}` is empty"),
                    "imports and exports nothing",
                );
            }
        }
    }

    fn shadows_wasi(&mut self) {
        if self.package_name().namespace == "wasi" {
            return;
        }
        let resolve = self.resolve;
        let pkg = &resolve.packages[self.package];
        let shadows = |name: &str| WASI_INTERFACES.contains(&name);
        for (name, id) in &pkg.interfaces {
            if shadows(name) {
                let span = resolve.interfaces[*id].span;
                self.warn(
                    "shadows-wasi",
                    span,
                    format!("interface `{name}` has the name of a WASI interface"),
                    "WASI name",
                );
            }
        }
        for (name, id) in &pkg.worlds {
            let world = &resolve.worlds[*id];
            if shadows(name) {
                self.warn(
                    "shadows-wasi",
                    world.span,
                    format!("world `{name}` has the name of a WASI interface"),
                    "WASI name",
                );
            }
            for (key, item) in world.imports.iter().chain(world.exports.iter()) {
                if let WorldKey::Name(item_name) = key
                    && shadows(item_name)
                    && !matches!(item, WorldItem::Type { .. })
                {
                    let message =
                        format!("world item `{item_name}` has the name of a WASI interface");
                    self.warn("shadows-wasi", item.span(), message, "WASI name");
                }
            }
        }
    }
}

/// Every type some function, world item or other type refers to.
fn used_types(resolve: &Resolve) -> HashSet<TypeId> {
    let mut used = HashSet::new();
    let mut add = |ty: &Type| {
        if let Type::Id(id) = ty {
            used.insert(*id);
        }
    };
    for (_, def) in resolve.types.iter() {
        match &def.kind {
            TypeDefKind::Record(r) => r.fields.iter().for_each(|f| add(&f.ty)),
            TypeDefKind::Variant(v) => v
                .cases
                .iter()
                .filter_map(|c| c.ty.as_ref())
                .for_each(&mut add),
            TypeDefKind::Tuple(t) => t.types.iter().for_each(&mut add),
            TypeDefKind::Handle(Handle::Own(id) | Handle::Borrow(id)) => add(&Type::Id(*id)),
            TypeDefKind::Option(t)
            | TypeDefKind::List(t)
            | TypeDefKind::FixedLengthList(t, _)
            | TypeDefKind::Type(t) => add(t),
            TypeDefKind::Map(k, v) => {
                add(k);
                add(v);
            }
            TypeDefKind::Result(r) => r.ok.iter().chain(r.err.iter()).for_each(&mut add),
            TypeDefKind::Future(t) | TypeDefKind::Stream(t) => t.iter().for_each(&mut add),
            TypeDefKind::Resource
            | TypeDefKind::Flags(_)
            | TypeDefKind::Enum(_)
            | TypeDefKind::Unknown => {}
        }
    }
    let functions = resolve
        .interfaces
        .iter()
        .flat_map(|(_, i)| i.functions.values())
        .chain(
            resolve
                .worlds
                .iter()
                .flat_map(|(_, w)| w.imports.values().chain(w.exports.values()))
                .filter_map(|item| match item {
                    WorldItem::Function(f) => Some(f),
                    _ => None,
                }),
        );
    for function in functions {
        function
            .parameter_and_result_types()
            .for_each(|ty| add(&ty));
        // A resource with any constructor, method or static function is in use.
        if let Some(resource) = function.kind.resource() {
            add(&Type::Id(resource));
        }
    }
    used
}

/// `record`, `variant`, `type` … for messages.
fn kind_word(kind: &TypeDefKind) -> &'static str {
    match kind {
        TypeDefKind::Type(_) => "type",
        other => other.as_str(),
    }
}
