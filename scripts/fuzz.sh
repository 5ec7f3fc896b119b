#!/usr/bin/env bash
# Runs each libFuzzer target of BUILD_DIR (built by `make fuzz`) for SECONDS, one at a time,
# from the committed corpus (test/fuzz/corpus/<target>, read only) and a scratch corpus in
# BUILD_DIR/fuzz-corpus/<target>, where the new inputs go. Crashes, hangs and out-of-memory
# inputs land in BUILD_DIR/fuzz-findings/<target>/. Prints one line per target: executions,
# coverage (cov, ft) and findings; exits 1 when anything was found.
# With MERGE=1, the scratch corpus is then merged into the committed one (-merge=1 keeps only
# inputs that add coverage). TARGETS="a b" runs only those.
set -uo pipefail

build_dir=${1:?usage: fuzz.sh BUILD_DIR SECONDS}
seconds=${2:?usage: fuzz.sh BUILD_DIR SECONDS}
repo=$(cd "$(dirname "$0")/.." && pwd)
targets=${TARGETS:-"wire_codec routed_codec control_request state_file digest"}
found=0

for target in $targets; do
    fuzzer="$build_dir/test/fuzz/zpartisan-fuzz-$target"
    committed="$repo/test/fuzz/corpus/$target"
    scratch="$build_dir/fuzz-corpus/$target"
    findings="$build_dir/fuzz-findings/$target"
    log="$build_dir/fuzz-$target.log"
    mkdir -p "$scratch" "$findings"
    dict=()
    [ -f "$repo/test/fuzz/$target.dict" ] && dict=(-dict="$repo/test/fuzz/$target.dict")
    # One process: the machine is shared. A slow input (over 10 s) counts as a hang, an input
    # that makes the target hold over 1 GiB as out-of-memory.
    "$fuzzer" "$scratch" "$committed" "${dict[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 \
        -malloc_limit_mb=1024 -max_len=4096 -print_final_stats=1 -artifact_prefix="$findings/" >"$log" 2>&1
    status=$?
    execs=$(grep -m1 '^stat::number_of_executed_units' "$log" | awk '{print $2}')
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
    ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
    artifacts=$(find "$findings" -type f | wc -l)
    echo "fuzz $target: ${execs:-?} executions, cov ${cov:-?}, ft ${ft:-?}, findings $artifacts (exit $status, log $log)"
    if [ "$status" -ne 0 ] || [ "$artifacts" -gt 0 ]; then
        found=1
        grep -E '^(==[0-9]+==ERROR|SUMMARY|fuzz: property)' "$log" | head -5
    fi
    if [ "${MERGE:-0}" = 1 ]; then
        "$fuzzer" -merge=1 "$committed" "$scratch" >"$build_dir/fuzz-$target-merge.log" 2>&1
        echo "fuzz $target: corpus now $(find "$committed" -type f | wc -l) files"
    fi
done
exit $found
