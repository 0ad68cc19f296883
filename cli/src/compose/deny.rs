//! Deny components: what a member of a composition is plugged with for a WASI interface it
//! was not granted (see [`super::grants`]), so that one member's grant never reaches another.
//!
//! A deny component exports the member's own version of each interface, read from the
//! member's component type, and answers every function as a host that grants nothing would:
//! an empty list (`get-environment`, `get-directories`), `none` (`initial-cwd`), `ok` with an
//! empty list or `none`, or the interface's own refusal (`error-code.access-denied`,
//! `HTTP-request-denied`). A function for which the interface has no such answer (one that
//! must hand back a resource, say) traps, which fails the call that reached it and nothing
//! else. Resources the member hands over (an outgoing request it may not send) are dropped.
//! Interfaces whose types it uses (`wasi:filesystem/types`, `wasi:http/types`) it imports
//! from the host, as the member does, so both see the same resources.
//!
//! It is built from WebAssembly text generated here, with its WIT taken from the member,
//! through wit-component like any guest: nothing is fetched or compiled by a toolchain.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use anyhow::{Context as _, bail};
use wit_parser::abi::{AbiVariant, WasmType};
use wit_parser::{
    Function, Handle, Int, InterfaceId, Resolve, SizeAlign, Type, TypeDefKind, TypeId, TypeOwner,
    WorldItem, WorldKey,
};

/// The error cases a denied call answers with, where the interface has one.
const REFUSALS: [&str; 2] = ["access-denied", "HTTP-request-denied"];

/// Where a generated component's answers start in its memory (0 stays unused).
const DATA_START: u32 = 16;

/// What a denied function answers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "answer", content = "case")]
pub enum Answer {
    /// It returns nothing, and does nothing.
    Nothing,
    /// An empty list, `none`, or `ok` holding one of those.
    Empty,
    /// The interface's own refusal: `err(<case>)`.
    Refused(String),
    /// The interface allows no empty answer: the call traps.
    Trap,
}

impl std::fmt::Display for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Nothing => f.write_str("does nothing"),
            Self::Empty => f.write_str("empty"),
            Self::Refused(case) => write!(f, "err({case})"),
            Self::Trap => f.write_str("traps"),
        }
    }
}

/// What each function of each denied interface answers: `interface -> function -> answer`.
pub type Answers = BTreeMap<String, BTreeMap<String, Answer>>;

/// A deny component, and what each of its functions answers.
#[derive(Debug)]
pub struct Denial {
    pub bytes: Vec<u8>,
    pub answers: Answers,
}

/// Builds a component exporting `interfaces` (names as `importer` imports them, such as
/// `wasi:cli/environment@0.2.3`), each answering as a host that grants nothing.
pub fn deny_component(importer: &[u8], interfaces: &BTreeSet<String>) -> anyhow::Result<Denial> {
    let decoded = wit_component::decode(importer).context("cannot read its component type")?;
    let wit_component::DecodedWasm::Component(mut resolve, _) = decoded else {
        bail!("it is a WIT package, not a component");
    };
    let mut source = String::from("package wcomp:deny;\n\nworld deny {\n");
    for name in interfaces {
        writeln!(source, "    export {name};")?;
    }
    source.push_str("}\n");
    let package = resolve
        .push_source("deny.wit", &source)
        .context("cannot describe the interfaces it denies")?;
    let world = resolve.select_world(&[package], Some("deny"))?;
    let (text, answers) = CoreModule::new(&resolve, world)?.generate()?;
    let bytes = componentize(&text, &resolve, world).context("cannot encode the deny component")?;
    Ok(Denial { bytes, answers })
}

/// The component of the core module `text` (WebAssembly text) for `world`.
fn componentize(
    text: &str,
    resolve: &Resolve,
    world: wit_parser::WorldId,
) -> anyhow::Result<Vec<u8>> {
    crate::wit::component_encoder(wat::parse_str(text)?, resolve, world)?.encode()
}

/// The core module behind a deny component, written as WebAssembly text.
struct CoreModule<'a> {
    resolve: &'a Resolve,
    sizes: SizeAlign,
    /// The interfaces the component exports (their resources are its own).
    exported: BTreeSet<InterfaceId>,
    exports: Vec<(String, InterfaceId)>,
    /// `(module, name)` of each `[resource-drop]` import, by its function name in the text.
    drops: BTreeMap<(String, String), String>,
    /// Answers laid out in memory: `(offset, bytes)`.
    data: Vec<(u32, Vec<u8>)>,
    next: u32,
}

