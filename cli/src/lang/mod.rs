//! Every language wcomp builds, one folder each (`rust/`, `go/`, `python/`, `js/`): its layout
//! and pinned tools, code generation (stubs, bindings, types), scaffold, build and
//! provisioning. Below them, what they share: the [`Toolchain`] trait and the install tails
//! ([`toolchain`]), project files and scaffold errors ([`scaffold`]), the HTTP template's world
//! ([`http`]). The functions here pick a language's implementation; they are the only place
//! outside a language's folder that names it, so a new language is a new folder and one arm in
//! each of them.

pub mod doctor;
pub mod go;
pub mod http;
pub mod js;
pub mod python;
pub mod rust;
pub mod scaffold;
pub mod toolchain;

use wit_parser::WorldId;

pub use crate::manifest::{Language, Project};
pub use scaffold::{ProjectFile, ScaffoldError};
pub use toolchain::{BuiltComponent, Toolchain, ToolchainError};

use crate::wit::WitPackage;

/// The toolchain for `language`.
pub fn for_language(language: Language) -> Box<dyn Toolchain> {
    match language {
        Language::Rust => Box::new(rust::RustToolchain::from_env()),
        Language::Go => Box::new(go::GoToolchain::from_env()),
        Language::Python => Box::new(python::PythonToolchain::from_env()),
        Language::Js => Box::new(js::JsToolchain::from_env()),
    }
}

/// The example project in `language` (`typescript` for JavaScript written in TypeScript), and
/// the world it implements.
pub fn example(
    language: Language,
    name: &str,
    typescript: bool,
) -> Result<(String, Vec<ProjectFile>), ScaffoldError> {
    match language {
        Language::Rust => Ok(rust::example(name)),
        Language::Go => go::example(name),
        Language::Python => python::example(name),
        Language::Js => js::example(name, typescript),
    }
}

/// A project in `language` implementing `world` of `package`, every export a stub; the WIT
/// itself is not among the files. `wit_path` is where the WIT lives relative to the project
/// (`wit`, or `../wit` in a workspace).
pub fn from_world(
    language: Language,
    name: &str,
    package: &WitPackage,
    world: WorldId,
    wit_path: &str,
    typescript: bool,
) -> Result<Vec<ProjectFile>, ScaffoldError> {
    match language {
        Language::Rust => rust::from_world(name, package, world, wit_path),
        Language::Go => go::from_world(name, package, world),
        Language::Python => python::from_world(name, package, world),
        Language::Js => js::from_world(name, package, world, typescript),
    }
}

/// The HTTP template in `language` (its WASI release and `--with` imports), and the world it
/// implements; a language whose toolchain cannot build a handler of that release refuses.
pub fn http_project(
    language: Language,
    name: &str,
    template: http::HttpTemplate,
) -> Result<(String, Vec<ProjectFile>), ScaffoldError> {
    match language {
        Language::Rust => rust::http_project(name, template),
        Language::Go => go::http_project(name, template),
        Language::Python => python::http_project(name, template),
        Language::Js => js::http_project(name, template),
    }
}

/// A project in `language` that runs ONNX models through `wasi:nn` (`--template nn`): its
/// world (`wit/world.wit`, with `wasi:nn` under `wit/deps/nn/`) exports `infer` and
/// `classify`. Rust and Python.
pub fn nn_project(
    language: Language,
    name: &str,
) -> Result<(String, Vec<ProjectFile>), ScaffoldError> {
    let world = crate::manifest::names::to_kebab(name);
    let version = crate::wit::wasi::NN
        .version()
        .ok_or_else(|| ScaffoldError::Unsupported {
            item: "the nn template".into(),
            reason: "this wcomp was built without the `wasi:nn` WIT of its runtime".into(),
        })?;
    let values = [
        ("package_name", world.as_str()),
        ("world", world.as_str()),
        ("nn_version", version.as_str()),
    ];
    let mut files = vec![ProjectFile::new(
        "wit/world.wit",
        scaffold::render(include_str!("../../../wit/nn/world.wit"), &values),
    )];
    files.extend(
        crate::wit::wasi::NN
            .deps_files()
            .into_iter()
            .map(|(path, text)| ProjectFile::new(format!("wit/deps/{path}"), text)),
    );
    match language {
        Language::Rust => files.extend(rust::nn_files(name, &world)),
        Language::Python => files.extend(python::nn_files(name, &world)),
        Language::Go | Language::Js => {
            return Err(ScaffoldError::LanguageCannot {
                language: if language == Language::Go { "Go" } else { "JavaScript" }.into(),
                item: "--template nn".into(),
                reason: "the template is written for Rust and Python".into(),
                help: "scaffold the model-running component in Rust or Python (`--lang rust`), and call it from this language through a composition".into(),
            });
        }
    }
    Ok((world, files))
}

/// An HTTP project's files in `language` for WASI release `wasi` besides its WIT, for `world`
/// of `package`: a world that includes `wasi:http/proxy` (0.2) or `wasi:http/service` (0.3),
/// such as one added to a workspace's shared WIT. Only Rust and Python write a 0.3 handler;
/// [`http_project`] refuses it for the others.
pub fn http_files(
    language: Language,
    name: &str,
    package: &WitPackage,
    world: WorldId,
    wasi: http::WasiVersion,
) -> Result<Vec<ProjectFile>, ScaffoldError> {
    let template = http::HttpTemplate::from(wasi);
    match language {
        Language::Rust => Ok(rust::http_project(name, template)?.1),
        // Their refusal, with why.
        Language::Go | Language::Js if wasi == http::WasiVersion::P3 => {
            http_project(language, name, template).map(|(_, files)| files)
        }
        Language::Go => go::http_files(name, package, world, template),
        Language::Python => python::http_files(name, template),
        Language::Js => js::http_files(name, template),
    }
}
