#!/usr/bin/env bash
# Multi-process test: `zpartisan-bench cluster` at a small size, so the tool stays working. 40
# real daemons (2 servers) converge, stay converged over a short rest with no false failure,
# and report the join storm; a SIGTERM to the bench takes every daemon it started with it.
# Every wait polls with a deadline.
set -u
. "$(dirname "$0")/lib.sh"
build=${1:?usage: cluster_bench_test.sh BUILD_DIR}
bench="$build/bench/zpartisan-bench"
out=$(mktemp /tmp/zpartisan-cluster-bench-XXXXXX)
bench_pid=
clean_up() {
    if [ -n "$bench_pid" ]; then kill -9 "$bench_pid" 2>/dev/null; fi
    rm -f "$out"
}
trap clean_up EXIT
field() { "$py" -c "import json,sys; print(json.loads(open('$out').read().splitlines()[-1])['$1'])"; }

timeout $((120 * time_scale)) "$bench" --json cluster --processes 40 --rest-seconds 5 \
    --converge-timeout-seconds $((60 * time_scale)) --node-binary "$build/zpartisan-node" >"$out"
rc=$?
cat "$out"
check "the bench exits 0 (converged, stayed so, no false failure)" test "$rc" -eq 0
check "40 processes, 2 servers" test "$(field processes) $(field servers)" = "40 2"
check "every node listed every member reachable" test "$(field converged)" = True
check "and still did after the rest" test "$(field converged_after_rest)" = 40
check "no member was seen down at rest" test "$(field false_failures)" = 0
check "no daemon exited" test "$(field exited)" = 0
check "every client reported its first welcome" test "$(field clients_welcomed)" = 38
check "idle CPU and memory were measured" test "$(field rss_total_mb)" != 0.0 -a "$(field threads_per_daemon)" != 0.0

# Stopped mid-rest, the bench kills its daemons: none outlives it.
"$bench" cluster --processes 20 --rest-seconds 600 --node-binary "$build/zpartisan-node" >/dev/null 2>&1 &
bench_pid=$!
daemons() { ps -o pid= --ppid "$bench_pid" | tr -d ' '; }
twenty_daemons() { test "$(daemons | wc -l)" -ge 20; }
wait_for "the bench started its 20 daemons" 30 twenty_daemons
started=$(daemons)
kill -TERM "$bench_pid"
wait "$bench_pid" 2>/dev/null
bench_pid=
none_left() { for p in $started; do kill -0 "$p" 2>/dev/null && return 1; done; return 0; }
wait_for "every daemon went with the bench" 10 none_left

finish
