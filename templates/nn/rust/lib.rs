//! `{{crate_name}}`: runs an ONNX model the host granted by name, through `wasi:nn`.
//!
//! Try it: `wcomp build`, then
//! `wcomp run --nn-graph model=<model.onnx> --invoke 'infer("model", "<input>", [1, 4], [0.1, 0.2, 0.3, 0.4])'`.

wit_bindgen::generate!({ world: "{{world}}", path: "wit", generate_all });

use wasi::nn::errors::Error;
use wasi::nn::graph;
use wasi::nn::tensor::{Tensor, TensorType};

struct Component;

/// A `wasi:nn` error as text: its code, and the host's message.
fn describe(error: Error) -> String {
    format!("{:?}: {}", error.code(), error.data())
}

impl Guest for Component {
    fn infer(
        graph: String,
        input: String,
        dimensions: Vec<u32>,
        data: Vec<f32>,
    ) -> Result<Vec<f32>, String> {
        // The model was compiled once by the host; loading it by name is cheap.
        let graph = graph::load_by_name(&graph).map_err(describe)?;
        let context = graph.init_execution_context().map_err(describe)?;
        let bytes: Vec<u8> = data.iter().flat_map(|value| value.to_le_bytes()).collect();
        let tensor = Tensor::new(&dimensions, TensorType::Fp32, &bytes);
        let outputs = context.compute(vec![(input, tensor)]).map_err(describe)?;
        let (_, output) = outputs.into_iter().next().ok_or("the model gave no output")?;
        if output.ty() != TensorType::Fp32 {
            return Err(format!("the first output is {:?}, not FP32", output.ty()));
        }
        Ok(output
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
    }

    fn classify(
        graph: String,
        input: String,
        dimensions: Vec<u32>,
        data: Vec<f32>,
    ) -> Result<u32, String> {
        let scores = Self::infer(graph, input, dimensions, data)?;
        let best = scores
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .ok_or("the model gave no scores")?;
        Ok(best.0 as u32)
    }
}

export!(Component);
