//! `wasi:nn` (`0.2.0-rc-2024-10-28`) on tract, a pure-Rust ONNX engine: no native library, and
//! nothing downloaded when wcomp is built or run. Inference runs on the CPU.
//!
//! Deny by default. `--nn-graph <name>=<model.onnx>` (or `[run.nn]`) compiles a model once,
//! when the run or the server starts, and every instance that calls `load-by-name("<name>")`
//! shares it; a model the engine cannot run is refused then, naming the operator it lacks.
//! `load` of model bytes the guest brings is refused unless `--allow-nn-load` grants it.
//! The host side of the interface (resources, the error resource and its codes) is
//! `wasmtime-wasi-nn`'s; this module is the backend it calls.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use tract_onnx::prelude::{
    DatumType, Framework as _, InferenceModelExt as _, IntoRunnable as _, IntoTensor as _, TValue,
    TVec, Tensor as TractTensor, TypedRunnableModel, f16,
};
use wasmtime_wasi_nn::backend::{
    BackendError, BackendExecutionContext, BackendFromDir, BackendGraph, BackendInner, Id,
    NamedTensor,
};
use wasmtime_wasi_nn::wit::{ExecutionTarget, GraphEncoding, TensorType};
use wasmtime_wasi_nn::{Backend, ExecutionContext, Graph, GraphRegistry, Registry, Tensor};

/// `--nn-graph <name>=<model.onnx>`: a model guests load by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NnGrant {
    pub name: String,
    pub model: PathBuf,
}

/// A model that cannot be granted.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum NnError {
    #[error("invalid model grant `{text}`: {reason}")]
    #[diagnostic(help(
        "write `--nn-graph <name>=<model.onnx>` (or `<name> = \"<model.onnx>\"` under `[run.nn]`); guests load it with `load-by-name(\"<name>\")`"
    ))]
    Grant { text: String, reason: String },
    #[error("cannot read the model `{}` (graph `{name}`)", path.display())]
    #[diagnostic(help("the file must exist and be readable"))]
    Read {
        name: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot use the model `{}` (graph `{name}`): {reason}", path.display())]
    #[diagnostic(help("{help}"))]
    Model {
        name: String,
        path: PathBuf,
        reason: String,
        help: String,
    },
}

impl FromStr for NnGrant {
    type Err = NnError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = |reason: &str| NnError::Grant {
            text: text.to_owned(),
            reason: reason.to_owned(),
        };
        let (name, model) = text
            .split_once('=')
            .ok_or_else(|| error("it names no model file"))?;
        let name = name.trim();
        if name.is_empty() {
            return Err(error("the graph name is empty"));
        }
        if model.trim().is_empty() {
            return Err(error("the model file is empty"));
        }
        Ok(Self {
            name: name.to_owned(),
            model: PathBuf::from(model.trim()),
        })
    }
}

impl NnGrant {
    /// The same grant with a relative model path taken from `base`.
    pub fn relative_to(mut self, base: &Path) -> Self {
        if self.model.is_relative() {
            self.model = base.join(&self.model);
        }
        self
    }
}

/// The models of a run or a server, each compiled once and shared by every instance.
#[derive(Clone, Default)]
pub struct Models {
    graphs: Arc<HashMap<String, Graph>>,
    allow_load: bool,
}

impl std::fmt::Debug for Models {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Models")
            .field("graphs", &self.graphs.keys().collect::<Vec<_>>())
            .field("allow_load", &self.allow_load)
            .finish()
    }
}

impl Models {
    /// Compiles every granted model.
    pub fn load(grants: &[NnGrant], allow_load: bool) -> Result<Self, NnError> {
        let mut graphs = HashMap::new();
        for grant in grants {
            let bytes = std::fs::read(&grant.model).map_err(|source| NnError::Read {
                name: grant.name.clone(),
                path: grant.model.clone(),
                source,
            })?;
            let compiled = compile(&bytes).map_err(|refusal| NnError::Model {
                name: grant.name.clone(),
                path: grant.model.clone(),
                reason: refusal.reason,
                help: refusal.help,
            })?;
            graphs.insert(
                grant.name.clone(),
                Graph::from(Box::new(compiled) as Box<dyn BackendGraph>),
            );
        }
        Ok(Self {
            graphs: Arc::new(graphs),
            allow_load,
        })
    }

