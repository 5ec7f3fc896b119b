#!/usr/bin/env bash
# Multi-process test of the daemon's exposure: its ipc:// control socket file is private to its
# user (mode 0600); a TCP control endpoint off loopback is refused at start (exit 2, saying why)
# unless --control-allow-remote is given; and a server flooded with random bytes and frames
# from hundreds of connections keeps a short log with the peers' bytes escaped, counts the
# drops in its metrics, and still relays between its clients. Every wait polls with a deadline.
set -u
. "$(dirname "$0")/lib.sh"
daemons_in "${1:?usage: safety_test.sh BUILD_DIR}" safety
start() {  # start NAME ROLE [JOIN]
    local name=$1 role=$2 join=${3:-}
    "$node" --name "$name" --role "$role" --cluster safety-test --heartbeat-ms 100 --gossip-ms 200 \
        --control "ipc://$work/$name.ctl" ${join:+--join "$join"} >"$work/$name.log" 2>&1 &
    pid[$name]=$!
}
dump() { for n in s1 c1 c2; do echo "--- $n.log (last 20 lines)"; tail -n 20 "$work/$n.log" 2>/dev/null; done; }

# The control endpoint stays on this host unless the operator says otherwise.
"$node" --name r1 --control tcp://0.0.0.0:0 >"$work/r1.out" 2>&1
rc=$?
check "a control endpoint on 0.0.0.0 is refused with exit 2" test "$rc" -eq 2
check "the refusal says why and what to do" grep -q "not a loopback address.*--control-allow-remote" "$work/r1.out"
"$node" --name r2 --control "ipc://$work/r2.ctl" --max-peers 0 >"$work/r2.out" 2>&1
check "a bad limit is refused naming its field" grep -q "max_peers" "$work/r2.out"

start s1 server
wait_for "s1 answers on its control endpoint" 10 q s1 status
check "s1's control socket is a socket file of mode 600" test "$(stat -c '%F %a' "$work/s1.ctl")" = "socket 600"
s1=$(endpoint_of s1)
start c1 client "$s1"
start c2 client "$s1"
wait_for "c1 and c2 joined s1" 20 members_are s1 c1,c2,s1
lines_before=$(wc -l <"$work/s1.log")

# The flood: random bytes on 100 raw TCP connections, and 100 ZeroMQ requests with random
# payloads (zpartisan-ctl speaks ZMTP; its request is a shape s1's ROUTER does not speak).
port=${s1##*:}
for i in $(seq 100); do
    head -c 2048 /dev/urandom 2>/dev/null >"/dev/tcp/127.0.0.1/$port" || true
done
for i in $(seq 100); do
    "$ctl" -c "$s1" --timeout-ms 20 send x "$(head -c 32 /dev/urandom | base64)" >/dev/null 2>&1 || true
done
bad_frames() {
    q s1 metrics | json 'sum(v for k, v in d["counters"].items() if k.startswith("dropped_decode_") or k == "dropped_malformed_multipart")'
}
wait_for "s1 counts the garbage frames as drops" 10 test "$(bad_frames)" -ge 100
check "s1 counts the log lines it held back" test "$(q s1 metrics | json 'd["counters"].get("log_lines_suppressed", 0)')" -gt 0
flood_lines=$(($(wc -l <"$work/s1.log") - lines_before))
echo "s1 wrote $flood_lines log lines for $(bad_frames) bad frames"
check "s1's log stays short under the flood" test "$flood_lines" -lt 60
check "no raw bytes reach the log" not grep -qP '[^\x20-\x7e]' "$work/s1.log"

# Still serving.
wait_for "c1 still reaches c2 through s1" 10 quietly q c1 forward --ack c2 inbox after-the-flood
inbox_holds() { q "$1" inbox | grep -q "$2"; }
check "c2 holds the message" inbox_holds c2 after-the-flood
finish
