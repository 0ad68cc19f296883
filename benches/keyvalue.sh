#!/usr/bin/env bash
# What a `wasi:keyvalue` bucket costs a `wcomp serve` handler, on each of wcomp's backends,
# against the same handler without state and against `wasmtime serve -Skeyvalue`. One run, one
# server at a time, the same load from `wrk -t2 -c64` on loopback: requests per second, p50/p99
# latency and the server's peak RSS (GNU time; redis-server's own memory is printed apart).
#
# The handler is benches/kv-handler.rs in a project made by `wcomp new --template http --with
# keyvalue`: `GET /` answers a fixed text; `GET /state?bucket=<name>` opens the bucket, reads
# the key `last` once and increments `hits` by 1, and answers the count. The rows:
#   wcomp serve                   GET /                 (no state: the baseline)
#   wcomp serve --kv b            GET /state?bucket=b   (the embedded SQLite store, --state-dir)
#   wcomp serve --kv b=memory     GET /state?bucket=b
#   wcomp serve --kv b=redis://…  GET /state?bucket=b   (a redis-server this script starts)
#   wasmtime serve -Scli -Skeyvalue  GET /state?bucket=  and  GET /
# wasmtime's keyvalue is not the same service: its only bucket is the empty name, it lives in
# memory and for one request only, so every request starts from an empty bucket.
#
# Before measuring, each server must answer 200, and each wcomp bucket must count up across two
# requests. After measuring, the embedded and Redis buckets are read once more by a new server
# and their count checked against the 200 responses wrk saw, plus the checks: an increment
# lost under load shows there. wrk stops with up to one request per connection in flight, which
# the server may still count, so the count may exceed that sum by at most 64 per wrk run.
#
# Not part of CI. Needs a release build of wcomp, wasmtime-cli 48.0.8
# (`cargo install --locked wasmtime-cli@48.0.8`), wrk, curl, redis-server, redis-cli, python3
# and GNU time.
#
#   benches/keyvalue.sh
#   DURATION=10s benches/keyvalue.sh
set -euo pipefail
cd "$(dirname "$0")/.."
wcomp=${WCOMP:-$PWD/target/release/wcomp}
wasmtime=${WASMTIME:-wasmtime}
duration=${DURATION:-4s}
connections=64
for tool in "$wasmtime" wrk curl redis-server redis-cli python3; do
    command -v "$tool" >/dev/null || { echo "$tool is not installed (see the header of $0)" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "GNU time (/usr/bin/time) is needed for peak RSS: apt-get install time" >&2; exit 1; }
[ -x "$wcomp" ] || cargo build --release --locked -p wcomp

work=$(mktemp -d)
timer='' redis=''
cleanup() {
    [ -z "$timer" ] || pkill -INT -P "$timer" 2>/dev/null || true
    [ -z "$redis" ] || kill "$redis" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
export WCOMP_CACHE_DIR=${WCOMP_CACHE_DIR:-$work/cache}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target/guests/bench-keyvalue}

(cd "$work" && "$wcomp" new -q kvbench --lang rust --template http --with keyvalue)
cp benches/kv-handler.rs "$work/kvbench/src/lib.rs"
(cd "$work" && "$wcomp" build -q kvbench >/dev/null)
component=$work/kvbench/target/wcomp/kvbench.wasm

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >"$work/redis.log" 2>&1 &
redis=$!
for _ in $(seq 1 100); do
    redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
    sleep 0.1
done
redis-cli -p "$redis_port" ping >/dev/null || { cat "$work/redis.log" >&2; exit 1; }
redis_url=redis://127.0.0.1:$redis_port/0

# Starts "$@" (a server command, without its address and component) under GNU time on a free
# port, and waits until it answers `GET /` (which touches no state). Sets $timer and $base.
start() {
    local port
    port=$(free_port)
    base=http://127.0.0.1:$port
    /usr/bin/time -f '%M' -o "$work/rss" "$@" --addr "127.0.0.1:$port" "$component" \
        >/dev/null 2>"$work/server.err" &
    timer=$!
    for _ in $(seq 1 600); do
        curl -s -o /dev/null "$base/" && return 0
        kill -0 "$timer" 2>/dev/null || break
        sleep 0.1
    done
    printf 'the server did not start: %s\n' "$*" >&2
    cat "$work/server.err" >&2
    exit 1
}
stop() {  # SIGINT to the server: both let requests in flight finish
    pkill -INT -P "$timer" 2>/dev/null || true
    wait "$timer" 2>/dev/null || true
    timer=''
}
get() {  # "$1" (a path) once: prints "<status> <body>"
    local status
    status=$(curl -s -o "$work/body" -w '%{http_code}' "$base$1") || status=000
    echo "$status $(tr -d '\n' <"$work/body")"
}

