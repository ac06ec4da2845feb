#!/usr/bin/env bash
# sessionring entry point. The README shows two commands:
#   ./run.sh demo    install missing Debian packages, build Release, run the demo on the default store
#   ./run.sh test    install, build Release, run the whole test suite through ctest
# Further verbs (used by .ci/run and developers):
#   ./run.sh sanitize thread|address   build + ctest under ThreadSanitizer or ASan+UBSan
#   ./run.sh build                     install + Release build only
#   ./run.sh bench [args]              run bench programs / the `sessionring bench` tool
# Environment: JOBS (parallel build jobs, default nproc), SESSIONRING_TEST_MODE=quick|full,
#              SESSIONRING_WERROR=ON|OFF (default ON).
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
JOBS=${JOBS:-$(nproc)}
WERROR=${SESSIONRING_WERROR:-ON}
TEST_MODE=${SESSIONRING_TEST_MODE:-quick}

log() { echo "[run.sh] $*" >&2; }

PACKAGES=(g++ cmake make libboost-dev libconcurrentqueue-dev libxxhash-dev libgtest-dev libgmock-dev
          libbenchmark-dev libcli11-dev nlohmann-json3-dev pkg-config)

ensure_packages() {
    local missing=()
    for pkg in "${PACKAGES[@]}"; do
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

# configure_and_build DIR [cmake args...]
configure_and_build() {
    local dir=$1; shift
    cmake -S "$ROOT" -B "$dir" -DSESSIONRING_WERROR="$WERROR" \
          -DSESSIONRING_TEST_MODE="$TEST_MODE" "$@" >&2
    cmake --build "$dir" -j "$JOBS" >&2
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
        ensure_packages
        configure_and_build build -DCMAKE_BUILD_TYPE=Release
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
    help | -h | --help)
        sed -n '2,12p' "$0" ;;
    *)
        log "unknown verb '$verb'"; sed -n '2,12p' "$0" >&2; exit 2 ;;
esac
