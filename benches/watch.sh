#!/usr/bin/env bash
# From a save to the first response with the new body, on the Rust HTTP template:
#
#   watch    `wcomp serve --watch` running; the source is saved; a client polls until the body
#            changes (the rebuild, the compile of the new component and the swap).
#   restart  the manual loop: save, `wcomp build`, start `wcomp serve`, poll until it answers
#            with the new body.
#   cargo    the toolchain alone: the same edit, then the `cargo build` wcomp runs for it.
#
# `watch − cargo` is what watching adds over the toolchain's own incremental build (the
# settle delay, fingerprints, validation, compiling the component for the server, the swap).
# Each figure is the median of $ROUNDS edits. Not part of CI. Needs a release build of wcomp,
# python3 and the Rust toolchain with wasm32-wasip2.
#
#   benches/watch.sh
set -euo pipefail
cd "$(dirname "$0")/.."
wcomp=${WCOMP:-$PWD/target/release/wcomp}
rounds=${ROUNDS:-5}
[ -x "$wcomp" ] || cargo build --release --locked -p wcomp
command -v python3 >/dev/null || { echo "python3 is not installed (it polls the server)" >&2; exit 1; }

work=$(mktemp -d)
cleanup() { pkill -P $$ 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
export WCOMP_CACHE_DIR=${WCOMP_CACHE_DIR:-$work/cache}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target/guests/bench-watch}
(cd "$work" && "$wcomp" new -q hello --lang rust --template http && "$wcomp" build -q hello >/dev/null)
project=$work/hello
lib=$project/src/lib.rs
now_ms() { date +%s%3N; }

# Saves the source with a new greeting (write a temporary file, rename it over the old one,
# as editors do).
save() {
    sed "s/\"Hello[^\"]*\\\\n\"/\"Hello $1!\\\\n\"/" "$lib" >"$lib.saving"
    mv "$lib.saving" "$lib"
}

# Polls $1 until the body is "Hello $2!"; fails after 5 minutes. One process polls (no
# process per request), so the poller takes little CPU from the build it waits for.
wait_body() {
    python3 - "$1" "Hello $2!" <<'POLL'
import sys, time, urllib.request
url, want = sys.argv[1], sys.argv[2]
deadline = time.monotonic() + 300
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            if response.read().decode().strip() == want:
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.01)
sys.exit(f"no answer {want!r} from {url}")
POLL
}

median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

port=18800
url=http://127.0.0.1:$port/

echo "watch: save → first new response (median of $rounds)" >&2
(cd "$project" && exec "$wcomp" --format json serve --watch --addr "127.0.0.1:$port" 2>"$work/watch.err") &
watcher=$!
wait_body "$url" "from Rust"
: >"$work/watch.ms"
for round in $(seq 1 "$rounds"); do
    start=$(now_ms)
    save "watch $round"
    wait_body "$url" "watch $round"
    echo $(($(now_ms) - start)) >>"$work/watch.ms"
done
kill -TERM "$watcher"
wait "$watcher" || true

echo "restart: save, wcomp build, wcomp serve → first new response" >&2
: >"$work/restart.ms"
for round in $(seq 1 "$rounds"); do
    start=$(now_ms)
    save "restart $round"
    (cd "$project" && "$wcomp" -q build >/dev/null)
    (cd "$project" && exec "$wcomp" -q serve --addr "127.0.0.1:$port" 2>/dev/null) &
    server=$!
    wait_body "$url" "restart $round"
    echo $(($(now_ms) - start)) >>"$work/restart.ms"
    kill -TERM "$server"
    wait "$server" || true
done

echo "cargo: the same edit, then cargo's incremental build alone" >&2
: >"$work/cargo.ms"
for round in $(seq 1 "$rounds"); do
    save "cargo $round"
    start=$(now_ms)
    (cd "$project" && cargo build -q --release --target wasm32-wasip2 --message-format=json-render-diagnostics >/dev/null)
    echo $(($(now_ms) - start)) >>"$work/cargo.ms"
done

watch=$(median <"$work/watch.ms")
restart=$(median <"$work/restart.ms")
cargo=$(median <"$work/cargo.ms")
printf '%-34s %8s\n' "median, ms" ""
printf '%-34s %8d\n' "watch: save → new response" "$watch"
printf '%-34s %8d\n' "restart: save → new response" "$restart"
printf '%-34s %8d\n' "cargo incremental build alone" "$cargo"
printf '%-34s %8d\n' "watch overhead over cargo" "$((watch - cargo))"
# The server's own account of each swap: the build (cargo and wcomp's checks), then
# compiling the new component.
build=$(grep '"reason":"swapped"' "$work/watch.err" | sed 's/.*"build_seconds":\([0-9.]*\).*/\1/' | awk '{print int($1 * 1000)}' | median)
load=$(grep '"reason":"swapped"' "$work/watch.err" | sed 's/.*"load_seconds":\([0-9.]*\).*/\1/' | awk '{print int($1 * 1000)}' | median)
printf '%-34s %8d\n' "  of which: wcomp build" "$build"
printf '%-34s %8d\n' "  of which: loading the component" "$load"
awk -v w="$watch" -v r="$restart" 'BEGIN {printf "%-34s %8.2fx\n", "restart / watch", r / w}'
