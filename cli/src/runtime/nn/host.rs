//! The host side of `wasi:nn@0.2.0-rc-2024-10-28`: tensors, graphs and execution contexts as
//! resources in the store's table, every failure an `error` resource with its own code.

use std::sync::Arc;

use wasmtime::component::{HasData, Linker, Resource, ResourceTable};

use super::engine::{Compiled, Models, compile};
use super::types::{ErrorCode, NnError, NnTensor, TensorType};

mod bindings {
    wasmtime::component::bindgen!({
        inline: "
            package wasi:nn@0.2.0-rc-2024-10-28;

            interface tensor {
                type tensor-dimensions = list<u32>;
                enum tensor-type { FP16, FP32, FP64, BF16, U8, I32, I64 }
                type tensor-data = list<u8>;
                resource tensor {
                    constructor(dimensions: tensor-dimensions, ty: tensor-type, data: tensor-data);
                    dimensions: func() -> tensor-dimensions;
                    ty: func() -> tensor-type;
                    data: func() -> tensor-data;
                }
            }

            interface graph {
                use errors.{error};
                use tensor.{tensor};
                use inference.{graph-execution-context};
                resource graph {
                    init-execution-context: func() -> result<graph-execution-context, error>;
                }
                enum graph-encoding { openvino, onnx, tensorflow, pytorch, tensorflowlite, ggml, autodetect }
                enum execution-target { cpu, gpu, tpu }
                type graph-builder = list<u8>;
                load: func(builder: list<graph-builder>, encoding: graph-encoding, target: execution-target) -> result<graph, error>;
                load-by-name: func(name: string) -> result<graph, error>;
            }

            interface inference {
                use errors.{error};
                use tensor.{tensor};
                type named-tensor = tuple<string, tensor>;
                resource graph-execution-context {
                    compute: func(inputs: list<named-tensor>) -> result<list<named-tensor>, error>;
                }
            }

            interface errors {
                enum error-code {
                    invalid-argument, invalid-encoding, timeout, runtime-error,
                    unsupported-operation, too-large, not-found, security, unknown
                }
                resource error {
                    code: func() -> error-code;
                    data: func() -> string;
                }
            }

            world ml {
                import tensor;
                import graph;
                import inference;
                import errors;
            }
        ",
        world: "ml",
        with: {
            "wasi:nn/tensor.tensor": crate::runtime::nn::types::NnTensor,
            "wasi:nn/graph.graph": super::NnGraph,
            "wasi:nn/inference.graph-execution-context": super::NnContext,
            "wasi:nn/errors.error": crate::runtime::nn::types::NnError,
        },
        imports: { default: trappable },
    });
}

use bindings::wasi::nn::{errors, graph, inference, tensor};

/// A loaded graph.
pub struct NnGraph(Arc<Compiled>);

/// An execution context of a graph.
pub struct NnContext(Arc<Compiled>);

/// The interface's tensor type as the engine's.
fn tensor_type(ty: tensor::TensorType) -> TensorType {
    match ty {
        tensor::TensorType::Fp16 => TensorType::Fp16,
        tensor::TensorType::Fp32 => TensorType::Fp32,
        tensor::TensorType::Fp64 => TensorType::Fp64,
        tensor::TensorType::Bf16 => TensorType::Bf16,
        tensor::TensorType::U8 => TensorType::U8,
        tensor::TensorType::I32 => TensorType::I32,
        tensor::TensorType::I64 => TensorType::I64,
    }
}

/// The engine's tensor type as the interface's.
fn wit_tensor_type(ty: TensorType) -> tensor::TensorType {
    match ty {
        TensorType::Fp16 => tensor::TensorType::Fp16,
        TensorType::Fp32 => tensor::TensorType::Fp32,
        TensorType::Fp64 => tensor::TensorType::Fp64,
        TensorType::Bf16 => tensor::TensorType::Bf16,
        TensorType::U8 => tensor::TensorType::U8,
        TensorType::I32 => tensor::TensorType::I32,
        TensorType::I64 => tensor::TensorType::I64,
    }
}

/// The engine's error code as the interface's.
fn wit_error_code(code: ErrorCode) -> errors::ErrorCode {
    match code {
        ErrorCode::InvalidArgument => errors::ErrorCode::InvalidArgument,
        ErrorCode::InvalidEncoding => errors::ErrorCode::InvalidEncoding,
        ErrorCode::Timeout => errors::ErrorCode::Timeout,
        ErrorCode::RuntimeError => errors::ErrorCode::RuntimeError,
        ErrorCode::UnsupportedOperation => errors::ErrorCode::UnsupportedOperation,
        ErrorCode::TooLarge => errors::ErrorCode::TooLarge,
        ErrorCode::NotFound => errors::ErrorCode::NotFound,
        ErrorCode::Security => errors::ErrorCode::Security,
        ErrorCode::Unknown => errors::ErrorCode::Unknown,
    }
}

/// What a store lends the host functions: its table and the run's models.
pub struct NnView<'a> {
    pub table: &'a mut ResourceTable,
    pub models: &'a Models,
}

struct HasNn;

impl HasData for HasNn {
    type Data<'a> = NnView<'a>;
}

/// Adds the four interfaces; `view` lends a store's table and models.
pub fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> NnView<'_>,
) -> anyhow::Result<()> {
    errors::add_to_linker::<T, HasNn>(linker, view)?;
    tensor::add_to_linker::<T, HasNn>(linker, view)?;
    graph::add_to_linker::<T, HasNn>(linker, view)?;
    inference::add_to_linker::<T, HasNn>(linker, view)?;
    Ok(())
}

type Answer<T> = wasmtime::Result<Result<Resource<T>, Resource<NnError>>>;

