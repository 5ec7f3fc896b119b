#!/usr/bin/env bash
# `make run`: a local demo cluster of real daemons on 127.0.0.1: 3 servers and 3 clients
# (zpartisan-node), watched through zpartisan-ctl by scripts/demo-watch.py. Every second it shows
# each node's view of the membership and sends a message from c1 to c3, which travels
# c1 -> s1 -> s3 -> c3. Ctrl-C (or ROUNDS rounds done) stops everything it started, leaves nothing
# running, and prints last one line of what was shown.
# Usage: scripts/demo.sh [BUILD_DIR [ROUNDS]]
set -u
bin=${1:-build}
rounds=${2:-0}  # 0: until Ctrl-C
work=$(mktemp -d "${TMPDIR:-/tmp}/zpartisan-demo-XXXXXX")
here=$(cd "$(dirname "$0")" && pwd)
pids=()
watcher=
cleanup() {  # cleanup STATUS: the status this script exits with
    local status=$1
    trap - INT TERM EXIT
    echo
    echo "stopping the demo cluster"
    # The watcher first, so that no zpartisan-ctl call of its asks a daemon already stopping.
    if [ -n "$watcher" ]; then kill -TERM "$watcher" 2>/dev/null; wait "$watcher" 2>/dev/null; fi
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    if [ -s "$work/summary" ]; then cat "$work/summary"; else echo "shown: 0 rounds (stopped before the first)"; fi
    rm -rf "$work"
    exit "$status"
}
trap 'cleanup 0' INT TERM
trap 'cleanup $?' EXIT
ctl() { "$bin/zpartisan-ctl" -c "ipc://$work/$1.ctl" "${@:2}"; }
start() {
    "$bin/zpartisan-node" --name "$1" --role "$2" --cluster demo --control "ipc://$work/$1.ctl" \
        --data-dir "$work/$1" --heartbeat-ms 250 --log-level warn ${3:+--join "$3"} >"$work/$1.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 50); do ctl "$1" status >/dev/null 2>&1 && return; sleep 0.1; done
    echo "$1 did not start; its log:"; cat "$work/$1.log"; exit 1
}
endpoint() { ctl "$1" --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["router_endpoint"])'; }

echo "zpartisan demo: 3 servers and 3 clients as separate processes on 127.0.0.1 (Ctrl-C to stop)"
start s1 server
start s2 server "$(endpoint s1)"
start s3 server "$(endpoint s1)"
start c1 client "$(endpoint s1)"
start c2 client "$(endpoint s2)"
start c3 client "$(endpoint s3)"
echo "s2, s3 joined s1 (the mesh completes itself); c1, c2, c3 joined s1, s2, s3"

# In the background, so that a signal to this shell runs the trap at once (bash runs it only
# after a foreground command ends); `wait` returns as soon as one arrives.
python3 "$here/demo-watch.py" "$bin/zpartisan-ctl" "$work" "$rounds" "$work/summary" &
watcher=$!
wait "$watcher"
status=$?
watcher=
exit "$status"
