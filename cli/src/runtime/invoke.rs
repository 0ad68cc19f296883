//! `--invoke`: parse a WAVE call, find the exported function it names, and convert its
//! arguments to the function's parameter types, pointing at the offending argument when one
//! does not fit.

use std::ops::Range;

use miette::{NamedSource, SourceSpan};
use wasm_wave::untyped::UntypedFuncCall;
use wasm_wave::wasm::{DisplayFunc, DisplayType};
use wasmtime::component::types::{ComponentFunc, ComponentItem};
use wasmtime::component::{Component, ComponentExportIndex, Func, Instance, Val};
use wasmtime::{AsContextMut, Engine};

/// Errors in an `--invoke` expression.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum InvokeError {
    /// The call is not `name(args)` WAVE.
    #[error("invalid call `{call}`: {message}")]
    #[diagnostic(help("write a call like `name(\"text\", 42)`; strings are double-quoted"))]
    Syntax {
        call: String,
        message: String,
        #[source_code]
        src: NamedSource<String>,
        #[label("{message}")]
        span: SourceSpan,
    },
    /// An argument does not fit its parameter's type.
    #[error("argument {position} (`{param}`) of `{function}` does not fit: {message}")]
    #[diagnostic(help("`{function}` has type `{signature}`; `{param}` is a `{expected}`"))]
    BadArgument {
        function: String,
        position: usize,
        param: String,
        expected: String,
        signature: String,
        message: String,
        #[source_code]
        src: NamedSource<String>,
        #[label("expected `{expected}`")]
        span: SourceSpan,
    },
    /// The arguments do not match the parameter list as a whole.
    #[error("wrong arguments for `{function}`: {message}")]
    #[diagnostic(help("`{function}` has type `{signature}`"))]
    BadArguments {
        function: String,
        signature: String,
        message: String,
    },
    /// A parameter's type holds a `stream`, `future` or `error-context`, which have no
    /// WAVE spelling.
    #[error(
        "parameter {position} (`{param}`) of `{function}` is a `{ty}`, which cannot be written as a value in a call"
    )]
    #[diagnostic(help(
        "streams, futures and error contexts are made by the components that use them; call `{function}` from another component (`wcomp compose`), or export a function that takes plain values"
    ))]
    Unspellable {
        function: String,
        position: usize,
        param: String,
        ty: String,
    },
    /// No export has that name.
    #[error("the component exports no function named `{name}`")]
    #[diagnostic(help("exported functions: {available}"))]
    NoSuchFunction { name: String, available: String },
    /// Several exports have that name.
    #[error("`{name}` is ambiguous: several exported functions have that name")]
    #[diagnostic(help("qualify it with its interface, one of: {candidates}"))]
    Ambiguous { name: String, candidates: String },
}

/// A parsed `--invoke` expression.
pub struct Call {
    source: String,
    name: String,
    /// Where `(` is in `source`.
    open: usize,
    parsed: UntypedFuncCall<'static>,
}

