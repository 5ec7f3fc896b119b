#!/usr/bin/env bash
# `make lint`: every C++ file formatted as .clang-format says (clang-format-14, nothing
# rewritten), then clang-tidy-14 with .clang-tidy over src/, reading the compile commands of
# BUILD_DIR (CMake writes them at configure). `scripts/lint.sh --fix-format` rewrites the files
# instead of checking them (`make format`).
# Usage: scripts/lint.sh [--fix-format] [BUILD_DIR [JOBS]]
set -euo pipefail
cd "$(dirname "$0")/.."

fix_format=false
if [ "${1:-}" = --fix-format ]; then
    fix_format=true
    shift
fi
build=${1:-build}
jobs=${2:-2}

mapfile -t sources < <(find src include test bench examples -name '*.cpp' -o -name '*.hpp' | sort)
if $fix_format; then
    clang-format-14 -i "${sources[@]}"
    echo "format: ${#sources[@]} files formatted"
    exit 0
fi

if ! clang-format-14 --dry-run -Werror "${sources[@]}"; then
    echo "lint: the files above are not formatted; make format rewrites them" >&2
    exit 1
fi
echo "lint: ${#sources[@]} files formatted"

if [ ! -f "$build/compile_commands.json" ]; then
    echo "lint: no $build/compile_commands.json (configure the build first: make configure)" >&2
    exit 1
fi
# Each translation unit of src/ once; headers are checked through them (HeaderFilterRegex).
mapfile -t units < <(find src -name '*.cpp' | sort)
if ! printf '%s\n' "${units[@]}" |
        nice -n 10 xargs -P "$jobs" -n 4 clang-tidy-14 -p "$build" --quiet 2> >(grep -v ' warnings\? generated\.$' >&2); then
    echo "lint: clang-tidy found the problems above" >&2
    exit 1
fi
echo "lint: clang-tidy clean over ${#units[@]} files"
