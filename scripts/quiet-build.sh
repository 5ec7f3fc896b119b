#!/usr/bin/env bash
# `make run`'s build: cmake --build with its output kept in BUILD_DIR/build.log instead of the
# terminal, so the demo is not preceded by a screenful of build lines. On a terminal it shows
# one line of progress that updates in place; elsewhere (a pipe, CI) a line at each quarter.
# It ends with one line: up to date, or built (how many objects compiled and targets linked).
# A failed build prints every line of the log but cmake's progress lines, so the compiler's
# errors appear in full, and exits with the build's status.
# Usage: scripts/quiet-build.sh BUILD_DIR [JOBS]
set -u
dir=${1:?usage: quiet-build.sh BUILD_DIR [JOBS]}
jobs=${2:-$(nproc)}
log="$dir/build.log"
progress='^\[ *([0-9]+)%\] (.*)$'
tty=false
[ -t 1 ] && tty=true

show() {  # reads the build's output: the progress, as it comes
    local line quarter=0 width
    width=$( ($tty && tput cols 2>/dev/null) || echo 80)
    while IFS= read -r line; do
        [[ $line =~ $progress ]] || continue
        local percent=${BASH_REMATCH[1]} what=${BASH_REMATCH[2]}
        [[ $what == "Built target "* ]] && continue  # says nothing was done
        if $tty; then
            line="build: $percent% $what"
            printf '\r\033[K%s' "${line:0:$((width - 1))}"
        elif [ "$percent" -ge $(((quarter + 1) * 25)) ] && [ "$percent" -lt 100 ]; then
            quarter=$((percent / 25))
            echo "build: $percent%"
        fi
    done
    if $tty; then printf '\r\033[K'; fi
}

# CMake colours its progress lines when it sees a terminal; the log and the patterns want text.
cmake --build "$dir" -j "$jobs" 2>&1 | sed -u 's/\x1b\[[0-9;]*m//g' | tee "$log" | show
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then
    echo "build failed (exit $status); the build's output without its progress lines:"
    grep -Ev '^\[ *[0-9]+%\] ' "$log"
    echo "build failed; the whole output is in $log"
    exit "$status"
fi
compiled=$(grep -Ec '^\[ *[0-9]+%\] Building ' "$log")
linked=$(grep -Ec '^\[ *[0-9]+%\] Linking ' "$log")
actions=$(grep -E '^\[ *[0-9]+%\] ' "$log" | grep -vc '\] Built target ')
if [ "$actions" -eq 0 ]; then
    echo "build: up to date ($dir)"
else
    plural() { if [ "$1" -eq 1 ]; then echo "$1 $2"; else echo "$1 $2s"; fi; }
    echo "build: done, $(plural "$compiled" object) compiled, $(plural "$linked" target) linked ($dir; its output in $log)"
fi
