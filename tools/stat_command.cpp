// `sessionring stat`: a live view of a running host's sessions from another process, read from
// the counters files its SessionServers publish (SessionServerOptions::publish_counters;
// format: docs/telemetry.md "Counters file"). Maps each file read-only and reads it with atomic
// loads (CountersReader): never opens the store for writing, never takes a lock, never signals
// or waits for the host. docs/cli.md "stat".
#include "commands.hpp"
#include "event_json.hpp"
#include "stop_signal.hpp"
#include "store_access.hpp"
#include "text_table.hpp"

#include <sessionring/counters_reader.hpp>
#include <sessionring/session_id.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

namespace sessionring::tools {
namespace {

namespace fs = std::filesystem;

struct StatOptions {
  std::string store = default_store();
  std::string counters_dir;  // --counters-dir: a host's SessionServerOptions::counters_directory
  std::string session;       // empty: every session that publishes counters
  std::uint32_t interval_ms = 1000;
  std::uint64_t count = 0;  // 0: until SIGINT/SIGTERM
  std::string format = "text";
};


/// One watched counters file and the previous snapshot shown (for rates).
struct Watched {
  std::optional<CountersReader> reader;
  std::optional<CountersSnapshot> previous;
};

std::string seconds_ago(std::int64_t then_ns, std::int64_t now_ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f s ago", static_cast<double>(now_ns - then_ns) / 1e9);
  return buf;
}

std::int64_t unix_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// Events sequenced per second between two rounds of the same writer; nullopt without two.
std::optional<double> rate(const CountersSnapshot& s, const std::optional<CountersSnapshot>& prev) {
  if (!prev || prev->writer_pid != s.writer_pid || prev->writer_start_ns != s.writer_start_ns ||
      s.heartbeat_ns <= prev->heartbeat_ns || s.events_sequenced < prev->events_sequenced)
    return std::nullopt;
  return static_cast<double>(s.events_sequenced - prev->events_sequenced) * 1e9 /
         static_cast<double>(s.heartbeat_ns - prev->heartbeat_ns);
}

std::string to_jsonl(const CountersSnapshot& s, std::int64_t now, std::optional<double> r) {
  nlohmann::ordered_json j;
  j["time"] = format_rfc3339_ns(now);
  j["session_id"] = s.session_id;
  j["liveness"] = std::string(to_string(s.liveness));
  j["writer_pid"] = s.writer_pid;
  j["heartbeat"] = format_rfc3339_ns(s.heartbeat_ns);
  j["publish_count"] = s.publish_count;
  j["latest_seq"] = s.latest_sequence;
  j["stored_seq"] = s.stored_sequence;
  j["ingest_depth"] = s.ingest_depth;
  j["events_sequenced"] = s.events_sequenced;
  if (r) j["events_per_s"] = *r;
  j["duplicates"] = s.duplicates;
  j["batches"] = s.batches;
  j["oversize_events"] = s.oversize_events;
  j["store_failures"] = s.store_failures;
  j["store_failing"] = s.store_failing;
  j["abandoned_waits"] = s.abandoned_waits;
  j["runs_active"] = s.runs_active;
  j["runs_queued"] = s.runs_queued;
  j["max_concurrent_runs"] = s.max_concurrent_runs;
  j["max_queued_runs"] = s.max_queued_runs;
  j["ring_capacity"] = s.ring_capacity;
  j["ring_slot_bytes"] = s.ring_slot_bytes;
  j["subscriber_count"] = s.subscriber_count;
  j["stopped"] = s.stopped;
  auto subs = nlohmann::ordered_json::array();
  for (const SubscriptionStats& sub : s.subscribers) {
    nlohmann::ordered_json x;
    x["id"] = sub.id;
    x["state"] = std::string(to_string(sub.state));
    x["cursor"] = sub.cursor;
    x["lag"] = sub.lag;
    x["lead"] = sub.lead;
    x["lapped"] = sub.lapped_count;
    x["store_reads"] = sub.store_reads;
    x["delivered"] = sub.delivered;
    x["reading_store"] = sub.reading_store;
    subs.push_back(std::move(x));
  }
  j["subscribers"] = std::move(subs);
  return dump_line(j);
}

std::string to_text(const CountersSnapshot& s, std::int64_t now, std::optional<double> r) {
  auto n = [](std::uint64_t v) { return std::to_string(v); };
  std::string out = "session ";
  out.append(s.session_id).append("  ").append(to_string(s.liveness));
  out.append("  pid ").append(n(s.writer_pid)).append("  heartbeat ").append(seconds_ago(s.heartbeat_ns, now));
  out.append("  round ").append(n(s.publish_count)).append(s.stopped ? "  (stopped)" : "").append("\n");
  char rate_text[48] = "-";
  if (r) std::snprintf(rate_text, sizeof rate_text, "%.0f", *r);
  out += render_table({{"latest_seq", "stored_seq", "ingest", "events/s", "sequenced", "batches", "duplicates", "oversize",
                 "store_failures", "store", "abandoned"},
                {n(s.latest_sequence), n(s.stored_sequence), n(s.ingest_depth), rate_text, n(s.events_sequenced),
                 n(s.batches), n(s.duplicates), n(s.oversize_events), n(s.store_failures),
                 s.store_failing ? "FAILING" : "ok", n(s.abandoned_waits)}},
                      {.left_first = false, .free_last = false, .indent = "  "});
  out += render_table({{"runs_active", "runs_queued", "ring", "subscribers"},
                {n(s.runs_active).append("/").append(n(s.max_concurrent_runs)),
                 n(s.runs_queued).append("/").append(n(s.max_queued_runs)),
                 n(s.ring_capacity).append(" x ").append(n(s.ring_slot_bytes)).append(" B"), n(s.subscriber_count)}},
                      {.left_first = false, .free_last = false, .indent = "  "});
  if (!s.subscribers.empty()) {
    std::vector<std::vector<std::string>> rows = {
        {"subscriber", "state", "source", "cursor", "lag", "lead", "lapped", "store_reads", "delivered"}};
    for (const SubscriptionStats& sub : s.subscribers)
      rows.push_back({n(sub.id), std::string(to_string(sub.state)), sub.reading_store ? "store" : "ring", n(sub.cursor),
                      n(sub.lag), n(sub.lead), n(sub.lapped_count), n(sub.store_reads), n(sub.delivered)});
    out += render_table(rows, {.left_first = true, .free_last = false, .indent = "  "});
  }
  return out;
}

/// The counters files to show this round: the one session, or every one found.
std::vector<std::pair<std::string, fs::path>> files_to_show(const StatOptions& o, const fs::path& base, bool in_store) {
  std::vector<std::pair<std::string, fs::path>> out;
  auto path_of = [&](const std::string& id) {
    return in_store ? counters_file_in_store(base, id) : counters_file_in_directory(base, id);
  };
  if (!o.session.empty()) {
    out.emplace_back(o.session, path_of(o.session));
    return out;
  }
  std::error_code ec;
  for (fs::directory_iterator it(base, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (!in_store) {
      if (!name.ends_with(".counters")) continue;
      name.resize(name.size() - std::string_view(".counters").size());
    }
    if (!validate_session_id(name)) continue;
    std::error_code e2;
    if (fs::exists(path_of(name), e2)) out.emplace_back(name, path_of(name));
  }
  std::sort(out.begin(), out.end());
  return out;
}

int run_stat(const StatOptions& o) {
  fs::path base;
  bool in_store = o.counters_dir.empty();
  if (in_store) {
    auto spec = parse_store_spec(o.store, false);
    if (!spec) return report_error("stat", spec.error());
    if (spec->kind != StoreSpec::Kind::log)
      return report_error("stat", Error(Errc::validation_error,
                                        "stat reads the counters files beside a LogStore's sessions; for a host on "
                                        "another store give --counters-dir DIR (its SessionServerOptions::"
                                        "counters_directory)"));
    auto store = open_existing_store(o.store);  // recognises the store (marker), read-only, creates nothing
    if (!store) return report_error("stat", store.error());
    base = spec->path;
  } else {
    base = o.counters_dir;
    std::error_code ec;
    if (!fs::is_directory(base, ec))
      return report_error(
          "stat",
          Error(Errc::not_found, std::string("no directory '").append(o.counters_dir).append("' (--counters-dir)")));
  }

  install_stop_handlers();

  const bool jsonl = o.format == "jsonl";
  const bool clear = !jsonl && ::isatty(STDOUT_FILENO) == 1;
  std::map<fs::path, Watched> watched;
  for (std::uint64_t frame = 0; o.count == 0 || frame < o.count; ++frame) {
    if (frame > 0) {
      // Sleep in short slices so a signal is noticed within ~50 ms.
      const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(o.interval_ms);
      while (!stop_requested() && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
            std::chrono::milliseconds(50), until - std::chrono::steady_clock::now()));
    }
    if (stop_requested()) break;
    const std::int64_t now = unix_now_ns();
    std::string out;
    if (clear) out += "\x1b[H\x1b[2J";
    if (!jsonl) {
      out.append("sessionring stat  ").append(in_store ? "store " : "counters-dir ").append(base.string());
      out.append("  ").append(format_rfc3339_ns(now).substr(0, 19)).append("Z");
      if (o.count != 1) out.append("  every ").append(std::to_string(o.interval_ms)).append(" ms");
      out.append("\n");
    }
    const auto files = files_to_show(o, base, in_store);
    if (files.empty() && !jsonl)
      out.append(
          "(no session here publishes counters: start its host with SessionServerOptions::publish_counters, "
          "e.g. `sessionring demo`)\n");
    for (const auto& [id, path] : files) {
      Watched& w = watched[path];
      if (!w.reader || w.reader->replaced()) {
        auto r = CountersReader::open(path);
        if (r) {
          w.reader.emplace(std::move(*r));
        } else if (!w.reader) {
          // Only a missing file of the one session asked for is an error; a file that went
          // away between listing and opening is skipped.
          if (!o.session.empty() || r.code() != Errc::not_found) return report_error("stat", r.error());
          continue;
        }  // else: the file is gone (the server closed it): keep showing its last round
      }
      auto snap = w.reader->read();
      if (!snap) return report_error("stat", snap.error());
      const auto r = rate(*snap, w.previous);
      if (!jsonl) out.append("\n");
      out += jsonl ? to_jsonl(*snap, now, r).append("\n") : to_text(*snap, now, r);
      w.previous = std::move(*snap);
    }
    if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size() || std::fflush(stdout) != 0) {
      std::fprintf(stderr, "sessionring stat: cannot write to standard output\n");
      return kExitFailure;
    }
  }
  return kExitOk;  // --count reached, or stopped by SIGINT/SIGTERM
}

}  // namespace

