//! Structural comparison of two versions of one WIT package, item by item and by name.
//! Each difference becomes a [`Change`] classified from the side of the package's users:
//! callers of its interfaces, and components that target its worlds. A change is breaking
//! when something built against the old version can fail against the new one.
//!
//! Named types are compared by name where they are used and by structure where they are
//! defined, so a changed record is reported once, at the record.

use std::collections::HashSet;

use wit_parser::{
    Function, FunctionKind, Handle, Interface, PackageId, Resolve, Type, TypeDefKind, TypeId,
    TypeOwner, World, WorldItem, WorldKey,
};

/// Whether users of the old version keep working.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compat {
    Breaking,
    Compatible,
}

/// One difference between the versions.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    pub compat: Compat,
    /// A stable class id: `function-removed`, `case-added`, …
    pub kind: &'static str,
    /// Where: `interface api`, `interface api, record point`, `world app`.
    pub item: String,
    /// What happened, in words a reader without component-model knowledge follows.
    pub message: String,
}

/// One side of the comparison.
pub struct Side<'a> {
    pub resolve: &'a Resolve,
    pub package: PackageId,
}

pub fn compare(old: &Side<'_>, new: &Side<'_>) -> Vec<Change> {
    let mut cx = Cx {
        old,
        new,
        changes: Vec::new(),
    };
    let (a, b) = (
        &old.resolve.packages[old.package],
        &new.resolve.packages[new.package],
    );
    for (name, id) in &a.interfaces {
        match b.interfaces.get(name) {
            None => cx.push(
                Compat::Breaking,
                "interface-removed",
                "package",
                format!("interface `{name}` was removed"),
            ),
            Some(other) => cx.interface(
                &format!("interface {name}"),
                &old.resolve.interfaces[*id],
                &new.resolve.interfaces[*other],
            ),
        }
    }
    for name in b
        .interfaces
        .keys()
        .filter(|n| !a.interfaces.contains_key(*n))
    {
        cx.push(
            Compat::Compatible,
            "interface-added",
            "package",
            format!("interface `{name}` was added"),
        );
    }
    for (name, id) in &a.worlds {
        match b.worlds.get(name) {
            None => cx.push(
                Compat::Breaking,
                "world-removed",
                "package",
                format!("world `{name}` was removed"),
            ),
            Some(other) => cx.world(
                &format!("world {name}"),
                &old.resolve.worlds[*id],
                &new.resolve.worlds[*other],
            ),
        }
    }
    for name in b.worlds.keys().filter(|n| !a.worlds.contains_key(*n)) {
        cx.push(
            Compat::Compatible,
            "world-added",
            "package",
            format!("world `{name}` was added"),
        );
    }
    cx.changes
}

struct Cx<'a, 'b> {
    old: &'a Side<'b>,
    new: &'a Side<'b>,
    changes: Vec<Change>,
}

impl Cx<'_, '_> {
    fn push(&mut self, compat: Compat, kind: &'static str, item: &str, message: String) {
        self.changes.push(Change {
            compat,
            kind,
            item: item.to_owned(),
            message,
        });
    }

    fn interface(&mut self, item: &str, a: &Interface, b: &Interface) {
        for (name, ty) in &a.types {
            match b.types.get(name) {
                None => self.push(
                    Compat::Breaking,
                    "type-removed",
                    item,
                    format!("type `{name}` was removed"),
                ),
                Some(other) => self.typedef(&format!("{item}, type {name}"), *ty, *other),
            }
        }
        for name in b.types.keys().filter(|n| !a.types.contains_key(*n)) {
            self.push(
                Compat::Compatible,
                "type-added",
                item,
                format!("type `{name}` was added"),
            );
        }
        self.functions(
            item,
            &a.functions,
            &b.functions,
            "implementations of the interface must add it",
        );
    }

