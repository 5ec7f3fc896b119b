#!/usr/bin/env bash
# Soak: 3 servers and SOAK_CLIENTS (30) clients as zpartisan-node daemons on 127.0.0.1 under
# random churn for SOAK_S (60) seconds, with a bounded load of acked forwards between random
# clients, then the invariants. `make soak` runs it; it is not part of `make test`.
#
# Every ~2 s one fault, drawn at random: a client killed -9 and restarted on its data dir; a
# node (a server one time in three, else a client) SIGSTOPped for 1-3 s, then SIGCONT; a
# client told to leave, then started afresh (new data dir) joining a random server; a
# partition injected (an origin with ttl 1, or one server and its clients against the rest)
# and healed 1-2 s later. Meanwhile ~20 acked forwards a second go between random clients
# (`zpartisan-ctl forward --ack`, at most SOAK_IN_FLIGHT at once: each waits for its delivery
# report; only the ones that went out count as sent). Before a client is killed or leaves, the
# load stops using it, the forwards to or from it finish, and what was reported delivered to it
# is given a moment to reach its inbox, which is then harvested: every delivery is counted once
# per lifetime of its receiver (a killed daemon's inbox dies with it).
#
# At the end: every partition healed, every node running; within 30 s the members are the same
# on all live nodes, every member is reachable from every node, every client has a live home;
# servers' resident memory (VmRSS) at the end is within +50 % of the start (taken after the
# cluster converged and a few seconds of load). Every forward reported `delivered` must have been
# handled exactly once: one lost or handled twice fails the soak. The others went out but were
# not confirmed (the ack timed out, the sender gave up, its route went away): maybe delivered,
# at-least-once with a deadline; they are counted, not failed on. Prints one summary line on
# stdout (progress and findings go to stderr); exits non-zero when an invariant fails.
#
# Environment: SOAK_S (60), SOAK_CLIENTS (30), SOAK_SEED (random), SOAK_RATE forwards/s (20),
# SOAK_IN_FLIGHT (32: forwards waiting for their report at once),
# SOAK_HEARTBEAT_MS (100), SOAK_FAULTS (kill,pause,leave,partition: the kinds drawn from),
# SOAK_KEEP=1 keeps the work directory (logs) for a look afterwards.
set -u
bin=${1:?usage: soak.sh BUILD_DIR}
for b in zpartisan-node zpartisan-ctl; do
    [ -x "$bin/$b" ] || { echo "soak: $bin/$b is missing (build it first)" >&2; exit 2; }
done
work=$(mktemp -d /tmp/zpartisan-soak-XXXXXX)
cleanup() {  # whatever the python driver left running, even if it was killed itself
    if [ -f "$work/pids" ]; then
        while read -r p; do kill -CONT "$p" 2>/dev/null; kill -9 "$p" 2>/dev/null; done <"$work/pids"
    fi
    if [ "${SOAK_KEEP:-0}" = 1 ]; then echo "soak: work directory kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

python3 - "$bin" "$work" <<'PY'
import json, os, random, signal, subprocess, sys, threading, time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

bin_dir, work = sys.argv[1], sys.argv[2]
NODE, CTL = os.path.join(bin_dir, "zpartisan-node"), os.path.join(bin_dir, "zpartisan-ctl")
SOAK_S = float(os.environ.get("SOAK_S", "60"))
N_CLIENTS = int(os.environ.get("SOAK_CLIENTS", "30"))
RATE = float(os.environ.get("SOAK_RATE", "20"))
HB = int(os.environ.get("SOAK_HEARTBEAT_MS", "100"))
SEED = int(os.environ.get("SOAK_SEED", str(random.randrange(1 << 30))))
ACK_TIMEOUT_S = 5.0  # the node's default ack_timeout_ms
REPORT_WAIT_MS = int(ACK_TIMEOUT_S * 1000) + 1000  # forward --ack's wait for the report: the ack timeout and a margin
IN_FLIGHT = int(os.environ.get("SOAK_IN_FLIGHT", "32"))
rng = random.Random(SEED)
servers = ["s1", "s2", "s3"]
clients = [f"c{i}" for i in range(1, N_CLIENTS + 1)]
names = servers + clients
t0 = time.monotonic()

def log(text):
    print(f"soak [{time.monotonic() - t0:6.1f}s] {text}", file=sys.stderr, flush=True)

def ctl(name, *args, timeout_ms=2000):
    """(exit status, JSON answer or None). For forward --ack, timeout_ms is the wait for the
    delivery report, and zpartisan-ctl waits 2 s more for the answer."""
    try:
        out = subprocess.run([CTL, "-c", f"ipc://{work}/{name}.ctl", "--json", "--timeout-ms", str(timeout_ms), *args],
                             capture_output=True, text=True, timeout=timeout_ms / 1000 + 7)
    except subprocess.TimeoutExpired:
        return 2, None
    try:
        return out.returncode, json.loads(out.stdout)
    except ValueError:
        return out.returncode, None

procs = {}        # name -> Popen
all_pids = []     # every daemon ever started, for the shell's trap
generation = Counter()
join_of = {}      # name -> the endpoint its command line joins
endpoint = {}     # server -> router endpoint

def record_pid(p):
    all_pids.append(p)
    with open(os.path.join(work, "pids"), "a") as f:
        f.write(f"{p}\n")

def start(name, role, join=None, fresh=False):
    if fresh:
        generation[name] += 1
    data = os.path.join(work, "data", f"{name}-{generation[name]}")
    os.makedirs(data, exist_ok=True)
    cmd = [NODE, "--name", name, "--role", role, "--cluster", "soak", "--heartbeat-ms", str(HB),
           "--missed-heartbeats", "3", "--gossip-ms", str(2 * HB), "--data-dir", data,
           "--control", f"ipc://{work}/{name}.ctl", "--log-level", "warn", "--inbox-size", "100000"]
    if join:
        cmd += ["--join", join]
    join_of[name] = join
    logf = open(os.path.join(work, f"{name}.log"), "a")
    procs[name] = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT)
    record_pid(procs[name].pid)

