//! Stubs for every export of a user's world: `app.py` with `WitWorld` and one class per
//! exported interface, plus a module per exported interface that defines resources. Each stub
//! has componentize-py's signature with type hints and raises `NotImplementedError` naming
//! the WIT item.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use wit_parser::{
    Function, FunctionKind, Handle, InterfaceId, Resolve, Type, TypeDefKind, TypeId, TypeOwner,
    WorldId, WorldItem, WorldKey,
};

use super::layout::APP_MODULE;
use super::names::{APP_NAMES, PRELOADED_MODULES, interface_names, python_camel, python_snake};
use crate::lang::scaffold::{ProjectFile, ScaffoldError};

/// Whether an interface is reached through `wit_world.imports` or `wit_world.exports`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Direction {
    Imports,
    Exports,
}

impl Direction {
    fn as_str(self) -> &'static str {
        match self {
            Self::Imports => "imports",
            Self::Exports => "exports",
        }
    }
}

/// What one generated file needs imported; rendered as its import block.
#[derive(Default)]
struct FileImports {
    /// `from <from> import <name> [as <alias>]`, keyed by the alias.
    modules: BTreeMap<String, (String, String)>,
    /// Names from `componentize_py_types`.
    types: BTreeSet<&'static str>,
    wit_world: bool,
}

impl FileImports {
    fn module(&mut self, from: &str, name: &str, alias: &str) {
        self.modules
            .insert(alias.to_owned(), (from.to_owned(), name.to_owned()));
    }

    fn render(&self) -> String {
        let mut lines = Vec::new();
        if !self.types.is_empty() {
            let names = self.types.iter().copied().collect::<Vec<_>>().join(", ");
            lines.push(format!("from componentize_py_types import {names}"));
        }
        if self.wit_world {
            lines.push("import wit_world".to_owned());
        }
        let mut froms: Vec<String> = self
            .modules
            .iter()
            .map(|(alias, (from, name))| {
                if alias == name {
                    format!("from {from} import {name}")
                } else {
                    format!("from {from} import {name} as {alias}")
                }
            })
            .collect();
        froms.sort();
        lines.extend(froms);
        lines.join("\n")
    }
}

pub struct Generator<'a> {
    resolve: &'a Resolve,
    world: WorldId,
    /// componentize-py's base name (before case conversion) for each imported interface.
    imported: HashMap<InterfaceId, String>,
    /// The same for exported interfaces, named independently of the imports.
    exported: HashMap<InterfaceId, String>,
}

impl<'a> Generator<'a> {
    pub fn new(resolve: &'a Resolve, world: WorldId) -> Self {
        let interfaces = |items: &wit_parser::IndexMap<WorldKey, WorldItem>| -> Vec<InterfaceId> {
            items
                .iter()
                .filter_map(|(key, item)| match (key, item) {
                    (WorldKey::Interface(_), WorldItem::Interface { id, .. }) => Some(*id),
                    _ => None,
                })
                .collect()
        };
        let world_def = &resolve.worlds[world];
        let imported = interface_names(resolve, &interfaces(&world_def.imports));
        let exported = interface_names(resolve, &interfaces(&world_def.exports));
        Self {
            resolve,
            world,
            imported,
            exported,
        }
    }

