#!/usr/bin/env bash
# Multi-process test of zpartisan-ctl's messaging and membership commands against real daemons
# (2 servers, 2 clients on 127.0.0.1): an acked forward prints `delivered` only when it was, and
# fails with the reason (unknown_handler; timeout while its receiver is stopped, during which the
# control endpoint keeps answering); plain sends print their status; a binary payload round-trips
# byte for byte through --payload-file and inbox's payload_base64; update-members adds a member
# and removes others (whose daemon exits 3); a partition asked of another server's client holds
# there when answered, and one asked of a stopped client fails with timeout; a member named by
# update-members that never joined is listed not reachable, and sends to it answer
# not_yet_connected. Every wait polls with a deadline; the trap kills
# whatever is still running.
set -u
. "$(dirname "$0")/lib.sh"
daemons_in "${1:?usage: control_commands_test.sh BUILD_DIR}" control
c() { "$ctl" -c "ipc://$work/$1.ctl" "${@:2}"; }  # human output
q() { c "$1" --json "${@:2}"; }                     # JSON output
# 50 heartbeats missed before a peer counts as failed (times the time scale: a slow build's
# steps take longer while c2 is stopped): a receiver stopped for seconds stays reachable, so
# an acked forward to it goes out and is retransmitted, never acknowledged.
start() {  # start NAME ROLE [JOIN]
    local name=$1 role=$2 join=${3:-}
    mkdir -p "$work/$name"
    "$node" --name "$name" --role "$role" --cluster control-test --heartbeat-ms 100 --missed-heartbeats $((50 * time_scale)) \
        --gossip-ms 200 --data-dir "$work/$name" --control "ipc://$work/$name.ctl" --log-level warn \
        ${join:+--join "$join"} >"$work/$name.log" 2>&1 &
    pid[$name]=$!
}
inbox_has() { q "$1" inbox | json "[m['payload_base64'] for m in d['messages']]" | grep -qF "'$2'"; }
retransmissions() { q "$1" metrics | json 'd["counters"].get("retransmissions", 0)'; }
retransmits_beyond() { test "$(retransmissions "$1")" -gt "$2"; }
holds_no_partition() { test "$(q "$1" partitions | json 'len(d["partitions"])')" = 0; }
reachable_is() {  # reachable_is OBSERVER NODE True|False
    test "$(q "$1" members | json "[m['reachable'] for m in d['members'] if m['name']=='$2'][0]")" = "$3"
}

start s1 server
wait_for "s1 answers on its control endpoint" 10 q s1 status
s1=$(endpoint_of s1)
start s2 server "$s1"
start c1 client "$s1"
wait_for "s2 answers" 10 answers s2
start c2 client "$(endpoint_of s2)"
for n in s1 s2 c1 c2; do wait_for "$n lists the 4 members" 20 members_are "$n" c1,c2,s1,s2; done
wait_for "c1 sees c2 reachable" 10 sees_up c1 c2

# --- acked forwards: delivered, or non-zero with the reason --------------------------------------
out=$(c c1 forward --ack c2 inbox hello 2>&1); rc=$?
check "forward --ack to a handler that exists prints delivered (got: $out)" test $rc -eq 0 -a "$out" = delivered
wait_for "and c2's inbox holds it" 10 inbox_has c2 "$(printf hello | base64 -w0)"
out=$(c c1 forward --ack c2 nosuchhandler hello 2>&1); rc=$?
check "forward --ack to an unknown handler exits 1 (got $rc)" test $rc -eq 1
check "saying unknown_handler (got: $out)" grep -q unknown_handler <<<"$out"
answer=$(q c1 forward --ack c2 nosuchhandler hello); rc=$?
check "--json carries the outcome (got: $answer)" test $rc -eq 1 -a \
    "$(json 'd["delivered"], d["reason"], d["status"]' <<<"$answer")" = "False unknown_handler ok"
out=$(c c1 forward c2 inbox plain 2>&1); rc=$?
check "a plain forward prints its send status, ok (got: $out)" test $rc -eq 0 -a "$out" = ok
out=$(c c1 send nobody hello 2>&1); rc=$?
check "a send to an unknown node exits 1 with the status (got: $out)" test $rc -eq 1 -a -n "$(grep unknown_node <<<"$out")"

# While a forward waits for a report that cannot come (its receiver stopped), the control
# endpoint answers other requests; at --timeout-ms the forward fails, maybe delivered.
before=$(retransmissions c1)
kill -STOP "${pid[c2]}"
c c1 forward --ack --timeout-ms 4000 c2 inbox while-stopped >"$work/waiting.out" 2>&1 &
waiting=$!
wait_for "c1 retransmits the forward to the stopped c2" 3 retransmits_beyond c1 "$before"
wait_for "c1 answers status while the acked forward waits" 2 answers c1
check "the acked forward is still waiting then" kill -0 "$waiting"
wait_for "the waiting forward ends by its timeout" 8 exited "$waiting"
wait "$waiting"; rc=$?
check "not delivered: exit 1 (got $rc: $(cat "$work/waiting.out"))" test $rc -eq 1
check "saying why" grep -q "not delivered" "$work/waiting.out"
# A partition asked of the stopped c2 (still reachable: 50 heartbeats) gets no confirmation:
# it fails with timeout at the ack timeout (5 s), and c2 holds nothing once it runs again.
c c1 partition --origin c2 >"$work/partition.out" 2>&1 &
partitioning=$!
wait_for "c1 answers status while the partition waits for its confirmation" 2 answers c1
wait_for "the partition of a stopped c2 ends" 9 exited "$partitioning"
wait "$partitioning"; rc=$?
check "it exits 1 (got $rc: $(cat "$work/partition.out"))" test $rc -eq 1
check "saying timeout" grep -q "timeout" "$work/partition.out"
kill -CONT "${pid[c2]}"
wait_for "c2, running again, holds no partition" 10 holds_no_partition c2
wait_for "c2 is reachable again" 10 sees_up c1 c2
out=$(c c1 partition --origin c2 2>&1); rc=$?
check "a partition asked of c2, another server's client, answers its reference (got: $out)" test $rc -eq 0
check "c2 holds it when the call answered" not holds_no_partition c2
check "c1 heals it" c c1 heal "$out"
wait_for "c2 holds no partition" 10 holds_no_partition c2
wait_for "c1 sees c2 reachable after the heal" 10 sees_up c1 c2

