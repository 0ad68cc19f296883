//! Go projects, laid out the way users of the upstream Go bindings generator know them: a
//! `go.mod` for module `wit_component`, `wit/`, the user's code in one `export_<ns>_<pkg>_<iface>`
//! package per exported interface (`export_wit_world` for functions the world exports itself),
//! and the generated binding packages beside them.
//!
//! The stubs come from wit-bindgen-go's own stub option. Its stub files mix bindings with the
//! placeholders, so each is split: what the generator also writes without stubs stays a
//! generated `wit_bindings.go`; the rest (placeholder functions, resource structs) becomes the
//! user's file, with only the imports it uses. See [`super::toolchain`] for who owns which file.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use wit_parser::{Resolve, WorldId, WorldItem, WorldKey};

use super::bindings::generate_bindings;
use super::runtime_module;
use super::tool::{ASYNC_LIMIT, GoError, MIN_GO, RUNTIME_MODULE};
use crate::lang::http;
use crate::lang::scaffold::{
    ASYNC_HELP, ProjectFile, ScaffoldError, component_manifest, render, resolved,
};
use crate::manifest::Language;
use crate::manifest::names::{to_kebab, to_snake};
use crate::wit::WitPackage;

/// The example project: a `text` interface whose `describe` counts words and characters.
pub fn example(name: &str) -> Result<(String, Vec<ProjectFile>), ScaffoldError> {
    let world = to_kebab(name);
    let wit = render(
        include_str!("../../../../wit/example/component.wit"),
        &[("world", &world), ("package_name", &world)],
    );
    let mut resolve = Resolve::default();
    let world_id = resolve
        .push_str("wit/world.wit", &wit)
        .and_then(|package| resolve.select_world(&[package], Some(&world)))
        .map_err(|err| ScaffoldError::Unsupported {
            item: format!("world `{world}`"),
            reason: format!("{err:#}"),
        })?;
    let mut files = project_files(name, &resolve, world_id, |package| {
        Some(render(
            include_str!("../../../../templates/go/example.go"),
            &[("package", package), ("world", &world)],
        ))
    })?;
    files.push(ProjectFile::new("wit/world.wit", wit));
    Ok((world, files))
}

/// A project implementing `world` from `package`, every export a stub.
pub fn from_world(
    name: &str,
    package: &WitPackage,
    world: WorldId,
) -> Result<Vec<ProjectFile>, ScaffoldError> {
    project_files(name, &package.resolve, world, |_| None)
}

/// Everything but `wit/`: manifest, `go.mod`, `.gitignore`, the user's packages, and the
/// generated bindings (ignored by git, but present so editors resolve imports before the first
/// build). `user_code(package)` may replace the stub file of an export package.
pub(super) fn project_files(
    name: &str,
    resolve: &Resolve,
    world: WorldId,
    user_code: impl Fn(&str) -> Option<String>,
) -> Result<Vec<ProjectFile>, ScaffoldError> {
    if let Some(item) = crate::wit::async_function(resolve, world) {
        return Err(ScaffoldError::LanguageCannot {
            language: "Go".into(),
            item,
            reason: format!("it is `async`, and {ASYNC_LIMIT}"),
            help: ASYNC_HELP.into(),
        });
    }
    let world_name = resolve.worlds[world].name.clone();
    let stubbed = generate(resolve, world, true)?;
    let bindings = generate(resolve, world, false)?;

    let mut files = vec![
        component_manifest(name, Language::Go, &world_name),
        ProjectFile::new(
            "go.mod",
            render(
                include_str!("../../../../templates/go/go.mod"),
                &[
                    ("go_version", &MIN_GO.to_string()),
                    ("runtime_module", RUNTIME_MODULE),
                    ("runtime_version", &runtime_module::version()),
                ],
            ),
        ),
        ProjectFile::new(
            ".gitignore",
            include_str!("../../../../templates/go/gitignore"),
        ),
    ];
    for (path, stub) in &stubbed {
        let Some(package) = path
            .strip_suffix("/wit_bindings.go")
            .filter(|dir| dir.starts_with("export_"))
        else {
            continue;
        };
        let (what, file_stem) = describe_export_package(resolve, world, package);
        let generated = bindings.get(path).map(String::as_str);
        let stub = user_stub(package, &what, stub, generated);
        let code = user_code(package).unwrap_or(stub);
        files.push(ProjectFile::new(format!("{package}/{file_stem}.go"), code));
    }
    files.extend(
        bindings
            .into_iter()
            .map(|(path, text)| ProjectFile::new(path, text)),
    );
    Ok(files)
}