    /// `app.py`, plus one module per exported interface that defines resources.
    pub fn files(&self, name: &str) -> Result<Vec<ProjectFile>, ScaffoldError> {
        let world = &self.resolve.worlds[self.world];
        let mut imports = FileImports {
            wit_world: true,
            ..FileImports::default()
        };
        let mut body = self.world_class(&mut imports)?;
        let mut resource_files = Vec::new();
        for (key, item) in &world.exports {
            if let WorldItem::Interface { id, .. } = item {
                body.push_str(&self.interface_class(&mut imports, key, *id)?);
                let label = self.resolve.name_world_key(key);
                resource_files.extend(self.resource_module(*id, &label)?);
            }
        }
        // Every imported interface is importable as a module named after it; bring the
        // non-WASI ones into scope so calling them needs no further imports.
        for (key, item) in &world.imports {
            if let (WorldKey::Interface(_), WorldItem::Interface { id, .. }) = (key, item) {
                let package = self.resolve.interfaces[*id].package;
                let wasi = package
                    .is_some_and(|package| self.resolve.packages[package].name.namespace == "wasi");
                if !wasi {
                    self.module_ref(&mut imports, *id);
                }
            }
        }

        let mut app = String::new();
        let _ = writeln!(
            app,
            "\"\"\"The `{name}` component: implements the `{}` world in `wit/`.\n",
            world.name
        );
        app.push_str(
            "Generated by `wcomp new`: replace each `raise NotImplementedError(...)` with the real\n\
             code. Imported interfaces are modules under `wit_world.imports`; call their functions.\n",
        );
        if !resource_files.is_empty() {
            let names: Vec<String> = resource_files
                .iter()
                .map(|file: &ProjectFile| format!("`{}`", file.path.display()))
                .collect();
            let _ = writeln!(
                app,
                "Exported resources are classes in {} (componentize-py looks for them there).",
                names.join(", ")
            );
        }
        let _ = write!(app, "\"\"\"\n\n{}\n{body}", imports.render());

        let mut files = vec![ProjectFile::new(format!("{APP_MODULE}.py"), app)];
        files.extend(resource_files);
        Ok(files)
    }

    /// `class WitWorld`, with the world-level exported functions as its methods.
    fn world_class(&self, imports: &mut FileImports) -> Result<String, ScaffoldError> {
        let world = &self.resolve.worlds[self.world];
        let functions: Vec<&Function> = world
            .exports
            .values()
            .filter_map(|item| match item {
                WorldItem::Function(func) => Some(func),
                _ => None,
            })
            .collect();
        let mut out = String::from("\n\nclass WitWorld(wit_world.WitWorld):\n");
        let none = if functions.is_empty() {
            ": it has none"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "    \"\"\"World-level exports of `{}`{none}.\"\"\"",
            world.name
        );
        for func in functions {
            self.function(&mut out, imports, func, &world.name, None)?;
        }
        Ok(out)
    }

    /// `class <Interface>(exports.<Interface>)` with a stub per function of the interface.
    fn interface_class(
        &self,
        imports: &mut FileImports,
        key: &WorldKey,
        id: InterfaceId,
    ) -> Result<String, ScaffoldError> {
        let label = self.resolve.name_world_key(key);
        let WorldKey::Interface(_) = key else {
            return Err(ScaffoldError::Unsupported {
                item: label,
                reason: "componentize-py 0.25 generates no bindings for an interface defined inline in a world; declare it as a named `interface` and export that".into(),
            });
        };
        let camel = python_camel(&self.exported[&id]);
        if camel == "WitWorld" {
            return Err(ScaffoldError::Unsupported {
                item: label,
                reason: "its class name `WitWorld` collides with the world's class".into(),
            });
        }
        imports.module("wit_world", "exports", "exports");
        let mut out = format!("\n\nclass {camel}(exports.{camel}):\n");
        let _ = writeln!(out, "    \"\"\"Implements `{label}`.\"\"\"");
        for func in self.resolve.interfaces[id].functions.values() {
            if matches!(
                func.kind,
                FunctionKind::Freestanding | FunctionKind::AsyncFreestanding
            ) {
                self.function(&mut out, imports, func, &label, None)?;
            }
        }
        Ok(out)
    }