impl std::fmt::Debug for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl Call {
    /// Parses `name(args)`, where `name` may be qualified: `iface#f` or `ns:pkg/iface@1.0.0#f`.
    pub fn parse(source: &str) -> Result<Self, InvokeError> {
        let syntax = |message: &str, span: Range<usize>| InvokeError::Syntax {
            call: source.to_owned(),
            message: message.to_owned(),
            src: NamedSource::new("--invoke", source.to_owned()),
            span: span.into(),
        };
        let Some(open) = source.find('(') else {
            return Err(syntax(
                "expected `(` after the function name",
                source.len()..source.len(),
            ));
        };
        let name = source[..open].trim();
        if name.is_empty() {
            return Err(syntax("missing function name", 0..open.max(1)));
        }
        // WAVE's call grammar only takes plain names, so parse the arguments under a stand-in
        // name of one character and shift spans back by `open - 1`.
        let stand_in = format!("f{}", &source[open..]);
        let parsed = UntypedFuncCall::parse(&stand_in).map_err(|err| {
            let span = shift(err.span(), open);
            syntax(&wave_message(&err), span)
        })?;
        Ok(Self {
            source: source.to_owned(),
            name: name.to_owned(),
            open,
            parsed: parsed.into_owned(),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Converts the arguments to `func`'s parameter types.
    pub fn params(&self, func: &ComponentFunc, function: &str) -> Result<Vec<Val>, InvokeError> {
        if let Some((index, (param, ty))) = func
            .params()
            .enumerate()
            .find(|(_, (_, ty))| super::engine::type_is_concurrent(ty, 0))
        {
            return Err(InvokeError::Unspellable {
                function: function.to_owned(),
                position: index + 1,
                param: param.to_owned(),
                ty: type_name(&ty),
            });
        }
        let types: Vec<_> = func.params().map(|(_, ty)| ty).collect();
        let signature = DisplayFunc(func.clone()).to_string();
        self.parsed
            .to_wasm_params::<Val>(types.iter())
            .map_err(|err| {
                let span = shift(err.span(), self.open);
                let arguments: Vec<Range<usize>> = self
                    .parsed
                    .params_node()
                    .and_then(|node| node.as_tuple().ok())
                    .map(|args| args.map(|arg| shift(arg.span(), self.open)).collect())
                    .unwrap_or_default();
                let position = arguments.iter().position(|arg| {
                    arg.start <= span.start && span.start < arg.end.max(arg.start + 1)
                });
                match position.and_then(|index| func.params().nth(index).map(|p| (index, p))) {
                    Some((index, (param, ty))) => InvokeError::BadArgument {
                        function: function.to_owned(),
                        position: index + 1,
                        param: param.to_owned(),
                        expected: DisplayType(&ty).to_string(),
                        signature,
                        message: wave_message(&err),
                        src: NamedSource::new("--invoke", self.source.clone()),
                        span: arguments[index].clone().into(),
                    },
                    None => InvokeError::BadArguments {
                        function: function.to_owned(),
                        signature,
                        message: wave_message(&err),
                    },
                }
            })
    }
}

/// A type as WIT writes it, `stream`s, `future`s and `error-context` included (WAVE has no
/// spelling for those).
fn type_name(ty: &wasmtime::component::Type) -> String {
    use wasmtime::component::Type;
    let payload = |ty: Option<Type>| ty.map(|ty| format!("<{}>", type_name(&ty)));
    match ty {
        Type::Stream(stream) => format!("stream{}", payload(stream.ty()).unwrap_or_default()),
        Type::Future(future) => format!("future{}", payload(future.ty()).unwrap_or_default()),
        Type::ErrorContext => "error-context".to_owned(),
        other => DisplayType(other).to_string(),
    }
}

fn shift(span: Range<usize>, open: usize) -> Range<usize> {
    (span.start + open).saturating_sub(1)..(span.end + open).saturating_sub(1)
}

/// The parser's message without its byte-range suffix (the snippet shows the place).
fn wave_message(err: &wasm_wave::parser::ParserError) -> String {
    match err.detail() {
        Some(detail) => format!("{}: {detail}", err.kind()),
        None => err.kind().to_string(),
    }
}

/// An exported function, found by name.
#[derive(Debug, Clone)]
pub struct Target {
    /// `iface#func` or `func`, as shown to users.
    pub qualified_name: String,
    instance: Option<String>,
    function: String,
}

impl Target {
    /// The function in an instantiated component.
    pub fn func(&self, instance: &Instance, mut store: impl AsContextMut) -> anyhow::Result<Func> {
        let index = self.export_index(instance, &mut store)?;
        instance
            .get_func(&mut store, index)
            .ok_or_else(|| anyhow::anyhow!("export `{}` is not a function", self.qualified_name))
    }

    fn export_index(
        &self,
        instance: &Instance,
        mut store: impl AsContextMut,
    ) -> anyhow::Result<ComponentExportIndex> {
        let missing = || {
            anyhow::anyhow!(
                "export `{}` disappeared after instantiation",
                self.qualified_name
            )
        };
        let parent = match &self.instance {
            Some(name) => Some(
                instance
                    .get_export_index(&mut store, None, name)
                    .ok_or_else(missing)?,
            ),
            None => None,
        };
        instance
            .get_export_index(&mut store, parent.as_ref(), &self.function)
            .ok_or_else(missing)
    }
}

/// Every exported function as `(instance, function, type)`.
pub fn exported_functions(
    engine: &Engine,
    component: &Component,
) -> Vec<(Option<String>, String, ComponentFunc)> {
    let mut found = Vec::new();
    for (name, item) in component.component_type().exports(engine) {
        match item.ty {
            ComponentItem::ComponentFunc(func) => found.push((None, name.to_owned(), func)),
            ComponentItem::ComponentInstance(instance) => {
                for (function, item) in instance.exports(engine) {
                    if let ComponentItem::ComponentFunc(func) = item.ty {
                        found.push((Some(name.to_owned()), function.to_owned(), func));
                    }
                }
            }
            _ => {}
        }
    }
    found
}

fn qualified(instance: Option<&str>, function: &str) -> String {
    match instance {
        Some(instance) => format!("{instance}#{function}"),
        None => function.to_owned(),
    }
}

/// `acme:pkg/iface@1.0.0` matches `acme:pkg/iface@1.0.0`, `acme:pkg/iface` and `iface`.
fn instance_matches(instance: &str, wanted: &str) -> bool {
    let unversioned = instance.split('@').next().unwrap_or(instance);
    let short = unversioned.rsplit('/').next().unwrap_or(unversioned);
    instance == wanted || unversioned == wanted || short == wanted
}

/// Resolves the call's function name against the component's exports.
pub fn find_function(
    engine: &Engine,
    component: &Component,
    call: &Call,
) -> Result<Target, InvokeError> {
    let functions = exported_functions(engine, component);
    let (wanted_instance, wanted_function) = match call.name().rsplit_once('#') {
        Some((instance, function)) => (Some(instance), function),
        None => (None, call.name()),
    };
    let matches: Vec<_> = functions
        .iter()
        .filter(|(instance, function, _)| {
            function == wanted_function
                && match (wanted_instance, instance) {
                    (None, _) => true,
                    (Some(wanted), Some(instance)) => instance_matches(instance, wanted),
                    (Some(_), None) => false,
                }
        })
        .collect();
    let list = |items: &mut dyn Iterator<Item = String>| {
        items
            .map(|name| format!("`{name}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match matches.as_slice() {
        [] => Err(InvokeError::NoSuchFunction {
            name: call.name().to_owned(),
            available: {
                let names = list(&mut functions.iter().map(|(i, f, _)| qualified(i.as_deref(), f)));
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    names
                }
            },
        }),
        [(instance, function, _)] => Ok(Target {
            qualified_name: qualified(instance.as_deref(), function),
            instance: instance.clone(),
            function: function.clone(),
        }),
        several => Err(InvokeError::Ambiguous {
            name: call.name().to_owned(),
            candidates: list(&mut several.iter().map(|(i, f, _)| qualified(i.as_deref(), f))),
        }),
    }
}

/// A sample call of the component's first exported function, for hints.
pub fn example_call(engine: &Engine, component: &Component) -> Option<String> {
    let (instance, function, func) = exported_functions(engine, component).into_iter().next()?;
    let params = func
        .params()
        .map(|(name, ty)| format!("<{name}: {}>", DisplayType(&ty)))
        .collect::<Vec<_>>();
    Some(format!(
        "{}({})",
        qualified(instance.as_deref(), &function),
        params.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_qualified_names() {
        let call = Call::parse(r#"acme:text/report@0.1.0#render("hi")"#).unwrap();
        assert_eq!(call.name(), "acme:text/report@0.1.0#render");
        assert!(Call::parse("render").is_err());
        assert!(Call::parse("(1)").is_err());
    }

    #[test]
    fn syntax_errors_point_into_the_call() {
        let err = Call::parse(r#"render("unterminated)"#).unwrap_err();
        let InvokeError::Syntax { span, .. } = err else {
            panic!("{err:?}")
        };
        assert!(span.offset() >= "render(".len() - 1, "{span:?}");
    }

    #[test]
    fn matches_interface_names() {
        assert!(instance_matches("acme:text/report@0.1.0", "report"));
        assert!(instance_matches(
            "acme:text/report@0.1.0",
            "acme:text/report"
        ));
        assert!(!instance_matches(
            "acme:text/report@0.1.0",
            "acme:text/other"
        ));
    }
}