# --- a payload of any bytes, exactly --------------------------------------------------------------
printf '\x00\xff\xfe\x01\x80binary\xc3\x28\n' >"$work/blob"
out=$(c c1 forward --ack c2 inbox --payload-file "$work/blob" 2>&1); rc=$?
check "a binary payload from --payload-file is delivered (got: $out)" test $rc -eq 0 -a "$out" = delivered
blob64=$(base64 -w0 "$work/blob")
wait_for "c2's inbox holds its exact bytes as payload_base64" 10 inbox_has c2 "$blob64"
q c2 inbox | json "[m['payload_base64'] for m in d['messages']][-1]" | base64 -d >"$work/blob.back"
check "which decode to the very file" cmp -s "$work/blob" "$work/blob.back"
out=$(c c1 send c2 --base64 "$(printf '\xfe\x00' | base64 -w0)" 2>&1); rc=$?
check "send --base64 goes out (got: $out)" test $rc -eq 0 -a "$out" = ok
wait_for "and arrives as those bytes" 10 inbox_has c2 "$(printf '\xfe\x00' | base64 -w0)"
out=$(c c1 send c2 --base64 'not base64!' 2>&1); rc=$?
check "--base64 that is not base64 is a command-line error (got: $out)" test $rc -eq 2
out=$(c c1 send c2 text --payload-file "$work/blob" 2>&1); rc=$?
check "a payload and --payload-file both are a command-line error (got: $out)" test $rc -eq 2

# --- update-members -------------------------------------------------------------------------------
out=$(c s1 update-members name=s1 name=s2 name=c1 name=c2 \
    name=c9,role=client,router_endpoint=tcp://127.0.0.1:9,home=s1,incarnation=1 2>&1); rc=$?
check "update-members adding c9 answers ok (got: $out)" test $rc -eq 0 -a "$out" = ok
for n in s2 c1 c2; do wait_for "$n lists c9" 10 members_are "$n" c1,c2,c9,s1,s2; done
q s1 state >"$work/state.json"
out=$(c s1 update-members --specs-file - <"$work/state.json" 2>&1); rc=$?
check "update-members with state's own specs changes nothing (got: $out)" test $rc -eq 0 -a "$out" = ok
check "c9 is still listed" members_are s1 c1,c2,c9,s1,s2
out=$(c s1 update-members name=s1,bogus=1 2>&1); rc=$?
check "a spec with an unknown field exits 1, naming it (got: $out)" test $rc -eq 1 -a -n "$(grep bogus <<<"$out")"
out=$(c s1 update-members name=s1 name=s2 name=c1 2>&1); rc=$?
check "update-members dropping c2 and c9 answers ok (got: $out)" test $rc -eq 0 -a "$out" = ok
for n in s1 s2 c1; do wait_for "$n lists s1, s2, c1 only" 10 members_are "$n" c1,s1,s2; done
wait_for "c2's daemon exits, removed" 10 exited "${pid[c2]}"
wait "${pid[c2]}"; rc=$?
unset "pid[c2]"
check "with status 3 (got $rc)" test $rc -eq 3

# A member named by update_members that never joined: a running client daemon started without
# --join. s1 lists it, never reachable; a forward to it answers not_yet_connected.
start c8 client
wait_for "c8 (not joined) answers" 10 answers c8
c8=$(endpoint_of c8)
out=$(c s1 update-members name=s1 name=s2 name=c1 "name=c8,role=client,router_endpoint=$c8,incarnation=1" 2>&1); rc=$?
check "update-members naming the running, unjoined c8 answers ok (got: $out)" test $rc -eq 0 -a "$out" = ok
wait_for "c1 lists c8" 10 members_are c1 c1,c8,s1,s2
check "s1 lists c8 not reachable" reachable_is s1 c8 False
check "c1 lists c8 not reachable" reachable_is c1 c8 False
out=$(c s1 forward c8 inbox hello 2>&1); rc=$?
check "a forward to it exits 1 with not_yet_connected (got: $out)" test $rc -eq 1 -a -n "$(grep not_yet_connected <<<"$out")"
check "c8 itself still lists only itself" members_are c8 c8

for n in "${!pid[@]}"; do kill -TERM "${pid[$n]}"; done
for n in "${!pid[@]}"; do wait_for "$n exits on SIGTERM" 10 exited "${pid[$n]}"; done

finish