    fn functions(
        &mut self,
        item: &str,
        a: &wit_parser::IndexMap<String, Function>,
        b: &wit_parser::IndexMap<String, Function>,
        note: &str,
    ) {
        for (name, f) in a {
            match b.get(name) {
                None => {
                    let renamed = b
                        .iter()
                        .find(|(n, g)| !a.contains_key(*n) && self.same_signature(f, g));
                    match renamed {
                        Some((_, g)) => self.push(
                            Compat::Breaking,
                            "function-renamed",
                            item,
                            format!(
                                "{} is gone; `{}` with the same signature was added (a rename?)",
                                describe_function(self.old.resolve, f),
                                g.item_name()
                            ),
                        ),
                        None => self.push(
                            Compat::Breaking,
                            "function-removed",
                            item,
                            format!("{} was removed", describe_function(self.old.resolve, f)),
                        ),
                    }
                }
                Some(g) => self.function(item, f, g),
            }
        }
        for (_, g) in b.iter().filter(|(n, _)| !a.contains_key(*n)) {
            let renamed = a
                .iter()
                .any(|(n, f)| !b.contains_key(n) && self.same_signature(f, g));
            if !renamed {
                let what = describe_function(self.new.resolve, g);
                self.push(
                    Compat::Compatible,
                    "function-added",
                    item,
                    format!("{what} was added ({note})"),
                );
            }
        }
    }

    fn same_signature(&self, f: &Function, g: &Function) -> bool {
        std::mem::discriminant(&f.kind) == std::mem::discriminant(&g.kind)
            && f.params.len() == g.params.len()
            && f.params
                .iter()
                .zip(&g.params)
                .all(|(p, q)| p.name == q.name && self.same_type(p.ty, q.ty))
            && match (f.result, g.result) {
                (None, None) => true,
                (Some(a), Some(b)) => self.same_type(a, b),
                _ => false,
            }
    }

    fn function(&mut self, item: &str, f: &Function, g: &Function) {
        let what = describe_function(self.old.resolve, f);
        if f.kind.is_async() != g.kind.is_async() {
            let now = if g.kind.is_async() {
                "is now async"
            } else {
                "is no longer async"
            };
            self.push(
                Compat::Breaking,
                "function-changed",
                item,
                format!("{what} {now}"),
            );
        }
        if std::mem::discriminant(&strip_async(&f.kind))
            != std::mem::discriminant(&strip_async(&g.kind))
        {
            self.push(
                Compat::Breaking,
                "function-changed",
                item,
                format!("{what} changed kind (function, method, static or constructor)"),
            );
            return;
        }
        // The implicit `self` of methods is compared through the resource's name.
        for (index, p) in f.params.iter().enumerate() {
            match g.params.get(index) {
                None => self.push(Compat::Breaking, "parameter-removed", item, format!("{what} lost parameter `{}`", p.name)),
                Some(q) if p.name != q.name && self.same_type(p.ty, q.ty) => self.push(
                    Compat::Breaking,
                    "parameter-renamed",
                    item,
                    format!("{what}: parameter `{}` was renamed to `{}` (names are part of the function's type)", p.name, q.name),
                ),
                Some(q) if p.name != q.name => self.push(
                    Compat::Breaking,
                    "parameter-changed",
                    item,
                    format!("{what}: parameter `{}: {}` became `{}: {}`", p.name, self.old_type(p.ty), q.name, self.new_type(q.ty)),
                ),
                Some(q) if !self.same_type(p.ty, q.ty) => self.push(
                    Compat::Breaking,
                    "parameter-type-changed",
                    item,
                    format!("{what}: parameter `{}` changed type from `{}` to `{}`", p.name, self.old_type(p.ty), self.new_type(q.ty)),
                ),
                Some(_) => {}
            }
        }
        for q in g.params.iter().skip(f.params.len()) {
            self.push(
                Compat::Breaking,
                "parameter-added",
                item,
                format!(
                    "{what} gained parameter `{}: {}`",
                    q.name,
                    self.new_type(q.ty)
                ),
            );
        }
        let same_result = match (f.result, g.result) {
            (None, None) => true,
            (Some(a), Some(b)) => self.same_type(a, b),
            _ => false,
        };
        if !same_result {
            let show = |ty: Option<String>| ty.map_or("nothing".to_owned(), |t| format!("`{t}`"));
            let (before, after) = (
                show(f.result.map(|t| self.old_type(t))),
                show(g.result.map(|t| self.new_type(t))),
            );
            self.push(
                Compat::Breaking,
                "result-changed",
                item,
                format!("{what}: result changed from {before} to {after}"),
            );
        }
    }