impl<'a> CoreModule<'a> {
    fn new(resolve: &'a Resolve, world: wit_parser::WorldId) -> anyhow::Result<Self> {
        let mut sizes = SizeAlign::default();
        sizes.fill(resolve)?;
        let mut exports = Vec::new();
        for (key, item) in &resolve.worlds[world].exports {
            if let (WorldKey::Interface(id), WorldItem::Interface { .. }) = (key, item) {
                exports.push((resolve.name_world_key(key), *id));
            }
        }
        Ok(Self {
            resolve,
            sizes,
            exported: exports.iter().map(|(_, id)| *id).collect(),
            exports,
            drops: BTreeMap::new(),
            data: Vec::new(),
            next: DATA_START,
        })
    }

    /// The module's text and each function's answer.
    #[allow(clippy::type_complexity)]
    fn generate(mut self) -> anyhow::Result<(String, BTreeMap<String, BTreeMap<String, Answer>>)> {
        let mut functions = String::new();
        let mut answers = BTreeMap::new();
        for (name, id) in self.exports.clone() {
            let mut answered = BTreeMap::new();
            for func in self.resolve.interfaces[id].functions.values() {
                if func.kind.is_async() {
                    bail!(
                        "`{name}` has the async function `{}`, which wcomp cannot deny yet",
                        func.name
                    );
                }
                let (text, answer) = self.function(&name, func);
                functions.push_str(&text);
                answered.insert(func.name.clone(), answer);
            }
            answers.insert(name, answered);
        }
        let heap = self.next.next_multiple_of(8).max(1024);
        let mut text = String::from("(module\n");
        for ((module, field), func) in &self.drops {
            writeln!(
                text,
                "  (import {} {} (func {func} (param i32)))",
                quoted(module),
                quoted(field)
            )?;
        }
        text.push_str("  (memory (export \"memory\") 1)\n");
        writeln!(text, "  (global $base i32 (i32.const {heap}))")?;
        writeln!(text, "  (global $heap (mut i32) (i32.const {heap}))")?;
        text.push_str(REALLOC);
        for (offset, bytes) in &self.data {
            let escaped: String = bytes.iter().map(|b| format!("\\{b:02x}")).collect();
            writeln!(text, "  (data (i32.const {offset}) \"{escaped}\")")?;
        }
        text.push_str(&functions);
        text.push_str(")\n");
        Ok((text, answers))
    }

    /// One exported function: drops what it is handed, then answers.
    fn function(&mut self, interface: &str, func: &Function) -> (String, Answer) {
        let signature = self.resolve.wasm_signature(AbiVariant::GuestExport, func);
        let params: Vec<&str> = signature.params.iter().map(|ty| core_type(*ty)).collect();
        let results: Vec<&str> = signature.results.iter().map(|ty| core_type(*ty)).collect();
        let mut text = format!(
            "  (func (export {})",
            quoted(&format!("{interface}#{}", func.name))
        );
        for ty in &params {
            write!(text, " (param {ty})").ok();
        }
        for ty in &results {
            write!(text, " (result {ty})").ok();
        }
        text.push('\n');
        let drops = if signature.indirect_params {
            // Parameters in memory: fine unless a resource is among them.
            func.params
                .iter()
                .all(|param| !self.holds_foreign_handle(&param.ty))
                .then(String::new)
        } else {
            self.drops_of(func)
        };
        let answer = match (&func.result, drops) {
            (_, None) => None,
            (None, Some(drops)) => Some((drops, String::new(), Answer::Nothing)),
            (Some(result), Some(drops)) if signature.retptr => {
                self.answer(result).map(|(bytes, answer)| {
                    let offset = self.place(bytes, self.sizes.align(result).align_wasm32());
                    (drops, format!("    i32.const {offset}\n"), answer)
                })
            }
            // A single value (a number, a handle, a flag): no empty answer.
            (Some(_), Some(_)) => None,
        };
        match answer {
            Some((drops, result, answer)) => {
                text.push_str(&drops);
                text.push_str("    global.get $base\n    global.set $heap\n");
                text.push_str(&result);
                text.push_str("  )\n");
                (text, answer)
            }
            None => {
                text.push_str("    unreachable\n  )\n");
                (text, Answer::Trap)
            }
        }
    }

