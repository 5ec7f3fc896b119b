#!/usr/bin/env bash
# Multi-process test of CurveZMQ (README, "Security"): real zpartisan-node daemons on
# 127.0.0.1 with keys from `zpartisan-ctl keygen`. An encrypted cluster of 2 servers and 2
# clients forms and relays client to client, every socket reading ZMQ_MECHANISM CURVE
# (metrics); a node with a key not on the allow list, a plaintext node and a ZMTP 1.0 byte
# stream are refused at the handshake and logged with the peer's address and the reason; a key
# added to the allow list plus SIGHUP lets the refused node in without restarting anyone.
# Every wait polls with a deadline; the trap kills whatever is still running.
set -u
. "$(dirname "$0")/lib.sh"
daemons_in "${1:?usage: curve_test.sh BUILD_DIR}" curve
dump() { for f in "$work"/*.log; do echo "--- $f"; tail -n 15 "$f"; done; }
start() {  # start NAME ROLE [JOIN [EXTRA FLAGS...]]: with curve when $work/NAME.key exists
    local name=$1 role=$2 join=${3:-}
    local -a curve=()
    [ -f "$work/$name.key" ] && curve=(--curve-secret-file "$work/$name.key" --curve-allow "$work/allow")
    "$node" --name "$name" --role "$role" --cluster curve-test --heartbeat-ms 100 --missed-heartbeats 5 \
        --gossip-ms 200 --control "ipc://$work/$name.ctl" --log-level info "${curve[@]}" \
        ${join:+--join "$join"} "${@:4}" >"$work/$name.log" 2>&1 &
    pid[$name]=$!
}
key_of() { grep -v '^#' "$work/$1.key.pub" | cut -c1-40; }
counter() { q "$1" metrics | json "d['counters'].get('$2', 0)"; }
mechanisms_are_curve() {  # every socket of the node is CURVE, and there are some
    local answer; answer=$(q "$1" metrics) || return 1
    echo "$answer" | json 'd["counters"].get("sockets_mechanism_null", 0) == 0 and d["counters"].get("sockets_mechanism_curve", 0) >= 3 and d["counters"]["curve"] == 1' | grep -q True
}
delivered_to_inbox() {  # delivered_to_inbox NODE TEXT
    q "$1" inbox | json "any(m['payload'] == '$2' for m in d['messages'])" | grep -q True
}

# Keys: keygen writes the secret file owner-only and the public key beside it.
for n in s1 s2 c1 c2 intruder; do
    check "keygen writes $n's keypair" quietly "$ctl" keygen "$work/$n.key" --comment "$n"
done
check "the secret key file is mode 600" test "$(stat -c %a "$work/s1.key")" = 600
check "keygen refuses to overwrite a key" not "$ctl" keygen "$work/s1.key" 2>/dev/null
{ echo "# the cluster's nodes"; for n in s1 s2 c1 c2; do cat "$work/$n.key.pub"; done; } >"$work/allow"

start s1 server
wait_for "s1 (curve) answers on its control endpoint" 10 q s1 status
s1=$(endpoint_of s1)
s1_key=$(key_of s1)
check "s1's status carries its public key" test "$(q s1 state | json '[s["public_key"] for s in d["specs"]][0]')" = "$s1_key"
start s2 server "$s1#$s1_key"
wait_for "s2 answers" 10 answers s2
s2=$(endpoint_of s2)
start c1 client "$s1#$s1_key"
start c2 client "$s2#$(key_of s2)"
for n in s1 s2 c1 c2; do
    wait_for "$n lists all 4 members over curve" 20 members_are "$n" c1,c2,s1,s2
done
check "c1 sends to c2 through both servers" quietly q c1 send c2 hello-over-curve
wait_for "c2's inbox has c1's message" 10 delivered_to_inbox c2 hello-over-curve
for n in s1 s2 c1 c2; do
    check "every socket of $n reads ZMQ_MECHANISM CURVE" mechanisms_are_curve "$n"
done

# A join without the seed's key is refused by the node itself, saying how to name it.
out=$(q c1 join "$s2" 2>&1)
check "a curve node refuses a join target without a key ($out)" grep -q 'name the public key' <<<"$out"

# A node whose key is not on the allow list: refused by ZAP, logged with its address.
start intruder server "$s1#$s1_key"
wait_for "s1 logs the unlisted key's refusal with the peer's address" 10 \
    grep -qF "refused CURVE handshake from 127.0.0.1: public key $(key_of intruder) is not on the allow list" "$work/s1.log"
check "s1 logs the refusal once, not once per retry" test "$(grep -cF "$(key_of intruder)" "$work/s1.log")" = 1
check "the intruder is not a member" members_are s1 c1,c2,s1,s2
check "s1 counted the ZAP refusal" test "$(counter s1 zap_refused)" -ge 1

# A plaintext node (no keys) is refused at the handshake: its mechanism is NULL.
start plain server "$s1"
wait_for "s1 logs the plaintext node's refusal with its address" 10 \
    grep -Eq "refused a connection at the handshake from 127.0.0.1:[0-9]+: .*plaintext" "$work/s1.log"
check "the plaintext node is not a member" members_are s1 c1,c2,s1,s2
wait_for "the plaintext node sees only itself" 5 members_are plain plain

# A ZMTP 1.0 peer: a raw byte stream with a 1.0 greeting (length 1, flags 0, an empty identity).
port=${s1##*:}
"$py" - "$port" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"\x01\x00")
# libzmq may send its own greeting first: read until the server closes (or 5 s pass).
deadline = time.monotonic() + 5
closed = False
while not closed and time.monotonic() < deadline:
    s.settimeout(max(0.01, deadline - time.monotonic()))
    try:
        closed = s.recv(64) == b""
    except ConnectionResetError:
        closed = True
    except socket.timeout:
        break
sys.exit(0 if closed else 1)
PY
check "s1 closes a ZMTP 1.0 byte stream" test $? = 0
wait_for "s1 logs the ZMTP 1.0 peer's refusal with its address" 10 \
    grep -q "refused a connection at the handshake from 127.0.0.1:[0-9]*: .*ZMTP 1.0" "$work/s1.log"

# The allow list grows by the intruder's key; SIGHUP on every server lets it in, nobody restarts.
cat "$work/intruder.key.pub" >>"$work/allow"
for n in s1 s2; do kill -HUP "${pid[$n]}"; done
wait_for "s1 logs what the reload changed" 10 grep -qF "reloaded (5 keys): 1 added ($(key_of intruder | cut -c1-8)), 0 removed (none)" "$work/s1.log"
wait_for "s2 logs what the reload changed" 10 grep -q "allow list .* reloaded (5 keys): 1 added" "$work/s2.log"
for n in s1 s2 intruder; do
    wait_for "$n lists the admitted node" 30 members_are "$n" c1,c2,intruder,s1,s2
done
for n in s1 s2 c1 c2 intruder; do
    check "$n is the same process it was (never restarted)" kill -0 "${pid[$n]}"
done
check "the admitted node relays to c2" quietly q intruder send c2 admitted-after-sighup
wait_for "c2's inbox has the admitted node's message" 10 delivered_to_inbox c2 admitted-after-sighup

# A bad allow list on SIGHUP changes nothing and says why.
echo "not-a-key" >>"$work/allow"
kill -HUP "${pid[s1]}"
wait_for "s1 refuses a bad allow list and keeps the previous one" 10 grep -q "allow list not reloaded, the previous one stays" "$work/s1.log"
check "s1 still lists everyone" members_are s1 c1,c2,intruder,s1,s2

finish