    fn typedef(&mut self, item: &str, a: TypeId, b: TypeId) {
        let (da, db) = (&self.old.resolve.types[a], &self.new.resolve.types[b]);
        match (&da.kind, &db.kind) {
            (TypeDefKind::Record(ra), TypeDefKind::Record(rb)) => {
                let fields = |r: &wit_parser::Record| {
                    r.fields
                        .iter()
                        .map(|f| (f.name.clone(), Some(f.ty)))
                        .collect::<Vec<_>>()
                };
                self.members(
                    item,
                    "field",
                    &fields(ra),
                    &fields(rb),
                    Compat::Breaking,
                    "every value of the record must now carry it",
                );
            }
            (TypeDefKind::Variant(va), TypeDefKind::Variant(vb)) => {
                let cases = |v: &wit_parser::Variant| {
                    v.cases
                        .iter()
                        .map(|c| (c.name.clone(), c.ty))
                        .collect::<Vec<_>>()
                };
                self.members(
                    item,
                    "case",
                    &cases(va),
                    &cases(vb),
                    Compat::Breaking,
                    "code that handles every case does not handle it",
                );
            }
            (TypeDefKind::Enum(ea), TypeDefKind::Enum(eb)) => {
                let cases = |e: &wit_parser::Enum| {
                    e.cases
                        .iter()
                        .map(|c| (c.name.clone(), None))
                        .collect::<Vec<_>>()
                };
                self.members(
                    item,
                    "case",
                    &cases(ea),
                    &cases(eb),
                    Compat::Breaking,
                    "code that handles every case does not handle it",
                );
            }
            (TypeDefKind::Flags(fa), TypeDefKind::Flags(fb)) => {
                let flags = |f: &wit_parser::Flags| {
                    f.flags
                        .iter()
                        .map(|f| (f.name.clone(), None))
                        .collect::<Vec<_>>()
                };
                self.members(
                    item,
                    "flag",
                    &flags(fa),
                    &flags(fb),
                    Compat::Breaking,
                    "the flags' binary layout changes",
                );
            }
            (TypeDefKind::Resource, TypeDefKind::Resource) => {}
            (ka, kb)
                if std::mem::discriminant(ka) != std::mem::discriminant(kb)
                    && !(is_alias_like(ka) && is_alias_like(kb)) =>
            {
                self.push(
                    Compat::Breaking,
                    "type-changed",
                    item,
                    format!(
                        "changed from {} to {}",
                        with_article(kind_name(ka)),
                        with_article(kind_name(kb))
                    ),
                );
            }
            _ => {
                if !self.same_structure(a, b) {
                    let (before, after) = (self.old_type(Type::Id(a)), self.new_type(Type::Id(b)));
                    let (before, after) = (
                        self.definition(self.old.resolve, a).unwrap_or(before),
                        self.definition(self.new.resolve, b).unwrap_or(after),
                    );
                    self.push(
                        Compat::Breaking,
                        "type-changed",
                        item,
                        format!("definition changed from `{before}` to `{after}`"),
                    );
                }
            }
        }
    }

    /// The right-hand side of `type x = …`, for messages.
    fn definition(&self, resolve: &Resolve, id: TypeId) -> Option<String> {
        Some(describe_kind(resolve, &resolve.types[id].kind))
    }

