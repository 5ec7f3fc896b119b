#!/usr/bin/env bash
# What an operator's tools see, on real daemons (docs/operations.md): `zpartisan-ctl health`
# passes on a settled cluster and fails with the reason when a server is down, when a client's
# home is SIGSTOPped, and for a stopped node; /metrics scraped over HTTP moves with traffic and
# counts failure detections; `zpartisan-ctl watch` sees a kill -9 and the restart after it, in
# order, and gives up on a node that stops answering. Every wait polls with a deadline.
set -u
. "$(dirname "$0")/lib.sh"
daemons_in "${1:?usage: operations_test.sh BUILD_DIR}" operations
start() {  # start NAME ROLE [JOIN] [MORE FLAGS...]
    local name=$1 role=$2 join=${3:-}
    mkdir -p "$work/$name"
    "$node" --name "$name" --role "$role" --cluster operations-test --heartbeat-ms 100 --missed-heartbeats 3 \
        --gossip-ms 200 --data-dir "$work/$name" --control "ipc://$work/$name.ctl" \
        ${join:+--join "$join"} "${@:4}" >>"$work/$name.log" 2>&1 &
    pid[$name]=$!
}
dump() { for n in s1 s2 c1; do echo "--- $n"; tail -5 "$work/$n.log"; done; echo "--- watch"; cat "$work/watch.out" "$work/watch.err" 2>/dev/null; }
health() { "$ctl" -c "ipc://$work/$1.ctl" --timeout-ms 2000 health 2>&1; }
healthy() { health "$1" >/dev/null; }
unhealthy_because() { local out; out=$(health "$1"); [ $? -ne 0 ] && grep -q -- "$2" <<<"$out"; }
metrics() { curl -sf "http://127.0.0.1:$metrics_port/metrics"; }
metric() { metrics | awk -v name="$1" '$1 == name { print $2 }'; }
metric_above() { local v; v=$(metric "$1"); [ -n "$v" ] && "$py" -c "import sys; sys.exit(0 if $v > $2 else 1)"; }
watched() { grep -q "\"event\":\"$1\",\"node\":\"$2\"\|\"event\":\"$1\".*\"node\":\"$2\"" "$work/watch.out"; }
line_of() { grep -n "\"event\":\"$1\"" "$work/watch.out" | grep "\"node\":\"$2\"" | head -1 | cut -d: -f1; }

start s1 server "" --metrics-bind 127.0.0.1:0
wait_for "s1 answers" 10 q s1 status
s1=$(endpoint_of s1)
start s2 server "$s1"
start c1 client "$s1"
for n in s1 s2 c1; do wait_for "$n is healthy (running and settled)" 20 healthy "$n"; done
check "health prints healthy" test "$(health s1)" = healthy
check "health --live answers alive" test "$("$ctl" -c "ipc://$work/s1.ctl" health --live)" = alive

# Metrics: the port the OS gave, from s1's log line.
metrics_port=$(sed -n 's|.*s1 metrics: http://[^:]*:\([0-9]*\)/metrics.*|\1|p' "$work/s1.log" | head -1)
check "s1 logs where its metrics are" test -n "$metrics_port"
wait_for "s1's /metrics counts three reachable members" 10 metric_above 'zpartisan_members{state="reachable"}' 2
check "/metrics types its families" grep -q '^# TYPE zpartisan_messages_relayed_total counter' <(metrics)
check "/metrics has the failure-detection histogram" grep -q '^# TYPE zpartisan_failure_detection_delay_seconds histogram' <(metrics)
check "/metrics has the stalled-frames gauge" grep -q '^# TYPE zpartisan_stalled_frames gauge' <(metrics)
out=$(timeout 10 "$node" --name x --control "ipc://$work/x.ctl" --metrics-bind "127.0.0.1:$metrics_port" 2>&1); rc=$?
check "a metrics port in use stops the daemon with status 2, naming it" \
    test $rc -eq 2 -a -n "$(grep "cannot serve metrics on 127.0.0.1:$metrics_port" <<<"$out")"
relayed_before=$(metric zpartisan_messages_relayed_total)
check "c1 forwards to s2 through its home s1" quietly q c1 forward s2 inbox through-s1
wait_for "s1's relayed counter moves" 10 metric_above zpartisan_messages_relayed_total "${relayed_before:-0}"

# Watch s1 while s2 is killed and restarted.
"$ctl" -c "ipc://$work/s1.ctl" watch --json >"$work/watch.out" 2>"$work/watch.err" &
pid[watch]=$!
wait_for "the watcher is subscribed" 10 grep -q watching "$work/watch.err"
kill -9 "${pid[s2]}"
wait "${pid[s2]}" 2>/dev/null
wait_for "the watcher sees s2 go down" 10 watched down s2
check "with its evidence: the connection was lost, seen by s1" \
    grep -q '"connection_lost":true,"detected_by":"s1"' "$work/watch.out"
wait_for "s1 is unhealthy, naming s2" 10 unhealthy_because s1 "server s2 is unreachable"
check "a killed node's health fails" not healthy s2
wait_for "s1's histogram counts the detection" 10 metric_above zpartisan_failure_detection_delay_seconds_count 0
start s2 server "$s1"
wait_for "the watcher sees s2 come back up" 20 watched up s2
check "down came before up" test "$(line_of down s2)" -lt "$(line_of up s2)"
wait_for "s1 is healthy again" 20 healthy s1

# A client whose home is SIGSTOPped, with no other server to go to.
kill -9 "${pid[s2]}"
wait "${pid[s2]}" 2>/dev/null
wait_for "s1 sees s2 down again" 10 sees_down s1 s2
kill -STOP "${pid[s1]}"
wait_for "c1 is unhealthy: its home s1 is unreachable" 10 unhealthy_because c1 "home server s1 is unreachable"
wait_for "the watcher of the stopped s1 gives up" 10 exited "${pid[watch]}"
wait "${pid[watch]}"
check "with status 2 and why" test $? -eq 2 -a -n "$(grep 'stopped answering' "$work/watch.err")"
kill -CONT "${pid[s1]}"

for n in s1 c1; do kill -TERM "${pid[$n]}"; done
for n in s1 c1; do wait_for "$n exits on SIGTERM" 10 exited "${pid[$n]}"; done
finish
