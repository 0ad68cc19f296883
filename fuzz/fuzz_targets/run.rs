//! Arbitrary bytes through `wcomp run`'s library entry must give a result or an error, never a
//! panic or a crash. The input is `<call>\0<component bytes>`: text before the first NUL is
//! the `--invoke` call (none when empty, running `wasi:cli/run`), the rest is the component.
//! Seed the corpus with real components (`tests/runner/*.wat` compiled, `wcomp build`
//! outputs) prefixed with a call and a NUL.
//!
//!   cargo +nightly fuzz run run -- -max_total_time=300
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use wcomp::runtime::{self, Limits, RunOptions};

fuzz_target!(|data: &[u8]| {
    let (call, bytes) = match data.iter().position(|b| *b == 0) {
        Some(nul) => (&data[..nul], &data[nul + 1..]),
        None => (&[][..], data),
    };
    let call = String::from_utf8_lossy(call).into_owned();
    let options = RunOptions {
        component: "fuzz.wasm".into(),
        invoke: (!call.is_empty()).then_some(call),
        // Small limits keep each input fast; hitting them is an ordinary error.
        limits: Limits {
            timeout: Some(Duration::from_millis(500)),
            fuel: Some(1_000_000),
            max_memory: 16 << 20,
        },
        ..RunOptions::default()
    };
    let _ = runtime::run_bytes(&options, bytes);
});
