#!/usr/bin/env bash
# One interleaved comparison of the engine with every peer in ../shared/peers (docs/performance.md).
# Builds the peers (their run-all.sh, BUILD_ONLY=1) and `sessionring` (Release, BUILD_DIR), then
# for each of RUNS repetitions runs, in an order rotated every repetition so drift spreads over
# all of them: `sessionring bench --json` for each engine in ENGINES, and each peer through
# run-all.sh (one line per Disruptor wait strategy). Every engine line gets the same
# rtt_before_ns / rtt_after_ns ping-pong probe run-all.sh adds to the peers' lines. All JSON
# lines are appended to OUT (each with "run" and "tag"); at the end bench/ratios.py prints the
# tables: absolute medians, and engine / peer ratios per repetition and their medians.
#
# Environment (defaults in brackets):
#   P [2]  S [2]  N [20000000]  B [64]  RATE [0]  SAMPLE_SHIFT [8]  WARMUP [peers' default]
#   RUNS [3]            repetitions
#   ENGINES ["sessionring mutex"]     engine(s) of `sessionring bench --engine`
#   ENGINE_ARGS []      extra flags for the sessionring engine (e.g. "--wait yield --ring-capacity 16384")
#   ENGINE_VARIANTS []  ";"-separated further flag sets: each runs as one more sessionring job
#                       (e.g. "--no-thp;--api session"); ratios.py labels them by their settings
#   PEERS ["disruptor-java disruptor-journal naive-cpp moodycamel-raw boost-lockfree-raw"]
#                       disruptor-journal: the Disruptor with a journaller every subscriber is
#                       gated behind (stored before visible, like INV-2); naive-cpp: "the mutex
#                       design" every ratio quotes (the bench's own --engine mutex is not it)
#   WAITS ["yielding blocking busyspin"]   Disruptor wait strategies (both Disruptor peers)
#   PEERS_DIR [../shared/peers next to the repository]
#   BUILD_DIR [build-bench]   NO_BUILD=1 skips both builds
#   TIMEOUT [300] seconds per run   TAG [compare-<date>]   OUT [bench/results/<TAG>.jsonl]
#   QUIET=1             before each job wait (at most QUIET_MAX [600] s) until both CPUs are
#                       QUIET_IDLE [90] % idle; every line records "idle_before_pct" and "load1"
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

P=${P:-2}
S=${S:-2}
N=${N:-20000000}
B=${B:-64}
RATE=${RATE:-0}
SAMPLE_SHIFT=${SAMPLE_SHIFT:-8}
WARMUP=${WARMUP:-}
RUNS=${RUNS:-3}
ENGINES=${ENGINES:-sessionring mutex}
ENGINE_ARGS=${ENGINE_ARGS:-}
ENGINE_VARIANTS=${ENGINE_VARIANTS:-}
IFS=';' read -r -a variants <<<"$ENGINE_VARIANTS"
PEERS=${PEERS:-disruptor-java disruptor-journal naive-cpp moodycamel-raw boost-lockfree-raw}
WAITS=${WAITS:-yielding blocking busyspin}
PEERS_DIR=$(cd "${PEERS_DIR:-$ROOT/../shared/peers}" && pwd)
BUILD_DIR=${BUILD_DIR:-build-bench}
TIMEOUT=${TIMEOUT:-300}
TAG=${TAG:-compare-$(date +%Y%m%d-%H%M%S)}
OUT=${OUT:-bench/results/$TAG.jsonl}
BIN=$ROOT/$BUILD_DIR/tools/sessionring

log() { echo "[compare] $*" >&2; }

if [ "${NO_BUILD:-0}" != 1 ]; then
    BUILD_ONLY=1 "$PEERS_DIR/run-all.sh"
    cmake -S "$ROOT" -B "$ROOT/$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >&2
    cmake --build "$ROOT/$BUILD_DIR" -j "${JOBS:-2}" --target sessionring_cli >&2
fi
[ -x "$BIN" ] || { log "no $BIN (build it, or unset NO_BUILD)"; exit 2; }
mkdir -p "$(dirname "$OUT")"

# Same probe as run-all.sh: core-to-core round trip (ns) right now.
rtt_probe() {
    "$PEERS_DIR/build/limits" --only pingpong -n 20000 2>/dev/null |
        sed -n 's/.*"pingpong_rtt_ns":\([0-9.]*\).*/\1/p' | grep . || echo null
}

