#!/usr/bin/env bash
# ctest install_example_test: installs the build tree into a temporary prefix and builds
# examples/ against the *installed* package, twice:
#   1. CMake: find_package(sessionring CONFIG REQUIRED) -> sessionring::sessionring (static)
#   2. pkg-config: `pkg-config --cflags --libs sessionring` (links libsessionring.so)
# runs both hosts, runs the installed `sessionring` program, and checks the layout (public
# headers only, both libraries, package files).
# usage: install_example_test.sh CMAKE BUILD_DIR EXAMPLES_DIR CXX [CONFIG]
set -euo pipefail
cmake_cmd=$1 build_dir=$2 examples_dir=$3 cxx=$4 config=${5:-Release}
[ -n "$config" ] || config=Release
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sessionring-install-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
fail() { echo "install_example_test: $*" >&2; exit 1; }

echo "== cmake --install $build_dir --prefix $prefix"
"$cmake_cmd" --install "$build_dir" --prefix "$prefix" --config "$config" >/dev/null

echo "== installed layout"
(cd "$prefix" && find . \( -type f -o -type l \) ! -path './include/*' ! -path './share/doc/*' | sort)
static_lib=$(find "$prefix" -name libsessionring.a)
libdir=$(dirname "${static_lib%%$'\n'*}")
[ -f "$libdir/libsessionring.a" ] || fail "static library not installed"
[ -e "$libdir/libsessionring.so" ] || fail "shared library not installed"
[ -f "$libdir/cmake/sessionring/sessionringConfig.cmake" ] || fail "CMake package not installed"
[ -f "$libdir/cmake/sessionring/sessionringConfigVersion.cmake" ] || fail "version file not installed"
[ -f "$libdir/pkgconfig/sessionring.pc" ] || fail "pkg-config file not installed"
[ -f "$prefix/include/sessionring/sessionring.hpp" ] || fail "public headers not installed"
[ -z "$(find "$prefix/include" -path '*detail*')" ] || fail "private engine/detail headers were installed"
has_tools=0
if [ -x "$build_dir/tools/sessionring" ]; then  # SESSIONRING_BUILD_TOOLS=ON
    has_tools=1
    [ -x "$prefix/bin/sessionring" ] || fail "the sessionring program was not installed"
fi

echo "== examples/ with find_package (static library)"
"$cmake_cmd" -S "$examples_dir" -B "$tmp/example-build" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_BUILD_TYPE="$config" -DCMAKE_CXX_COMPILER="$cxx" >/dev/null
"$cmake_cmd" --build "$tmp/example-build" --config "$config" >/dev/null
"$tmp/example-build/host"

echo "== examples/host.cpp with pkg-config (shared library)"
if command -v pkg-config >/dev/null; then
    export PKG_CONFIG_PATH=$libdir/pkgconfig
    pkg-config --modversion sessionring
    # shellcheck disable=SC2046  # word splitting of the flags is intended
    "$cxx" -std=c++20 -O1 $(pkg-config --cflags sessionring) "$examples_dir/host.cpp" \
        -o "$tmp/host-pc" $(pkg-config --libs sessionring)
    LD_LIBRARY_PATH=$libdir "$tmp/host-pc" | tail -1
    deps=$(ldd "$tmp/host-pc")  # not piped into grep -q: with pipefail, ldd's SIGPIPE would fail the test
    [[ $deps == *libsessionring.so* ]] || fail "pkg-config host is not linked to libsessionring.so"
else
    echo "(pkg-config not installed: skipped)"
fi

if [ "$has_tools" = 1 ]; then
    echo "== installed program"
    "$prefix/bin/sessionring" --help >/dev/null
    mkdir "$tmp/empty-store"
    "$prefix/bin/sessionring" sessions --store "$tmp/empty-store" >/dev/null
fi
echo "install_example_test: ok"