    /// The instructions dropping every resource handle among `func`'s flattened parameters,
    /// or `None` when one is where they cannot be found (inside a record or a list).
    fn drops_of(&mut self, func: &Function) -> Option<String> {
        let mut text = String::new();
        let mut index = 0;
        for param in &func.params {
            let width = self.flat_width(&param.ty);
            match self.kind(&param.ty) {
                Some(TypeDefKind::Handle(handle)) => {
                    if let Some(drop) = self.drop_of(handle) {
                        writeln!(text, "    local.get {index}\n    call {drop}").ok();
                    }
                }
                Some(TypeDefKind::Option(inner))
                    if matches!(self.kind(inner), Some(TypeDefKind::Handle(_))) =>
                {
                    let Some(TypeDefKind::Handle(handle)) = self.kind(inner) else {
                        return None;
                    };
                    if let Some(drop) = self.drop_of(handle) {
                        writeln!(
                            text,
                            "    (if (i32.eq (local.get {index}) (i32.const 1))\n      (then (call {drop} (local.get {}))))",
                            index + 1
                        )
                        .ok();
                    }
                }
                _ if self.holds_foreign_handle(&param.ty) => return None,
                _ => {}
            }
            index += width;
        }
        Some(text)
    }

    /// The text name of the `[resource-drop]` import for a handle to a resource of another
    /// interface; `None` for one of the component's own (a method's `self`).
    fn drop_of(&mut self, handle: &Handle) -> Option<String> {
        let (Handle::Own(id) | Handle::Borrow(id)) = handle;
        let resource = self.resource(*id);
        let definition = &self.resolve.types[resource];
        let TypeOwner::Interface(owner) = definition.owner else {
            return None;
        };
        if self.exported.contains(&owner) {
            return None;
        }
        let module = self.resolve.id_of(owner)?;
        let field = format!("[resource-drop]{}", definition.name.as_deref()?);
        let next = format!("$drop{}", self.drops.len());
        Some(self.drops.entry((module, field)).or_insert(next).clone())
    }

    /// The resource a handle's type names, through `use` aliases.
    fn resource(&self, mut id: TypeId) -> TypeId {
        while let TypeDefKind::Type(Type::Id(next)) = self.resolve.types[id].kind {
            id = next;
        }
        id
    }

