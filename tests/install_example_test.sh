#!/usr/bin/env bash
# ctest install_example_test: installs the build tree into a temporary prefix and builds
# examples/ against the *installed* package, twice:
#   1. CMake: find_package(sessionring CONFIG REQUIRED) -> sessionring::sessionring (static)
#   2. pkg-config: the lines of README.md's readme-pkg-config block, run exactly as written
#      (g++ -std=c++20 ... $(pkg-config --cflags --libs sessionring), libsessionring.so by rpath)
# runs both hosts, runs the installed `sessionring` program, and checks the layout (public
# headers only, both libraries, package files).
# With NATS_SERVER (the JetStream build), also the jetstream component: examples/jetstream_host
# built with find_package(... COMPONENTS jetstream), run against a nats-server started here on
# loopback and stopped by its pid.
# usage: install_example_test.sh CMAKE BUILD_DIR EXAMPLES_DIR CXX [CONFIG [NATS_SERVER]]
set -euo pipefail
cmake_cmd=$1 build_dir=$2 examples_dir=$3 cxx=$4 config=${5:-Release} nats_server=${6:-}
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

if [ -n "$nats_server" ]; then
    echo "== examples/jetstream_host: the installed jetstream component against a loopback nats-server"
    [ -x "$tmp/example-build/jetstream_host" ] || fail "the jetstream component was not found by find_package"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$nats_server" -js -a 127.0.0.1 -p "$port" -sd "$tmp/nats" >"$tmp/nats.log" 2>&1 &
    nats_pid=$!
    trap 'kill "$nats_pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
    for _ in $(seq 1 100); do grep -q "Server is ready" "$tmp/nats.log" && break; sleep 0.1; done
    grep -q "Server is ready" "$tmp/nats.log" || { cat "$tmp/nats.log"; fail "nats-server did not start"; }
    "$tmp/example-build/jetstream_host" "nats://127.0.0.1:$port"
    kill "$nats_pid"
    wait "$nats_pid" 2>/dev/null || true
    trap 'rm -rf "$tmp"' EXIT
fi

echo "== README's pkg-config route, run exactly as written (shared library)"
readme=$(dirname "$examples_dir")/README.md
# The sh block after the readme-pkg-config marker, verbatim.
awk '/<!-- readme-pkg-config/ {m=1; next} m && /^```sh/ {b=1; next} b && /^```/ {exit} b {print}' "$readme" \
    > "$tmp/readme-route.sh"
[ -s "$tmp/readme-route.sh" ] || fail "README.md has no readme-pkg-config block"
cat "$tmp/readme-route.sh"
if command -v pkg-config >/dev/null; then
    # In a scratch directory laid out like the repository root: build/ and examples/.
    mkdir "$tmp/readme"
    ln -s "$(cd "$build_dir" && pwd)" "$tmp/readme/build"
    ln -s "$(cd "$examples_dir" && pwd)" "$tmp/readme/examples"
    # A clean environment but for PATH and PREFIX (the block's own default is /opt/sessionring).
    (cd "$tmp/readme" && env -i PATH="$PATH" HOME="$tmp" PREFIX="$tmp/readme-prefix" bash -euo pipefail "$tmp/readme-route.sh") \
        > "$tmp/readme.out" 2>&1 || { cat "$tmp/readme.out"; fail "the README pkg-config route failed"; }
    tail -1 "$tmp/readme.out"
    deps=$(ldd "$tmp/readme/host")  # not piped into grep -q: with pipefail, ldd's SIGPIPE would fail the test
    [[ $deps == *"libsessionring.so"*" => $tmp/readme-prefix/"*"libsessionring.so"* ]] ||
        fail "the README host does not load the installed libsessionring.so: $deps"
else
    echo "(pkg-config not installed: skipped)"
fi

if [ "$has_tools" = 1 ]; then
    echo "== installed program"
    "$prefix/bin/sessionring" --help >/dev/null
    "$prefix/bin/sessionring" --version
    [ -f "$prefix/share/bash-completion/completions/sessionring" ] || fail "bash completion not installed"
    if command -v help2man >/dev/null; then
        [ -f "$prefix/share/man/man1/sessionring.1" ] || fail "man page not installed"
        grep -q "SUBCOMMANDS" "$prefix/share/man/man1/sessionring.1" || fail "man page has no SUBCOMMANDS section"
    fi
    ! "$prefix/bin/sessionring" sessions --store "$tmp/no-store" 2>/dev/null || fail "sessions on a missing store exited 0"
fi
echo "install_example_test: ok"
