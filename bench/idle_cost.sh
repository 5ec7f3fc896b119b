#!/usr/bin/env bash
# What idle daemons cost: starts N zpartisan-node processes (servers = max(1, N/20), each
# client joining one server), waits until every server lists all N members, then reads each
# process's CPU time (/proc/PID/stat utime+stime) over SECONDS, its resident memory (VmRSS)
# and its threads (/proc/PID/task). Prints one line of totals and per-node figures.
# Usage: bench/idle_cost.sh BIN_DIR N [SECONDS]   (BIN_DIR holds zpartisan-node and -ctl)
set -euo pipefail
bin=$1 n=$2 seconds=${3:-30}
servers=$(( n / 20 > 0 ? n / 20 : 1 ))
work=$(mktemp -d /tmp/zpartisan-idle-cost-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
port=$(( 30000 + RANDOM % 20000 ))
first=""
for i in $(seq 1 "$n"); do
    name=n$i
    if [ "$i" -le "$servers" ]; then
        args=(--role server --bind "tcp://127.0.0.1:$((port + 2 * i))" --pub-bind "tcp://127.0.0.1:$((port + 2 * i + 1))")
        [ -n "$first" ] && args+=(--join "$first")
        [ -z "$first" ] && first="tcp://127.0.0.1:$((port + 2 * i))"
    else
        home=$(( (i % servers) + 1 ))
        args=(--role client --join "tcp://127.0.0.1:$((port + 2 * home))")
    fi
    "$bin/zpartisan-node" --name "$name" --control "ipc://$work/$name.ctl" --log-level warn "${args[@]}" \
        >"$work/$name.log" 2>&1 &
    pids+=($!)
done
members() { "$bin/zpartisan-ctl" -c "ipc://$work/$1.ctl" --json members 2>/dev/null | grep -o '"name"' | wc -l; }
deadline=$((SECONDS + 120))
for s in $(seq 1 "$servers"); do
    until [ "$(members "n$s")" -ge "$n" ]; do
        [ $SECONDS -lt $deadline ] || { echo "n$s did not list $n members in 120 s" >&2; exit 1; }
        sleep 0.5
    done
done
sleep 3  # the last joins' gossip settles
ticks() { local t=0; for p in "${pids[@]}"; do read -r -a f < "/proc/$p/stat"; t=$((t + f[13] + f[14])); done; echo $t; }
before=$(ticks); start=$(date +%s.%N)
sleep "$seconds"
after=$(ticks); end=$(date +%s.%N)
rss=0 threads=0
for p in "${pids[@]}"; do
    rss=$((rss + $(awk '/VmRSS/ {print $2}' "/proc/$p/status")))
    threads=$((threads + $(ls "/proc/$p/task" | wc -l)))
done
hz=$(getconf CLK_TCK)
awk -v t=$((after - before)) -v hz="$hz" -v s="$start" -v e="$end" -v n="$n" -v rss="$rss" -v th="$threads" 'BEGIN {
    cpu = 100 * t / hz / (e - s)
    printf "nodes %d: idle CPU %.2f %% of a core in total, %.4f %% per node; RSS %.1f MB per node; %.1f threads per node\n",
        n, cpu, cpu / n, rss / 1024 / n, th / n }'
