#!/usr/bin/env bash
# Runs each libFuzzer target of BUILD_DIR (built by `make fuzz`) for SECONDS, one at a time,
# from the committed corpus (test/fuzz/corpus/<target>, read only) and a scratch corpus in
# BUILD_DIR/fuzz-corpus/<target>, where the new inputs go. Crashes, hangs and out-of-memory
# inputs land in BUILD_DIR/fuzz-findings/<target>/. Prints one line per target: executions,
# coverage (cov, ft) and findings; exits 1 when anything was found.
# With MERGE=1, the committed corpus is then minimised anew: its named files (seed-*, the
# encoders' seeds; found-*, what the fuzzers found) stay, and of the rest and the scratch
# corpus only a small set that covers every edge they cover is kept (-set_cover_merge=1,
# edges without hit counts). TARGETS="a b" runs only those; FUZZ_MAX_LEN sets the largest input
# (4096 bytes by default; larger ones look for decoders slow on large inputs, and run fewer).
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
        -malloc_limit_mb=1024 -max_len="${FUZZ_MAX_LEN:-4096}" -print_final_stats=1 -artifact_prefix="$findings/" >"$log" 2>&1
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
        merged="$build_dir/fuzz-merge/$target"
        rm -rf "$merged" && mkdir -p "$merged"
        find "$committed" -type f \( -name 'seed-*' -o -name 'found-*' \) -exec cp {} "$merged/" \;
        if "$fuzzer" -set_cover_merge=1 -use_counters=0 "$merged" "$committed" "$scratch" \
            >"$build_dir/fuzz-$target-merge.log" 2>&1; then
            find "$committed" -type f ! -name 'seed-*' ! -name 'found-*' -delete
            find "$merged" -type f ! -name 'seed-*' ! -name 'found-*' -exec cp {} "$committed/" \;
            echo "fuzz $target: corpus now $(find "$committed" -type f | wc -l) files"
        else
            echo "fuzz $target: merge failed (see $build_dir/fuzz-$target-merge.log); corpus unchanged"
        fi
    fi
done
exit $found
