//! Runs a model through `wasi:nn`: by name (preloaded by the host) or from bytes.

wit_bindgen::generate!({ world: "inferrer", path: "wit", generate_all });

use exports::test::infer::infer::Guest;
use wasi::nn::errors::Error;
use wasi::nn::graph::{self, ExecutionTarget, Graph, GraphEncoding};
use wasi::nn::tensor::{Tensor, TensorType};

struct Component;

fn describe(error: Error) -> String {
    format!("{:?}: {}", error.code(), error.data())
}

fn infer(graph: Graph, input: &str, dimensions: &[u32], data: &[f32]) -> Result<Vec<f32>, String> {
    let context = graph.init_execution_context().map_err(describe)?;
    let bytes: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
    let tensor = Tensor::new(dimensions, TensorType::Fp32, &bytes);
    let outputs = context
        .compute(vec![(input.to_owned(), tensor)])
        .map_err(describe)?;
    let (_, output) = outputs.into_iter().next().ok_or("no output")?;
    Ok(output
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

impl Guest for Component {
    fn run(graph: String, input: String, dimensions: Vec<u32>, data: Vec<f32>) -> Result<Vec<f32>, String> {
        let graph = graph::load_by_name(&graph).map_err(describe)?;
        infer(graph, &input, &dimensions, &data)
    }

    fn run_bytes(model: Vec<u8>, input: String, dimensions: Vec<u32>, data: Vec<f32>) -> Result<Vec<f32>, String> {
        let graph = graph::load(&[model], GraphEncoding::Onnx, ExecutionTarget::Cpu).map_err(describe)?;
        infer(graph, &input, &dimensions, &data)
    }
}

export!(Component);
