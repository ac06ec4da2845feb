// `sessionring sessions`: each session of a store with its first and latest sequence, event
// count, size, segment count, writer and first/last event times (LogStore::info and a tail
// open: segment headers, the last segment and the first record only, so it is cheap on large
// stores; `sessionring verify` reads every record). docs/cli.md "sessions".
#include "commands.hpp"
#include "event_json.hpp"
#include "store_access.hpp"
#include "text_table.hpp"

#include <sessionring/event_query.hpp>
#include <sessionring/log_store.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <optional>
#include <vector>

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

namespace sessionring::tools {
namespace {

struct SessionsOptions {
  std::string store = default_store();
  std::string format = "text";
};

/// "812 B", "125.8 kB", "3.4 MB", "1.20 GB" (decimal units).
std::string human_bytes(std::uint64_t b) {
  char buf[32];
  const double v = static_cast<double>(b);
  if (b < 1000)
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(b));
  else if (b < 1'000'000)
    std::snprintf(buf, sizeof buf, "%.1f kB", v / 1e3);
  else if (b < 1'000'000'000)
    std::snprintf(buf, sizeof buf, "%.1f MB", v / 1e6);
  else
    std::snprintf(buf, sizeof buf, "%.2f GB", v / 1e9);
  return buf;
}

/// Whether a process of an older build holds the session's writer lock of the previous layout
/// (the flock on <session>/LOCK), read from /proc/locks: never takes a lock itself, so it
/// cannot make a starting writer fail. nullopt when it cannot tell (no /proc/locks).
std::optional<bool> legacy_writer_active(const std::string& session_dir) {
  struct stat st {};
  if (::stat((session_dir + "/LOCK").c_str(), &st) != 0) return false;  // never had a writer since the lock file
  std::ifstream locks("/proc/locks");
  if (!locks) return std::nullopt;
  char id[64];
  std::snprintf(id, sizeof id, "%02x:%02x:%llu", major(st.st_dev), minor(st.st_dev),
                static_cast<unsigned long long>(st.st_ino));
  for (std::string line; std::getline(locks, line);)
    if (line.find(" FLOCK ") != std::string::npos && line.find(std::string(" ") + id + " ") != std::string::npos)
      return true;
  return false;
}

/// Timestamps of a session's first available and last events: two one-event reads through a
/// tail open (LogStore: the last segment and the first record of the first segment are read,
/// never the whole session). `known` false for an empty session. (A plain struct, not an
/// optional: GCC 12 warns falsely -Wmaybe-uninitialized about an optional of it.)
struct EventTimes {
  bool known = false;
  std::int64_t first_ns = 0;
  std::int64_t last_ns = 0;
};
Result<EventTimes> event_times(const ExistingStore& store, const SessionInfo& info) {
  if (info.latest_sequence == 0 || info.latest_sequence < info.first_sequence) return EventTimes{};
  VerifyReport ignored;  // damage in what info() read was already reported
  auto log = store.open_tail(info.session_id, ignored);
  if (!log) return log.error();
  auto time_of = [&](Sequence seq) -> Result<std::int64_t> {
    std::optional<std::int64_t> t;
    EventQuery q;
    q.after = seq - 1;
    q.before = seq + 1;
    q.limit = 1;
    if (Status st = (*log)->read(q, [&](const EventView& e) {
          t = e.timestamp_ns;
          return false;
        });
        !st)
      return st.error();
    if (!t) return Error(Errc::not_found, "session '" + info.session_id + "' has no event " + std::to_string(seq));
    return *t;
  };
  auto first = time_of(std::max<Sequence>(info.first_sequence, 1));
  if (!first) return first.error();
  auto last = time_of(info.latest_sequence);
  if (!last) return last.error();
  return EventTimes{true, *first, *last};
}

/// "2024-05-01T10:00:00Z": the text column (seconds; jsonl has the nanoseconds).
std::string short_time(std::int64_t ns) {
  std::string s = format_rfc3339_ns(ns);
  s.resize(19);
  s.push_back('Z');
  return s;
}

int run_sessions(const SessionsOptions& o) {
  auto store = open_existing_store(o.store);
  if (!store) return report_error("sessions", store.error());
  auto ids = (*store)->list_sessions();
  if (!ids) return report_error("sessions", ids.error());
  const bool jsonl = o.format == "jsonl";
  const auto root = (*store)->log_root();  // writer column: LogStore only (its writer locks)

  int rc = kExitOk;
  std::ostringstream out;
  std::vector<std::vector<std::string>> table = {
      {"session", "first_seq", "latest_seq", "events", "size", "segments", "writer", "first_time", "last_time"}};
  std::vector<std::string> notes;  // rows of sessions that could not be read (text)
  for (const std::string& id : *ids) {
    auto info = (*store)->info(id);
    // Writer lock state, LogStore only: known (and then active or not) or unknown.
    bool writer_known = false;
    bool writer_on = false;
    if (root) {
      // This layout's lock (LogStore::writer_active: <root>/LOCKS.xx), or an older build's.
      const auto current = (*store)->writer_active(id);
      const auto legacy = legacy_writer_active((*root / id).string());
      writer_known = current.has_value();
      writer_on = current.value_or(false) || legacy.value_or(false);
    }
    if (!info) {
      // Reported on stderr, and a row that says so: never a silently shorter listing.
      const int code = report_error("sessions", info.error());
      if (rc != kExitDamaged) rc = code == kExitDamaged ? kExitDamaged : kExitFailure;
      if (jsonl) {
        nlohmann::ordered_json j;
        j["session_id"] = id;
        j["error"] = std::string(to_string(info.code()));
        j["message"] = info.error().message();
        out << dump_line(j) << "\n";
      } else {
        table.push_back({id, code == kExitDamaged ? "DAMAGED" : "UNREADABLE", "", "", "", "", "", "", ""});
        notes.push_back(id + ": " + std::string(to_string(info.code())) +
                        " (see standard error; `sessionring verify` shows the intact prefix)");
      }
      continue;
    }
    auto times = event_times(**store, *info);
    if (!times) {
      // Damage met reading the first or last event: reported, the row keeps its other columns.
      const int code = report_error("sessions", times.error());
      if (rc != kExitDamaged) rc = code == kExitDamaged ? kExitDamaged : kExitFailure;
    }
    const EventTimes t = times ? *times : EventTimes{};
    if (jsonl) {
      nlohmann::ordered_json j;
      j["session_id"] = info->session_id;
      j["first_seq"] = info->first_sequence;
      j["latest_seq"] = info->latest_sequence;
      j["event_count"] = info->event_count;
      j["bytes"] = info->bytes;
      j["segment_count"] = info->segment_count;
      if (writer_known) j["writer_active"] = writer_on;
      if (t.known) {
        j["first_time"] = format_rfc3339_ns(t.first_ns);
        j["last_time"] = format_rfc3339_ns(t.last_ns);
      }
      out << dump_line(j) << "\n";
    } else {
      table.push_back({info->session_id, std::to_string(info->first_sequence), std::to_string(info->latest_sequence),
                       std::to_string(info->event_count),
                       human_bytes(info->bytes), std::to_string(info->segment_count),
                       writer_known ? (writer_on ? "active" : "-") : "?",
                       t.known ? short_time(t.first_ns) : (times ? "-" : "?"),
                       t.known ? short_time(t.last_ns) : (times ? "-" : "?")});
    }
  }
  if (!jsonl) {
    out << render_table(table);
    for (const auto& n : notes) out << n << "\n";
    if (ids->empty()) out << "(no sessions in store '" << o.store << "')\n";
  }
  std::cout << out.str() << std::flush;
  if (!std::cout) {
    std::cerr << "sessionring sessions: cannot write to standard output\n";
    return kExitFailure;
  }
  return rc;
}

}  // namespace

void add_sessions_command(CLI::App& app, std::function<int()>& run) {
  auto opts = std::make_shared<SessionsOptions>();
  CLI::App* cmd =
      app.add_subcommand("sessions", "List the sessions of a store: latest sequence, event count, size, segments");
  cmd->add_option("--store", opts->store, store_option_help())->type_name("STORE")->capture_default_str();
  cmd->add_option("--format", opts->format, "Output format: text (a table) or jsonl (one object per session)")
      ->check(CLI::IsMember({"text", "jsonl"}));
  cmd->footer(std::string(kExitCodesFooter));
  cmd->callback([&run, opts] { run = [opts] { return run_sessions(*opts); }; });
}

}  // namespace sessionring::tools