    /// `ty`'s definition, through aliases; `None` for a primitive.
    fn kind(&self, ty: &Type) -> Option<&'a TypeDefKind> {
        let mut ty = *ty;
        loop {
            let Type::Id(id) = ty else {
                return None;
            };
            match &self.resolve.types[id].kind {
                TypeDefKind::Type(next) => ty = *next,
                kind => return Some(kind),
            }
        }
    }

    /// Whether a value of `ty` holds a handle to another interface's resource, a stream or a
    /// future anywhere inside.
    fn holds_foreign_handle(&self, ty: &Type) -> bool {
        let Some(kind) = self.kind(ty) else {
            return false;
        };
        match kind {
            TypeDefKind::Handle(Handle::Own(id) | Handle::Borrow(id)) => {
                let resource = self.resource(*id);
                !matches!(
                    self.resolve.types[resource].owner,
                    TypeOwner::Interface(owner) if self.exported.contains(&owner)
                )
            }
            TypeDefKind::Future(_) | TypeDefKind::Stream(_) => true,
            TypeDefKind::Record(record) => record
                .fields
                .iter()
                .any(|f| self.holds_foreign_handle(&f.ty)),
            TypeDefKind::Tuple(tuple) => tuple.types.iter().any(|t| self.holds_foreign_handle(t)),
            TypeDefKind::Variant(variant) => variant
                .cases
                .iter()
                .filter_map(|case| case.ty.as_ref())
                .any(|t| self.holds_foreign_handle(t)),
            TypeDefKind::Option(t) | TypeDefKind::List(t) | TypeDefKind::FixedLengthList(t, _) => {
                self.holds_foreign_handle(t)
            }
            TypeDefKind::Map(k, v) => self.holds_foreign_handle(k) || self.holds_foreign_handle(v),
            TypeDefKind::Result(result) => [&result.ok, &result.err]
                .into_iter()
                .flatten()
                .any(|t| self.holds_foreign_handle(t)),
            TypeDefKind::Resource
            | TypeDefKind::Flags(_)
            | TypeDefKind::Enum(_)
            | TypeDefKind::Type(_)
            | TypeDefKind::Unknown => false,
        }
    }

    /// How many core values `ty` flattens to.
    fn flat_width(&self, ty: &Type) -> usize {
        let mut storage = [WasmType::I32; 64];
        let mut flat = wit_parser::abi::FlatTypes::new(&mut storage);
        self.resolve.push_flat(ty, &mut flat);
        flat.to_vec().len()
    }

    /// The bytes of an empty answer of type `ty`, as the canonical ABI lays it out in memory.
    fn answer(&self, ty: &Type) -> Option<(Vec<u8>, Answer)> {
        let size = self.sizes.size(ty).size_wasm32();
        let mut bytes = vec![0; size];
        match self.kind(ty)? {
            // An empty list (pointer 0, length 0) and `none` are all zeros.
            TypeDefKind::List(_) | TypeDefKind::Option(_) => Some((bytes, Answer::Empty)),
            TypeDefKind::Result(result) => {
                let empty_ok = result.ok.as_ref().is_some_and(|ok| {
                    matches!(
                        self.kind(ok),
                        Some(TypeDefKind::List(_) | TypeDefKind::Option(_))
                    )
                });
                if empty_ok {
                    return Some((bytes, Answer::Empty));
                }
                let (case, tag, name) = self.refusal(result.err.as_ref()?)?;
                let offset = self
                    .sizes
                    .payload_offset(Int::U8, [result.ok.as_ref(), result.err.as_ref()])
                    .size_wasm32();
                bytes[0] = 1;
                let width = match tag {
                    Int::U8 => 1,
                    Int::U16 => 2,
                    Int::U32 => 4,
                    Int::U64 => 8,
                };
                let case = (case as u64).to_le_bytes();
                bytes
                    .get_mut(offset..offset + width)?
                    .copy_from_slice(&case[..width]);
                Some((bytes, Answer::Refused(name)))
            }
            _ => None,
        }
    }

    /// The refusal case of the error type `ty`: its index, the width of its tag and its name.
    fn refusal(&self, ty: &Type) -> Option<(usize, Int, String)> {
        match self.kind(ty)? {
            TypeDefKind::Enum(enum_) => {
                let index = enum_
                    .cases
                    .iter()
                    .position(|case| REFUSALS.contains(&case.name.as_str()))?;
                Some((index, enum_.tag(), enum_.cases[index].name.clone()))
            }
            TypeDefKind::Variant(variant) => {
                let index = variant
                    .cases
                    .iter()
                    .position(|case| case.ty.is_none() && REFUSALS.contains(&case.name.as_str()))?;
                Some((index, variant.tag(), variant.cases[index].name.clone()))
            }
            _ => None,
        }
    }

    /// Lays `bytes` out in memory, aligned to `align`; returns their offset.
    fn place(&mut self, bytes: Vec<u8>, align: usize) -> u32 {
        let offset = self.next.next_multiple_of(align.max(1) as u32);
        self.next = offset + (bytes.len() as u32).max(1);
        self.data.push((offset, bytes));
        offset
    }
}

/// A bump allocator for the parameters the host lowers into the component (strings, lists);
/// every call resets it, so nothing accumulates.
const REALLOC: &str = r#"  (func (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
    (local $ptr i32)
    (local.set $ptr
      (i32.and
        (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get $align))))
    (global.set $heap (i32.add (local.get $ptr) (local.get $size)))
    (block $done
      (loop $grow
        (br_if $done (i32.le_u (global.get $heap) (i32.shl (memory.size) (i32.const 16))))
        (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1)) (then unreachable))
        (br $grow)))
    (if (local.get $old_size)
      (then (memory.copy (local.get $ptr) (local.get $old) (local.get $old_size))))
    (local.get $ptr))
"#;

fn core_type(ty: WasmType) -> &'static str {
    match ty {
        WasmType::I64 | WasmType::PointerOrI64 => "i64",
        WasmType::F32 => "f32",
        WasmType::F64 => "f64",
        WasmType::I32 | WasmType::Pointer | WasmType::Length => "i32",
    }
}

/// `s` as a WebAssembly text string.
fn quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for byte in s.bytes() {
        match byte {
            b'"' | b'\\' => write!(out, "\\{}", byte as char).ok(),
            0x20..=0x7e => write!(out, "{}", byte as char).ok(),
            _ => write!(out, "\\{byte:02x}").ok(),
        };
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests;