impl NnView<'_> {
    fn fail<T>(&mut self, error: NnError) -> Answer<T> {
        Ok(Err(self.table.push(error)?))
    }

    fn graph(&mut self, compiled: Arc<Compiled>) -> Answer<NnGraph> {
        Ok(Ok(self.table.push(NnGraph(compiled))?))
    }
}

impl errors::Host for NnView<'_> {}

impl errors::HostError for NnView<'_> {
    fn code(&mut self, error: Resource<NnError>) -> wasmtime::Result<errors::ErrorCode> {
        Ok(wit_error_code(self.table.get(&error)?.code))
    }

    fn data(&mut self, error: Resource<NnError>) -> wasmtime::Result<String> {
        Ok(self.table.get(&error)?.data.clone())
    }

    fn drop(&mut self, error: Resource<NnError>) -> wasmtime::Result<()> {
        self.table.delete(error)?;
        Ok(())
    }
}

impl tensor::Host for NnView<'_> {}

impl tensor::HostTensor for NnView<'_> {
    fn new(
        &mut self,
        dimensions: Vec<u32>,
        ty: tensor::TensorType,
        data: Vec<u8>,
    ) -> wasmtime::Result<Resource<NnTensor>> {
        Ok(self.table.push(NnTensor {
            dimensions,
            ty: tensor_type(ty),
            data,
        })?)
    }

    fn dimensions(&mut self, tensor: Resource<NnTensor>) -> wasmtime::Result<Vec<u32>> {
        Ok(self.table.get(&tensor)?.dimensions.clone())
    }

    fn ty(&mut self, tensor: Resource<NnTensor>) -> wasmtime::Result<tensor::TensorType> {
        Ok(wit_tensor_type(self.table.get(&tensor)?.ty))
    }

    fn data(&mut self, tensor: Resource<NnTensor>) -> wasmtime::Result<Vec<u8>> {
        Ok(self.table.get(&tensor)?.data.clone())
    }

    fn drop(&mut self, tensor: Resource<NnTensor>) -> wasmtime::Result<()> {
        self.table.delete(tensor)?;
        Ok(())
    }
}

impl graph::Host for NnView<'_> {
    fn load(
        &mut self,
        builders: Vec<Vec<u8>>,
        encoding: graph::GraphEncoding,
        target: graph::ExecutionTarget,
    ) -> Answer<NnGraph> {
        if !self.models.allow_load() {
            return self.fail(NnError::new(
                ErrorCode::Security,
                "loading a model from bytes is not granted: preload it with `--nn-graph <name>=<model.onnx>` and call `load-by-name`, or grant `--allow-nn-load`".into(),
            ));
        }
        if !matches!(
            encoding,
            graph::GraphEncoding::Onnx | graph::GraphEncoding::Autodetect
        ) {
            return self.fail(NnError::new(
                ErrorCode::InvalidEncoding,
                format!("only ONNX models run here, not {encoding:?}"),
            ));
        }
        if target != graph::ExecutionTarget::Cpu {
            return self.fail(NnError::new(
                ErrorCode::UnsupportedOperation,
                format!("only the CPU runs models here, not the {target:?}"),
            ));
        }
        let [bytes] = builders.as_slice() else {
            return self.fail(NnError::invalid(format!(
                "an ONNX model is one builder (its bytes), not {}",
                builders.len()
            )));
        };
        match compile(bytes) {
            Ok(compiled) => self.graph(Arc::new(compiled)),
            Err(error) => self.fail(error),
        }
    }

    fn load_by_name(&mut self, name: String) -> Answer<NnGraph> {
        match self.models.get(&name) {
            Some(compiled) => self.graph(compiled.clone()),
            None => {
                let granted = self.models.names();
                let granted = if granted.is_empty() {
                    "no graph is granted".to_owned()
                } else {
                    format!("the graphs granted: {}", granted.join(", "))
                };
                self.fail(NnError::new(
                    ErrorCode::NotFound,
                    format!("no graph is named `{name}` ({granted}); grant one with `--nn-graph {name}=<model.onnx>`"),
                ))
            }
        }
    }
}

impl graph::HostGraph for NnView<'_> {
    fn init_execution_context(&mut self, graph: Resource<NnGraph>) -> Answer<NnContext> {
        let compiled = self.table.get(&graph)?.0.clone();
        Ok(Ok(self.table.push(NnContext(compiled))?))
    }

    fn drop(&mut self, graph: Resource<NnGraph>) -> wasmtime::Result<()> {
        self.table.delete(graph)?;
        Ok(())
    }
}

impl inference::Host for NnView<'_> {}

impl inference::HostGraphExecutionContext for NnView<'_> {
    fn compute(
        &mut self,
        context: Resource<NnContext>,
        inputs: Vec<(String, Resource<NnTensor>)>,
    ) -> wasmtime::Result<Result<Vec<(String, Resource<NnTensor>)>, Resource<NnError>>> {
        let mut given = Vec::with_capacity(inputs.len());
        for (name, tensor) in inputs {
            given.push((name, self.table.delete(tensor)?));
        }
        let compiled = self.table.get(&context)?.0.clone();
        match compiled.compute(given) {
            Ok(outputs) => {
                let mut named = Vec::with_capacity(outputs.len());
                for (name, tensor) in outputs {
                    named.push((name, self.table.push(tensor)?));
                }
                Ok(Ok(named))
            }
            Err(error) => Ok(Err(self.table.push(error)?)),
        }
    }

    fn drop(&mut self, context: Resource<NnContext>) -> wasmtime::Result<()> {
        self.table.delete(context)?;
        Ok(())
    }
}