    /// `<interface>.py` with one class per resource the exported interface defines.
    fn resource_module(
        &self,
        id: InterfaceId,
        label: &str,
    ) -> Result<Option<ProjectFile>, ScaffoldError> {
        let interface = &self.resolve.interfaces[id];
        let resources: Vec<(&String, TypeId)> = interface
            .types
            .iter()
            .filter(|(_, ty)| matches!(self.resolve.types[**ty].kind, TypeDefKind::Resource))
            .map(|(name, ty)| (name, *ty))
            .collect();
        if resources.is_empty() {
            return Ok(None);
        }
        let module = python_snake(&self.exported[&id]);
        if PRELOADED_MODULES.contains(&module.as_str()) {
            return Err(ScaffoldError::Unsupported {
                item: label.to_owned(),
                reason: format!(
                    "componentize-py looks for its exported resources in a top-level module named `{module}`, which Python has already loaded (a standard or runtime module); rename the interface"
                ),
            });
        }
        let mut imports = FileImports::default();
        let mut body = String::new();
        for (resource, resource_id) in resources {
            let camel = python_camel(resource);
            let base = self.module_in(&mut imports, Direction::Exports, id);
            let _ = writeln!(body, "\n\nclass {camel}({base}.{camel}):");
            let _ = writeln!(
                body,
                "    \"\"\"The state behind each `{resource}` handle.\"\"\""
            );
            let methods = interface
                .functions
                .values()
                .filter(|func| func.kind.resource() == Some(resource_id));
            for func in methods {
                self.function(&mut body, &mut imports, func, label, Some(resource_id))?;
            }
        }
        let mut text = String::new();
        let _ = writeln!(text, "\"\"\"Exported resources of `{label}`.");
        let _ = writeln!(text);
        let _ = writeln!(
            text,
            "componentize-py finds each exported resource's class in a top-level module named after"
        );
        let _ = writeln!(
            text,
            "its interface: this file. Replace each `raise NotImplementedError(...)`."
        );
        let _ = writeln!(text, "\"\"\"\n");
        text.push_str(&imports.render());
        text.push('\n');
        text.push_str(&body);
        Ok(Some(ProjectFile::new(format!("{module}.py"), text)))
    }

    fn unsupported(&self, label: &str, func: &Function, reason: &str) -> ScaffoldError {
        ScaffoldError::Unsupported {
            item: format!("{label}#{}", func.name),
            reason: reason.into(),
        }
    }

    /// One method stub with componentize-py's signature for `func`.
    fn function(
        &self,
        out: &mut String,
        imports: &mut FileImports,
        func: &Function,
        label: &str,
        resource: Option<TypeId>,
    ) -> Result<(), ScaffoldError> {
        let item = format!("{label}#{}", func.name);
        // componentize-py exports an `async` WIT function as a coroutine (`async def`).
        let (decorator, method_name, receiver, skip) = match (&func.kind, resource) {
            (FunctionKind::Freestanding | FunctionKind::AsyncFreestanding, None) => {
                ("", python_snake(&func.name), "self", 0)
            }
            (FunctionKind::Constructor(_), Some(_)) => ("", "__init__".to_owned(), "self", 0),
            (FunctionKind::Method(_) | FunctionKind::AsyncMethod(_), Some(_)) => {
                ("", python_snake(func.item_name()), "self", 1)
            }
            (FunctionKind::Static(_) | FunctionKind::AsyncStatic(_), Some(_)) => (
                "    @classmethod\n",
                python_snake(func.item_name()),
                "cls",
                0,
            ),
            _ => {
                return Err(self.unsupported(
                    label,
                    func,
                    "getters and setters are not scaffolded yet",
                ));
            }
        };
        let def = if func.kind.is_async() {
            "async def"
        } else {
            "def"
        };
        let mut params = vec![receiver.to_owned()];
        for param in func.params.iter().skip(skip) {
            params.push(format!(
                "{}: {}",
                python_snake(&param.name),
                self.hint(imports, &param.ty, &item)?
            ));
        }
        let mut doc = None;
        let returns = match (&func.kind, &func.result) {
            (FunctionKind::Constructor(_), _) | (_, None) => "None".to_owned(),
            (_, Some(ty)) => match self.result_of(ty) {
                // componentize-py returns the `ok` value and raises `Err(value)` for the error.
                Some(result) => {
                    imports.types.insert("Err");
                    let err = match &result.err {
                        Some(err) => self.hint(imports, err, &item)?,
                        None => "None".to_owned(),
                    };
                    doc = Some(format!(
                        "Return the `ok` value; raise `Err({err})` for the error case."
                    ));
                    match &result.ok {
                        Some(ok) => self.hint(imports, ok, &item)?,
                        None => "None".to_owned(),
                    }
                }
                None => self.hint(imports, ty, &item)?,
            },
        };
        let _ = writeln!(out);
        out.push_str(decorator);
        let _ = writeln!(
            out,
            "    {def} {method_name}({}) -> {returns}:",
            params.join(", ")
        );
        if let Some(doc) = doc {
            let _ = writeln!(out, "        \"\"\"{doc}\"\"\"");
        }
        let _ = writeln!(
            out,
            "        raise NotImplementedError(\"`{item}` is not implemented yet\")"
        );
        Ok(())
    }