    /// Fields, cases or flags: removed, added, retyped or reordered.
    fn members(
        &mut self,
        item: &str,
        noun: &'static str,
        a: &[(String, Option<Type>)],
        b: &[(String, Option<Type>)],
        added: Compat,
        why: &str,
    ) {
        let names_b: HashSet<&str> = b.iter().map(|(n, _)| n.as_str()).collect();
        let names_a: HashSet<&str> = a.iter().map(|(n, _)| n.as_str()).collect();
        let (removed_kind, added_kind, changed_kind) = match noun {
            "field" => ("field-removed", "field-added", "field-type-changed"),
            "flag" => ("flag-removed", "flag-added", "flag-changed"),
            _ => ("case-removed", "case-added", "case-type-changed"),
        };
        for (name, ty) in a {
            match b.iter().find(|(n, _)| n == name) {
                None => self.push(
                    Compat::Breaking,
                    removed_kind,
                    item,
                    format!("{noun} `{name}` was removed"),
                ),
                Some((_, other)) => {
                    let same = match (ty, other) {
                        (None, None) => true,
                        (Some(x), Some(y)) => self.same_type(*x, *y),
                        _ => false,
                    };
                    if !same {
                        let show = |t: &Option<Type>, r: &Resolve| {
                            t.map_or("no payload".to_owned(), |t| format!("`{}`", describe(r, t)))
                        };
                        let (before, after) =
                            (show(ty, self.old.resolve), show(other, self.new.resolve));
                        self.push(
                            Compat::Breaking,
                            changed_kind,
                            item,
                            format!("{noun} `{name}` changed from {before} to {after}"),
                        );
                    }
                }
            }
        }
        for (name, _) in b.iter().filter(|(n, _)| !names_a.contains(n.as_str())) {
            self.push(
                added,
                added_kind,
                item,
                format!("{noun} `{name}` was added; {why}"),
            );
        }
        let order_a: Vec<&str> = a
            .iter()
            .map(|(n, _)| n.as_str())
            .filter(|n| names_b.contains(n))
            .collect();
        let order_b: Vec<&str> = b
            .iter()
            .map(|(n, _)| n.as_str())
            .filter(|n| names_a.contains(n))
            .collect();
        if order_a != order_b {
            self.push(
                Compat::Breaking,
                "reordered",
                item,
                format!("{noun}s were reordered; their order is part of the binary layout"),
            );
        }
    }

    fn world(&mut self, item: &str, a: &World, b: &World) {
        self.world_items(
            item,
            "import",
            &a.imports,
            self.old.resolve,
            &b.imports,
            self.new.resolve,
        );
        self.world_items(
            item,
            "export",
            &a.exports,
            self.old.resolve,
            &b.exports,
            self.new.resolve,
        );
    }

    fn world_items(
        &mut self,
        item: &str,
        direction: &'static str,
        a: &wit_parser::IndexMap<WorldKey, WorldItem>,
        ra: &Resolve,
        b: &wit_parser::IndexMap<WorldKey, WorldItem>,
        rb: &Resolve,
    ) {
        let keyed = |items: &wit_parser::IndexMap<WorldKey, WorldItem>, r: &Resolve| {
            items
                .iter()
                .map(|(k, v)| (world_key(r, k), (k.clone(), v.clone())))
                .collect::<Vec<_>>()
        };
        let (a, b) = (keyed(a, ra), keyed(b, rb));
        // From the side of a component that targets the world: losing an import or gaining
        // an export breaks it; gaining an import or losing an export does not.
        let (lost, gained) = if direction == "import" {
            (Compat::Breaking, Compat::Compatible)
        } else {
            (Compat::Compatible, Compat::Breaking)
        };
        for (name, (_, old_item)) in &a {
            match b.iter().find(|(n, _)| n == name) {
                None => self.push(
                    lost,
                    if direction == "import" {
                        "import-removed"
                    } else {
                        "export-removed"
                    },
                    item,
                    format!("{direction} `{name}` was removed"),
                ),
                Some((_, (_, new_item))) => {
                    self.world_item(item, direction, name, old_item, new_item)
                }
            }
        }
        for (name, _) in b.iter().filter(|(n, _)| !a.iter().any(|(m, _)| m == n)) {
            let why = if direction == "import" {
                "components may use it; hosts must provide it"
            } else {
                "components targeting the world must now provide it"
            };
            self.push(
                gained,
                if direction == "import" {
                    "import-added"
                } else {
                    "export-added"
                },
                item,
                format!("{direction} `{name}` was added ({why})"),
            );
        }
    }

