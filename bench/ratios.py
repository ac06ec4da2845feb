#!/usr/bin/env python3
"""Tables from an interleaved engine-vs-peers run (bench/compare_peers.sh): JSON lines with
"run", "peer", "events_per_sec", "p50_ns", "p99_ns", ... and rtt_before_ns/rtt_after_ns.

Usage: ratios.py [--regime all|near|far] FILE.jsonl [FILE.jsonl ...]

Prints (Markdown):
  1. every label's median [min-max] throughput and median latency, with the core-to-core
     placement (near/far, from the ping-pong probes) of its runs;
  2. engine / peer throughput per repetition and the median of those ratios;
  3. for paced runs, peer p99 / engine p99 per repetition (> 1: the engine's p99 is lower);
  4. the issue's targets that the file can check, met or not.
Standard library only."""
import json
import statistics
import sys
from collections import defaultdict

NEAR_NS = 300  # as ../shared/peers/summarize.py
ORDER = ["engine", "engine-mutex", "disruptor-java/yielding", "disruptor-java/blocking",
         "disruptor-java/busyspin", "disruptor-java/liteblocking", "disruptor-java/sleeping",
         "disruptor-journal/yielding", "disruptor-journal/blocking", "disruptor-journal/busyspin",
         "disruptor-journal/liteblocking", "disruptor-journal/sleeping", "naive-cpp", "moodycamel-raw", "boost-lockfree-raw"]


def label(r):
    if r["peer"] in ("disruptor-java", "disruptor-journal"):
        return r["peer"] + "/" + r.get("wait", "?")
    if r["peer"] == "engine":
        # The default engine is "engine"; other settings are spelled out.
        l = "engine"
        if r.get("api", "server") != "server":
            l += "/api-" + r["api"]
        if r.get("wait", "block") != "block":
            l += "/" + r["wait"]
        if r.get("ring_capacity", 4096) != 4096:
            l += f"/ring-{r['ring_capacity']}"
        if r.get("queue", "moodycamel") != "moodycamel":
            l += "/" + r["queue"]
        if r.get("store", "memory") != "memory":
            l += f"/{r['store']}-{r.get('durability', '?')}"
        if r.get("retain_events"):
            l += f"/retain-{r['retain_events']}"
        if r.get("thp_disabled"):
            l += "/no-thp"
        return l
    return r["peer"]


def regime(r):
    a, b = r.get("rtt_before_ns"), r.get("rtt_after_ns")
    if a is None or b is None:
        return "unknown"
    if a < NEAR_NS and b < NEAR_NS:
        return "near"
    if a >= NEAR_NS and b >= NEAR_NS:
        return "far"
    return "mixed"


def mev(v):
    return f"{v / 1e6:.2f}"


def ns(v):
    if v >= 1e6:
        return f"{v / 1e6:.2f} ms"
    if v >= 1e3:
        return f"{v / 1e3:.1f} µs"
    return f"{v:.0f} ns"


def rx(x):
    return f"{x:.2f}×" if x >= 0.1 else f"{x:.3f}×"


def mmm(vals, f):
    med = statistics.median(vals)
    return f(med) if len(vals) == 1 else f"{f(med)} [{f(min(vals))}–{f(max(vals))}]"


def sort_key(l):
    return (ORDER.index(l) if l in ORDER else len(ORDER), l)


