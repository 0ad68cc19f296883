#!/usr/bin/env bash
# The main job from a fresh checkout: install what is missing, build wcomp, then build,
# compose and run the example in examples/text-report.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cargo build --release --locked -p wcomp
wcomp="$PWD/target/release/wcomp"

cd examples/text-report
"$wcomp" build analyzer
"$wcomp" build reporter
"$wcomp" compose reporter/target/wcomp/reporter.wasm --plug analyzer/target/wcomp/analyzer.wasm \
    -o target/text-report.wasm
"$wcomp" run target/text-report.wasm --invoke 'render("Hello brave new world")'