    fn world_item(
        &mut self,
        item: &str,
        direction: &str,
        name: &str,
        a: &WorldItem,
        b: &WorldItem,
    ) {
        let item = format!("{item}, {direction} {name}");
        match (a, b) {
            (WorldItem::Function(f), WorldItem::Function(g)) => self.function(&item, f, g),
            (WorldItem::Interface { id: ia, .. }, WorldItem::Interface { id: ib, .. }) => {
                let (x, y) = (
                    &self.old.resolve.interfaces[*ia],
                    &self.new.resolve.interfaces[*ib],
                );
                // Named interfaces are compared where they are defined; inline ones here.
                // For interfaces of other packages, the dependency's version may move.
                if x.name.is_none() {
                    self.interface(&item, x, y);
                } else if let (Some(pa), Some(pb)) = (x.package, y.package) {
                    let (na, nb) = (
                        &self.old.resolve.packages[pa].name,
                        &self.new.resolve.packages[pb].name,
                    );
                    if pa != self.old.package && pb != self.new.package && na.version != nb.version
                    {
                        let compat = if semver_compatible(na, nb) {
                            Compat::Compatible
                        } else {
                            Compat::Breaking
                        };
                        self.push(
                            compat,
                            "dependency-version-changed",
                            &item,
                            format!("now refers to `{nb}` instead of `{na}`"),
                        );
                    }
                }
            }
            (WorldItem::Type { id: ta, .. }, WorldItem::Type { id: tb, .. }) => {
                self.typedef(&item, *ta, *tb)
            }
            _ => self.push(
                Compat::Breaking,
                "world-item-changed",
                &item,
                "changed between function, interface and type".to_owned(),
            ),
        }
    }

    // ---- types ----------------------------------------------------------------------------

    fn old_type(&self, ty: Type) -> String {
        describe(self.old.resolve, ty)
    }

    fn new_type(&self, ty: Type) -> String {
        describe(self.new.resolve, ty)
    }

    /// Equal where used: named types by qualified name (their definitions are compared
    /// separately), anonymous ones by structure.
    fn same_type(&self, a: Type, b: Type) -> bool {
        match (a, b) {
            (Type::Id(x), Type::Id(y)) => {
                let (dx, dy) = (&self.old.resolve.types[x], &self.new.resolve.types[y]);
                match (&dx.name, &dy.name) {
                    (Some(_), Some(_)) => {
                        qualified_name(self.old.resolve, x) == qualified_name(self.new.resolve, y)
                    }
                    (None, None) => self.same_structure(x, y),
                    _ => false,
                }
            }
            (x, y) => x == y,
        }
    }