    /// The names guests may load, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.graphs.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// A `wasi:nn` context for one store: these models, and the ONNX backend for `load`.
    pub fn context(&self) -> wasmtime_wasi_nn::wit::WasiNnCtx {
        wasmtime_wasi_nn::wit::WasiNnCtx::new(
            [Backend::from(Onnx {
                allow_load: self.allow_load,
            })],
            Registry::from(Shared(self.graphs.clone())),
        )
    }
}

/// The models, shared between the stores of one run or server.
struct Shared(Arc<HashMap<String, Graph>>);

impl GraphRegistry for Shared {
    fn get(&self, name: &str) -> Option<&Graph> {
        self.0.get(name)
    }

    fn get_mut(&mut self, _name: &str) -> Option<&mut Graph> {
        // Graphs are never changed once compiled; the host only reads them.
        None
    }
}

/// Whether `component` imports `wasi:nn`.
pub fn imported(engine: &wasmtime::Engine, component: &wasmtime::component::Component) -> bool {
    component
        .component_type()
        .imports(engine)
        .any(|(name, _)| name.starts_with("wasi:nn/"))
}

/// Why a model was refused, and what to do.
#[derive(Debug)]
pub struct Refusal {
    pub reason: String,
    pub help: String,
}

/// A compiled model: its plan, and its inputs' and outputs' names and types.
pub struct Compiled {
    plan: Arc<TypedRunnableModel>,
    inputs: Vec<(String, DatumType)>,
    outputs: Vec<String>,
}

impl Compiled {
    /// The inputs' names, in order.
    pub fn input_names(&self) -> impl Iterator<Item = &str> {
        self.inputs.iter().map(|(name, _)| name.as_str())
    }

    /// Runs the model on `inputs` (in the model's order): its outputs.
    pub fn run(&self, inputs: Vec<TractTensor>) -> Result<Vec<TractTensor>, String> {
        let inputs: TVec<TValue> = inputs.into_iter().map(TValue::from).collect();
        let plan = self.plan.clone();
        let outputs = guarded(move || plan.run(inputs).map_err(|err| format!("{err:#}")))?;
        Ok(outputs.into_iter().map(TValue::into_tensor).collect())
    }
}

/// Runs `f`, turning a panic of the engine into an error (a bad model or input never takes
/// the process down).
fn guarded<T>(f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    std::panic::catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("no message");
        Err(format!("the ONNX engine failed: {message}"))
    })
}

/// Compiles an ONNX model for the CPU: parsed, checked for operators the engine lacks,
/// optimized and planned.
pub fn compile(bytes: &[u8]) -> Result<Compiled, Refusal> {
    let refused = |reason: String| {
        Refusal {
        reason,
        help: "wcomp runs ONNX models with tract (pure Rust, CPU); export the model with operators it supports, or at ONNX opset 9 to 18".into(),
    }
    };
    let model = guarded(|| {
        tract_onnx::onnx()
            .model_for_read(&mut std::io::Cursor::new(bytes))
            .map_err(|err| format!("it is not an ONNX model tract can read: {err:#}"))
    })
    .map_err(refused)?;
    let mut missing: Vec<String> = model
        .nodes()
        .iter()
        .filter_map(|node| {
            let name = node.op.name();
            let op = name.strip_prefix("Unimplemented(")?.strip_suffix(')')?;
            Some(format!("`{op}` (node `{}`)", node.name))
        })
        .collect();
    missing.dedup();
    if !missing.is_empty() {
        return Err(Refusal {
            reason: format!(
                "the ONNX engine has no implementation of the operator{} {}",
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", ")
            ),
            help: "tract implements most of the ONNX operators up to opset 18; export the model without this one, or replace it".into(),
        });
    }
    let typed = guarded(|| {
        model
            .into_optimized()
            .map_err(|err| format!("the ONNX engine cannot prepare it: {err:#}"))
    })
    .map_err(refused)?;
    let mut inputs = Vec::new();
    for (index, outlet) in typed
        .input_outlets()
        .map_err(|err| refused(err.to_string()))?
        .iter()
        .enumerate()
    {
        let fact = typed
            .input_fact(index)
            .map_err(|err| refused(err.to_string()))?;
        inputs.push((typed.node(outlet.node).name.clone(), fact.datum_type));
    }
    let outputs = typed
        .output_outlets()
        .map_err(|err| refused(err.to_string()))?
        .iter()
        .map(|outlet| {
            typed
                .outlet_label(*outlet)
                .map_or_else(|| typed.node(outlet.node).name.clone(), str::to_owned)
        })
        .collect();
    let plan = guarded(|| {
        typed
            .into_runnable()
            .map_err(|err| format!("the ONNX engine cannot plan it: {err:#}"))
    })
    .map_err(refused)?;
    Ok(Compiled {
        plan,
        inputs,
        outputs,
    })
}

