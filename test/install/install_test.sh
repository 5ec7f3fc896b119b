#!/usr/bin/env bash
# What a user of an installed zpartisan gets: `cmake --install` into a temporary prefix puts
# there the public headers, libzpartisan static and shared (SONAME major.minor), both binaries,
# the CMake package and zpartisan.pc. Each public header compiles alone with only the prefix
# on the include path, and pulls in neither libzmq, spdlog nor a private header (cereal only
# for typed payloads). examples/embed_node builds out of tree with find_package (the shared and
# the static library) and with pkg-config, and each program runs to success with this version.
set -u
. "$(dirname "$0")/../process/lib.sh"
usage="usage: install_test.sh BUILD_DIR SOURCE_DIR VERSION LIBDIR CXX [LAUNCHER]"
build=${1:?$usage} source=${2:?$usage} version=${3:?$usage} libdir=${4:?$usage} cxx=${5:?$usage}
launcher=${6:-}
so_version=${version%.*}  # major.minor

tmp=$(mktemp -d /tmp/zpartisan-install-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
log=$tmp/log
dump() { echo "--- the last step's output:"; tail -n 30 "$log"; }
step() { "$@" >"$log" 2>&1; }  # a step that succeeds quietly; its output shown if it fails

check "cmake --install into $prefix" step cmake --install "$build" --prefix "$prefix"

# --- what lies under the prefix -----------------------------------------------------------------
lib=$prefix/$libdir
check "the public headers and the generated version.hpp" \
    test -f "$prefix/include/zpartisan/node.hpp" -a -f "$prefix/include/zpartisan/version.hpp"
check "no private header installed" not grep -rlq '"\(core\|wire\|transport\|runtime\)/' "$prefix/include"
check "the static library" test -f "$lib/libzpartisan.a"
check "the shared library, its SONAME link and its development link" \
    test -f "$lib/libzpartisan.so.$version" -a -L "$lib/libzpartisan.so.$so_version" -a -L "$lib/libzpartisan.so"
soname() { readelf -d "$lib/libzpartisan.so.$version" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p'; }
check "SONAME libzpartisan.so.$so_version (got: $(soname))" test "$(soname)" = "libzpartisan.so.$so_version"
check "the CMake package" test -f "$lib/cmake/zpartisan/zpartisan-config.cmake" \
    -a -f "$lib/cmake/zpartisan/zpartisan-config-version.cmake"
check "zpartisan.pc" test -f "$lib/pkgconfig/zpartisan.pc"
for binary in zpartisan-node zpartisan-ctl; do
    shown=$("$prefix/bin/$binary" --version 2>&1)
    check "$binary --version says $version (it said: $shown)" \
        test "${shown%% (*}" = "$binary $version"
done

# --- each public header alone, with only the prefix on the include path ---------------------------
for header in "$prefix"/include/zpartisan/*.hpp; do
    name=zpartisan/$(basename "$header")
    deps=$tmp/$(basename "$header").d
    check "$name compiles alone" step "$cxx" -std=c++20 -fsyntax-only -MD -MF "$deps" -I "$prefix/include" \
        -x c++ - <<<"#include <$name>"
    case $name in
        zpartisan/typed.hpp | zpartisan/bounded_archive.hpp) allowed='/cereal/' ;;
        *) allowed='^$' ;;  # nothing beyond the standard library
    esac
    # Every header it reads: under the prefix, or the compiler's own (libstdc++, libc).
    foreign=$(tr ' \\' '\n\n' <"$deps" | grep '\.h' | grep -v "^$prefix/include/zpartisan/" |
              grep -E '/(zmq|spdlog|fmt|cereal|nlohmann|CLI)|/src/' | grep -vE "$allowed" | head -3)
    check "$name pulls in no third-party or private header${foreign:+ (it does: $foreign)}" test -z "$foreign"
done

# --- an application out of tree ------------------------------------------------------------------
runs() {  # runs PROGRAM: exits 0 and says it runs with this version
    "$@" >"$log" 2>&1 && grep -q "^embed_node: zpartisan $version\$" "$log"
}
example=$source/examples/embed_node
cmake_embed() {  # cmake_embed DIR [-D...]: configure and build examples/embed_node against the prefix
    local dir=$1; shift
    cmake -S "$example" -B "$dir" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
          -DCMAKE_CXX_COMPILER="$cxx" ${launcher:+-DCMAKE_CXX_COMPILER_LAUNCHER=$launcher} "$@" &&
        cmake --build "$dir"
}
uses_prefix_library() { ldd "$1" | grep -q "libzpartisan.so.$so_version => $lib/"; }
check "find_package(zpartisan 0.2 CONFIG): embed_node builds" step cmake_embed "$tmp/with-cmake"
check "... linked to the installed shared library" uses_prefix_library "$tmp/with-cmake/embed_node"
check "... and runs" runs "$tmp/with-cmake/embed_node"
check "find_package with ZPARTISAN_USE_STATIC_LIBS: embed_node builds" \
    step cmake_embed "$tmp/with-cmake-static" -DZPARTISAN_USE_STATIC_LIBS=ON
check "... not linked to libzpartisan.so" not grep -q libzpartisan < <(ldd "$tmp/with-cmake-static/embed_node")
check "... and runs" runs "$tmp/with-cmake-static/embed_node"

export PKG_CONFIG_PATH=$lib/pkgconfig
check "pkg-config --modversion zpartisan is $version" test "$(pkg-config --modversion zpartisan)" = "$version"
pc_build() {
    # shellcheck disable=SC2046  # the flags are words
    $launcher "$cxx" -std=c++20 -O1 $(pkg-config --cflags zpartisan) -c "$example/embed_node.cpp" -o "$tmp/embed_node.o" &&
        "$cxx" "$tmp/embed_node.o" $(pkg-config --libs zpartisan) -o "$tmp/embed_node-pc"
}
check "pkg-config: embed_node builds" step pc_build
check "... and runs (LD_LIBRARY_PATH=$lib)" runs env LD_LIBRARY_PATH="$lib" "$tmp/embed_node-pc"

finish
