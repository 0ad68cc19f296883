//! Faults a test can inject into a server, to show that it outlives them. Only in debug builds
//! (release builds compile this to nothing), and only when `WCOMP_FAULTS=1` is set for the
//! server; a request then asks for one with the header `x-wcomp-fault: <name>`.

use std::sync::OnceLock;

use http::Request;

/// What a request may ask the server to do wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Panic while answering the request (`panic`).
    Panic,
    /// Panic in the task that runs the request's guest (`panic-in-guest-task`).
    PanicInGuestTask,
}

impl Fault {
    fn name(self) -> &'static str {
        match self {
            Self::Panic => "panic",
            Self::PanicInGuestTask => "panic-in-guest-task",
        }
    }
}

fn enabled() -> bool {
    static ENABLED: OnceLock<bool> = OnceLock::new();
    cfg!(debug_assertions)
        && *ENABLED.get_or_init(|| std::env::var_os("WCOMP_FAULTS").is_some_and(|v| v == "1"))
}

/// Whether `request` asks for `fault` (and faults are enabled).
pub fn requested<B>(request: &Request<B>, fault: Fault) -> bool {
    enabled()
        && request
            .headers()
            .get("x-wcomp-fault")
            .is_some_and(|value| value.as_bytes() == fault.name().as_bytes())
}

/// Panics if `request` asks for `fault`.
pub fn inject<B>(request: &Request<B>, fault: Fault) {
    assert!(
        !requested(request, fault),
        "injected fault: {}",
        fault.name()
    );
}