/// The ONNX backend `load` uses: refused unless granted.
struct Onnx {
    allow_load: bool,
}

impl BackendInner for Onnx {
    fn encoding(&self) -> GraphEncoding {
        GraphEncoding::Onnx
    }

    fn load(&mut self, builders: &[&[u8]], target: ExecutionTarget) -> Result<Graph, BackendError> {
        if !self.allow_load {
            return Err(backend_error(
                "loading a model from bytes is not granted: preload it with `--nn-graph <name>=<model.onnx>` and call `load-by-name`, or grant `--allow-nn-load`".into(),
            ));
        }
        let [bytes] = builders else {
            return Err(BackendError::InvalidNumberOfBuilders(1, builders.len()));
        };
        if target != ExecutionTarget::Cpu {
            return Err(backend_error(format!(
                "only the CPU runs models here, not the {target:?}"
            )));
        }
        let compiled = compile(bytes).map_err(|refusal| backend_error(refusal.reason))?;
        Ok(Graph::from(Box::new(compiled) as Box<dyn BackendGraph>))
    }

    fn as_dir_loadable(&mut self) -> Option<&mut dyn BackendFromDir> {
        None
    }
}

fn backend_error(message: String) -> BackendError {
    BackendError::BackendAccess(wasmtime::Error::msg(message))
}

impl BackendGraph for Compiled {
    fn init_execution_context(&self) -> Result<ExecutionContext, BackendError> {
        let context = Context {
            plan: self.plan.clone(),
            inputs: self.inputs.clone(),
            outputs: self.outputs.clone(),
            given: vec![None; self.inputs.len()],
            results: Vec::new(),
        };
        Ok(ExecutionContext::from(
            Box::new(context) as Box<dyn BackendExecutionContext>
        ))
    }
}

/// One execution context: the inputs set so far and the last outputs.
struct Context {
    plan: Arc<TypedRunnableModel>,
    inputs: Vec<(String, DatumType)>,
    outputs: Vec<String>,
    given: Vec<Option<TractTensor>>,
    results: Vec<TractTensor>,
}

