//! `wasi:nn` (`0.2.0-rc-2024-10-28`) on tract, a pure-Rust ONNX engine: no native library, and
//! nothing downloaded when wcomp is built or run. Inference runs on the CPU.
//!
//! Deny by default. `--nn-graph <name>=<model.onnx>` (or `[run.nn]`) compiles a model once,
//! when the run or the server starts, and every instance that calls `load-by-name("<name>")`
//! shares it; a model the engine cannot run is refused then, naming the operator it lacks.
//! `load` of model bytes the guest brings is refused (`security`) unless `--allow-nn-load`
//! grants it. Every failure a guest sees is a `wasi:nn` error with its own code
//! (`invalid-argument` for a tensor of the wrong type or shape, `not-found` for a graph that
//! was not granted, `unsupported-operation` for a missing operator, …) and a message saying
//! what to change. The engine is [`engine`], the interface's host side [`host`], and the
//! values both pass around [`types`].

pub mod engine;
pub mod host;
pub mod types;

pub use engine::{
    Compiled, Models, NnGrant, NnGrantError, Recording, compile, from_tract, imported, to_tract,
};
pub use types::{ErrorCode, NnError, NnTensor, TensorType};

#[cfg(test)]
mod tests;
