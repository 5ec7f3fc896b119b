#!/usr/bin/env bash
# Multi-process test of `make run`'s demo (scripts/demo.sh). Bounded to 3 rounds: it exits 0,
# shows a round a second (round 1 to round 3 in about 2 s, where a Python start-up per node per
# round made it about 4 s), never prints a traceback, ends with the summary line (at least one
# message relayed c1 -> c3, 6 members seen by every node), and leaves no daemon nor temp dir.
# Then a demo without a rounds bound, in a process group of its own as a terminal runs it, gets
# SIGINT (Ctrl-C) after its first round: it prints the stop message and the summary, no
# traceback, and leaves nothing running. Every wait polls with a deadline.
set -u
. "$(dirname "$0")/lib.sh"
bin=${1:?usage: demo_test.sh BUILD_DIR}
demo="$(cd "$(dirname "$0")/../.." && pwd)/scripts/demo.sh"
# The demos make their temp dirs in here, so the daemons left over (if any) are told apart from
# those of other demos running on the same machine.
tmp=$(mktemp -d /tmp/zpartisan-demotest-XXXXXX)
group=
cleanup() {
    # The daemons are in the demo's process group (it starts them without job control).
    if [ -n "$group" ]; then kill -KILL -- "-$group" 2>/dev/null; fi
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
dump() { echo "--- the demo's output (its last 40 lines):"; tail -n 40 "$out"; }

# run_demo OUT [ROUNDS]: the demo in the background, in a new session and process group (as a
# terminal's foreground job is); $group is its process group id, $demo_pid what to wait for.
run_demo() {
    rm -f "$tmp/group"
    TMPDIR=$tmp setsid -w bash -c 'echo $$ >"$0/group"; exec "$@"' "$tmp" "$demo" "$bin" "$2" >"$1" 2>&1 &
    demo_pid=$!
    wait_for "the demo's process group is known" 10 test -s "$tmp/group"
    group=$(cat "$tmp/group")
}
reap_demo() {  # rc = the demo's exit status; one still running is killed first (rc 137 then)
    exited "$demo_pid" || kill -KILL -- "-$group" 2>/dev/null
    wait "$demo_pid"
    rc=$?
}
has() { grep -q -- "$1" "$out"; }
at() { printf '%s' "$EPOCHREALTIME"; }
seconds_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
at_most() { awk -v x="$1" -v max="$2" 'BEGIN { exit !(x <= max) }'; }
nothing_left() {  # no daemon from the demos' temp dirs, no process in the demo's group, no temp dir
    ! pgrep -f "$tmp/zpartisan-demo-" >/dev/null && ! pgrep -g "$group" >/dev/null &&
        [ -z "$(find "$tmp" -mindepth 1 -maxdepth 1 -name 'zpartisan-demo-*')" ]
}
summary() { grep '^shown: ' "$out" | tail -n 1; }
relayed() { summary | sed -n 's/.* \([0-9][0-9]*\) of [0-9][0-9]* messages relayed c1 -> c3.*/\1/p'; }

# --- 3 rounds, then it stops by itself -----------------------------------------------------------
out="$tmp/bounded.out"
run_demo "$out" 3
wait_for "the cluster is up and round 1 is shown" 60 has "=== t=1s "
first=$(at)
wait_for "round 3 is shown" 15 has "=== t=3s "
third=$(at)
wait_for "the demo exits after 3 rounds" 20 exited "$demo_pid"
last=$(at)
reap_demo
check "the demo exits 0 (it exited $rc)" test "$rc" -eq 0
pace=$(seconds_between "$first" "$third")
total=$(seconds_between "$first" "$last")
echo "round 1 to round 3: $pace s; round 1 to the last line: $total s"
# A sanitizer build's every zpartisan-ctl call is slower: the bounds stretch with its time scale.
pace_bound=$(awk "BEGIN { print 3.5 * $time_scale }")
total_bound=$(awk "BEGIN { print 6 * $time_scale }")
check "a round a second: round 1 to round 3 within $pace_bound s (took $pace s)" at_most "$pace" "$pace_bound"
check "round 1 to the last line within $total_bound s (took $total s)" at_most "$total" "$total_bound"
check "exactly 3 rounds shown" test "$(grep -c '^=== t=' "$out")" -eq 3
check "each node's view is shown" has "c3 sees 6: c1 c2 c3 s1 s2 s3"
check "c1's first message reached c3's inbox" has "from c1: hello #1 from c1"
check "no traceback" not has "Traceback"
check "the stop message" has "stopping the demo cluster"
check "the summary is the last line" test "$(tail -n 1 "$out")" = "$(summary)"
check "the summary counts at least one message relayed ($(summary))" test "$(relayed)" -ge 1
check "the summary says 6 members seen by every node" has "^shown: 3 rounds, .*, 6 members seen by every node$"
wait_for "nothing left running, the temp dir removed" 10 nothing_left
group=

# --- until SIGINT, as Ctrl-C sends it to the terminal's foreground process group ---------------
out="$tmp/interrupted.out"
run_demo "$out" 0
wait_for "the cluster is up and round 1 is shown" 60 has "=== t=1s "
kill -INT -- "-$group"
wait_for "the demo exits on SIGINT" 20 exited "$demo_pid"
reap_demo
check "it exits 0 on SIGINT (it exited $rc)" test "$rc" -eq 0
check "the stop message" has "stopping the demo cluster"
check "no traceback" not has "Traceback"
check "the summary is the last line ($(summary))" test "$(tail -n 1 "$out")" = "$(summary)"
check "the summary says 6 members seen by every node" has "^shown: [0-9]* rounds*, .*, 6 members seen by every node$"
wait_for "nothing left running, the temp dir removed" 10 nothing_left
group=

finish
