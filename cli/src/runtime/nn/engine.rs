//! The engine behind `wasi:nn`: grants, models compiled once by tract and shared, and the
//! conversions between `wasi:nn` tensors and tract's.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use tract_onnx::prelude::{
    DatumType, Framework as _, InferenceModelExt as _, IntoRunnable as _, IntoTensor as _, TValue,
    TVec, Tensor as TractTensor, TypedRunnableModel, f16,
};

use super::types::{ErrorCode, NnError, NnTensor, TensorType};

/// `--nn-graph <name>=<model.onnx>`: a model guests load by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NnGrant {
    pub name: String,
    pub model: PathBuf,
}

/// A model that cannot be granted.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum NnGrantError {
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
    #[diagnostic(help(
        "wcomp runs ONNX models with tract (pure Rust, on the CPU), which implements most operators up to opset 18: export the model without what it lacks"
    ))]
    Model {
        name: String,
        path: PathBuf,
        reason: String,
    },
}

impl FromStr for NnGrant {
    type Err = NnGrantError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = |reason: &str| NnGrantError::Grant {
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
    graphs: Arc<HashMap<String, Arc<Compiled>>>,
    allow_load: bool,
}

/// Whether compiled models keep a copy of the inputs of their latest inference (for
/// `wcomp bench`, which times the same inference outside the component).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recording {
    Off,
    LastInputs,
}

impl std::fmt::Debug for Models {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Models")
            .field("graphs", &self.names())
            .field("allow_load", &self.allow_load)
            .finish()
    }
}

impl Models {
    /// Compiles every granted model.
    pub fn load(grants: &[NnGrant], allow_load: bool) -> Result<Self, NnGrantError> {
        Self::load_with(grants, allow_load, Recording::Off)
    }

    /// [`Models::load`], keeping each model's latest inputs if `recording` says so.
    pub fn load_with(
        grants: &[NnGrant],
        allow_load: bool,
        recording: Recording,
    ) -> Result<Self, NnGrantError> {
        let mut graphs = HashMap::new();
        for grant in grants {
            let bytes = std::fs::read(&grant.model).map_err(|source| NnGrantError::Read {
                name: grant.name.clone(),
                path: grant.model.clone(),
                source,
            })?;
            let mut compiled = compile(&bytes).map_err(|refusal| NnGrantError::Model {
                name: grant.name.clone(),
                path: grant.model.clone(),
                reason: refusal.data,
            })?;
            compiled.recording = recording;
            graphs.insert(grant.name.clone(), Arc::new(compiled));
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

    /// The graph granted as `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<Compiled>> {
        self.graphs.get(name)
    }

    /// Every graph, by name (sorted).
    pub fn graphs(&self) -> Vec<(&str, &Arc<Compiled>)> {
        let mut graphs: Vec<_> = self
            .graphs
            .iter()
            .map(|(name, compiled)| (name.as_str(), compiled))
            .collect();
        graphs.sort_unstable_by_key(|(name, _)| *name);
        graphs
    }

    /// Whether guests may load models from bytes.
    pub fn allow_load(&self) -> bool {
        self.allow_load
    }
}

/// Whether `component` imports `wasi:nn`.
pub fn imported(engine: &wasmtime::Engine, component: &wasmtime::component::Component) -> bool {
    component
        .component_type()
        .imports(engine)
        .any(|(name, _)| name.starts_with("wasi:nn/"))
}

/// A compiled model: its plan, and its inputs' and outputs' names, types and shapes.
pub struct Compiled {
    plan: Arc<TypedRunnableModel>,
    /// Name, type and shape (`None` for a dimension the model leaves open) of each input.
    inputs: Vec<(String, DatumType, Vec<Option<usize>>)>,
    outputs: Vec<String>,
    recording: Recording,
    last_inputs: std::sync::Mutex<Option<Vec<TractTensor>>>,
}

impl std::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compiled")
            .field("inputs", &self.inputs)
            .field("outputs", &self.outputs)
            .finish_non_exhaustive()
    }
}

impl Compiled {
    /// The inputs' names, in order.
    pub fn input_names(&self) -> impl Iterator<Item = &str> {
        self.inputs.iter().map(|(name, _, _)| name.as_str())
    }

    /// The inputs of the latest inference, if this model keeps them ([`Recording`]).
    pub fn last_inputs(&self) -> Option<Vec<TractTensor>> {
        self.last_inputs.lock().ok()?.clone()
    }

    /// Runs the model on `inputs` (in the model's order): its outputs.
    pub fn run(&self, inputs: Vec<TractTensor>) -> Result<Vec<TractTensor>, NnError> {
        let inputs: TVec<TValue> = inputs.into_iter().map(TValue::from).collect();
        let plan = self.plan.clone();
        let outputs = guarded(move || {
            plan.run(inputs)
                .map_err(|err| NnError::new(ErrorCode::RuntimeError, format!("{err:#}")))
        })?;
        Ok(outputs
            .into_iter()
            .map(|value| value.into_tensor())
            .collect())
    }

