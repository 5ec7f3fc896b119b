# Helpers shared by the multi-process tests (sourced, never run): assertions that count, waits
# that poll a condition until a deadline, and queries to a daemon through zpartisan-ctl --json.
# The sourcing script sets $ctl (the zpartisan-ctl binary) and $work (where the daemons'
# ipc:// control sockets are: $work/NAME.ctl) before it queries; it may define dump() to print
# what the nodes say when an assertion fails.
passed=0
failed=0
on_failure() { if declare -F dump >/dev/null; then dump; fi; }
check() {  # check DESCRIPTION COMMAND...: one assertion
    local what=$1; shift
    if "$@"; then passed=$((passed + 1)); echo "ok: $what"; else failed=$((failed + 1)); echo "FAILED: $what"; on_failure; fi
}
wait_for() {  # wait_for DESCRIPTION SECONDS COMMAND...: poll until true or the deadline
    local what=$1 seconds=$2; shift 2
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
