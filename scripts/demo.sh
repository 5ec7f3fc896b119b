#!/usr/bin/env bash
# `make run`: a local demo cluster of real daemons on 127.0.0.1: 3 servers and 3 clients
# (zpartisan-node), watched through zpartisan-ctl. Every second it shows each node's view of
# the membership and sends a message from c1 to c3, which travels c1 -> s1 -> s3 -> c3.
# Ctrl-C stops everything it started; nothing is left running.
set -u
bin=${1:-build}
rounds=${2:-0}  # 0: until Ctrl-C
work=$(mktemp -d /tmp/zpartisan-demo-XXXXXX)
pids=()
cleanup() {
    trap - INT TERM EXIT
    echo
    echo "stopping the demo cluster"
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$work"
    exit 0
}
trap cleanup INT TERM EXIT
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

round=0
while [ "$rounds" -eq 0 ] || [ "$round" -lt "$rounds" ]; do
    round=$((round + 1))
    ctl c1 forward c3 inbox "hello #$round from c1" >/dev/null
    sleep 1
    echo "=== t=${round}s ==============================================================="
    for n in s1 s2 s3 c1 c2 c3; do
        ctl "$n" --json members | python3 -c "
import json, sys
members = json.load(sys.stdin)['members']
view = ' '.join(m['name'] + ('' if m['reachable'] else '(down)') for m in members)
print(f'  $n sees {len(members)}: {view}')"
    done
    echo "  c3's inbox (relayed c1 -> s1 -> s3 -> c3):"
    ctl c3 --json inbox | python3 -c "
import json, sys
for m in json.load(sys.stdin)['messages'][-3:]:
    print(f\"    from {m['from']}: {m['payload']}\")"
done