    /// The `result` a function returns, if it returns one (possibly through aliases).
    fn result_of(&self, ty: &Type) -> Option<&'a wit_parser::Result_> {
        let Type::Id(id) = ty else { return None };
        match &self.resolve.types[self.dealias(*id)].kind {
            TypeDefKind::Result(result) => Some(result),
            _ => None,
        }
    }

    fn dealias(&self, mut id: TypeId) -> TypeId {
        while let TypeDefKind::Type(Type::Id(next)) = self.resolve.types[id].kind {
            id = next;
        }
        id
    }

    /// The name a file uses for an interface's types module, importing it. componentize-py
    /// places an interface's types in its imports module when the world imports it.
    fn module_ref(&self, imports: &mut FileImports, id: InterfaceId) -> String {
        let direction = if self.imported.contains_key(&id) {
            Direction::Imports
        } else {
            Direction::Exports
        };
        self.module_in(imports, direction, id)
    }

    /// Imports `wit_world.<direction>.<module>`, under an alias when the plain name is taken.
    fn module_in(
        &self,
        imports: &mut FileImports,
        direction: Direction,
        id: InterfaceId,
    ) -> String {
        let (names, other) = match direction {
            Direction::Imports => (&self.imported, &self.exported),
            Direction::Exports => (&self.exported, &self.imported),
        };
        let module = python_snake(&names[&id]);
        let clashes = APP_NAMES.contains(&module.as_str())
            || other.values().any(|base| python_snake(base) == module);
        let alias = if clashes {
            format!("{module}_{}", direction.as_str())
        } else {
            module.clone()
        };
        imports.module(
            &format!("wit_world.{}", direction.as_str()),
            &module,
            &alias,
        );
        alias
    }

    /// The Python type hint componentize-py uses for `ty`.
    fn hint(
        &self,
        imports: &mut FileImports,
        ty: &Type,
        item: &str,
    ) -> Result<String, ScaffoldError> {
        Ok(match ty {
            Type::Bool => "bool".into(),
            Type::U8
            | Type::U16
            | Type::U32
            | Type::U64
            | Type::S8
            | Type::S16
            | Type::S32
            | Type::S64 => "int".into(),
            Type::F32 | Type::F64 => "float".into(),
            Type::Char | Type::String => "str".into(),
            Type::ErrorContext => return Err(unsupported_type(item, "error-context")),
            Type::Id(id) => self.typedef_hint(imports, *id, item)?,
        })
    }

    fn typedef_hint(
        &self,
        imports: &mut FileImports,
        id: TypeId,
        item: &str,
    ) -> Result<String, ScaffoldError> {
        let id = self.dealias(id);
        let def = &self.resolve.types[id];
        Ok(match &def.kind {
            TypeDefKind::Record(_)
            | TypeDefKind::Variant(_)
            | TypeDefKind::Enum(_)
            | TypeDefKind::Flags(_)
            | TypeDefKind::Resource => {
                let name = def
                    .name
                    .as_deref()
                    .ok_or_else(|| unsupported_type(item, "anonymous named type"))?;
                let camel = python_camel(name);
                match def.owner {
                    TypeOwner::Interface(interface) => {
                        if !self.imported.contains_key(&interface)
                            && !self.exported.contains_key(&interface)
                        {
                            return Err(unsupported_type(
                                item,
                                "a type from an interface outside the world",
                            ));
                        }
                        format!("{}.{camel}", self.module_ref(imports, interface))
                    }
                    TypeOwner::World(_) => {
                        imports.wit_world = true;
                        format!("wit_world.{camel}")
                    }
                    TypeOwner::None => return Err(unsupported_type(item, "anonymous named type")),
                }
            }
            TypeDefKind::Handle(Handle::Own(resource) | Handle::Borrow(resource)) => {
                self.typedef_hint(imports, *resource, item)?
            }
            TypeDefKind::List(Type::U8 | Type::S8) => "bytes".into(),
            TypeDefKind::List(inner) => format!("list[{}]", self.hint(imports, inner, item)?),
            TypeDefKind::Option(inner) => {
                let nested = matches!(inner, Type::Id(inner_id) if matches!(self.resolve.types[self.dealias(*inner_id)].kind, TypeDefKind::Option(_)));
                let inner = self.hint(imports, inner, item)?;
                if nested {
                    // An option inside an option: componentize-py wraps the inner value in `Some`.
                    imports.types.insert("Some");
                    format!("Some[{inner}] | None")
                } else {
                    format!("{inner} | None")
                }
            }
            TypeDefKind::Result(result) => {
                imports.types.insert("Result");
                let side = |imports: &mut FileImports, ty: &Option<Type>| match ty {
                    Some(ty) => self.hint(imports, ty, item),
                    None => Ok("None".to_owned()),
                };
                let ok = side(imports, &result.ok)?;
                let err = side(imports, &result.err)?;
                format!("Result[{ok}, {err}]")
            }
            TypeDefKind::Tuple(tuple) => {
                let types = tuple
                    .types
                    .iter()
                    .map(|ty| self.hint(imports, ty, item))
                    .collect::<Result<Vec<_>, _>>()?;
                if types.is_empty() {
                    "tuple[()]".to_owned()
                } else {
                    format!("tuple[{}]", types.join(", "))
                }
            }
            TypeDefKind::Type(inner) => self.hint(imports, inner, item)?,
            TypeDefKind::FixedLengthList(..) => {
                return Err(unsupported_type(item, "fixed-length list"));
            }
            TypeDefKind::Map(..) => return Err(unsupported_type(item, "map")),
            TypeDefKind::Future(_) | TypeDefKind::Stream(_) => {
                return Err(unsupported_type(item, "future/stream"));
            }
            TypeDefKind::Unknown => return Err(unsupported_type(item, "unknown")),
        })
    }
}