    fn same_structure(&self, x: TypeId, y: TypeId) -> bool {
        let (dx, dy) = (&self.old.resolve.types[x], &self.new.resolve.types[y]);
        let opt = |a: &Option<Type>, b: &Option<Type>| match (a, b) {
            (None, None) => true,
            (Some(a), Some(b)) => self.same_type(*a, *b),
            _ => false,
        };
        match (&dx.kind, &dy.kind) {
            (TypeDefKind::Type(a), TypeDefKind::Type(b))
            | (TypeDefKind::List(a), TypeDefKind::List(b))
            | (TypeDefKind::Option(a), TypeDefKind::Option(b)) => self.same_type(*a, *b),
            (TypeDefKind::FixedLengthList(a, n), TypeDefKind::FixedLengthList(b, m)) => {
                n == m && self.same_type(*a, *b)
            }
            (TypeDefKind::Map(ka, va), TypeDefKind::Map(kb, vb)) => {
                self.same_type(*ka, *kb) && self.same_type(*va, *vb)
            }
            (TypeDefKind::Result(a), TypeDefKind::Result(b)) => {
                opt(&a.ok, &b.ok) && opt(&a.err, &b.err)
            }
            (TypeDefKind::Tuple(a), TypeDefKind::Tuple(b)) => {
                a.types.len() == b.types.len()
                    && a.types
                        .iter()
                        .zip(&b.types)
                        .all(|(a, b)| self.same_type(*a, *b))
            }
            (TypeDefKind::Future(a), TypeDefKind::Future(b))
            | (TypeDefKind::Stream(a), TypeDefKind::Stream(b)) => opt(a, b),
            (TypeDefKind::Handle(a), TypeDefKind::Handle(b)) => match (a, b) {
                (Handle::Own(a), Handle::Own(b)) | (Handle::Borrow(a), Handle::Borrow(b)) => {
                    qualified_name(self.old.resolve, *a) == qualified_name(self.new.resolve, *b)
                }
                _ => false,
            },
            // Records, variants and friends with a name are compared member by member in
            // `typedef`; here only their identity matters.
            (a, b) => {
                std::mem::discriminant(a) == std::mem::discriminant(b)
                    && dx.name.is_some()
                    && dx.name == dy.name
            }
        }
    }
}

fn strip_async(kind: &FunctionKind) -> FunctionKind {
    match kind {
        FunctionKind::AsyncFreestanding => FunctionKind::Freestanding,
        FunctionKind::AsyncMethod(id) => FunctionKind::Method(*id),
        FunctionKind::AsyncStatic(id) => FunctionKind::Static(*id),
        other => other.clone(),
    }
}

fn with_article(noun: &str) -> String {
    let article = if noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {noun}")
}

fn is_alias_like(kind: &TypeDefKind) -> bool {
    !matches!(
        kind,
        TypeDefKind::Record(_)
            | TypeDefKind::Variant(_)
            | TypeDefKind::Enum(_)
            | TypeDefKind::Flags(_)
            | TypeDefKind::Resource
    )
}

fn kind_name(kind: &TypeDefKind) -> &'static str {
    match kind {
        TypeDefKind::Type(_) => "type alias",
        other => other.as_str(),
    }
}

/// `ns:pkg/iface.name` without the package version: a type keeps its identity across
/// compatible version bumps of its package.
fn qualified_name(resolve: &Resolve, id: TypeId) -> String {
    let def = &resolve.types[id];
    let name = def.name.as_deref().unwrap_or("_");
    match def.owner {
        TypeOwner::Interface(i) => {
            let iface = &resolve.interfaces[i];
            let package = iface.package.map(|p| {
                let n = &resolve.packages[p].name;
                format!("{}:{}/", n.namespace, n.name)
            });
            format!(
                "{}{}.{name}",
                package.unwrap_or_default(),
                iface.name.as_deref().unwrap_or("<inline>")
            )
        }
        TypeOwner::World(w) => format!("world {}.{name}", resolve.worlds[w].name),
        TypeOwner::None => name.to_owned(),
    }
}

/// `wasi:io/streams` (no version) or a plain name.
fn world_key(resolve: &Resolve, key: &WorldKey) -> String {
    match key {
        WorldKey::Name(name) => name.clone(),
        WorldKey::Interface(id) => {
            let iface = &resolve.interfaces[*id];
            match (iface.package, &iface.name) {
                (Some(p), Some(name)) => {
                    let n = &resolve.packages[p].name;
                    format!("{}:{}/{name}", n.namespace, n.name)
                }
                _ => resolve.name_world_key(key),
            }
        }
    }
}

