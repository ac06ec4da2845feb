#!/usr/bin/env bash
# sessionring entry point. The README shows two commands:
#   ./run.sh demo    install missing Debian packages, build Release, run the demo on the default store
#   ./run.sh test    install, build Release, run the whole test suite through ctest
# Further verbs (used by .ci/run and developers):
#   ./run.sh sanitize thread|address   build + ctest under ThreadSanitizer or ASan+UBSan
#   ./run.sh build                     install + Release build only
#   ./run.sh bench [args]              run bench programs / the `sessionring bench` tool
#   ./run.sh lint                      clang-tidy (.clang-tidy: bug patterns, findings are errors) over engine/ and tools/
#   ./run.sh fuzz [SECONDS]            clang + libFuzzer: build tests/fuzz, fuzz each target SECONDS
#                                      (default 60) from its seeds, new inputs in a temp dir (docs/fuzzing.md)
# Environment: JOBS (parallel build jobs, default nproc), SESSIONRING_TEST_MODE=quick|full,
#              SESSIONRING_WERROR=ON|OFF (default ON).
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
JOBS=${JOBS:-$(nproc)}
WERROR=${SESSIONRING_WERROR:-ON}
TEST_MODE=${SESSIONRING_TEST_MODE:-quick}

log() { echo "[run.sh] $*" >&2; }

PACKAGES=(g++ cmake make libboost-dev libconcurrentqueue-dev libxxhash-dev libsqlite3-dev libgtest-dev libgmock-dev
          libbenchmark-dev libcli11-dev nlohmann-json3-dev libb64-dev help2man pkg-config libnats-dev nats-server)

# Only `fuzz` needs these: clang and its libFuzzer / sanitizer runtimes.
FUZZ_PACKAGES=(clang libclang-rt-14-dev)

