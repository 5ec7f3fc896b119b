#!/usr/bin/env bash
# The pure layers (src/core, src/wire) may not touch sockets, clocks, threads or files.
set -u
root=${1:-.}
bad=$(grep -rnE '^\s*#\s*include *[<"](zmq|zmq\.hpp|thread|mutex|condition_variable|future|fstream|filesystem|spdlog)' \
        "$root/src/core" "$root/src/wire" "$root/src/sim"; \
      grep -rnE '(steady_clock|system_clock|high_resolution_clock)::now|std::random_device|\btime\(' \
        "$root/src/core" "$root/src/wire" "$root/src/sim")
if [ -n "$bad" ]; then
    echo "impure code in the core/wire layers:"
    echo "$bad"
    exit 1
fi
echo "core and wire are pure"
