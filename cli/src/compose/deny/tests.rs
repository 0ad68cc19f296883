//! Deny components built for a member importing the capability interfaces of the embedded
//! WASI release, run on wasmtime: each answers as a host granting nothing.

use wasmtime::component::{Linker, ResourceTable, Val};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::*;

/// A member component (its code never runs) importing `imports` besides what it exports.
fn member(imports: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let deps = dir.path().join("deps");
    for (file, text) in crate::wit::wasi::files() {
        crate::fsutil::write(&deps.join(file), text.as_bytes()).unwrap();
    }
    for package in [
        crate::wit::wasi::KEYVALUE,
        crate::wit::wasi::CONFIG,
        crate::wit::wasi::NN,
    ] {
        for (file, text) in package.deps_files() {
            crate::fsutil::write(&deps.join(file), text.as_bytes()).unwrap();
        }
    }
    let mut world = String::from("package test:member;\n\nworld member {\n");
    for import in imports {
        world.push_str(&format!("    import {import};\n"));
    }
    world.push_str("    export run: func() -> u32;\n}\n");
    crate::fsutil::write(&dir.path().join("world.wit"), world.as_bytes()).unwrap();
    let mut resolve = Resolve::default();
    let (package, _) = resolve.push_dir(dir.path()).unwrap();
    let world = resolve.select_world(&[package], Some("member")).unwrap();
    componentize(&importing_module(&resolve, world), &resolve, world).unwrap()
}

/// A core module importing every function of the interfaces `world` imports.
fn importing_module(resolve: &Resolve, world: wit_parser::WorldId) -> String {
    let mut text = String::from("(module\n");
    for (key, item) in &resolve.worlds[world].imports {
        let WorldItem::Interface { id, .. } = item else {
            continue;
        };
        let module = resolve.name_world_key(key);
        for func in resolve.interfaces[*id].functions.values() {
            let signature = resolve.wasm_signature(AbiVariant::GuestImport, func);
            text.push_str(&format!(
                "  (import {} {} (func",
                quoted(&module),
                quoted(&func.name)
            ));
            for ty in &signature.params {
                text.push_str(&format!(" (param {})", core_type(*ty)));
            }
            for ty in &signature.results {
                text.push_str(&format!(" (result {})", core_type(*ty)));
            }
            text.push_str("))\n");
        }
    }
    text.push_str("  (memory (export \"memory\") 1)\n");
    text.push_str(
        "  (global $base i32 (i32.const 1024))\n  (global $heap (mut i32) (i32.const 1024))\n",
    );
    text.push_str(REALLOC);
    text.push_str("  (func (export \"run\") (result i32) i32.const 0)\n)\n");
    text
}

fn versioned(interface: &str) -> String {
    let (package, _) = interface.split_once('/').unwrap();
    let version = match package {
        "wasi:keyvalue" => crate::wit::wasi::KEYVALUE.version(),
        "wasi:config" => crate::wit::wasi::CONFIG.version(),
        "wasi:nn" => crate::wit::wasi::NN.version(),
        _ => crate::wit::wasi::version(),
    };
    format!("{interface}@{}", version.unwrap())
}

struct Host {
    table: ResourceTable,
    wasi: WasiCtx,
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Calls `function` of the interface `interface` the deny component `bytes` exports.
fn call(bytes: &[u8], interface: &str, function: &str, params: &[Val]) -> anyhow::Result<Val> {
    let engine = Engine::default();
    let component = wasmtime::component::Component::new(&engine, bytes)?;
    let mut linker = Linker::<Host>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    // `wasi:http/types` and the keyvalue bucket's interface: never reached by these calls.
    linker.define_unknown_imports_as_traps(&component)?;
    let mut store = Store::new(
        &engine,
        Host {
            table: ResourceTable::new(),
            wasi: WasiCtx::builder().env("SECRET", "hunter2").build(),
        },
    );
    let instance = linker.instantiate(&mut store, &component)?;
    let exported = instance
        .get_export_index(&mut store, None, interface)
        .unwrap();
    let index = instance
        .get_export_index(&mut store, Some(&exported), function)
        .unwrap();
    let func = instance.get_func(&mut store, index).unwrap();
    let mut results = [Val::Bool(false)];
    func.call(&mut store, params, &mut results)?;
    Ok(results[0].clone())
}

#[test]
fn an_empty_host_answers_with_nothing_and_refusals() {
    let names = [
        "wasi:cli/environment",
        "wasi:filesystem/preopens",
        "wasi:http/outgoing-handler",
        "wasi:keyvalue/store",
        "wasi:keyvalue/atomics",
        "wasi:config/store",
        "wasi:sockets/instance-network",
        "wasi:sockets/ip-name-lookup",
        "wasi:nn/graph",
        "wasi:nn/inference",
        "wasi:nn/tensor",
        "wasi:nn/errors",
    ]
    .map(versioned);
    let member = member(&names.each_ref().map(String::as_str));
    let denied: BTreeSet<String> = names.iter().cloned().collect();
    let denial = deny_component(&member, &denied).unwrap();

    let answers = |interface: usize| &denial.answers[&names[interface]];
    assert_eq!(answers(0)["get-environment"], Answer::Empty);
    assert_eq!(answers(0)["initial-cwd"], Answer::Empty);
    assert_eq!(answers(1)["get-directories"], Answer::Empty);
    assert_eq!(
        answers(2)["handle"],
        Answer::Refused("HTTP-request-denied".into())
    );
    assert_eq!(answers(3)["open"], Answer::Refused("access-denied".into()));
    assert_eq!(answers(5)["get"], Answer::Empty);
    assert_eq!(answers(5)["get-all"], Answer::Empty);
    assert_eq!(answers(6)["instance-network"], Answer::Trap);
    assert_eq!(
        answers(7)["resolve-addresses"],
        Answer::Refused("access-denied".into())
    );
    // `wasi:nn`'s errors are resources: a denied `load` has no empty answer.
    assert_eq!(answers(8)["load-by-name"], Answer::Trap);

    // On wasmtime, with a host that has a variable to give.
    let bytes = &denial.bytes;
    assert_eq!(
        call(bytes, &names[0], "get-environment", &[]).unwrap(),
        Val::List(Vec::new())
    );
    assert_eq!(
        call(bytes, &names[0], "initial-cwd", &[]).unwrap(),
        Val::Option(None)
    );
    assert_eq!(
        call(bytes, &names[1], "get-directories", &[]).unwrap(),
        Val::List(Vec::new())
    );
    let open = call(bytes, &names[3], "open", &[Val::String("cache".into())]).unwrap();
    assert_eq!(
        open,
        Val::Result(Err(Some(Box::new(Val::Variant(
            "access-denied".into(),
            None
        )))))
    );
    // Twice: the parameters' memory is reused, not accumulated.
    let get = call(bytes, &names[5], "get", &[Val::String("k".repeat(100_000))]).unwrap();
    assert_eq!(get, Val::Result(Ok(Some(Box::new(Val::Option(None))))));
    let err = call(bytes, &names[6], "instance-network", &[]).unwrap_err();
    assert!(format!("{err:?}").contains("unreachable"), "{err:?}");
}
