//! Arbitrary bytes into `wit check` and `wit fmt`: neither may panic, and whenever
//! wit-parser accepts the input the formatter must format it (never refuse) into text that
//! parses to the same package, formats to itself, and keeps every comment. `format_package`
//! checks those properties itself and reports a violation as a refusal, so a refusal here is
//! a formatter bug.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use wcomp::wit::{check, diagnostics, fmt};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let path = Path::new("fuzz.wit");
    let mut sources = diagnostics::SourceFiles::new(Path::new("/"));
    for diagnostic in check::check_text(path, text, &mut sources) {
        diagnostics::render_human(&diagnostic, &mut sources, false);
        diagnostics::to_json(&diagnostic, &mut sources);
    }
    match fmt::format_package(&[(path.to_owned(), text.to_owned())], &mut sources) {
        Ok(_) | Err(fmt::FmtError::Invalid(_)) => {}
        Err(refused) => panic!("formatter refused valid WIT: {refused}\n--- input:\n{text}"),
    }
});
