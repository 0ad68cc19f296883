#!/usr/bin/env bash
# What faulting guests cost the requests around them: `wcomp serve` with the fault fixture
# (`tests/e2e/http/server.rs` on the Rust HTTP template, as `cli/tests/faults.rs` builds it)
# under `wrk -t2 -c32 -d5s` on `GET /`, first with no faults, then while a second `wrk` (one
# thread, 1 connection, then 4) asks in turn for `/trap` (the guest traps: 500), `/spin` (it
# spins until `--timeout 1s`: 504) and `/hoard?mib=64` (it allocates past `--max-memory 32MiB`:
# 500), then with no faults again. A spin lasts a second and the other two a few milliseconds,
# so each fault connection keeps about one guest spinning: 1 is fewer guests than the
# runtime's worker threads on 2 cores, 4 more. For each run: requests per second, p50/p99
# latency and what went wrong on `/` (non-2xx answers, socket errors), with what the fault load
# got back by status; the server's RSS before the first run, after the last, and at its peak
# (`/proc/<pid>/status`). One server for every run, so memory a fault leaves behind shows in
# the "after" figure.
#
# Not part of CI. Needs a release build of wcomp, wrk, curl, bc and python3.
#
#   benches/faults.sh
#   FAULT_CONNECTIONS="1 2 8" DURATION=10s benches/faults.sh
set -euo pipefail
cd "$(dirname "$0")/.."
wcomp=${WCOMP:-$PWD/target/release/wcomp}
duration=${DURATION:-5s}
connections=${CONNECTIONS:-32}
fault_connections=${FAULT_CONNECTIONS:-1 4}
for tool in wrk curl bc python3; do
    command -v "$tool" >/dev/null || { echo "$tool is not installed (see the header of $0)" >&2; exit 1; }
done
[ -x "$wcomp" ] || cargo build --release --locked -p wcomp

work=$(mktemp -d)
cleanup() { pkill -P $$ 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
export WCOMP_CACHE_DIR=${WCOMP_CACHE_DIR:-$work/cache}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target/guests/bench-faults}
(cd "$work" && "$wcomp" new -q server --lang rust --template http)
cp tests/e2e/http/server.rs "$work/server/src/lib.rs"
component=$(cd "$work" && "$wcomp" build -q server)

# The fault load: each connection asks for the three faults in turn; statuses are counted per
# thread and added up at the end.
cat >"$work/faults.lua" <<'EOF'
local paths = {"/trap", "/spin", "/hoard?mib=64"}
local turn = 0
c500, c504, cother = 0, 0, 0
request = function()
    turn = turn % #paths + 1
    return wrk.format("GET", paths[turn])
end
response = function(status)
    if status == 500 then c500 = c500 + 1
    elseif status == 504 then c504 = c504 + 1
    else cother = cother + 1 end
end
local threads = {}
setup = function(thread) table.insert(threads, thread) end
done = function()
    local t500, t504, tother = 0, 0, 0
    for _, thread in ipairs(threads) do
        t500 = t500 + thread:get("c500")
        t504 = t504 + thread:get("c504")
        tother = tother + thread:get("cother")
    end
    io.write(string.format("faults: 500 x%d, 504 x%d, other x%d\n", t500, t504, tother))
end
EOF

port=$((18900 + RANDOM % 100))
url="http://127.0.0.1:$port/"
"$wcomp" -q serve --addr "127.0.0.1:$port" --timeout 1s --max-memory 32MiB "$component" \
    >/dev/null 2>"$work/server.err" &
server=$!
for _ in $(seq 1 600); do
    curl -s -o /dev/null "$url" && break
    sleep 0.1
done
curl -sf -o /dev/null "$url" || { echo "the server did not start:" >&2; cat "$work/server.err" >&2; exit 1; }
for fault in trap spin 'hoard?mib=64'; do  # each fault gets the status the header says
    printf '%s %s\n' "/$fault" "$(curl -s -o /dev/null -w '%{http_code}' "$url$fault")"
done >"$work/probe"
[ "$(tr '\n' ' ' <"$work/probe")" = "/trap 500 /spin 504 /hoard?mib=64 500 " ] \
    || { echo "unexpected fault answers:" >&2; cat "$work/probe" >&2; exit 1; }

rss_kib() {  # the server's "$1" (VmRSS, VmHWM) in KiB
    awk -v field="$1:" '$1 == field {print $2}' "/proc/$server/status"
}

# `wrk` on `GET /`; prints "<req/s> <p50 ms> <p99 ms> <non-2xx> <socket errors>".
load() {
    wrk -t2 -c"$connections" -d"$duration" --latency "$url" >"$work/wrk"
    python3 - "$work/wrk" <<'EOF'
import sys
sys.path.insert(0, "benches")
from wrk import figures
f = figures(open(sys.argv[1]).read())
print(f"{f['rps']:.0f} {f['p50']:.3f} {f['p99']:.3f} {f['failed']} {f['sockets']}")
EOF
}

wrk -t2 -c"$connections" -d1s "$url" >/dev/null  # warm-up
rss_before=$(rss_kib VmRSS)
read -r -a calm < <(load)
# Each fault load starts a second ahead, so spinning guests are already running, and ends
# after the measured run; the faults it left in flight end (`--timeout 1s`) before the next.
fault_seconds=$((${duration%s} + 2))
declare -A faulted got
for n in $fault_connections; do
    wrk -t1 -c"$n" -d"${fault_seconds}s" --timeout 5s -s "$work/faults.lua" "$url" >"$work/faults" &
    loader=$!
    sleep 1
    faulted[$n]=$(load)
    wait "$loader"
    got[$n]=$(grep -o 'faults: .*' "$work/faults")
    sleep 2
done
read -r -a after < <(load)
rss_after=$(rss_kib VmRSS)
rss_peak=$(rss_kib VmHWM)
kill -TERM "$server"
status=0
wait "$server" || status=$?

row() { printf '%-40s %9s %9s %9s %9s %9s\n' "$@"; }
row "GET / ($connections connections)" "req/s" "p50 ms" "p99 ms" "non-2xx" "sock err"
row "no faults" "${calm[@]}"
errors=$((calm[3] + calm[4] + after[3] + after[4]))
for n in $fault_connections; do
    read -r -a figures <<<"${faulted[$n]}"
    row "under faults, $n fault connection$([ "$n" = 1 ] || echo s)" "${figures[@]}"
    printf '%-40s %8.3fx %8.2fx %8.2fx   (fault load %s)\n' "  ratio to no faults" \
        "$(echo "${figures[0]} / ${calm[0]}" | bc -l)" "$(echo "${figures[1]} / ${calm[1]}" | bc -l)" \
        "$(echo "${figures[2]} / ${calm[2]}" | bc -l)" "${got[$n]#faults: }"
    errors=$((errors + figures[3] + figures[4]))
done
row "no faults again" "${after[@]}"
printf 'server RSS: %.1f MiB before, %.1f MiB after, peak %.1f MiB; exit status %d on SIGTERM\n' \
    "$(echo "$rss_before / 1024" | bc -l)" "$(echo "$rss_after / 1024" | bc -l)" \
    "$(echo "$rss_peak / 1024" | bc -l)" "$status"
echo "$errors errors on GET / in $(($(wc -w <<<"$fault_connections") + 2)) runs"