/// `function \`f\``, `method \`r.f\``, `the constructor of \`r\``.
pub fn describe_function(resolve: &Resolve, f: &Function) -> String {
    let resource = |id: TypeId| resolve.types[id].name.clone().unwrap_or_default();
    match &f.kind {
        FunctionKind::Constructor(r) => format!("the constructor of `{}`", resource(*r)),
        FunctionKind::Static(r) | FunctionKind::AsyncStatic(r) => {
            format!("static function `{}.{}`", resource(*r), f.item_name())
        }
        kind => match kind.resource() {
            Some(r) => format!("method `{}.{}`", resource(r), f.item_name()),
            None => format!("function `{}`", f.item_name()),
        },
    }
}

/// A type in WIT syntax: `list<string>`, `result<_, error-code>`, `borrow<file>`.
pub fn describe(resolve: &Resolve, ty: Type) -> String {
    match ty {
        Type::Bool => "bool".into(),
        Type::U8 => "u8".into(),
        Type::U16 => "u16".into(),
        Type::U32 => "u32".into(),
        Type::U64 => "u64".into(),
        Type::S8 => "s8".into(),
        Type::S16 => "s16".into(),
        Type::S32 => "s32".into(),
        Type::S64 => "s64".into(),
        Type::F32 => "f32".into(),
        Type::F64 => "f64".into(),
        Type::Char => "char".into(),
        Type::String => "string".into(),
        Type::ErrorContext => "error-context".into(),
        Type::Id(id) => {
            let def = &resolve.types[id];
            match &def.name {
                Some(name) => name.clone(),
                None => describe_kind(resolve, &def.kind),
            }
        }
    }
}

/// A type definition's structure in WIT syntax.
fn describe_kind(resolve: &Resolve, kind: &TypeDefKind) -> String {
    let d = |t: Type| describe(resolve, t);
    let opt = |t: Option<Type>| t.map_or("_".to_owned(), d);
    match kind {
        TypeDefKind::List(t) => format!("list<{}>", d(*t)),
        TypeDefKind::FixedLengthList(t, n) => format!("list<{}, {n}>", d(*t)),
        TypeDefKind::Map(k, v) => format!("map<{}, {}>", d(*k), d(*v)),
        TypeDefKind::Option(t) => format!("option<{}>", d(*t)),
        TypeDefKind::Result(r) => match (r.ok, r.err) {
            (None, None) => "result".into(),
            (Some(ok), None) => format!("result<{}>", d(ok)),
            (ok, Some(err)) => format!("result<{}, {}>", opt(ok), d(err)),
        },
        TypeDefKind::Tuple(t) => format!(
            "tuple<{}>",
            t.types.iter().map(|t| d(*t)).collect::<Vec<_>>().join(", ")
        ),
        TypeDefKind::Future(t) => t.map_or("future".into(), |t| format!("future<{}>", d(t))),
        TypeDefKind::Stream(t) => t.map_or("stream".into(), |t| format!("stream<{}>", d(t))),
        TypeDefKind::Handle(Handle::Own(r)) => resolve.types[*r].name.clone().unwrap_or_default(),
        TypeDefKind::Handle(Handle::Borrow(r)) => format!(
            "borrow<{}>",
            resolve.types[*r].name.clone().unwrap_or_default()
        ),
        TypeDefKind::Type(t) => d(*t),
        other => other.as_str().to_owned(),
    }
}

/// Whether a consumer of `old` can take `new` without opting in: the definition composition
/// uses to match imports with exports (wac-types), so `wit diff` and `compose` agree. Same
/// major; before 1.0 the same minor; before 0.1 the same version; a pre-release only matches
/// itself.
pub fn semver_compatible(old: &wit_parser::PackageName, new: &wit_parser::PackageName) -> bool {
    let (Some(o), Some(n)) = (&old.version, &new.version) else {
        return false;
    };
    wac_types::are_semver_compatible(&format!("p@{o}"), &format!("p@{n}"))
}
