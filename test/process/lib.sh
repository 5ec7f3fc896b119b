# Helpers shared by the multi-process tests (sourced, never run): assertions that count, waits
# that poll a condition until a deadline, and queries to a daemon through zpartisan-ctl --json.
# The sourcing script sets $ctl (the zpartisan-ctl binary) and $work (where the daemons'
# ipc:// control sockets are: $work/NAME.ctl) before it queries; it may define dump() to print
# what the nodes say when an assertion fails.
passed=0
failed=0

# daemons_in BUILD_DIR LABEL: node and ctl (the binaries), work (a fresh temporary directory),
# pid (name -> daemon pid) and a trap that kills every daemon in pid (stopped ones too) and
# removes work on exit.
daemons_in() {
    node="$1/zpartisan-node"
    ctl="$1/zpartisan-ctl"
    work=$(mktemp -d "/tmp/zpartisan-$2-XXXXXX")
    declare -gA pid=()
    trap kill_daemons_and_clean_up EXIT
}
kill_daemons_and_clean_up() {
    for p in "${pid[@]}"; do kill -CONT "$p" 2>/dev/null; kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$work"
}
on_failure() { if declare -F dump >/dev/null; then dump; fi; }
check() {  # check DESCRIPTION COMMAND...: one assertion
    local what=$1; shift
    if "$@"; then passed=$((passed + 1)); echo "ok: $what"; else failed=$((failed + 1)); echo "FAILED: $what"; on_failure; fi
}
# A sanitizer build runs several times slower: its make target sets ZPARTISAN_TEST_TIME_SCALE
# (a whole number) and every wait_for deadline is multiplied by it.
time_scale=${ZPARTISAN_TEST_TIME_SCALE:-1}
wait_for() {  # wait_for DESCRIPTION SECONDS COMMAND...: poll until true or the deadline
    local what=$1 seconds=$(($2 * time_scale)); shift 2
    local start=$SECONDS deadline=$((SECONDS + seconds))
    while [ $SECONDS -lt $deadline ]; do
        if "$@" >/dev/null 2>&1; then
            passed=$((passed + 1)); echo "ok: $what ($((SECONDS - start)) s)"; return 0
        fi
        sleep 0.1
    done
    failed=$((failed + 1)); echo "FAILED (timed out after $seconds s): $what"; on_failure; return 1
}
finish() {  # the summary line; the exit status says whether every assertion held
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
not() { ! "$@"; }
quietly() { "$@" >/dev/null; }
exited() { ! kill -0 "$1" 2>/dev/null; }

q() { "$ctl" -c "ipc://$work/$1.ctl" --json "${@:2}"; }  # q NAME COMMAND...: its JSON answer
# The interpreter itself, not a version manager's shim (those cost half a second a call).
py=$(python3 -c 'import sys; print(sys.executable)')
json() { "$py" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }  # json EXPR: of stdin's d
endpoint_of() { q "$1" status | json 'd["router_endpoint"]'; }
answers() { for n in "$@"; do q "$n" status || return 1; done; }  # every named node answers
members_are() { test "$(q "$1" members | json '",".join(m["name"] for m in d["members"])')" = "$2"; }
reachable() {  # reachable OBSERVER NODE: prints True/False
    q "$1" members | json "[m['reachable'] for m in d['members'] if m['name']=='$2'][0]"
}
sees_down() { test "$(reachable "$1" "$2")" = False; }
sees_up() { test "$(reachable "$1" "$2")" = True; }
# Starts s1, s2, s3 (meshed through s1) and c1, c2, c3 (ci joins si) with the sourcing
# script's start NAME ROLE [JOIN]; sets s1, s2, s3 to their router endpoints.
start_three_servers_three_clients() {
    start s1 server
    wait_for "s1 answers on its control endpoint" 10 q s1 status
    s1=$(endpoint_of s1)
    start s2 server "$s1"
    start s3 server "$s1"
    wait_for "s2 and s3 answer" 10 answers s2 s3
    s2=$(endpoint_of s2)
    s3=$(endpoint_of s3)
    start c1 client "$s1"
    start c2 client "$s2"
    start c3 client "$s3"
}