def settings_table(by, labels):
    """Engine-only files (e.g. bench/results/stores-*.jsonl): one row per setting, plus the
    store targets of issue 5."""
    print("### Engine settings: median [min–max] over the runs\n")
    print("| label | runs | M events/s | p50 | p99 | lapped | store fallbacks | catch-up M events/s "
          "| allocs/event | CPU s (user+sys) | errors |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for l in labels:
        rs = by[l]
        med = lambda f: statistics.median([r[f] for r in rs if f in r]) if any(f in r for r in rs) else None
        cu = [r["catchup_events_per_sec"] for r in rs if "catchup_events_per_sec" in r]
        print(f"| {l} | {len(rs)} | {mmm([r['events_per_sec'] for r in rs], mev)} | "
              f"{ns(med('p50_ns')) if med('p50_ns') is not None else '–'} | "
              f"{ns(med('p99_ns')) if med('p99_ns') is not None else '–'} | {med('lapped'):.0f} | "
              f"{med('store_fallbacks'):.0f} | {mmm(cu, mev) if cu else '–'} | {med('allocs_per_event'):.5f} | "
              f"{statistics.median([r['cpu_user_s'] + r['cpu_sys_s'] for r in rs]):.2f} | "
              f"{sum(r.get('errors', 0) for r in rs)} |")
    print()
    checks = []
    for l in labels:
        rs = by[l]
        eps = statistics.median([r["events_per_sec"] for r in rs])
        cu = [r["catchup_events_per_sec"] for r in rs if "catchup_events_per_sec" in r]
        if "/log-buffered" in l:
            checks.append((f"{l}: ≥ 5 M events/s end to end", f"{eps / 1e6:.2f} M/s", eps >= 5e6))
        if "/log-fsync" in l:
            checks.append((f"{l}: ≥ 1 M events/s (group commit)", f"{eps / 1e6:.2f} M/s", eps >= 1e6))
        if "/log-" in l and cu:
            c = statistics.median(cu)
            checks.append((f"{l}: catch-up from the log ≥ 10 M events/s", f"{c / 1e6:.2f} M/s", c >= 10e6))
    if checks:
        print("### Targets (medians)\n")
        print("| target | measured | met |")
        print("|---|---|---|")
        for name, x, ok in checks:
            print(f"| {name} | {x} | {'yes' if ok else '**no**'} |")
        print()


def main(paths, want):
    rows = []
    for p in paths:
        with open(p) as fh:
            rows += [json.loads(x) for x in fh if x.strip().startswith("{")]
    failed = [r for r in rows if "error" in r]
    rows = [r for r in rows if "error" not in r and (want == "all" or regime(r) == want)]
    if not rows:
        sys.exit("no usable JSON lines")
    by = defaultdict(list)  # label -> rows
    runs = defaultdict(dict)  # run -> label -> row
    for r in rows:
        by[label(r)].append(r)
        runs[r.get("run", 0)][label(r)] = r
    labels = sorted(by, key=sort_key)
    if all(l.startswith("engine") for l in labels):
        settings_table(by, labels)
        return
    paced = any(r.get("rate_target", 0) for r in rows)
    r0 = rows[0]
    print(f"P={r0['producers']} S={r0['subscribers'] if r0['peer'] != 'moodycamel-raw' else '?'} "
          f"N={r0['events']} B={r0['payload_bytes']} rate={r0.get('rate_target', 0) or 'unpaced'}; "
          f"{len(runs)} repetitions; regime filter: {want}\n")

    print("### Absolute: median [min–max] over the repetitions\n")
    print("| label | runs (placement) | CPU idle before | M events/s | p50 | p90 | p99 | p99.9 | max | errors |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for l in labels:
        rs = by[l]
        reg = defaultdict(int)
        for r in rs:
            reg[regime(r)] += 1
        lat = [r for r in rs if "p99_ns" in r]
        cell = lambda f: ns(statistics.median([r[f] for r in lat if f in r])) if any(f in r for r in lat) else "–"
        idle = [r["idle_before_pct"] for r in rs if r.get("idle_before_pct") is not None]
        idle_s = mmm(idle, lambda v: f"{v:.0f}%") if idle else "–"
        print(f"| {l} | {len(rs)} ({', '.join(f'{k} {v}' for k, v in sorted(reg.items()))}) | {idle_s} | "
              f"{mmm([r['events_per_sec'] for r in rs], mev)} | {cell('p50_ns')} | {cell('p90_ns')} | "
              f"{cell('p99_ns')} | {cell('p999_ns')} | {cell('max_ns')} | "
              f"{sum(r.get('errors', 0) for r in rs)} |")
    print()

    engines = [l for l in labels if l == "engine" or l.startswith("engine/")]
    others = [l for l in labels if l not in engines]
    if paced:
        slow = [r for r in rows if r["events_per_sec"] < 0.98 * r.get("rate_target", 0)]
        print("Paced: " + ("every run kept the target rate (achieved ≥ 98 %), so only latency is compared.\n"
                           if not slow else
                           f"{len(slow)} run(s) fell below 98 % of the target rate: "
                           + ", ".join(f"{label(r)} run {r.get('run')}" for r in slow) + ".\n"))
    for e in engines:
        if not paced:
            print(f"### Throughput ratio {e} ÷ peer, per repetition (placement of the engine run)\n")
            print("| run | placement | " + " | ".join(others) + " |")
            print("|---|---|" + "---|" * len(others))
            ratios = defaultdict(list)
            for run in sorted(runs):
                if e not in runs[run]:
                    continue
                er = runs[run][e]
                cells = []
                for o in others:
                    if o in runs[run] and runs[run][o]["events_per_sec"] > 0:
                        x = er["events_per_sec"] / runs[run][o]["events_per_sec"]
                        ratios[o].append(x)
                        cells.append(rx(x))
                    else:
                        cells.append("–")
                print(f"| {run} | {regime(er)} | " + " | ".join(cells) + " |")
            print("| **median** | | " + " | ".join(f"**{rx(statistics.median(ratios[o]))}**" if ratios[o] else "–"
                                                  for o in others) + " |")
            print()
        if paced:
            print(f"### p99 ratio peer ÷ {e}, per repetition (> 1: the engine's p99 is lower)\n")
            print("| run | placement | " + " | ".join(others) + " |")
            print("|---|---|" + "---|" * len(others))
            pr = defaultdict(list)
            for run in sorted(runs):
                if e not in runs[run] or "p99_ns" not in runs[run][e]:
                    continue
                er = runs[run][e]
                cells = []
                for o in others:
                    orow = runs[run].get(o)
                    if orow and "p99_ns" in orow and er["p99_ns"] > 0:
                        x = orow["p99_ns"] / er["p99_ns"]
                        pr[o].append(x)
                        cells.append(rx(x))
                    else:
                        cells.append("–")
                print(f"| {run} | {regime(er)} | " + " | ".join(cells) + " |")
            print("| **median** | | " + " | ".join(f"**{rx(statistics.median(pr[o]))}**" if pr[o] else "–"
                                                  for o in others) + " |")
            print()

    # Targets of issue 14 that one file can check (P2S2 64 B in-memory unpaced, or paced 100k/s).
    if "engine" in by:
        print("### Targets\n")
        checks = []
        dis = [l for l in labels if l.startswith("disruptor-java/")]
        jour = [l for l in labels if l.startswith("disruptor-journal/")]
        # Every engine job: the default, --api session, and variants (e.g. /retain-N).
        engines = [l for l in labels if l == "engine" or l.startswith("engine/")]
        for run in sorted(runs):
            rr = runs[run]
            for e in engines:
                if e not in rr:
                    continue
                er = rr[e]
                if not paced:
                    for group, need, what in ((jour, 2, "the journalled Disruptor's best wait"),
                                              (["naive-cpp"], 2, "the mutex design (naive-cpp)"),
                                              (dis, 1, "the raw Disruptor's best wait (stretch)")):
                        best = max((rr[d]["events_per_sec"] for d in group if d in rr), default=0)
                        if best:
                            x = er["events_per_sec"] / best
                            checks.append((f"{e}: ≥ {need}× {what}", run, f"{x:.2f}×", x >= need))
                    session = "engine/api-session" + e[len("engine"):]
                    if "/api-" not in e and session in rr:
                        x = er["events_per_sec"] / rr[session]["events_per_sec"]
                        checks.append((f"{e} (SessionServer) within 10 % of {session}", run, f"{x:.2f}×", x >= 0.9))
                elif "p99_ns" in er:
                    checks.append((f"{e}: p99 ≤ 50 µs", run, ns(er["p99_ns"]), er["p99_ns"] <= 50_000))
                    if "p999_ns" in er:
                        checks.append((f"{e}: p99.9 ≤ 500 µs", run, ns(er["p999_ns"]), er["p999_ns"] <= 500_000))
                    peers = [l for l in rr if not l.startswith("engine") and "p99_ns" in rr[l]]
                    if peers:
                        best = min(rr[l]["p99_ns"] for l in peers)
                        checks.append((f"{e}: p99 below every peer's", run,
                                       f"{ns(er['p99_ns'])} vs {ns(best)}", er["p99_ns"] < best))
                if "allocs_per_event" in er:
                    a = er["allocs_per_event"]
                    checks.append((f"{e}: 0 heap allocations per event (< 0.001)", run, f"{a:.5f}", a < 0.001))
        print("| target | run | measured | met |")
        print("|---|---|---|---|")
        for name, run, x, ok in checks:
            print(f"| {name} | {run} | {x} | {'yes' if ok else '**no**'} |")
        print()
    if failed:
        print("### Failed runs\n")
        for r in failed:
            print(f"- run {r.get('run')}: {label(r)}: {r['error']}")


if __name__ == "__main__":
    args = sys.argv[1:]
    want = "all"
    if len(args) >= 2 and args[0] == "--regime":
        want, args = args[1], args[2:]
    if not args or want not in ("all", "near", "far", "mixed", "unknown"):
        sys.exit(__doc__)
    main(args, want)