impl Context {
    fn input_index(&self, id: &Id) -> Result<usize, BackendError> {
        let index = match id {
            Id::Index(index) => Some(*index as usize).filter(|index| *index < self.inputs.len()),
            Id::Name(name) => self.inputs.iter().position(|(input, _)| input == name),
        };
        index.ok_or_else(|| {
            backend_error(format!(
                "the model has no input {id:?}; its inputs: {}",
                self.inputs
                    .iter()
                    .map(|(name, ty)| format!("`{name}` ({ty:?})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
    }
}

impl BackendExecutionContext for Context {
    fn set_input(&mut self, id: Id, tensor: &Tensor) -> Result<(), BackendError> {
        let index = self.input_index(&id)?;
        let value = to_tract(tensor)?;
        let (name, expected) = &self.inputs[index];
        if value.datum_type() != *expected {
            return Err(backend_error(format!(
                "input `{name}` takes {expected:?}, not {:?}",
                value.datum_type()
            )));
        }
        self.given[index] = Some(value);
        Ok(())
    }

    fn get_output(&mut self, id: Id) -> Result<Tensor, BackendError> {
        let index = match &id {
            Id::Index(index) => Some(*index as usize),
            Id::Name(name) => self.outputs.iter().position(|output| output == name),
        };
        let tensor = index
            .and_then(|index| self.results.get(index))
            .ok_or_else(|| backend_error(format!("no output {id:?} has been computed")))?;
        from_tract(tensor)
    }

    fn compute(
        &mut self,
        inputs: Option<Vec<NamedTensor>>,
    ) -> Result<Option<Vec<NamedTensor>>, BackendError> {
        let named = inputs.is_some();
        for input in inputs.unwrap_or_default() {
            self.set_input(Id::Name(input.name), &input.tensor)?;
        }
        let mut values = Vec::with_capacity(self.given.len());
        for (given, (name, _)) in self.given.iter().zip(&self.inputs) {
            let value = given
                .clone()
                .ok_or_else(|| backend_error(format!("input `{name}` was not given")))?;
            values.push(TValue::from(value));
        }
        let plan = self.plan.clone();
        let outputs = guarded(move || plan.run(values.into()).map_err(|err| format!("{err:#}")))
            .map_err(backend_error)?;
        self.results = outputs.into_iter().map(TValue::into_tensor).collect();
        if !named {
            return Ok(None);
        }
        self.outputs
            .iter()
            .zip(&self.results)
            .map(|(name, tensor)| {
                Ok(NamedTensor {
                    name: name.clone(),
                    tensor: from_tract(tensor)?,
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }
}

/// A `wasi:nn` tensor as tract's: its little-endian bytes read as its type, checked against
/// its dimensions.
pub fn to_tract(tensor: &Tensor) -> Result<TractTensor, BackendError> {
    let shape: Vec<usize> = tensor.dimensions.iter().map(|d| *d as usize).collect();
    let data = &tensor.data;
    let made = match tensor.ty {
        TensorType::Fp32 => typed(&shape, data, |b| {
            f32::from_le_bytes([b[0], b[1], b[2], b[3]])
        }),
        TensorType::Fp64 => typed(&shape, data, |b| {
            f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
        }),
        TensorType::Fp16 => typed(&shape, data, |b| {
            f16::from_bits(u16::from_le_bytes([b[0], b[1]]))
        }),
        TensorType::U8 => typed(&shape, data, |b| b[0]),
        TensorType::I32 => typed(&shape, data, |b| {
            i32::from_le_bytes([b[0], b[1], b[2], b[3]])
        }),
        TensorType::I64 => typed(&shape, data, |b| {
            i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
        }),
        TensorType::Bf16 => {
            return Err(BackendError::UnsupportedTensorType("BF16".into()));
        }
    };
    made.map_err(backend_error)
}

/// A tensor of `T` (`size_of::<T>()` bytes each, read by `read`) of `shape` from `data`.
fn typed<T: tract_onnx::prelude::Datum + Copy>(
    shape: &[usize],
    data: &[u8],
    read: fn(&[u8]) -> T,
) -> Result<TractTensor, String> {
    let size = std::mem::size_of::<T>();
    let count = shape
        .iter()
        .try_fold(1usize, |acc, d| acc.checked_mul(*d))
        .ok_or_else(|| format!("the dimensions {shape:?} are too large"))?;
    if count.checked_mul(size) != Some(data.len()) {
        return Err(format!(
            "the dimensions {shape:?} hold {count} values ({} bytes), but the data has {} bytes",
            count.saturating_mul(size),
            data.len()
        ));
    }
    let values: Vec<T> = data.chunks_exact(size).map(read).collect();
    TractTensor::from_shape(shape, &values).map_err(|err| err.to_string())
}

/// tract's tensor as a `wasi:nn` tensor, for the types `wasi:nn` has.
pub fn from_tract(tensor: &TractTensor) -> Result<Tensor, BackendError> {
    let ty = match tensor.datum_type() {
        DatumType::F32 => TensorType::Fp32,
        DatumType::F64 => TensorType::Fp64,
        DatumType::F16 => TensorType::Fp16,
        DatumType::U8 => TensorType::U8,
        DatumType::I32 => TensorType::I32,
        DatumType::I64 => TensorType::I64,
        other => return Err(BackendError::UnsupportedTensorType(format!("{other:?}"))),
    };
    let dimensions = tensor
        .shape()
        .iter()
        .map(|d| {
            u32::try_from(*d).map_err(|_| backend_error(format!("dimension {d} is too large")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Tensor::new(dimensions, ty, tensor.as_bytes().to_vec()))
}

#[cfg(test)]
mod tests;
