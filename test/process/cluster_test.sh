#!/usr/bin/env bash
# Multi-process test: 3 servers and 3 clients as real zpartisan-node daemons on 127.0.0.1,
# driven through zpartisan-ctl. Membership converges; a message goes client to client through
# two servers; kill -9 and SIGSTOP of servers are seen; everything stops at the end.
# Every wait polls with a deadline; the trap kills whatever is still running.
set -u
. "$(dirname "$0")/lib.sh"
daemons_in "${1:?usage: cluster_test.sh BUILD_DIR}" process
start() {  # start NAME ROLE [JOIN]
    local name=$1 role=$2 join=${3:-}
    mkdir -p "$work/$name"
    "$node" --name "$name" --role "$role" --cluster process-test --heartbeat-ms 100 --missed-heartbeats 3 \
        --gossip-ms 200 --data-dir "$work/$name" --control "ipc://$work/$name.ctl" --log-level warn \
        ${join:+--join "$join"} >"$work/$name.log" 2>&1 &
    pid[$name]=$!
}
member_count() { q "$1" members | json 'len(d["members"])'; }
# Conditions for wait_for: functions, so they are evaluated afresh at every poll.
lists_all_six() { test "$(member_count "$1")" = 6; }
last_inbox_is() { test "$(q "$1" inbox | json "d['messages'][-1]['$2']")" = "$3"; }
homed_away_from() { local h; h=$(q "$1" status | json 'd["home"]'); test -n "$h" -a "$h" != "$2"; }

# Bad flags: non-zero exit and one line naming the problem.
out=$("$node" --role banana --name x 2>&1); rc=$?
check "--role banana is rejected" test $rc -ne 0 -a "$(echo "$out" | wc -l)" -eq 1
check "the message names --role" grep -q -- "--role" <<<"$out"
out=$("$node" --name x --bind not-an-endpoint --control "ipc://$work/x.ctl" 2>&1); rc=$?
check "a bad endpoint is rejected, naming it" test $rc -ne 0 -a -n "$(grep not-an-endpoint <<<"$out")"
out=$("$node" 2>&1); rc=$?
check "a missing name is rejected, naming it" test $rc -ne 0 -a -n "$(grep -- --name <<<"$out")"

start_three_servers_three_clients
for n in s1 s2 s3 c1 c2 c3; do
    wait_for "$n lists all 6 members" 20 lists_all_six "$n"
done

forward_quietly() { q "$@" >/dev/null; }
check "c1 forwards to c3 through two servers" forward_quietly c1 forward c3 inbox hello-from-c1
wait_for "c3's inbox holds it" 10 last_inbox_is c3 payload hello-from-c1
check "the message came from c1" last_inbox_is c3 from c1

kill -9 "${pid[s3]}"
wait "${pid[s3]}" 2>/dev/null  # reaped here: no "Killed" noise later
wait_for "kill -9 of s3 is seen by s1" 5 sees_down s1 s3
wait_for "and by c1, through its server" 5 sees_down c1 s3
wait_for "c3 re-homes away from the dead s3" 10 homed_away_from c3 s3
check "s3 is still a member (failure is not removal)" test "$(member_count s1)" = 6

kill -STOP "${pid[s2]}"
wait_for "SIGSTOP of s2 is seen by s1" 5 sees_down s1 s2
kill -CONT "${pid[s2]}"
wait_for "s2 is reachable again after SIGCONT" 10 sees_up s1 s2

for n in s1 s2 c1 c2 c3; do kill -TERM "${pid[$n]}"; done
for n in s1 s2 c1 c2 c3; do
    wait_for "$n exits on SIGTERM" 10 exited "${pid[$n]}"
done

finish
