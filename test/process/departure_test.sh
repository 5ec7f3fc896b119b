#!/usr/bin/env bash
# Multi-process test: a daemon whose node leaves or is removed does not linger. 2 servers and
# 2 clients as real zpartisan-node daemons on 127.0.0.1, driven through zpartisan-ctl: a client
# removed by a server exits non-zero (3) saying it was removed; a client told to leave answers
# the leave, then exits 3 saying it left; `status` against it no longer succeeds; SIGTERM
# still exits 0. Every wait polls with a deadline; the trap kills whatever is still running.
set -u
. "$(dirname "$0")/lib.sh"
daemons_in "${1:?usage: departure_test.sh BUILD_DIR}" departure
start() {  # start NAME ROLE [JOIN]
    local name=$1 role=$2 join=${3:-}
    mkdir -p "$work/$name"
    "$node" --name "$name" --role "$role" --cluster departure-test --heartbeat-ms 100 --missed-heartbeats 3 \
        --gossip-ms 200 --data-dir "$work/$name" --control "ipc://$work/$name.ctl" --log-level warn \
        ${join:+--join "$join"} >"$work/$name.log" 2>&1 &
    pid[$name]=$!
}
reap() {  # reap NAME: rc = its daemon's exit status (not in a subshell: wait needs its parent)
    exited "${pid[$1]}" || kill -9 "${pid[$1]}"  # still up: 137, which fails the check that follows
    wait "${pid[$1]}" 2>/dev/null
    rc=$?
    unset "pid[$1]"
}

start s1 server
wait_for "s1 answers on its control endpoint" 10 q s1 status
s1=$(endpoint_of s1)
start s2 server "$s1"
wait_for "s2 answers" 10 answers s2
s2=$(endpoint_of s2)
start c3 client "$s1"
start c4 client "$s2"
for n in s1 s2 c3 c4; do
    wait_for "$n lists all 4 members" 20 members_are "$n" c3,c4,s1,s2
done
check "status of a running node exits 0" quietly q c4 status

# Removed by another node: c4 learns it, stops, and its daemon exits non-zero, saying why.
check "s1 removes c4" quietly q s1 remove c4
wait_for "c4's daemon exits after its removal" 10 exited "${pid[c4]}"
reap c4
check "c4 exits with status 3 (got $rc)" test "$rc" = 3
check "c4's log says it was removed, and who told it" grep -q "removed from the cluster.*news came from s" "$work/c4.log"
wait_for "s1 no longer lists c4" 10 members_are s1 c3,s1,s2
wait_for "s2 no longer lists c4" 10 members_are s2 c3,s1,s2

# Leaving through zpartisan-ctl: the leave is answered, then the daemon exits non-zero.
out=$("$ctl" -c "ipc://$work/c3.ctl" --json leave 2>&1); rc=$?
check "c3's leave is answered ok before its daemon exits (exit $rc: $out)" test $rc = 0
# Whether the daemon still answers in its last moments or has gone, a health check fails.
"$ctl" -c "ipc://$work/c3.ctl" --timeout-ms 2000 status >/dev/null 2>&1; rc=$?
check "status of c3 after it left exits non-zero (got $rc)" test $rc -ne 0
wait_for "c3's daemon exits after leaving" 10 exited "${pid[c3]}"
reap c3
check "c3 exits with status 3 (got $rc)" test "$rc" = 3
check "c3's log says it left" grep -q "left the cluster" "$work/c3.log"
wait_for "s1 lists only the servers" 10 members_are s1 s1,s2

# A daemon stopped by a signal (without --leave-on-stop) still exits 0.
for n in s1 s2; do kill -TERM "${pid[$n]}"; done
for n in s1 s2; do
    wait_for "$n exits on SIGTERM" 10 exited "${pid[$n]}"
    reap "$n"
    check "$n exits 0 on SIGTERM (got $rc)" test "$rc" = 0
done

if [ "$failed" -ne 0 ]; then
    for n in s1 s2 c3 c4; do echo "--- $n.log"; cat "$work/$n.log"; done
fi
finish