    /// Runs the model on named `wasi:nn` tensors: every input of the model exactly once, of its
    /// type and shape. The outputs, named.
    pub fn compute(
        &self,
        given: Vec<(String, NnTensor)>,
    ) -> Result<Vec<(String, NnTensor)>, NnError> {
        let mut values: Vec<Option<TractTensor>> = vec![None; self.inputs.len()];
        for (name, tensor) in given {
            let Some(index) = self.inputs.iter().position(|(input, _, _)| *input == name) else {
                return Err(NnError::invalid(format!(
                    "the model has no input `{name}`; its inputs: {}",
                    self.describe_inputs()
                )));
            };
            let (_, ty, shape) = &self.inputs[index];
            let value = to_tract(&tensor)?;
            if value.datum_type() != *ty {
                return Err(NnError::invalid(format!(
                    "input `{name}` takes {ty:?}, not {:?}",
                    value.datum_type()
                )));
            }
            let fits = value.shape().len() == shape.len()
                && value
                    .shape()
                    .iter()
                    .zip(shape)
                    .all(|(got, want)| want.is_none_or(|want| want == *got));
            if !fits {
                return Err(NnError::invalid(format!(
                    "input `{name}` has the dimensions {:?}; the model takes {}",
                    value.shape(),
                    show_shape(shape)
                )));
            }
            values[index] = Some(value);
        }
        let mut inputs = Vec::with_capacity(values.len());
        for (value, (name, _, _)) in values.into_iter().zip(&self.inputs) {
            inputs.push(value.ok_or_else(|| {
                NnError::invalid(format!(
                    "input `{name}` was not given; the model's inputs: {}",
                    self.describe_inputs()
                ))
            })?);
        }
        if self.recording == Recording::LastInputs
            && let Ok(mut last) = self.last_inputs.lock()
        {
            *last = Some(inputs.clone());
        }
        let outputs = self.run(inputs)?;
        self.outputs
            .iter()
            .zip(&outputs)
            .map(|(name, tensor)| Ok((name.clone(), from_tract(tensor)?)))
            .collect()
    }

    fn describe_inputs(&self) -> String {
        self.inputs
            .iter()
            .map(|(name, ty, shape)| format!("`{name}` ({ty:?} {})", show_shape(shape)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// `[1, 3, ?, ?]`.
fn show_shape(shape: &[Option<usize>]) -> String {
    let dims: Vec<String> = shape
        .iter()
        .map(|dim| dim.map_or_else(|| "?".to_owned(), |dim| dim.to_string()))
        .collect();
    format!("[{}]", dims.join(", "))
}

/// Runs `f`, turning a panic of the engine into an error (a bad model or input never takes
/// the process down).
fn guarded<T>(f: impl FnOnce() -> Result<T, NnError>) -> Result<T, NnError> {
    std::panic::catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("no message");
        Err(NnError::new(
            ErrorCode::RuntimeError,
            format!("the ONNX engine failed: {message}"),
        ))
    })
}

/// Compiles an ONNX model for the CPU: parsed, checked for operators the engine lacks,
/// optimized and planned.
pub fn compile(bytes: &[u8]) -> Result<Compiled, NnError> {
    let model = guarded(|| {
        tract_onnx::onnx()
            .model_for_read(&mut std::io::Cursor::new(bytes))
            .map_err(|err| {
                NnError::new(
                    ErrorCode::InvalidEncoding,
                    format!("it is not an ONNX model tract can read: {err:#}"),
                )
            })
    })?;
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
        return Err(NnError::new(
            ErrorCode::UnsupportedOperation,
            format!(
                "the ONNX engine has no implementation of the operator{} {}",
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", ")
            ),
        ));
    }
    let unsupported = |what: &str, err: &dyn std::fmt::Display| {
        NnError::new(
            ErrorCode::UnsupportedOperation,
            format!("the ONNX engine cannot {what} it: {err:#}"),
        )
    };
    let typed = guarded(|| {
        model
            .into_optimized()
            .map_err(|err| unsupported("prepare", &err))
    })?;
    let mut inputs = Vec::new();
    let outlets = typed
        .input_outlets()
        .map_err(|err| unsupported("prepare", &err))?;
    for (index, outlet) in outlets.iter().enumerate() {
        let fact = typed
            .input_fact(index)
            .map_err(|err| unsupported("prepare", &err))?;
        let shape = fact
            .shape
            .iter()
            .map(|dim| dim.to_i64().ok().and_then(|dim| usize::try_from(dim).ok()))
            .collect();
        inputs.push((typed.node(outlet.node).name.clone(), fact.datum_type, shape));
    }
    let outputs = typed
        .output_outlets()
        .map_err(|err| unsupported("prepare", &err))?
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
            .map_err(|err| unsupported("plan", &err))
    })?;
    Ok(Compiled {
        plan,
        inputs,
        outputs,
        recording: Recording::Off,
        last_inputs: std::sync::Mutex::new(None),
    })
}

/// A `wasi:nn` tensor as tract's: its little-endian bytes read as its type, checked against
/// its dimensions.
pub fn to_tract(tensor: &NnTensor) -> Result<TractTensor, NnError> {
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
            return Err(NnError::new(
                ErrorCode::UnsupportedOperation,
                "BF16 tensors are not supported by the ONNX engine: convert the values to FP32"
                    .into(),
            ));
        }
    };
    made.map_err(NnError::invalid)
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
pub fn from_tract(tensor: &TractTensor) -> Result<NnTensor, NnError> {
    let ty = match tensor.datum_type() {
        DatumType::F32 => TensorType::Fp32,
        DatumType::F64 => TensorType::Fp64,
        DatumType::F16 => TensorType::Fp16,
        DatumType::U8 => TensorType::U8,
        DatumType::I32 => TensorType::I32,
        DatumType::I64 => TensorType::I64,
        other => {
            return Err(NnError::new(
                ErrorCode::UnsupportedOperation,
                format!("the model gives a {other:?} tensor, a type `wasi:nn` has no name for"),
            ));
        }
    };
    let dimensions = tensor
        .shape()
        .iter()
        .map(|d| {
            u32::try_from(*d).map_err(|_| NnError::invalid(format!("dimension {d} is too large")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(NnTensor {
        dimensions,
        ty,
        data: tensor.as_bytes().to_vec(),
    })
}
