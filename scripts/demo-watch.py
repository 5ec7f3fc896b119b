#!/usr/bin/env python3
"""The rounds of `make run` (scripts/demo.sh): one long-lived watcher, so a round costs only the
zpartisan-ctl calls and not a Python start-up per node. Round k is shown at start + k seconds
on the monotonic clock, so the pace stays at one round a second whatever a round costs.

Usage: demo-watch.py CTL WORK ROUNDS SUMMARY_FILE   (ROUNDS 0: until stopped)

After every round it rewrites SUMMARY_FILE with the line demo.sh prints last, so the line is
there however the watcher ends (its rounds done, or stopped by demo.sh between two rounds)."""
import signal
import sys


def stop(*_):
    raise SystemExit(0)


# demo.sh ends the watcher with SIGTERM; SystemExit unwinds quietly, and subprocess.run kills
# the zpartisan-ctl call under way instead of leaving it behind. SIGINT (run from a terminal
# by hand) ends it the same way, without a traceback.
signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)

import json  # noqa: E402  (after the handlers: a stop during start-up stays quiet too)
import os  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

NODES = ["s1", "s2", "s3", "c1", "c2", "c3"]
PREFIX = "hello #"


def main():
    ctl, work, rounds, summary_file = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]

    def ask(node, *command):
        """The node's JSON answer, or None when it does not answer in time."""
        try:
            done = subprocess.run([ctl, "-c", f"ipc://{work}/{node}.ctl", "--json", "--timeout-ms", "800",
                                   *command], capture_output=True, text=True, timeout=2)
            return json.loads(done.stdout) if done.returncode == 0 else None
        except (subprocess.TimeoutExpired, ValueError):
            return None

    sent = 0
    relayed = set()  # numbers of c1's messages seen in c3's inbox (the inbox keeps only the latest)
    everyone_saw_all = False

    def send():
        nonlocal sent
        sent += 1
        ask("c1", "forward", "c3", "inbox", f"{PREFIX}{sent} from c1")

    def write_summary(shown):
        members = (f"{len(NODES)} members seen by every node" if everyone_saw_all
                   else f"not every node saw all {len(NODES)} members")
        line = (f"shown: {shown} round{'s' if shown != 1 else ''}, "
                f"{len(relayed)} of {sent} messages relayed c1 -> c3 into c3's inbox, {members}")
        tmp = summary_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(line + "\n")
        os.replace(tmp, summary_file)  # whole or not at all, even if stopped while writing

    start = time.monotonic()
    send()
    round_ = 0
    while rounds == 0 or round_ < rounds:
        round_ += 1
        delay = start + round_ - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        lines = [f"=== t={round_}s " + "=" * 63]
        saw_all = True
        for node in NODES:
            answer = ask(node, "members")
            if answer is None:
                lines.append(f"  {node} does not answer")
                saw_all = False
                continue
            members = answer["members"]
            view = " ".join(m["name"] + ("" if m["reachable"] else "(down)") for m in members)
            lines.append(f"  {node} sees {len(members)}: {view}")
            if sorted(m["name"] for m in members if m["reachable"]) != sorted(NODES):
                saw_all = False
        lines.append("  c3's inbox (relayed c1 -> s1 -> s3 -> c3):")
        inbox = ask("c3", "inbox")
        for m in (inbox or {}).get("messages", []):
            if m["from"] == "c1" and m["payload"].startswith(PREFIX):
                relayed.add(m["payload"][len(PREFIX):].split()[0])
        for m in (inbox or {}).get("messages", [])[-3:]:
            lines.append(f"    from {m['from']}: {m['payload']}")
        print("\n".join(lines), flush=True)
        everyone_saw_all = saw_all
        write_summary(round_)
        if rounds == 0 or round_ < rounds:
            send()


if __name__ == "__main__":
    main()