def wait_until(pred, seconds, step=0.2):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()

def answers(name):
    return ctl(name, "status", timeout_ms=1000)[0] == 0

def vm_rss_kb(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0

# --- invariants -------------------------------------------------------------------------
last_problem = [""]

def invariants():
    """Members equal on all nodes (name, role, home, incarnation), exactly the running names,
    every one reachable from every node, every client homed on a live server."""
    views = {}
    for n in names:
        rc, d = ctl(n, "members", timeout_ms=1000)
        if rc != 0 or d is None:
            last_problem[0] = f"{n}: no members answer (exit {rc})"
            return False
        unreachable = [m["name"] for m in d["members"] if not m["reachable"]]
        if unreachable:
            last_problem[0] = f"{n} sees unreachable: {unreachable}"
            return False
        views[n] = sorted((m["name"], m["role"], m["home"], m["incarnation"]) for m in d["members"])
    first = views[names[0]]
    if sorted(v[0] for v in first) != sorted(names):
        last_problem[0] = f"{names[0]} lists {[v[0] for v in first]}"
        return False
    for n, v in views.items():
        if v != first:
            diff = sorted(set(v) ^ set(first))
            last_problem[0] = f"{n}'s members differ from {names[0]}'s: {diff}"
            return False
    for c in clients:
        rc, d = ctl(c, "status", timeout_ms=1000)
        if rc != 0 or d is None or d.get("home") not in servers:
            last_problem[0] = f"{c} has no live home: {d and d.get('home')!r} (exit {rc})"
            return False
    return True

# --- load: acked forwards between random clients ----------------------------------------
lock = threading.Lock()
busy = set()          # clients being killed or leaving: neither source nor destination
paused = set()        # stopped nodes: not a source (ctl would wait on them)
in_flight = {}        # payload -> (src, dst): forwards waiting for their report
sent = {}             # payload -> (src, dst, time): went out (send status ok)
confirmed = set()     # of those, reported delivered: must be handled exactly once
unconfirmed = Counter()  # went out, not reported delivered (maybe delivered), by reason
refused = Counter()   # why a forward did not go out
stop_load = threading.Event()
slots = threading.Semaphore(IN_FLIGHT)

def forward_one(src, dst, payload):
    try:
        rc, d = ctl(src, "forward", "--ack", dst, "inbox", payload, timeout_ms=REPORT_WAIT_MS)
        with lock:
            if d is None:  # no answer: it may have gone out
                sent[payload] = (src, dst, time.monotonic())
                unconfirmed[f"no answer (exit {rc})"] += 1
            elif rc == 0 and d.get("delivered"):
                sent[payload] = (src, dst, time.monotonic())
                confirmed.add(payload)
            elif d.get("status") == "ok":
                sent[payload] = (src, dst, time.monotonic())
                unconfirmed[d.get("reason", "?")] += 1
            else:
                refused[d.get("status") or d.get("error", "?")] += 1
    finally:
        with lock:
            in_flight.pop(payload, None)
        slots.release()

def load(pool):
    seq = 0
    period = 1.0 / RATE
    next_at = time.monotonic()
    while not stop_load.is_set():
        if not slots.acquire(timeout=0.2):  # IN_FLIGHT forwards wait already
            continue
        chosen = None
        with lock:  # chosen and marked in flight at once: quiesce() sees it or it avoids the victim
            candidates = [c for c in clients if c not in busy]
            sources = [c for c in candidates if c not in paused]
            if len(candidates) >= 2 and sources:
                src = rng_load.choice(sources)
                dst = rng_load.choice([c for c in candidates if c != src])
                seq += 1
                chosen = (src, dst, f"m{seq}")
                in_flight[chosen[2]] = (src, dst)
        if chosen:
            pool.submit(forward_one, *chosen)
        else:
            slots.release()
        next_at += period
        time.sleep(max(0.0, next_at - time.monotonic()))
        next_at = max(next_at, time.monotonic() - 1.0)  # no catching up after a stall

rng_load = random.Random(SEED + 1)

# --- deliveries ----------------------------------------------------------------------------
harvested = Counter()   # payload -> times handed to a handler, over the harvested lifetimes
misdelivered = []       # (payload, receiver, from) that do not match what was sent

def inbox_payloads(name):
    rc, d = ctl(name, "inbox", timeout_ms=2000)
    if rc != 0 or d is None:
        return None
    return [(m["payload"], m["from"]) for m in d["messages"] if m["payload"].startswith("m")]

def harvest(name):
    got = inbox_payloads(name)
    if got is None:
        log(f"could not harvest {name}'s inbox")
        return
    with lock:
        for payload, origin in got:
            harvested[payload] += 1
            s = sent.get(payload)
            if s and (s[0] != origin or s[1] != name):
                misdelivered.append((payload, name, origin))

def quiesce(victim):
    """Stop the load using the victim, let the forwards to or from it finish (each within its
    report wait), then give what was reported delivered to it a moment to reach its inbox (the
    report says accepted for the handler, which may still be running); returns how many had not."""
    with lock:
        busy.add(victim)
    def settled():
        with lock:
            return not any(victim in ends for ends in in_flight.values())
    wait_until(settled, REPORT_WAIT_MS / 1000 + 4, step=0.05)
    with lock:
        pending = {p for p in confirmed if sent[p][1] == victim and harvested[p] == 0}
    def arrived():
        got = inbox_payloads(victim)
        if got is not None:
            pending.difference_update(p for p, _ in got)
        return not pending
    wait_until(arrived, 3, step=0.1)
    return len(pending)

# --- faults -----------------------------------------------------------------------------------
counts = Counter()
failures = []

def wait_back(name, seconds=15):
    def back():
        rc, d = ctl(name, "status", timeout_ms=1000)
        return rc == 0 and d is not None and d.get("home") in servers
    if not wait_until(back, seconds, step=0.2):
        log(f"{name} did not come back homed within {seconds} s: {ctl(name, 'status', timeout_ms=1000)}")
        return False
    return True

def kill_restart():
    victim = rng.choice(clients)
    late = quiesce(victim)
    harvest(victim)
    procs[victim].kill()
    procs[victim].wait()
    start(victim, "client", join_of[victim])  # the same command line: the same data dir
    counts["kills"] += 1
    ok = wait_back(victim)
    with lock:
        busy.discard(victim)
    log(f"kill -9 {victim}, restarted on its data dir{'' if ok else ' (NOT back)'}; {late} not arrived before")

def pause():
    victim = rng.choice(servers if rng.random() < 1 / 3 else clients)  # a server a third of the time
    with lock:
        paused.add(victim)
    seconds = rng.uniform(1, 3)
    procs[victim].send_signal(signal.SIGSTOP)
    time.sleep(seconds)  # the fault's length, not a wait for a condition
    procs[victim].send_signal(signal.SIGCONT)
    with lock:
        paused.discard(victim)
    counts["pauses"] += 1
    log(f"SIGSTOP {victim} for {seconds:.1f} s, SIGCONT")

def leave_rejoin():
    victim = rng.choice(clients)
    late = quiesce(victim)
    harvest(victim)
    rc, d = ctl(victim, "leave", timeout_ms=3000)
    try:
        status = procs[victim].wait(timeout=10)
    except subprocess.TimeoutExpired:
        log(f"{victim}'s daemon did not exit within 10 s of leave ({rc} {d}); killed")
        procs[victim].kill()
        status = procs[victim].wait()
    if rc != 0 or status != 3:
        failures.append(f"{victim} leave: ctl exit {rc} {d}, daemon exit {status}")
    server = rng.choice(servers)
    start(victim, "client", endpoint[server], fresh=True)
    counts["leaves"] += 1
    ok = wait_back(victim)
    with lock:
        busy.discard(victim)
    log(f"{victim} left (daemon exit {status}), started afresh joining {server}{'' if ok else ' (NOT back)'}; "
        f"{late} not arrived before")

def partition():
    asker = rng.choice([n for n in names])
    if rng.random() < 0.5:
        origin = rng.choice(names)
        args = ["partition", "--origin", origin, "--ttl", "1"]
        what = f"origin {origin} ttl 1"
    else:
        server = rng.choice(servers)
        homes = {}
        for c in clients:
            rc, d = ctl(c, "status", timeout_ms=1000)
            homes[c] = d.get("home") if d else None
        side = [server] + [c for c in clients if homes[c] == server]
        rest = [n for n in names if n not in side]
        args = ["partition", "--group", ",".join(side), "--group", ",".join(rest)]
        what = f"{server} and its {len(side) - 1} clients against the rest"
    rc, d = ctl(asker, *args, timeout_ms=3000)
    if rc != 0 or not d or "ref" not in d:
        log(f"partition ({what}) asked at {asker} refused: exit {rc} {d}")
        counts["partitions refused"] += 1
        return
    hold = rng.uniform(1, 2)
    time.sleep(hold)  # the fault's length
    rc2, d2 = ctl(asker, "heal", d["ref"], timeout_ms=3000)
    if rc2 != 0:
        failures.append(f"heal {d['ref']} at {asker}: exit {rc2} {d2}")
    counts["partitions"] += 1
    log(f"partition {what} at {asker} for {hold:.1f} s, healed ({'ok' if rc2 == 0 else d2})")

# --- the run ------------------------------------------------------------------------------
status = 0
try:
    start("s1", "server")
    if not wait_until(lambda: answers("s1"), 10):
        sys.exit("soak: s1 does not answer")
    endpoint["s1"] = ctl("s1", "status")[1]["router_endpoint"]
    for s in servers[1:]:
        start(s, "server", endpoint["s1"])
    if not wait_until(lambda: all(answers(s) for s in servers[1:]), 10):
        sys.exit("soak: s2/s3 do not answer")
    for s in servers[1:]:
        endpoint[s] = ctl(s, "status")[1]["router_endpoint"]
    for i, c in enumerate(clients):
        start(c, "client", endpoint[servers[i % 3]])
    if not wait_until(invariants, 60, step=0.5):
        sys.exit(f"soak: the {len(names)} nodes did not converge within 60 s: {last_problem[0]}")
    log(f"{len(names)} nodes converged (seed {SEED})")

    pool = ThreadPoolExecutor(max_workers=IN_FLIGHT)
    loader = threading.Thread(target=load, args=(pool,), daemon=True)
    loader.start()
    time.sleep(3)  # warm-up under load before the baseline memory is taken
    rss_start = {s: vm_rss_kb(procs[s].pid) for s in servers}
    anon_start = {s: vm_rss_kb(procs[s].pid, "RssAnon") for s in servers}

    chosen = os.environ.get("SOAK_FAULTS", "kill,pause,leave,partition").split(",")
    table = {"kill": (kill_restart, 3), "pause": (pause, 3), "leave": (leave_rejoin, 2), "partition": (partition, 2)}
    faults = [table[f][0] for f in chosen]
    weights = [table[f][1] for f in chosen]
    churn_end = time.monotonic() + SOAK_S
    next_rss = time.monotonic() + 10
    while time.monotonic() < churn_end:
        began = time.monotonic()
        if began >= next_rss:  # the servers' memory every 10 s, to tell a trend from warm-up
            log("rss " + ", ".join(f"{s} {vm_rss_kb(procs[s].pid) / 1024:.1f} MB" for s in servers))
            next_rss = began + 10
        rng.choices(faults, weights)[0]()
        time.sleep(max(0.0, 2.0 - (time.monotonic() - began)))  # a fault every ~2 s
    churn_s = SOAK_S

    stop_load.set()
    loader.join()
    pool.shutdown(wait=True)  # every forward has its answer
    # Heal what may be left, wake every node, then the invariants.
    for n in names:
        procs[n].send_signal(signal.SIGCONT)
    for n in names:
        rc, d = ctl(n, "partitions", timeout_ms=1000)
        for p in (d or {}).get("partitions", []):
            ctl(n, "heal", p["ref"], timeout_ms=1000)
            log(f"healed left-over partition {p['ref']} at {n}")
    for n in names:
        if procs[n].poll() is not None:
            failures.append(f"{n}'s daemon exited ({procs[n].returncode})")
    settle_from = time.monotonic()
    ok = wait_until(invariants, 30, step=0.5)
    log(f"invariants {'held' if ok else 'NOT met'} {time.monotonic() - settle_from:.1f} s after the churn ended")
    if not ok:
        failures.append(f"invariants not met within 30 s: {last_problem[0]}")
    # Deliveries reported but maybe not yet handled get a moment; then every live inbox is harvested.
    def all_arrived():
        with lock:
            missing = [p for p in confirmed if harvested[p] == 0]
        have = set()
        for c in clients:
            got = inbox_payloads(c)
            have |= {p for p, _ in got or []}
        return all(p in have for p in missing)
    wait_until(all_arrived, ACK_TIMEOUT_S + 1, step=1)
    for c in clients:
        harvest(c)
    rss_end = {s: vm_rss_kb(procs[s].pid) for s in servers}

    n_sent = len(sent)
    delivered = sum(1 for p in sent if harvested[p] > 0)
    duplicates = sum(max(0, k - 1) for p, k in harvested.items() if p in sent)
    lost = sorted((p for p in confirmed if harvested[p] == 0), key=lambda p: sent[p][2])
    doubled = sorted((p for p in confirmed if harvested[p] > 1), key=lambda p: sent[p][2])
    n_unconfirmed = n_sent - len(confirmed)
    unconfirmed_handled = sum(1 for p in sent if p not in confirmed and harvested[p] > 0)
    if lost:
        failures.append(f"{len(lost)} forwards reported delivered were never handled, e.g. "
                        + ", ".join(f"{p} {sent[p][0]}->{sent[p][1]} answered at {sent[p][2] - t0:.1f}s" for p in lost[:8]))
    if doubled:
        failures.append(f"{len(doubled)} forwards reported delivered were handled more than once: "
                        + ", ".join(f"{p} x{harvested[p]} {sent[p][0]}->{sent[p][1]}" for p in doubled[:8]))
    if unconfirmed:
        log(f"{n_unconfirmed} forwards went out unconfirmed (maybe delivered; {unconfirmed_handled} were handled): "
            + ", ".join(f"{k} {v}" for k, v in unconfirmed.most_common()))
    if duplicates:
        log(f"{duplicates} duplicates: " + ", ".join(f"{p} x{k}" for p, k in harvested.items() if k > 1 and p in sent))
    if misdelivered:
        failures.append(f"{len(misdelivered)} messages reached the wrong node or named the wrong sender: {misdelivered[:5]}")
    if refused:
        log("forwards refused: " + ", ".join(f"{k} {v}" for k, v in refused.most_common()))
    rss_ok = all(rss_end[s] <= 1.5 * rss_start[s] for s in servers)
    log("heap (RssAnon) " + ", ".join(f"{s} {anon_start[s] / 1024:.1f}->{vm_rss_kb(procs[s].pid, 'RssAnon') / 1024:.1f} MB"
                                     for s in servers))
    if not rss_ok:
        log("FAILED: a server's resident memory grew by more than 50 %")
    for f in failures:
        log(f"FAILED: {f}")
    rss = ", ".join(f"{s} {rss_start[s] / 1024:.1f}->{rss_end[s] / 1024:.1f} MB" for s in servers)
    print(f"soak: {churn_s:.0f} s, {len(names)} nodes, {counts['kills']} kills, {counts['pauses']} pauses, "
          f"{counts['leaves']} leaves, {counts['partitions']} partitions, {n_sent} acked sent, {delivered} delivered, "
          f"{duplicates} duplicates, {len(confirmed)} reported delivered ({len(lost)} lost, {len(doubled)} handled twice), "
          f"{n_unconfirmed} unconfirmed ({unconfirmed_handled} handled), "
          f"{'invariants ok' if not failures else 'INVARIANTS FAILED'}, rss {rss}"
          f"{'' if rss_ok else ' (OVER +50 %)'}", flush=True)
    status = 0 if not failures and rss_ok else 1
finally:
    stop_load.set()
    for p in procs.values():
        try:
            p.send_signal(signal.SIGCONT)
            p.kill()
            p.wait(timeout=5)
        except Exception:
            pass
sys.exit(status)
PY