# ensure_packages [PKG...]: installs the missing ones of PKG... (default: PACKAGES).
ensure_packages() {
    (($#)) || set -- "${PACKAGES[@]}"
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
    done
    if ((${#missing[@]})); then
        log "installing missing Debian packages: ${missing[*]}"
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
    fi
}

# configure_and_build DIR [cmake args...]; BUILD_TARGETS (optional): build only these targets.
configure_and_build() {
    local dir=$1; shift
    cmake -S "$ROOT" -B "$dir" -DSESSIONRING_WERROR="$WERROR" \
          -DSESSIONRING_TEST_MODE="$TEST_MODE" "$@" >&2
    if [ -n "${BUILD_TARGETS:-}" ]; then
        # shellcheck disable=SC2086  # a list of target names
        cmake --build "$dir" -j "$JOBS" --target $BUILD_TARGETS >&2
    else
        cmake --build "$dir" -j "$JOBS" >&2
    fi
}

# run_fuzz DIR SECONDS: each target of DIR/tests/fuzz for SECONDS over a scratch corpus (new
# inputs go there, never into the git tree) plus its seeds read-only; crashes are saved under
# DIR/fuzz-artifacts/<target>/. Fails if any target crashed.
run_fuzz() {
    local dir=$1 seconds=$2 failed=()
    local work
    work=$(mktemp -d "${TMPDIR:-/tmp}/sessionring-fuzz.XXXXXX")
    export ASAN_OPTIONS="detect_leaks=1 abort_on_error=1 ${ASAN_OPTIONS:-}"
    export UBSAN_OPTIONS="print_stacktrace=1 halt_on_error=1 ${UBSAN_OPTIONS:-}"
    for target in log_segment_fuzz cli_args_fuzz event_type_fuzz session_ops_fuzz; do
        local artifacts="$ROOT/$dir/fuzz-artifacts/$target"
        mkdir -p "$work/$target" "$artifacts"
        log "fuzzing $target for ${seconds}s (artifacts: $artifacts)"
        if ! "$dir/tests/fuzz/$target" -max_total_time="$seconds" -timeout=60 -rss_limit_mb=4096 \
                -print_final_stats=1 -artifact_prefix="$artifacts/" \
                "$work/$target" "$ROOT/tests/fuzz/corpus/$target" >"$work/$target.log" 2>&1; then
            failed+=("$target")
            log "$target FAILED; last lines of its log:"
            tail -n 60 "$work/$target.log" >&2
        else
            grep -E '^(Done|stat::number_of_executed_units|stat::average_exec_per_sec|stat::new_units_added)' \
                "$work/$target.log" | sed "s/^/[run.sh] $target: /" >&2 || true
        fi
    done
    rm -rf "$work"
    if ((${#failed[@]})); then
        log "fuzz: crashes in ${failed[*]} (inputs in $dir/fuzz-artifacts/; docs/fuzzing.md: add them as seeds)"
        return 1
    fi
    log "fuzz: no crash in $seconds s per target"
}

run_ctest() {
    local dir=$1
    ctest --test-dir "$dir" --output-on-failure -j "$JOBS" --timeout 1200
}

verb=${1:-help}
shift || true
case $verb in
    build)
        ensure_packages
        configure_and_build build -DCMAKE_BUILD_TYPE=Release ;;
    demo)
        # Only the program: no tests, no benchmarks (./run.sh test builds everything).
        ensure_packages
        BUILD_TARGETS=sessionring_cli configure_and_build build -DCMAKE_BUILD_TYPE=Release
        exec build/tools/sessionring demo "$@" ;;
    test)
        ensure_packages
        configure_and_build build -DCMAKE_BUILD_TYPE=Release
        run_ctest build ;;
    sanitize)
        kind=${1:?usage: ./run.sh sanitize thread|address}
        ensure_packages
        configure_and_build "build-$kind" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSESSIONRING_SANITIZE="$kind" \
            -DSESSIONRING_BUILD_BENCH=OFF
        if [ "$kind" = thread ]; then
            export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$ROOT/tests/tsan.supp ${TSAN_OPTIONS:-}"
        else
            export ASAN_OPTIONS="detect_leaks=1 abort_on_error=1 ${ASAN_OPTIONS:-}"
            export UBSAN_OPTIONS="print_stacktrace=1 halt_on_error=1 ${UBSAN_OPTIONS:-}"
        fi
        run_ctest "build-$kind" ;;
    bench)
        ensure_packages
        configure_and_build build -DCMAKE_BUILD_TYPE=Release
        exec build/tools/sessionring bench "$@" ;;
    lint)
        ensure_packages clang-tidy "${PACKAGES[@]}"
        cmake -S "$ROOT" -B build-lint -DCMAKE_BUILD_TYPE=Release -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
              -DSESSIONRING_BUILD_TESTS=OFF -DSESSIONRING_BUILD_BENCH=OFF >&2
        failed=0
        for f in $(git -C "$ROOT" ls-files 'engine/*.cpp' 'tools/*.cpp'); do
            if ! out=$(clang-tidy -p build-lint --quiet "$ROOT/$f" 2>&1); then
                echo "$out" | grep -E "error:" >&2; failed=1
            fi
        done
        ((failed == 0)) || { log "lint: clang-tidy findings above (.clang-tidy)"; exit 1; }
        log "lint: clang-tidy clean" ;;
    fuzz)
        seconds=${1:-60}
        ensure_packages "${FUZZ_PACKAGES[@]}" "${PACKAGES[@]}"
        CC=clang CXX=clang++ configure_and_build build-fuzz -DCMAKE_BUILD_TYPE=Debug -DSESSIONRING_BUILD_FUZZ=ON \
            -DSESSIONRING_BUILD_TESTS=OFF -DSESSIONRING_BUILD_BENCH=OFF -DSESSIONRING_BUILD_TOOLS=ON \
            -DSESSIONRING_INSTALL=OFF
        run_fuzz build-fuzz "$seconds" ;;
    help | -h | --help)
        sed -n '2,13p' "$0" ;;
    *)
        log "unknown verb '$verb'"; sed -n '2,13p' "$0" >&2; exit 2 ;;
esac