/// The generator's files, its errors as scaffolding errors.
fn generate(
    resolve: &Resolve,
    world: WorldId,
    stubs: bool,
) -> Result<BTreeMap<String, String>, ScaffoldError> {
    generate_bindings(resolve, world, stubs).map_err(|err| {
        let reason = match &err {
            GoError::Bindings { source, .. } => format!("{source:#}"),
            other => other.to_string(),
        };
        ScaffoldError::Unsupported {
            item: format!("world `{}`", resolve.worlds[world].name),
            reason,
        }
    })
}

/// What an `export_*` package implements, for its doc comment, and the name of its file.
fn describe_export_package(resolve: &Resolve, world: WorldId, package: &str) -> (String, String) {
    let world = &resolve.worlds[world];
    let file_name = |name: &str| to_kebab(name).replace('-', "");
    if package == "export_wit_world" {
        return (
            format!("the functions the `{}` world exports", world.name),
            file_name(&world.name),
        );
    }
    for (key, item) in &world.exports {
        let WorldItem::Interface { id, .. } = item else {
            continue;
        };
        let interface = &resolve.interfaces[*id];
        let matched = match key {
            WorldKey::Name(name) => {
                (package == format!("export_{}", to_snake(name))).then_some(name.as_str())
            }
            WorldKey::Interface(_) => interface
                .package
                .zip(interface.name.as_deref())
                .filter(|(owner, name)| {
                    let owner = &resolve.packages[*owner].name;
                    // The generator adds the package version only when several versions are in use.
                    let prefix = format!(
                        "export_{}_{}_",
                        to_snake(&owner.namespace),
                        to_snake(&owner.name)
                    );
                    package.starts_with(&prefix)
                        && package.ends_with(&format!("_{}", to_snake(name)))
                })
                .map(|(_, name)| name),
        };
        if let Some(iface_name) = matched {
            let label = resolve.name_world_key(key);
            return (
                format!(
                    "the `{label}` interface that the `{}` world exports",
                    world.name
                ),
                file_name(iface_name),
            );
        }
    }
    (
        format!("exports of the `{}` world", world.name),
        "component".to_owned(),
    )
}

/// The user's half of a stub file: the lines the generator adds for stubs (placeholder
/// functions, resource structs) with the imports they use.
fn user_stub(package: &str, what: &str, stubbed: &str, generated: Option<&str>) -> String {
    let (imports, stub_code) = split_go_file(stubbed);
    let code = match generated {
        None => stub_code,
        Some(generated) => {
            let (_, generated_code) = split_go_file(generated);
            let diff = similar::TextDiff::from_lines(&generated_code, &stub_code);
            diff.iter_all_changes()
                .filter(|change| change.tag() == similar::ChangeTag::Insert)
                .map(|change| change.value().to_owned())
                .collect()
        }
    };
    let code = tidy_stub_code(&code);
    let mut used: Vec<&String> = imports
        .iter()
        .filter(|spec| code.contains(&format!("{}.", import_name(spec))))
        .collect();
    // gofmt's order: by import path.
    used.sort_by_key(|spec| spec.rsplit(' ').next().unwrap_or(spec).to_owned());

    let mut out = String::new();
    for line in wrap_comment(&format!("Package {package} implements {what}."), 96) {
        let _ = writeln!(out, "// {line}");
    }
    let _ = writeln!(out, "//");
    let _ = writeln!(
        out,
        "// Created by `wcomp new`: replace each `panic(\"not implemented\")` with real code. The"
    );
    let _ = writeln!(
        out,
        "// binding packages (files starting with \"Code generated\") are rewritten by `wcomp build`."
    );
    let _ = writeln!(out, "package {package}");
    match used.as_slice() {
        [] => {}
        [one] => {
            let _ = writeln!(out, "\nimport {one}");
        }
        many => {
            let _ = writeln!(out, "\nimport (");
            for spec in many {
                let _ = writeln!(out, "\t{spec}");
            }
            let _ = writeln!(out, ")");
        }
    }
    let _ = write!(out, "\n{code}");
    out
}

/// Splits `text` into lines of at most `width` characters at spaces.
fn wrap_comment(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split(' ') {
        match lines.last_mut() {
            Some(line) if line.len() + 1 + word.len() <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_owned()),
        }
    }
    lines
}

