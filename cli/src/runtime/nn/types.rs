//! The values of `wasi:nn` as the engine and the host side pass them: tensors, their types,
//! and errors with their codes (the interface's own, case for case).

/// `wasi:nn`'s `tensor-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TensorType {
    Fp16,
    Fp32,
    Fp64,
    Bf16,
    U8,
    I32,
    I64,
}

/// `wasi:nn`'s `error-code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidArgument,
    InvalidEncoding,
    Timeout,
    RuntimeError,
    UnsupportedOperation,
    TooLarge,
    NotFound,
    Security,
    Unknown,
}

/// A tensor a guest made, or an output it was given.
#[derive(Debug, Clone, PartialEq)]
pub struct NnTensor {
    pub dimensions: Vec<u32>,
    pub ty: TensorType,
    pub data: Vec<u8>,
}

/// A `wasi:nn` error: its code, and what happened and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NnError {
    pub code: ErrorCode,
    pub data: String,
}

impl NnError {
    pub fn new(code: ErrorCode, data: String) -> Self {
        Self { code, data }
    }

    /// An `invalid-argument` error.
    pub fn invalid(data: String) -> Self {
        Self::new(ErrorCode::InvalidArgument, data)
    }
}

impl std::fmt::Display for NnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.code, self.data)
    }
}
