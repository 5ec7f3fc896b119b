#!/usr/bin/env bash
# Multi-process test over real links: 2 servers and 1 client as zpartisan-node daemons, each in
# a network namespace of its own, joined by veth pairs to a bridge in a fourth namespace
# (10.200.0.0/24: s1 .1, s2 .2, c1 .3). Control endpoints are ipc:// sockets in a temporary
# directory (a filesystem path crosses network namespaces), driven through zpartisan-ctl --json.
#   1. the s1 <-> s2 link is cut (blackhole routes at both ends: packets vanish silently, no
#      reset): each server sees the other unreachable; restored, they converge back (every
#      member reachable everywhere, the same members on all three);
#   2. the c1 <-> home link alone is cut the same way: c1 re-homes to the other server, which
#      relays to it what its old home sends; restored, the invariants hold;
#   3. c1's port on the bridge goes down (the cable pulled): both servers see c1 unreachable;
#      up again, c1 comes back and the invariants hold.
# Namespace names carry $$, so parallel runs do not clash. Needs root and `ip netns`; without
# them it prints "SKIP: <reason>" and exits 0. Every wait polls with a deadline; the trap kills
# the daemons and deletes every namespace (their veths and bridge go with them).
set -u
. "$(dirname "$0")/lib.sh"
bin=${1:?usage: netns_link_test.sh BUILD_DIR}
node="$bin/zpartisan-node"
ctl="$bin/zpartisan-ctl"
pfx="zpn$$"
bridge_ns="${pfx}br"
hosts=(s1 s2 c1)
declare -A ip=([s1]=10.200.0.1 [s2]=10.200.0.2 [c1]=10.200.0.3)
declare -A pid
work=
teardown() {
    {  # stderr away: no "Killed" notices
        for p in "${pid[@]}"; do kill -CONT "$p"; kill -9 "$p"; done
        for p in "${pid[@]}"; do wait "$p"; done
    } 2>/dev/null
    pid=()
    for h in "${hosts[@]}"; do ip netns del "$pfx$h" 2>/dev/null; done
    ip netns del "$bridge_ns" 2>/dev/null
    [ -n "$work" ] && rm -rf "$work"
    work=
}
trap teardown EXIT

skip() { echo "SKIP: $*"; exit 0; }
command -v ip >/dev/null || skip "no ip command (iproute2)"
[ "$(id -u)" -eq 0 ] || skip "network namespaces need root"
ip netns add "$bridge_ns" 2>/dev/null || skip "ip netns add failed (no network namespace support?)"
# From here on a failure to build the network is a failure, not a skip.
set -e
ip -n "$bridge_ns" link add br0 type bridge
ip -n "$bridge_ns" link set br0 up
for h in "${hosts[@]}"; do
    ip netns add "$pfx$h"
    ip -n "$pfx$h" link set lo up
    # Created straight inside the namespaces: eth0 in the host's, $pfx$h on the bridge.
    ip link add eth0 netns "$pfx$h" type veth peer name "$pfx$h" netns "$bridge_ns"
    ip -n "$bridge_ns" link set "$pfx$h" master br0 up
    ip -n "$pfx$h" addr add "${ip[$h]}/24" dev eth0
    ip -n "$pfx$h" link set eth0 up
done
set +e
work=$(mktemp -d /tmp/zpartisan-netns-XXXXXX)