/// A generated Go file's import specs and the code after the import block.
fn split_go_file(text: &str) -> (Vec<String>, String) {
    let mut imports = Vec::new();
    let mut code = String::new();
    let mut state = 0; // 0: before `package`, 1: before imports end, 2: code
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        match state {
            0 if trimmed.starts_with("package ") => state = 1,
            0 => {}
            1 if trimmed == "import (" || trimmed.is_empty() => {}
            1 if trimmed == ")" => state = 2,
            1 if trimmed.starts_with("import ") => {
                imports.push(trimmed.trim_start_matches("import ").to_owned());
                state = 2;
            }
            1 => imports.push(trimmed.to_owned()),
            _ => code.push_str(line),
        }
    }
    (imports, code)
}

/// The name an import spec binds: its alias, or the last element of its path.
fn import_name(spec: &str) -> &str {
    match spec.split_once(' ') {
        Some((alias, _)) => alias,
        None => spec.trim_matches('"').rsplit('/').next().unwrap_or(spec),
    }
}

/// Blank lines between declarations and nowhere else; gofmt's spacing in signatures.
fn tidy_stub_code(code: &str) -> String {
    let mut out = String::new();
    let mut previous = "";
    for line in code.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            if !previous.is_empty() {
                out.push('\n');
            }
        } else {
            if previous == "}" {
                out.push('\n');
            }
            out.push_str(&line.replace(")  {", ") {"));
            out.push('\n');
        }
        previous = line;
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out.trim_start_matches('\n').to_owned()
}

/// The HTTP template: a handler in the `export_wasi_http_incoming_handler` package, with the
/// project's world and the WASI packages under `wit/`. WASI 0.2 only: a 0.3 handler is an
/// `async` export, which the standard Go toolchain cannot build.
pub fn http_project(
    name: &str,
    template: http::HttpTemplate,
) -> Result<(String, Vec<ProjectFile>), ScaffoldError> {
    if template.wasi == http::WasiVersion::P3 {
        return Err(http::p3_refused("Go", ASYNC_LIMIT));
    }
    let world = http::world_name(name);
    let wit = http::wit_files(name, template)?;
    let package = resolved(&wit, "the HTTP world")?;
    let world_id = package
        .world(Some(&world))
        .map_err(|err| ScaffoldError::Unsupported {
            item: "the HTTP world".into(),
            reason: err.to_string(),
        })?;
    let mut files = http_files(name, &package, world_id, template)?;
    files.extend(wit);
    Ok((world, files))
}

/// A Go HTTP project's files besides `wit/`, for `world` (which includes `wasi:http/proxy`,
/// and what `--with` adds when `template` says so).
pub fn http_files(
    name: &str,
    package: &WitPackage,
    world: WorldId,
    template: http::HttpTemplate,
) -> Result<Vec<ProjectFile>, ScaffoldError> {
    let handler = template.render(
        include_str!("../../../../templates/http/go/handler.go"),
        &[],
    )?;
    project_files(name, &package.resolve, world, |package| {
        (package == "export_wasi_http_incoming_handler").then(|| handler.clone())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_names() {
        assert_eq!(
            import_name("\"wit_component/acme_shapes_geometry\""),
            "acme_shapes_geometry"
        );
        assert_eq!(
            import_name("witTypes \"go.bytecodealliance.org/pkg/wit/types\""),
            "witTypes"
        );
        assert_eq!(import_name("\"runtime\""), "runtime");
    }

    #[test]
    fn wraps_comments() {
        assert_eq!(wrap_comment("aa bb cc dd", 5), ["aa bb", "cc dd"]);
        assert_eq!(
            wrap_comment("averyverylongword x", 5),
            ["averyverylongword", "x"]
        );
    }

    #[test]
    fn tidies_stub_code() {
        let code = "\n\ntype T struct {\n\tx int\n}\n// TODO: Implement\nfunc F()  {\n\tpanic(\"x\")\n}\n\n\n";
        assert_eq!(
            tidy_stub_code(code),
            "type T struct {\n\tx int\n}\n\n// TODO: Implement\nfunc F() {\n\tpanic(\"x\")\n}\n"
        );
    }

    #[test]
    fn splits_go_files() {
        let (imports, code) =
            split_go_file("// c\n\npackage p\n\nimport (\n\t\"a\"\nb \"c/d\"\n)\n\nfunc X() {}\n");
        assert_eq!(imports, ["\"a\"", "b \"c/d\""]);
        assert_eq!(code, "\nfunc X() {}\n");
    }
}