fn unsupported_type(item: &str, what: &str) -> ScaffoldError {
    ScaffoldError::Unsupported {
        item: item.to_owned(),
        reason: format!("`{what}` types are not scaffolded yet"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::scaffold::file_text as file;
    use crate::wit::WitPackage;

    fn generate(wit: &str, world: &str) -> Result<Vec<ProjectFile>, ScaffoldError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("world.wit");
        std::fs::write(&path, wit).unwrap();
        let package = WitPackage::load(&path).unwrap();
        let world = package.world(Some(world)).unwrap();
        crate::lang::python::from_world("demo", &package, world)
    }

    const RICH: &str = r#"
        package acme:demo@0.1.0;

        interface shapes {
            record point { x: s32, y: s32 }
            enum mode { plain, fancy }
            resource counter {
                constructor(start: u32);
                bump: func(by: u32) -> u32;
                zero: static func() -> counter;
            }
            area: func(corners: list<point>, mode: mode) -> result<f64, string>;
        }

        interface logger {
            log: func(message: string, raw: list<u8>);
        }

        world demo {
            import logger;
            export shapes;
            export class: func(%from: string, maybe: option<option<u8>>) -> tuple<bool, char>;
        }
    "#;

    #[test]
    fn stubs_follow_componentize_py_names_and_types() {
        let files = generate(RICH, "demo").unwrap();
        let app = file(&files, "app.py");
        assert!(app.contains("class WitWorld(wit_world.WitWorld):"), "{app}");
        assert!(
            app.contains("    def class_(self, from_: str, maybe: Some[int | None] | None) -> tuple[bool, str]:"),
            "{app}"
        );
        assert!(app.contains("class Shapes(exports.Shapes):"), "{app}");
        assert!(
            app.contains(
                "    def area(self, corners: list[shapes.Point], mode: shapes.Mode) -> float:"
            ),
            "{app}"
        );
        assert!(app.contains("raise `Err(str)` for the error case"), "{app}");
        assert!(
            app.contains("raise NotImplementedError(\"`acme:demo/shapes@0.1.0#area` is not implemented yet\")"),
            "{app}"
        );
        assert!(
            app.contains("from componentize_py_types import Err, Some"),
            "{app}"
        );
        assert!(
            app.contains("from wit_world.exports import shapes"),
            "{app}"
        );
        assert!(
            app.contains("from wit_world.imports import logger"),
            "{app}"
        );

        let shapes = file(&files, "shapes.py");
        assert!(
            shapes.contains("class Counter(shapes.Counter):"),
            "{shapes}"
        );
        assert!(
            shapes.contains("    def __init__(self, start: int) -> None:"),
            "{shapes}"
        );
        assert!(
            shapes.contains("    def bump(self, by: int) -> int:"),
            "{shapes}"
        );
        assert!(
            shapes.contains("    @classmethod\n    def zero(cls) -> shapes.Counter:"),
            "{shapes}"
        );

        let manifest = file(&files, "wcomp.toml");
        assert!(manifest.contains("lang = \"python\""), "{manifest}");
        assert!(manifest.contains("[python]"), "{manifest}");
        let parsed: toml::Value = toml::from_str(manifest).unwrap();
        assert_eq!(parsed["component"]["world"].as_str(), Some("demo"));
    }

    #[test]
    fn clashing_interface_names_are_qualified() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("deps/other")).unwrap();
        std::fs::write(
            dir.path().join("main.wit"),
            "package example:main@0.1.0;\ninterface api { hello: func() -> string; }\nworld w { export api; export other:lib/api@1.0.0; }\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("deps/other/lib.wit"),
            "package other:lib@1.0.0;\ninterface api { hi: func() -> string; }\n",
        )
        .unwrap();
        let package = WitPackage::load(dir.path()).unwrap();
        let world = package.world(Some("w")).unwrap();
        let files = crate::lang::python::from_world("demo", &package, world).unwrap();
        let app = file(&files, "app.py");
        assert!(
            app.contains("class ExampleMainApi(exports.ExampleMainApi):"),
            "{app}"
        );
        assert!(
            app.contains("class OtherLibApi(exports.OtherLibApi):"),
            "{app}"
        );
    }

    #[test]
    fn unsupported_shapes_are_refused_with_a_reason() {
        let inline = "package a:b;\nworld w { export inline: interface { f: func(); } }\n";
        let err = generate(inline, "w").expect_err("inline interfaces are refused");
        assert!(
            err.to_string().contains("cannot generate a skeleton"),
            "{err}"
        );

        let preloaded = "package a:b;\ninterface types { resource r { constructor(); } }\nworld w { export types; }\n";
        let err = generate(preloaded, "w").expect_err("a resource module named `types` is refused");
        assert!(format!("{err:?}").contains("already loaded"), "{err:?}");
    }
}
