//! JavaScript projects, laid out the way componentize-js expects so its documentation applies:
//! `app.js` is an ES module exporting one object per exported interface, named after the
//! interface in camelCase, whose methods are the interface's functions in camelCase (an
//! exported resource is a class property of that object, in UpperCamelCase); world-level
//! functions are exported functions; imported interfaces are modules named by their WIT name
//! (`import { analyze } from 'acme:text/stats@0.1.0'`). For a user's world every export becomes
//! a stub throwing an `Error` that names the WIT item ([`stubs`]). Nothing here runs Node.js.

use wit_parser::WorldId;

use std::path::Path;

use super::layout::{APP_MODULE, APP_TYPESCRIPT, WASI_VERSION, WORLD_TYPES};
use super::stubs;
use crate::lang::http;
use crate::lang::scaffold::{
    ProjectFile, ScaffoldError, component_manifest, gitignore, render, resolved,
};
use crate::manifest::Language;
use crate::manifest::names::to_kebab;
use crate::wit::WitPackage;

/// The example project: a `text` interface whose `describe` counts words and characters.
pub fn example(name: &str, typescript: bool) -> Result<(String, Vec<ProjectFile>), ScaffoldError> {
    let world = to_kebab(name);
    let values = [
        ("name", name),
        ("world", world.as_str()),
        ("package_name", world.as_str()),
    ];
    let mut files = common_files(name, &world);
    let wit = ProjectFile::new(
        "wit/world.wit",
        render(
            include_str!("../../../../wit/example/component.wit"),
            &values,
        ),
    );
    if typescript {
        let package = resolved(std::slice::from_ref(&wit), "the example world")?;
        let world_id = package
            .world(Some(&world))
            .map_err(|err| ScaffoldError::Unsupported {
                item: "the example world".into(),
                reason: err.to_string(),
            })?;
        let generator = stubs::Generator::new(&package.resolve, world_id).typescript();
        files.extend(typescript_files(&generator)?);
        files.push(ProjectFile::new(
            APP_TYPESCRIPT,
            render(include_str!("../../../../templates/js/app.ts"), &values),
        ));
    } else {
        files.push(ProjectFile::new(
            APP_MODULE,
            render(include_str!("../../../../templates/js/app.js"), &values),
        ));
    }
    files.push(wit);
    Ok((world, files))
}

/// A project implementing `world` from `package`, every export a stub.
pub fn from_world(
    name: &str,
    package: &WitPackage,
    world: WorldId,
    typescript: bool,
) -> Result<Vec<ProjectFile>, ScaffoldError> {
    let mut files = common_files(name, &package.resolve.worlds[world].name);
    let generator = stubs::Generator::new(&package.resolve, world);
    if typescript {
        let generator = generator.typescript();
        files.extend(typescript_files(&generator)?);
        files.push(ProjectFile::new(APP_TYPESCRIPT, generator.app(name)?));
    } else {
        files.push(ProjectFile::new(APP_MODULE, generator.app(name)?));
    }
    Ok(files)
}

/// The world's types ([`WORLD_TYPES`]) and the `tsconfig.json` that `wcomp build` compiles
/// with.
fn typescript_files(generator: &stubs::Generator<'_>) -> Result<Vec<ProjectFile>, ScaffoldError> {
    Ok(vec![
        ProjectFile::new(WORLD_TYPES, generator.declarations()?),
        ProjectFile::new(
            "tsconfig.json",
            include_str!("../../../../templates/js/tsconfig.json"),
        ),
    ])
}

/// `wcomp.toml`, `package.json` (an ES module package) and a `.gitignore` for `node_modules/`.
pub(super) fn common_files(name: &str, world: &str) -> Vec<ProjectFile> {
    vec![
        component_manifest(name, Language::Js, world),
        gitignore(&["node_modules/"]),
        ProjectFile::new(
            "package.json",
            render(
                include_str!("../../../../templates/js/package.json"),
                &[("name", name)],
            ),
        ),
    ]
}

/// The HTTP template: an `app.js` answering componentize-js's `fetch` event.
///
/// componentize-js 0.23's engine speaks WASI 0.2.10 and exports
/// `wasi:http/incoming-handler@0.2.10`, so the project's world names that release (the runtime
/// serves every 0.2 release); its `wit/deps/` restate the runtime's packages at it. WASI 0.2
/// only: a 0.3 handler is an `async` export, which componentize-js cannot build.
pub fn http_project(
    name: &str,
    template: http::HttpTemplate,
) -> Result<(String, Vec<ProjectFile>), ScaffoldError> {
    if template.wasi == http::WasiVersion::P3 {
        return Err(http::p3_refused("JavaScript", super::layout::ASYNC_LIMIT));
    }
    http::runtime_version(template.wasi)?;
    let mut files = http_files(name, template)?;
    files.push(ProjectFile::new(
        "wit/world.wit",
        http::world_wit_at(name, WASI_VERSION, template)?,
    ));
    files.extend(
        crate::wit::wasi::files_at(WASI_VERSION)
            .into_iter()
            .map(|(file, text)| ProjectFile::new(Path::new("wit/deps").join(file), text)),
    );
    files.extend(http::deps_project_files(http::with_deps_files(template)));
    Ok((http::world_name(name), files))
}

/// A JavaScript HTTP project's files besides `wit/`.
pub fn http_files(
    name: &str,
    template: http::HttpTemplate,
) -> Result<Vec<ProjectFile>, ScaffoldError> {
    let mut files = common_files(name, &http::world_name(name));
    files.push(ProjectFile::new(
        APP_MODULE,
        template.render(include_str!("../../../../templates/http/js/app.js"), &[])?,
    ));
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::scaffold::file_text as file;

    #[test]
    fn the_example_is_an_es_module_package() {
        let (world, files) = example("text-tool", false).unwrap();
        assert_eq!(world, "text-tool");
        assert!(file(&files, "app.js").contains("export const text = {"));
        assert!(file(&files, "wit/world.wit").contains("world text-tool"));
        let package: serde_json::Value =
            serde_json::from_str(file(&files, "package.json")).unwrap();
        assert_eq!(package["name"], "text-tool");
        assert_eq!(package["type"], "module");
        let gitignore = file(&files, ".gitignore");
        assert!(gitignore.contains("node_modules/"), "{gitignore}");
        assert!(gitignore.contains("/target"), "{gitignore}");
        assert!(file(&files, "wcomp.toml").contains("lang = \"js\""));
    }
}
