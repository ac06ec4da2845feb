#!/usr/bin/env bash
# Interleaved A/B of two `sessionring` binaries on one workload (docs/performance.md: a change
# is quoted against the previous binary, run alternately so that the host's core placement,
# which moves every few minutes, falls on both alike).
#
#   bench/ab.sh BIN_A BIN_B [bench flags...]
#
# Runs `BIN bench --json --no-progress FLAGS` REPS times for each binary, A then B in odd
# repetitions and B then A in even ones. Every JSON line goes to OUT with "ab" (A or B), "bin",
# "rep", "tag" and "args"; at the end prints per repetition the M events/s, sequencer batches and
# emit -> deliver p99 of each and the ratio B / A of events/s, the medians, and the sum of every
# run's errors + lost + duplicates (must be 0). Paced runs (--rate) compare by their p99.
#
# Environment: REPS [8]   TAG [ab-<date>]   OUT [bench/results/<TAG>.jsonl]
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: bench/ab.sh BIN_A BIN_B [sessionring bench flags...]" >&2; exit 2; }
A=$1 B=$2
shift 2
for b in "$A" "$B"; do [ -x "$b" ] || { echo "ab: $b is not an executable" >&2; exit 2; }; done
REPS=${REPS:-8}
TAG=${TAG:-ab-$(date +%Y%m%d-%H%M%S)}
OUT=${OUT:-bench/results/$TAG.jsonl}
mkdir -p "$(dirname "$OUT")"

run() {  # label binary rep
    local line
    line=$("$2" bench --json --no-progress "${@:4}")
    python3 -c 'import json,sys; j=json.loads(sys.argv[1]); j.update(ab=sys.argv[2], bin=sys.argv[3], rep=int(sys.argv[4]), tag=sys.argv[5], args=sys.argv[6]); print(json.dumps(j))' \
        "$line" "$1" "$2" "$3" "$TAG" "${*:4}" >>"$OUT"
}

for rep in $(seq 1 "$REPS"); do
    if [ $((rep % 2)) = 1 ]; then run A "$A" "$rep" "$@"; run B "$B" "$rep" "$@"
    else run B "$B" "$rep" "$@"; run A "$A" "$rep" "$@"; fi
    echo "[ab] repetition $rep of $REPS done" >&2
done

python3 - "$OUT" "$TAG" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
rows = [r for r in rows if r.get("tag") == sys.argv[2]]
by = {(r["ab"], r["rep"]): r for r in rows}
first = {r["ab"]: r for r in rows}
print(f"A = {first.get('A', {}).get('bin', '?')}, B = {first.get('B', {}).get('bin', '?')}; "
      f"flags: {first.get('A', {}).get('args', '')}")
print("| rep | A M events/s | A batches | A p99 | B M events/s | B batches | B p99 | B / A (events/s) |")
print("|---|---|---|---|---|---|---|---|")
def p99(r):
    v = r.get("p99_ns")
    return "-" if v is None else (f"{v / 1e3:.1f} µs" if v < 1e6 else f"{v / 1e6:.2f} ms")
ratios, ma, mb = [], [], []
for rep in sorted({k[1] for k in by}):
    a, b = by.get(("A", rep)), by.get(("B", rep))
    if not a or not b:
        continue
    ea, eb = a["events_per_sec"] / 1e6, b["events_per_sec"] / 1e6
    ma.append(ea); mb.append(eb); ratios.append(eb / ea)
    print(f"| {rep} | {ea:.2f} | {a.get('batches', '-')} | {p99(a)} | {eb:.2f} | {b.get('batches', '-')} | {p99(b)} | {eb / ea:.2f}× |")
if ratios:
    print(f"| **median** | **{statistics.median(ma):.2f}** | | | **{statistics.median(mb):.2f}** | | | **{statistics.median(ratios):.2f}×** |")
bad = sum(r.get("errors", 0) + r.get("lost", 0) + r.get("duplicates", 0) for r in rows)
print(f"\nerrors + lost + duplicates over all {len(rows)} runs: {bad}")
EOF
