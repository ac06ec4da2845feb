// `sessionring tune`: sweeps ring capacities, slot bytes, run-slot counts, queue backends and
// wait strategies with the bench code (in process), prints a table, writes a CSV, draws charts
// of throughput and p99 latency against each knob with gnuplot (PNG + SVG) when it is
// installed, and ends with the setting it recommends for this machine and why (docs/tuning.md).
//
// Mode "oat" (default) varies one knob at a time around a base setting (the defaults, or the
// first listed value); "grid" runs every combination. Every setting runs --repeat times
// unpaced (throughput) and, with --latency-rate R > 0, as often paced at R events/s (p99).
#include "bench_command.hpp"
#include "bench_runner.hpp"
#include "commands.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

namespace sessionring::tools {
namespace {

struct TuneCli {
  BenchConfig base;
  std::vector<std::uint32_t> rings{256, 1024, 4096, 16384};
  std::vector<std::uint32_t> slots{128, 256, 512};
  std::vector<std::uint32_t> run_slots;  // empty: {1 .. producers}
  std::vector<std::string> queues{"moodycamel", "boost"};
  std::vector<std::string> waits{"block", "yield", "spin"};
  unsigned repeat = 3;
  double latency_rate = 100'000;
  std::uint64_t latency_events = 200'000;
  double p99_slack = 1.5;
  std::string mode = "oat";
  std::string csv;
  std::string out = "tune-out";
  bool quick = false;
};

/// Fewest runs per setting for a recommendation: with fewer, the run-to-run spread of a setting
/// is unknown, so no difference between two settings can be told from noise.
constexpr unsigned kMinRepeatToRecommend = 3;

/// --quick: a small sweep that finishes in well under a minute on a 2-core machine (the knobs
/// that matter most; docs/tuning.md "Quick").
void apply_quick(TuneCli& t) {
  t.base.events = 200'000;
  t.rings = {1024, 4096};
  t.slots = {256};
  t.run_slots = {t.base.producers};
  t.queues = {"moodycamel"};
  t.waits = {"block", "yield"};
  t.repeat = kMinRepeatToRecommend;
  t.latency_events = 20'000;
}

/// The relative spread of a row's throughput: (max - min) / median.
double spread(const std::vector<double>& eps, double median) {
  if (eps.empty() || median <= 0) return 0;
  return (*std::max_element(eps.begin(), eps.end()) - *std::min_element(eps.begin(), eps.end())) / median;
}

/// What a wait strategy costs that a throughput table does not show.
const char* wait_warning(WaitStrategy w) {
  switch (w) {
    case WaitStrategy::yield:
      return "wait yield keeps one core busy per idle waiting thread (each subscriber waiting for events, the "
             "sequencer waiting for appends): it buys latency with CPU, and on a machine with fewer cores than "
             "waiters it slows everything else down";
    case WaitStrategy::spin:
      return "wait spin keeps one core fully busy per waiting thread, even when the session is idle";
    default: return nullptr;
  }
}

struct Setting {
  std::uint32_t ring = 4096, slot = 256, run_slots = 0;
  QueueBackend queue = QueueBackend::moodycamel;
  WaitStrategy wait = WaitStrategy::block;
  std::string label() const {
    return "ring " + std::to_string(ring) + " x " + std::to_string(slot) + " B, run slots " + std::to_string(run_slots) +
           ", queue " + queue_name(queue) + ", wait " + wait_name(wait);
  }
};

struct Row {
  std::string knob, value;
  Setting s;
  std::vector<double> eps;
  std::vector<std::uint64_t> p99, paced_p50, paced_p99;
  std::uint64_t errors = 0, lapped = 0, fallbacks = 0;
  double med_eps() const { return median(eps); }
  double latency_p99() const { return paced_p99.empty() ? median(p99) : median(paced_p99); }
  /// The lowest p99 of its runs: a tail this setting can reach on this machine.
  double lowest_p99() const {
    const auto& v = paced_p99.empty() ? p99 : paced_p99;
    return v.empty() ? 0 : static_cast<double>(*std::min_element(v.begin(), v.end()));
  }
  template <class T>
  static double median(std::vector<T> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const std::size_t m = v.size() / 2;
    return v.size() % 2 ? static_cast<double>(v[m]) : (static_cast<double>(v[m - 1]) + static_cast<double>(v[m])) / 2;
  }
};

std::string us(double ns) {
  char b[32];
  std::snprintf(b, sizeof b, ns >= 1e6 ? "%.2f ms" : "%.1f us", ns >= 1e6 ? ns / 1e6 : ns / 1e3);
  return b;
}

BenchConfig config_of(const BenchConfig& base, const Setting& s) {
  BenchConfig c = base;
  c.ring_capacity = s.ring;
  c.slot_bytes = s.slot;
  c.run_slots = s.run_slots;
  c.queue = s.queue;
  c.wait = s.wait;
  c.progress = false;
  return c;
}

// Run k (0-based) of one setting: unpaced, then paced when --latency-rate is set.
void measure_once(const TuneCli& t, Row& row, unsigned k, std::ofstream& csv) {
  {
    BenchConfig c = config_of(t.base, row.s);
    std::fprintf(stderr, "[tune] %-10s %-10s run %u/%u ...", row.knob.c_str(), row.value.c_str(), k + 1, t.repeat);
    const BenchResult r = run_bench(c);
    row.eps.push_back(r.events_per_sec);
    row.p99.push_back(r.p99_ns);
    row.errors += r.errors;
    row.lapped += r.lapped;
    row.fallbacks += r.store_reads;
    BenchResult paced;
    if (t.latency_rate > 0) {
      BenchConfig pc = c;
      pc.rate = t.latency_rate;
      pc.events = t.latency_events;
      pc.warmup = static_cast<std::int64_t>(t.latency_events / 10);
      pc.sample_shift = std::min(pc.sample_shift, 4u);
      paced = run_bench(pc);
      row.paced_p50.push_back(paced.p50_ns);
      row.paced_p99.push_back(paced.p99_ns);
      row.errors += paced.errors;
    }
    std::fprintf(stderr, " %.2f M ev/s, p99 %s%s\n", r.events_per_sec / 1e6, us(static_cast<double>(r.p99_ns)).c_str(),
                 t.latency_rate > 0 ? (", paced p99 " + us(static_cast<double>(paced.p99_ns))).c_str() : "");
    csv << row.knob << ',' << row.value << ',' << row.s.ring << ',' << row.s.slot << ',' << row.s.run_slots << ','
        << queue_name(row.s.queue) << ',' << wait_name(row.s.wait) << ',' << (k + 1) << ','
        << static_cast<std::uint64_t>(r.events_per_sec) << ',' << r.p50_ns << ',' << r.p99_ns << ',' << r.p999_ns
        << ',' << (t.latency_rate > 0 ? std::to_string(paced.p50_ns) : "") << ','
        << (t.latency_rate > 0 ? std::to_string(paced.p99_ns) : "") << ','
        << (t.latency_rate > 0 ? std::to_string(paced.p999_ns) : "") << ',' << r.lapped << ',' << r.store_reads
        << ',' << r.allocs_per_event << ',' << (r.cpu_user_s + r.cpu_sys_s) << ',' << (r.errors + paced.errors)
        << '\n';
    csv.flush();
  }
}

// Every row `repeat` times, interleaved: one run of each row per round, the order rotated each
// round, so that the host's drift (core placement, other load) spreads over all rows instead of
// favouring whichever ran during a quiet minute (the peers' comparison does the same).
void measure(const TuneCli& t, const std::vector<Row*>& rows, std::ofstream& csv) {
  for (unsigned k = 0; k < t.repeat; ++k)
    for (std::size_t i = 0; i < rows.size(); ++i) measure_once(t, *rows[(i + k) % rows.size()], k, csv);
}

bool have_gnuplot() { return std::system("command -v gnuplot >/dev/null 2>&1") == 0; }

// One chart per knob: median throughput (left axis, with min-max bars) and p99 (right axis).
bool draw(const TuneCli& t, const std::string& knob, const std::vector<const Row*>& rows) {
  namespace fs = std::filesystem;
  const fs::path dat = fs::path(t.out) / ("tune-" + knob + ".dat");
  {
    std::ofstream d(dat);
    d << "# index value eps_median_M eps_min_M eps_max_M p99_us\n";
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const Row& r = *rows[i];
      d << i << ' ' << '"' << r.value << '"' << ' ' << r.med_eps() / 1e6 << ' '
        << *std::min_element(r.eps.begin(), r.eps.end()) / 1e6 << ' ' << *std::max_element(r.eps.begin(), r.eps.end()) / 1e6
        << ' ' << r.latency_p99() / 1e3 << '\n';
    }
  }
  const std::string p99_label = t.latency_rate > 0
                                    ? "p99 emit-deliver at " + std::to_string(static_cast<long long>(t.latency_rate)) + " ev/s (us)"
                                    : "p99 emit-deliver, unpaced (us)";
  const fs::path gp = fs::path(t.out) / ("tune-" + knob + ".gp");
  {
    std::ofstream g(gp);
    const std::string base = (fs::path(t.out) / ("tune-" + knob)).string();
    g << "set title 'sessionring tune: " << knob << " (P=" << t.base.producers << ", S=" << t.base.subscribers
      << ", " << t.base.payload_bytes << " B)'\n"
      << "set xlabel '" << knob << "'\nset ylabel 'M events/s (median, min-max)'\nset y2label '" << p99_label << "'\n"
      << "set ytics nomirror\nset y2tics\nset yrange [0:*]\nset logscale y2\nset grid\n"
      << "set key outside top center horizontal\n"
      << "set xrange [-0.5:" << static_cast<double>(rows.size()) - 0.5 << "]\nset boxwidth 0.5\nset style fill solid 0.4\n";
    for (const char* term : {"pngcairo size 800,500", "svg size 800,500"}) {
      const bool png = std::string(term).rfind("png", 0) == 0;
      g << "set terminal " << term << " noenhanced\nset output '" << base << (png ? ".png" : ".svg") << "'\n"
        << "plot '" << dat.string() << "' using 1:3:xtic(2) with boxes title 'throughput', "
        << "'' using 1:3:4:5 with yerrorbars lc rgb 'black' notitle, "
        << "'' using 1:6 axes x1y2 with linespoints lw 2 pt 7 title 'p99'\n";
    }
  }
  return std::system(("gnuplot '" + gp.string() + "' 2>&1").c_str()) == 0;
}

template <class T, class F>
std::vector<Setting> vary(const Setting& base, const std::vector<T>& values, F set) {
  std::vector<Setting> out;
  for (const T& v : values) {
    Setting s = base;
    set(s, v);
    out.push_back(s);
  }
  return out;
}

// The best row of a group: highest median throughput among the rows without errors that
// qualify on latency. A row qualifies when its lowest p99 over the repeats is within `slack` of
// the group's best median p99: a p99 tail on a shared 2-core machine varies several-fold from run
// to run, so one bad run must not disqualify a setting, only being worse in every run.
double best_p99(const std::vector<const Row*>& rows) {
  double best = 0;
  for (const Row* r : rows)
    if (r->errors == 0 && (best == 0 || r->latency_p99() < best)) best = r->latency_p99();
  return best;
}

const Row* pick(const std::vector<const Row*>& rows, double slack) {
  const double p99 = best_p99(rows);
  const Row* best = nullptr;
  for (const Row* r : rows)
    if (r->errors == 0 && r->lowest_p99() <= slack * p99 && (!best || r->med_eps() > best->med_eps())) best = r;
  return best;
}

bool same(const Setting& a, const Setting& b) {
  return a.ring == b.ring && a.slot == b.slot && a.run_slots == b.run_slots && a.queue == b.queue && a.wait == b.wait;
}

int run_tune(TuneCli t) {
  namespace fs = std::filesystem;
  if (t.quick) apply_quick(t);
  if (t.run_slots.empty())
    for (std::uint32_t i = 1; i <= t.base.producers; ++i) t.run_slots.push_back(i);
  std::vector<QueueBackend> queues;
  std::vector<WaitStrategy> waits;
  for (const auto& q : t.queues) {
    QueueBackend b{};
    if (!parse_queue(q, b)) return std::cerr << "tune: unknown queue '" << q << "'\n", kExitUsage;
    queues.push_back(b);
  }
  for (const auto& w : t.waits) {
    WaitStrategy s{};
    if (!parse_wait(w, s)) return std::cerr << "tune: unknown wait strategy '" << w << "'\n", kExitUsage;
    waits.push_back(s);
  }
  if (std::string why = check(t.base); !why.empty()) return std::cerr << "tune: " << why << "\n", kExitUsage;
  fs::create_directories(t.out);
  if (t.csv.empty()) t.csv = (fs::path(t.out) / "tune.csv").string();
  std::ofstream csv(t.csv);
  if (!csv) return std::cerr << "tune: cannot write " << t.csv << "\n", kExitFailure;
  csv << "knob,value,ring_capacity,slot_bytes,run_slots,queue,wait,repeat,events_per_sec,p50_ns,p99_ns,p999_ns,"
         "paced_p50_ns,paced_p99_ns,paced_p999_ns,lapped,store_fallbacks,allocs_per_event,cpu_s,errors\n";

  auto in = [](const auto& list, const auto& v) { return std::find(list.begin(), list.end(), v) != list.end(); };
  Setting base;
  base.ring = in(t.rings, 4096u) ? 4096 : t.rings.front();
  base.slot = in(t.slots, 256u) ? 256 : t.slots.front();
  base.run_slots = in(t.run_slots, t.base.producers) ? t.base.producers : t.run_slots.back();
  base.queue = queues.front();
  base.wait = waits.front();

  std::vector<Row> rows;
  auto add = [&](const std::string& knob, const std::vector<Setting>& ss, auto value_of) {
    for (const Setting& s : ss) rows.push_back(Row{knob, value_of(s), s, {}, {}, {}, {}, 0, 0, 0});
  };
  if (t.mode == "grid") {
    for (auto r : t.rings)
      for (auto sl : t.slots)
        for (auto rs : t.run_slots)
          for (auto q : queues)
            for (auto w : waits) rows.push_back(Row{"grid", "", Setting{r, sl, rs, q, w}, {}, {}, {}, {}, 0, 0, 0});
    for (std::size_t i = 0; i < rows.size(); ++i) rows[i].value = "#" + std::to_string(i + 1);
  } else {
    add("ring_capacity", vary(base, t.rings, [](Setting& s, std::uint32_t v) { s.ring = v; }),
        [](const Setting& s) { return std::to_string(s.ring); });
    add("slot_bytes", vary(base, t.slots, [](Setting& s, std::uint32_t v) { s.slot = v; }),
        [](const Setting& s) { return std::to_string(s.slot); });
    add("run_slots", vary(base, t.run_slots, [](Setting& s, std::uint32_t v) { s.run_slots = v; }),
        [](const Setting& s) { return std::to_string(s.run_slots); });
    add("queue", vary(base, queues, [](Setting& s, QueueBackend v) { s.queue = v; }),
        [](const Setting& s) { return queue_name(s.queue); });
    add("wait", vary(base, waits, [](Setting& s, WaitStrategy v) { s.wait = v; }),
        [](const Setting& s) { return wait_name(s.wait); });
  }
  std::fprintf(stderr, "[tune] %zu settings x %u repeats, %llu events each%s; base: %s\n", rows.size(), t.repeat,
               static_cast<unsigned long long>(t.base.events),
               t.latency_rate > 0 ? (", plus a paced run at " + std::to_string(static_cast<long long>(t.latency_rate)) +
                                     " ev/s for p99").c_str()
                                  : "",
               base.label().c_str());
  // The base setting appears in every one-knob sweep: measure each distinct setting once.
  std::map<std::string, Row*> first;
  std::vector<Row*> distinct;
  for (Row& r : rows)
    if (first.emplace(r.s.label(), &r).second) distinct.push_back(&r);
  measure(t, distinct, csv);
  for (Row& r : rows) {
    const Row& m = *first.at(r.s.label());
    if (&m == &r) continue;
    r.eps = m.eps, r.p99 = m.p99, r.paced_p50 = m.paced_p50, r.paced_p99 = m.paced_p99;
    r.errors = m.errors, r.lapped = m.lapped, r.fallbacks = m.fallbacks;
  }

  // Table (medians of the repeats).
  const std::string lat_col = t.latency_rate > 0 ? "paced p50 / p99" : "p99 (unpaced)";
  std::printf("\n| knob | value | M events/s median [min-max] | %s | lapped | store fallbacks | errors |\n",
              lat_col.c_str());
  std::printf("|---|---|---|---|---|---|---|\n");
  std::map<std::string, std::vector<const Row*>> groups;
  std::vector<std::string> order;
  for (const Row& r : rows) {
    if (!groups.count(r.knob)) order.push_back(r.knob);
    groups[r.knob].push_back(&r);
    const std::string lat = t.latency_rate > 0 ? us(Row::median(r.paced_p50)) + " / " + us(r.latency_p99())
                                               : us(r.latency_p99());
    std::printf("| %s | %s | %.2f [%.2f-%.2f] | %s | %llu | %llu | %llu |\n", r.knob.c_str(),
                t.mode == "grid" ? r.s.label().c_str() : r.value.c_str(), r.med_eps() / 1e6,
                *std::min_element(r.eps.begin(), r.eps.end()) / 1e6, *std::max_element(r.eps.begin(), r.eps.end()) / 1e6,
                lat.c_str(), static_cast<unsigned long long>(r.lapped), static_cast<unsigned long long>(r.fallbacks),
                static_cast<unsigned long long>(r.errors));
  }
  std::printf("\nCSV (every run): %s\n", t.csv.c_str());

  if (have_gnuplot()) {
    for (const auto& k : order)
      if (groups[k].size() > 1 && t.mode != "grid") {
        if (draw(t, k, groups[k]))
          std::printf("chart: %s/tune-%s.png and .svg\n", t.out.c_str(), k.c_str());
        else
          std::printf("chart for %s: gnuplot failed (script %s/tune-%s.gp)\n", k.c_str(), t.out.c_str(), k.c_str());
      }
  } else {
    std::printf("charts: gnuplot not found; install the Debian package gnuplot-nox "
                "(apt-get install gnuplot-nox) and run tune again to draw them\n");
  }

  // Recommendation.
  std::printf("\n## Recommendation for this machine\n\n");
  if (auto b = first.find(base.label()); b != first.end())
    std::printf("Run-to-run spread of the base setting: %.0f%% of its median throughput (min-max over %u runs).\n",
                100 * spread(b->second->eps, b->second->med_eps()), t.repeat);
  if (t.repeat < kMinRepeatToRecommend) {
    std::printf("No recommendation: %u run%s per setting cannot separate the settings from run-to-run noise "
                "(on a shared machine two runs of one setting differ by tens of percent). Run with --repeat %u "
                "or more, or --quick.\n",
                t.repeat, t.repeat == 1 ? "" : "s", kMinRepeatToRecommend);
    return kExitOk;
  }
  const std::string crit = "highest median throughput among the settings whose lowest p99" +
                           std::string(t.latency_rate > 0 ? " (paced)" : "") + " over the repeats is within " +
                           std::to_string(t.p99_slack).substr(0, 4) + "x of the best median p99";
  if (t.mode == "grid") {
    std::vector<const Row*> all;
    for (const Row& r : rows) all.push_back(&r);
    const Row* best = pick(all, t.p99_slack);
    if (!best) return std::printf("no setting ran without errors\n"), kExitFailure;
    std::printf("%s: %.2f M events/s, p99 %s. Why: %s.\n", best->s.label().c_str(), best->med_eps() / 1e6,
                us(best->latency_p99()).c_str(), crit.c_str());
    if (const char* w = wait_warning(best->s.wait)) std::printf("Note: %s.\n", w);
    return kExitOk;
  }
  Setting rec = base;
  for (const auto& k : order) {
    const Row* best = pick(groups[k], t.p99_slack);
    if (!best) continue;
    // Keep the base value unless the winner beats it beyond the run-to-run spread (its slowest
    // run faster than the base's fastest) and the base's p99 qualifies as well.
    const char* note = "";
    for (const Row* r : groups[k])
      if (r != best && same(r->s, base) && r->errors == 0 && r->lowest_p99() <= t.p99_slack * best_p99(groups[k]) &&
          *std::min_element(best->eps.begin(), best->eps.end()) <= *std::max_element(r->eps.begin(), r->eps.end())) {
        best = r;
        note = " (kept the base value: the others are within its run-to-run spread)";
      }
    if (k == "ring_capacity") rec.ring = best->s.ring;
    if (k == "slot_bytes") rec.slot = best->s.slot;
    if (k == "run_slots") rec.run_slots = best->s.run_slots;
    if (k == "queue") rec.queue = best->s.queue;
    if (k == "wait") rec.wait = best->s.wait;
    std::printf("- %s = %s%s: %.2f M events/s, p99 %s", k.c_str(), best->value.c_str(), note,
                best->med_eps() / 1e6, us(best->latency_p99()).c_str());
    for (const Row* r : groups[k])
      if (r != best)
        std::printf("; %s: %.2f M/s, %s%s", r->value.c_str(), r->med_eps() / 1e6, us(r->latency_p99()).c_str(),
                    r->errors ? " (errors)" : "");
    std::printf("\n");
  }
  std::printf("\nCombined: %s\n", rec.label().c_str());
  if (same(rec, base)) {
    std::printf("\nRecommended: %s\n", rec.label().c_str());
    std::printf("Why: for each knob (the others at the base setting), the %s (--p99-slack); every knob kept "
                "its base value.\n", crit.c_str());
    if (const char* w = wait_warning(rec.wait)) std::printf("Note: %s.\n", w);
    return kExitOk;
  }
  // Knob effects need not add up: measure the combination against the base again, interleaved.
  Row confirm{"recommended", "all", rec, {}, {}, {}, {}, 0, 0, 0};
  Row again{"base", "again", base, {}, {}, {}, {}, 0, 0, 0};
  measure(t, {&confirm, &again}, csv);
  std::printf("Measured together, interleaved: combined %.2f M events/s [%.2f-%.2f], p99 %s; base %s %.2f M events/s "
              "[%.2f-%.2f], p99 %s\n",
              confirm.med_eps() / 1e6, *std::min_element(confirm.eps.begin(), confirm.eps.end()) / 1e6,
              *std::max_element(confirm.eps.begin(), confirm.eps.end()) / 1e6, us(confirm.latency_p99()).c_str(),
              base.label().c_str(), again.med_eps() / 1e6, *std::min_element(again.eps.begin(), again.eps.end()) / 1e6,
              *std::max_element(again.eps.begin(), again.eps.end()) / 1e6, us(again.latency_p99()).c_str());
  // The combination is kept when it is not slower than the base beyond the spread (its median
  // at least the base's slowest run) or its p99 is better beyond the slack in every run.
  const bool not_slower = confirm.med_eps() >= *std::min_element(again.eps.begin(), again.eps.end());
  const bool faster_tail = confirm.errors == 0 && t.latency_rate > 0 &&
                           t.p99_slack * confirm.latency_p99() < again.lowest_p99();
  const bool keep = confirm.errors == 0 && (not_slower || faster_tail);
  std::printf("\nRecommended: %s\n", (keep ? rec : base).label().c_str());
  std::printf("Why: for each knob (the others at the base setting), the %s (--p99-slack); then %s.\n", crit.c_str(),
              keep ? (not_slower ? "the combination was not slower than the base measured alongside it"
                                 : "the combination's p99 beat the base's lowest by more than the slack")
                   : "the combination was slower than the base measured alongside it, with no better p99 "
                     "beyond the slack, so the base stays");
  if (const char* w = wait_warning((keep ? rec : base).wait)) std::printf("Note: %s.\n", w);
  return confirm.errors == 0 && again.errors == 0 ? kExitOk : kExitFailure;
}

}  // namespace

