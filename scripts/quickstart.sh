#!/usr/bin/env bash
# The main job from a fresh checkout: install what is missing, build wcomp, then build,
# compose, run and test the polyglot example (Rust + Go + Python in one component).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cargo build --release --locked -p wcomp
wcomp="$PWD/target/release/wcomp"

cd examples/polyglot
"$wcomp" doctor
"$wcomp" build
"$wcomp" run --invoke 'render("The cat and the hat. The end!")'
"$wcomp" test