# Checks, which also compile each component once for both tools' caches.
failed=0
check_count() {  # label, path, then the wcomp server command: 200 twice, and the count grows
    local label=$1 path=$2 first second
    shift 2
    start "$@"
    first=$(get "$path")
    second=$(get "$path")
    stop
    if [[ $first =~ ^200\ ([0-9]+)$ ]] && [ "$second" = "200 $((BASH_REMATCH[1] + 1))" ]; then
        echo "  $label: \"$first\", then \"$second\""
    else
        printf '  %s: FAILED: "%s", then "%s" (expected 200 and a count growing by 1)\n' "$label" "$first" "$second"
        sed 's/^/    server: /' "$work/server.err"
        failed=1
    fi
}
echo "checks (status and body):"
start "$wcomp" -q serve
answer=$(get /)
stop
echo "  wcomp serve GET /: \"$answer\""
[[ $answer == 200\ * ]] || { echo "  FAILED: wcomp serve GET / did not answer 200" >&2; exit 1; }
check_count "wcomp --kv b (embedded) GET /state?bucket=b" "/state?bucket=b" \
    "$wcomp" -q serve --kv b --state-dir "$work/state"
check_count "wcomp --kv b=memory GET /state?bucket=b" "/state?bucket=b" "$wcomp" -q serve --kv b=memory
check_count "wcomp --kv b=redis GET /state?bucket=b" "/state?bucket=b" "$wcomp" -q serve --kv "b=$redis_url"
start "$wasmtime" serve -Scli -Skeyvalue
plain=$(get /)
first=$(get "/state?bucket=")
second=$(get "/state?bucket=")
stop
echo "  wasmtime serve -Skeyvalue GET /: \"$plain\""
echo "  wasmtime serve -Skeyvalue GET /state?bucket=: \"$first\", then \"$second\" (its store lives for one request)"
[[ $plain == 200\ * && $first == 200\ * && $second == 200\ * ]] ||
    { echo "  FAILED: wasmtime serve did not answer 200" >&2; exit 1; }
[ "$failed" = 0 ] || { echo "a wcomp bucket failed its check; not measuring" >&2; exit 1; }

# Runs "$@" (a server), loads "$1"'s path with wrk (1 s warm-up, then $duration), stops it.
# Leaves "<req/s> <p50 ms> <p99 ms> <peak RSS KiB> <200 responses, warm-up included>" in
# $work/row, and prints any non-2xx responses or socket errors with the server's stderr.
measure() {
    local path=$1
    shift
    start "$@"
    wrk -t2 -c"$connections" -d1s "$base$path" >"$work/warm"
    wrk -t2 -c"$connections" -d"$duration" --latency "$base$path" >"$work/wrk"
    sleep 0.5  # requests wrk left in flight
    stop
    python3 - "$work/warm" "$work/wrk" "$work/rss" >"$work/row" 2>"$work/problems" <<'EOF'
import re, sys
sys.path.insert(0, "benches")
from wrk import figures
warm, text = (open(name).read() for name in sys.argv[1:3])
ok = 0
for run in (warm, text):
    f = figures(run)
    ok += f["total"] - f["failed"]
    socket = re.search(r"Socket errors:.*", run)
    if f["failed"] or socket:
        print(f"{f['failed']} of {f['total']} responses not 2xx; {socket.group(0) if socket else 'no socket errors'}",
              file=sys.stderr)
f = figures(text)
rss = open(sys.argv[3]).read().split()[-1]
print(f"{f['rps']:.0f} {f['p50']:.3f} {f['p99']:.3f} {rss} {ok}")
EOF
    if [ -s "$work/problems" ]; then
        sed 's/^/  ! /' "$work/problems" >>"$work/report"
        sed 's/^/  ! server: /' "$work/server.err" | head -20 >>"$work/report"
        failed=1
    fi
}
row() {  # label, then "<req/s> <p50> <p99> <rss KiB> …"
    printf '%-50s %10s %9s %9s %9.1f\n' "$1" "$2" "$3" "$4" "$(echo "$5 / 1024" | bc -l)"
}
ratio() {  # label, the first row's figures, the second's
    printf '%-50s %9.2fx %8.2fx %8.2fx %8.2fx\n' "  $1" "$(echo "$2 / $7" | bc -l)" \
        "$(echo "$3 / $8" | bc -l)" "$(echo "$4 / $9" | bc -l)" "$(echo "$5 / ${10}" | bc -l)"
}

