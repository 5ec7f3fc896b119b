#!/usr/bin/env bash
# Installs the Debian packages zpartisan needs, and nothing when they are all present.
# Idempotent: `make run` and `make test` call it first so a fresh Debian 12 machine just works.
# `install-deps.sh fuzz` adds what `make fuzz` needs: clang 14 and its runtime libraries, which
# hold libFuzzer (libclang_rt.fuzzer) and the sanitizers; llvm-14 symbolizes their reports.
set -euo pipefail

packages=(build-essential cmake pkg-config libzmq3-dev cppzmq-dev libcereal-dev catch2
          libcli11-dev libspdlog-dev nlohmann-json3-dev prometheus-cpp-dev python3 python3-yaml curl)
# `install-deps.sh lint` adds what `make lint` and `make format` need.
if [ "${1:-}" = fuzz ]; then
    packages+=(clang-14 libclang-rt-14-dev llvm-14)
elif [ "${1:-}" = lint ]; then
    packages+=(clang-format-14 clang-tidy-14)
fi

missing=()
for pkg in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

echo "install-deps: installing ${missing[*]}"
as_root=()
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null; then
        echo "install-deps: need root or sudo to install: ${missing[*]}" >&2
        exit 1
    fi
    as_root=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q
"${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