dump() { for h in "${hosts[@]}"; do echo "  $h members: $(q "$h" --timeout-ms 1000 members 2>&1)"; done; }
start() {  # start NAME ROLE [JOIN]: the daemon inside its namespace, bound to its address
    local name=$1 role=$2 join=${3:-}
    mkdir -p "$work/$name"
    ip netns exec "$pfx$name" "$node" --name "$name" --role "$role" --cluster netns-test \
        --bind "tcp://${ip[$name]}:7000" --pub-bind "tcp://${ip[$name]}:7001" \
        --heartbeat-ms 100 --missed-heartbeats 3 --gossip-ms 200 --data-dir "$work/$name" \
        --control "ipc://$work/$name.ctl" --log-level warn ${join:+--join "$join"} >"$work/$name.log" 2>&1 &
    pid[$name]=$!
}
home_of() { q "$1" status | json 'd["home"]'; }
homed_on() { test "$(home_of "$1")" = "$2"; }
view() {  # one line per node's view: the members with role, home and incarnation, and whether all are reachable
    q "$1" members | json '";".join("/".join(str(m[k]) for k in ("name", "role", "home", "incarnation")) for m in d["members"]) + " " + str(all(m["reachable"] for m in d["members"]))'
}
converged() {  # every node lists the same 3 members, all reachable, and c1 is homed on a server
    local first v h
    first=$(view s1) || return 1
    [[ $first == *" True" && $first == c1/* ]] || return 1
    [ "$(tr ';' '\n' <<<"${first% *}" | wc -l)" = 3 ] || return 1
    for h in s2 c1; do v=$(view "$h") || return 1; [ "$v" = "$first" ] || return 1; done
    [[ $(home_of c1) == s[12] ]]
}
cut() { ip -n "$pfx$1" route add blackhole "${ip[$2]}/32" && ip -n "$pfx$2" route add blackhole "${ip[$1]}/32"; }
restore() { ip -n "$pfx$1" route del blackhole "${ip[$2]}/32" && ip -n "$pfx$2" route del blackhole "${ip[$1]}/32"; }
seq_no=0
forward_arrives() {  # forward_arrives FROM TO
    seq_no=$((seq_no + 1))
    local payload="$1-to-$2-$seq_no"
    wait_for "$1 accepts a forward to $2" 5 q "$1" forward "$2" inbox "$payload" &&
        wait_for "$1 -> $2 arrives" 10 inbox_has "$2" "$payload"
}
inbox_has() { q "$1" inbox | json "any(m['payload']=='$2' for m in d['messages'])" | grep -q True; }

start s1 server
start s2 server "tcp://${ip[s1]}:7000"
start c1 client "tcp://${ip[s1]}:7000"
wait_for "all three answer on their ipc control endpoints" 10 answers s1 s2 c1
wait_for "all three converge (same members, all reachable, c1 homed)" 20 converged
echo "c1's home: $(home_of c1)"
check "s1 advertises its namespace address" test "$(q s1 status | json 'd["router_endpoint"]')" = "tcp://${ip[s1]}:7000"

# 1. The server-server link.
check "cut s1 <-> s2" cut s1 s2
wait_for "s1 sees s2 unreachable" 10 sees_down s1 s2
wait_for "s2 sees s1 unreachable" 10 sees_down s2 s1
check "restore s1 <-> s2" restore s1 s2
wait_for "converged again after the server link is restored" 20 converged
forward_arrives s2 c1

# 2. The client's link to its home alone (s1, unless a false detection while the cluster
# started moved it): it re-homes to the other server.
home=$(home_of c1)
other=$([ "$home" = s1 ] && echo s2 || echo s1)
check "cut c1 <-> $home (its home)" cut c1 "$home"
wait_for "c1 re-homes to $other" 15 homed_on c1 "$other"
wait_for "$home sees c1 reachable again, through $other" 10 sees_up "$home" c1
forward_arrives "$home" c1
check "restore c1 <-> $home" restore c1 "$home"
wait_for "converged again after the client link is restored" 20 converged

# 3. The client's cable pulled: isolated, then back.
check "c1's bridge port goes down" ip -n "$bridge_ns" link set "${pfx}c1" down
wait_for "s1 sees c1 unreachable" 10 sees_down s1 c1
wait_for "s2 sees c1 unreachable" 10 sees_down s2 c1
check "c1's bridge port comes up" ip -n "$bridge_ns" link set "${pfx}c1" up
wait_for "converged again after c1's cable is back" 20 converged
forward_arrives c1 s1
forward_arrives s2 c1

teardown
check "no namespace of this run is left" test -z "$(ip netns list | grep "^$pfx")"
finish