: >"$work/report"
measure / "$wcomp" -q serve
read -r -a plain <"$work/row"
measure "/state?bucket=b" "$wcomp" -q serve --kv b --state-dir "$work/state"
read -r -a embedded <"$work/row"
measure "/state?bucket=b" "$wcomp" -q serve --kv b=memory
read -r -a memory <"$work/row"
measure "/state?bucket=b" "$wcomp" -q serve --kv "b=$redis_url"
read -r -a remote <"$work/row"
measure "/state?bucket=" "$wasmtime" serve -Scli -Skeyvalue
read -r -a t_state <"$work/row"
measure / "$wasmtime" serve -Scli -Skeyvalue
read -r -a t_plain <"$work/row"

echo
echo "wrk -t2 -c$connections -d$duration, after 1 s of warm-up; $(nproc) CPUs shared by wrk and the server"
printf '%-50s %10s %9s %9s %9s\n' "server / request" "req/s" "p50 ms" "p99 ms" "RSS MiB"
row "wcomp serve, GET / (no state)" "${plain[@]}"
row "wcomp serve --kv b (embedded), GET /state" "${embedded[@]}"
row "wcomp serve --kv b=memory, GET /state" "${memory[@]}"
row "wcomp serve --kv b=redis://..., GET /state" "${remote[@]}"
row "wasmtime serve -Skeyvalue, GET /state (*)" "${t_state[@]}"
row "wasmtime serve -Skeyvalue, GET / (no state)" "${t_plain[@]}"
ratio "embedded / wcomp without state" "${embedded[@]}" "${plain[@]}"
ratio "memory / wcomp without state" "${memory[@]}" "${plain[@]}"
ratio "redis / wcomp without state" "${remote[@]}" "${plain[@]}"
ratio "wcomp memory / wasmtime -Skeyvalue (*)" "${memory[@]}" "${t_state[@]}"
ratio "wcomp / wasmtime, GET / (no state)" "${plain[@]}" "${t_plain[@]}"
echo "(*) wasmtime's bucket \"\" is in memory and lives for one request: each starts from empty."
echo "RSS is the server's alone; redis-server's peak: $(awk '/VmHWM/ {printf "%.1f MiB", $2 / 1024}' "/proc/$redis/status")"
cat "$work/report"

# The final counts, read by a new server: the 200s wrk saw + 2 checks + this read, plus at
# most one request per connection and wrk run that wrk cut off but the server still counted.
final() {  # label, the row's figures, then the server command
    local label=$1 ok=$6 count expected extra
    shift 6
    start "$@"
    count=$(get "/state?bucket=b")
    stop
    expected=$((ok + 2 + 1))
    if [[ ! $count =~ ^200\ ([0-9]+)$ ]]; then
        echo "final count, $label: FAILED: \"$count\""
        failed=1
        return
    fi
    count=${BASH_REMATCH[1]}
    extra=$((count - expected))
    printf 'final count, %s: %d = %d responses 200 + 2 checks + 1 read + %d cut off by wrk\n' \
        "$label" "$count" "$ok" "$extra"
    if [ "$label" = redis ]; then  # the bucket is the whole database, so the key is `hits`
        echo "  redis-cli GET hits: $(redis-cli -p "$redis_port" -n 0 get hits)"
    fi
    if [ "$extra" -lt 0 ]; then
        echo "  LOST INCREMENTS: $((-extra)) fewer than the 200 responses and checks"
        failed=1
    elif [ "$extra" -gt $((2 * connections)) ]; then
        echo "  MORE INCREMENTS than requests: $extra beyond the $((2 * connections)) wrk may cut off"
        failed=1
    fi
}
final "embedded" "${embedded[@]}" "$wcomp" -q serve --kv b --state-dir "$work/state"
final "redis" "${remote[@]}" "$wcomp" -q serve --kv "b=$redis_url"
if [ "$failed" = 0 ]; then
    echo "every server answered 200 throughout; no increment was lost"
else
    echo "some checks FAILED (see above)"
    exit 1
fi