# Share of both CPUs idle over the last second (%), from /proc/stat: other work on the machine.
idle_pct() {
    local a b
    a=$(awk '/^cpu /{print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6}' /proc/stat)
    sleep 1
    b=$(awk '/^cpu /{print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6}' /proc/stat)
    echo "$a $b" | awk '{t=$3-$1; printf "%.0f", (t > 0) ? 100 * ($4-$2) / t : 0}'
}

# QUIET=1: before each job, wait (at most QUIET_MAX s) until the machine is >= QUIET_IDLE % idle.
wait_quiet() {
    local idle waited=0
    idle=$(idle_pct)
    while [ "${QUIET:-0}" = 1 ] && [ "$idle" -lt "${QUIET_IDLE:-90}" ] && [ $waited -lt "${QUIET_MAX:-600}" ]; do
        sleep 4
        waited=$((waited + 5))
        idle=$(idle_pct)
    done
    IDLE_BEFORE=$idle
}

# Adds "run", "tag", the idle share before the job and the 1-minute load to each line.
emit() {
    local load
    load=$(cut -d' ' -f1 /proc/loadavg)
    sed "s/^{/{\"run\":$1,\"tag\":\"$TAG\",\"idle_before_pct\":$IDLE_BEFORE,\"load1\":$load,/" >>"$OUT"
}

run_engine() {  # run_engine ENGINE RUN [VARIANT INDEX]
    local engine=$1 run=$2 variant=${3:-} out rc=0 before after
    local args=(bench --json --no-progress --engine "$engine" --producers "$P" --subscribers "$S" --events "$N"
                --payload-bytes "$B" --rate "$RATE" --sample-shift "$SAMPLE_SHIFT")
    [ -n "$WARMUP" ] && args+=(--warmup "$WARMUP")
    # shellcheck disable=SC2206
    [ "$engine" = sessionring ] && [ -n "$ENGINE_ARGS" ] && args+=($ENGINE_ARGS)
    # shellcheck disable=SC2206
    [ -n "$variant" ] && args+=(${variants[$variant]})
    log "run $run: engine $engine ${variant:+${variants[$variant]} }P=$P S=$S N=$N B=$B rate=$RATE"
    before=$(rtt_probe)
    out=$(timeout --kill-after=10 "$TIMEOUT" "$BIN" "${args[@]}") || rc=$?
    after=$(rtt_probe)
    if [ $rc -eq 0 ] && [ -n "$out" ]; then
        echo "${out%\}},\"rtt_before_ns\":$before,\"rtt_after_ns\":$after}" | emit "$run"
    else
        printf '{"peer":"%s","producers":%s,"subscribers":%s,"events":%s,"payload_bytes":%s,"error":"exit %s"}\n' \
            "$([ "$engine" = mutex ] && echo engine-mutex || echo engine)" "$P" "$S" "$N" "$B" "$rc" | emit "$run"
    fi
}

run_peer() {  # run_peer NAME RUN [WAIT]
    local name=$1 run=$2 wait=${3:-yielding} s=$S
    [[ $name == *-raw ]] && s=1
    PEERS=$name WAIT=$wait P=$P S=$s N=$N B=$B RATE=$RATE SAMPLE_SHIFT=$SAMPLE_SHIFT WARMUP=$WARMUP \
        TIMEOUT=$TIMEOUT NO_BUILD=1 "$PEERS_DIR/run-all.sh" | emit "$run"
}

# The list of jobs of one repetition: "engine:<name>" or "peer:<name>[:<wait>]".
jobs=()
for e in $ENGINES; do jobs+=("engine:$e"); done
for i in "${!variants[@]}"; do [ -n "${variants[$i]}" ] && jobs+=("engine:sessionring:$i"); done
for p in $PEERS; do
    if [ "$p" = disruptor-java ] || [ "$p" = disruptor-journal ]; then
        for w in $WAITS; do jobs+=("peer:$p:$w"); done
    else
        jobs+=("peer:$p")
    fi
done

start=$(date +%s)
log "$RUNS repetitions x ${#jobs[@]} jobs -> $OUT"
for run in $(seq 1 "$RUNS"); do
    n=${#jobs[@]}
    for i in $(seq 0 $((n - 1))); do
        job=${jobs[$(((i + run - 1) % n))]}  # rotated by one each repetition
        IFS=: read -r kind name wait <<<"$job"
        wait_quiet
        if [ "$kind" = engine ]; then run_engine "$name" "$run" "${wait:-}"; else run_peer "$name" "$run" "${wait:-}"; fi
    done
done
log "done in $(($(date +%s) - start)) s; JSON lines in $OUT"
python3 "$ROOT/bench/ratios.py" "$OUT"
