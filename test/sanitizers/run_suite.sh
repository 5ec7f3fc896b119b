#!/usr/bin/env bash
# run_suite.sh BUILD_DIR address|thread [CTEST_ARGS...]: ctest in a sanitizer build, then fails
# if any process wrote a sanitizer report. Reports go to files in BUILD_DIR/sanitizer-reports,
# because a daemon started by a process test, or zpartisan-ctl, can report without its test
# failing (its exit status or stderr may never be looked at).
set -uo pipefail
[ $# -ge 2 ] || { echo "usage: $0 BUILD_DIR address|thread [CTEST_ARGS...]" >&2; exit 2; }
build=$1 sanitizer=$2; shift 2
here=$(cd "$(dirname "$0")" && pwd)
reports=$(cd "$build" && pwd)/sanitizer-reports
rm -rf "$reports" && mkdir -p "$reports"

# Deadlines stretch (test/time_scale.hpp, test/process/lib.sh) and long workloads shrink
# (ZPARTISAN_TEST_WORKLOAD=small: see where the tests read it) for a build several times slower.
export ZPARTISAN_TEST_TIME_SCALE=${ZPARTISAN_TEST_TIME_SCALE:-4}
export ZPARTISAN_TEST_WORKLOAD=${ZPARTISAN_TEST_WORKLOAD:-small}
case $sanitizer in
address)
    export ASAN_OPTIONS="detect_leaks=1:log_path=$reports/asan"
    export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan"
    ;;
thread)
    export TSAN_OPTIONS="suppressions=$here/tsan.supp:second_deadlock_stack=1:log_path=$reports/tsan"
    ;;
*) echo "unknown sanitizer '$sanitizer'" >&2; exit 2 ;;
esac

started=$SECONDS
(cd "$build" && ctest --output-on-failure -j 2 "$@")
status=$?
echo "ctest under $sanitizer: exit $status after $((SECONDS - started)) s"

shopt -s nullglob
found=("$reports"/*)
if [ ${#found[@]} -gt 0 ]; then
    echo "${#found[@]} sanitizer report file(s) in $reports:"
    for f in "${found[@]}"; do echo "==== $f"; head -n 60 "$f"; done
    status=1
fi
exit $status