void add_stat_command(CLI::App& app, std::function<int()>& run) {
  auto opts = std::make_shared<StatOptions>();
  CLI::App* cmd = app.add_subcommand(
      "stat", "Live view of a running host's sessions: counters its SessionServers publish (publish_counters)");
  cmd->add_option("--store", opts->store,
                  store_option_help().append(" (a LogStore: the files are <store>/<session>/COUNTERS)"))
      ->type_name("STORE")
      ->capture_default_str();
  cmd->add_option("--counters-dir", opts->counters_dir,
                  "Read <DIR>/<session>.counters instead (a host's SessionServerOptions::counters_directory)")
      ->type_name("DIR");
  cmd->add_option("session,--session", opts->session, "Session id (default: every session that publishes counters)")
      ->type_name("ID")
      ->check(session_id_validator());
  cmd->add_option("--interval", opts->interval_ms, "Refresh every MS milliseconds")
      ->type_name("MS")
      ->capture_default_str()
      ->check(CLI::Range(10u, 3'600'000u));
  cmd->add_option("--count,-c", opts->count, "Show N refreshes, then exit 0 (default: until SIGINT/SIGTERM)")
      ->type_name("N")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 62).description("N >= 1"));
  cmd->add_option("--format", opts->format,
                  "Output format: text (a screen per refresh) or jsonl (one object per session per refresh)")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "jsonl"}));
  cmd->footer(std::string(kExitCodesFooter));
  cmd->callback([&run, opts] { run = [opts] { return run_stat(*opts); }; });
}

}  // namespace sessionring::tools
