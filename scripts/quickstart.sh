#!/usr/bin/env bash
# The main job from a fresh checkout: install what is missing, build wcomp, then build,
# compose, run and test the polyglot example (Rust + Go + Python in one component), and
# serve the HTTP example (a Go gateway over Rust and Python) and ask it over HTTP.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
# The dev profile (its dependencies, wasmtime's compiler among them, are optimised): the test
# suite shares this build, so the README's second command does not compile wcomp again. An
# optimised wcomp for daily use: `cargo install --locked --path cli`.
cargo build --locked -p wcomp
wcomp="$PWD/target/debug/wcomp"

(
    cd examples/polyglot
    "$wcomp" doctor
    "$wcomp" build
    "$wcomp" run --invoke 'render("The cat and the hat. The end!")'
    "$wcomp" test
)

cd examples/http-polyglot
"$wcomp" test
log=$(mktemp)
"$wcomp" --format json serve --addr 127.0.0.1:0 >/dev/null 2>"$log" &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -f "$log"' EXIT
url=
for _ in $(seq 1 600); do
    url=$(sed -n 's/.*"reason":"serving".*"url":"\([^"]*\)".*/\1/p' "$log")
    [ -n "$url" ] && break
    kill -0 "$server" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.5
done
[ -n "$url" ] || { echo "error: the HTTP example did not start serving" >&2; cat "$log" >&2; exit 1; }
curl -sS --fail-with-body -X POST -d '{"text": "The cat and the hat. The end!"}' "${url}stats"
kill -TERM "$server"
wait "$server"