void add_tune_command(CLI::App& app, std::function<int()>& run) {
  auto t = std::make_shared<TuneCli>();
  t->base.events = 2'000'000;
  CLI::App* cmd = app.add_subcommand("tune", "Sweep ring capacity, slot bytes, run slots, queue and wait strategy");
  add_bench_options(*cmd, t->base, false);
  cmd->add_option("--ring-capacities", t->rings, "Ring capacities to try")->delimiter(',');
  cmd->add_option("--slot-bytes", t->slots, "Slot sizes to try")->delimiter(',');
  cmd->add_option("--run-slots", t->run_slots, "Run-slot counts to try (default 1..producers)")->delimiter(',');
  cmd->add_option("--queues", t->queues, "Queue backends to try")->delimiter(',');
  cmd->add_option("--waits", t->waits, "Wait strategies to try")->delimiter(',');
  cmd->add_option("--repeat", t->repeat, "Runs per setting (medians are reported; at least 3 for a recommendation)")
      ->check(CLI::Range(1u, 100u));
  cmd->add_option("--latency-rate", t->latency_rate,
                  "Also run each setting paced at this many events/s and take p99 from it (0 = from the unpaced run)");
  cmd->add_option("--latency-events", t->latency_events, "Events of each paced run");
  cmd->add_option("--p99-slack", t->p99_slack, "Recommend the fastest setting whose p99 is within this factor of the best");
  cmd->add_option("--mode", t->mode, "oat: one knob at a time around the base; grid: every combination")
      ->check(CLI::IsMember({"oat", "grid"}));
  cmd->add_option("--csv", t->csv, "CSV file (default OUT/tune.csv)");
  cmd->add_option("--out", t->out, "Directory for the CSV and the charts");
  cmd->add_flag("--quick", t->quick,
                "A small sweep in well under a minute: 200000 events, rings 1024,4096, slot 256, run slots = "
                "producers, queue moodycamel, waits block,yield, 3 repeats, 20000 paced events (overrides those options)");
  cmd->footer("No recommendation with fewer than 3 repeats per setting. docs/tuning.md.");
  cmd->callback([&run, t] { run = [t] { return run_tune(*t); }; });
}

}  // namespace sessionring::tools
