// `sessionring sessions`: each session of a LogStore with its latest sequence, event count,
// size and segment count (LogStore::info: segment headers and the last segment only, so it
// is cheap on large stores; `sessionring verify` reads every record). docs/cli.md "sessions".
#include "commands.hpp"
#include "event_json.hpp"
#include "store_access.hpp"

#include <sessionring/log_store.hpp>

#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

namespace sessionring::tools {
namespace {

struct SessionsOptions {
  std::string store;
  std::string format = "text";
};

int run_sessions(const SessionsOptions& o) {
  auto store = open_existing_store(o.store);
  if (!store) return report_error("sessions", store.error());
  auto ids = (*store)->list_sessions();
  if (!ids) return report_error("sessions", ids.error());
  const bool jsonl = o.format == "jsonl";

  int rc = kExitOk;
  std::ostringstream out;
  if (!jsonl)
    out << std::left << std::setw(32) << "session" << std::right << std::setw(12) << "first_seq" << std::setw(14)
        << "latest_seq" << std::setw(14)
        << "events" << std::setw(16) << "bytes" << std::setw(10) << "segments"
        << "\n";
  for (const std::string& id : *ids) {
    auto info = (*store)->info(id);
    if (!info) {
      const int code = report_error("sessions", info.error());
      if (rc != kExitDamaged) rc = code == kExitDamaged ? kExitDamaged : kExitFailure;
      continue;
    }
    if (jsonl) {
      nlohmann::ordered_json j;
      j["session_id"] = info->session_id;
      j["first_seq"] = info->first_sequence;
      j["latest_seq"] = info->latest_sequence;
      j["event_count"] = info->event_count;
      j["bytes"] = info->bytes;
      j["segment_count"] = info->segment_count;
      out << dump_line(j) << "\n";
    } else {
      out << std::left << std::setw(32) << info->session_id << std::right << std::setw(12) << info->first_sequence
          << std::setw(14) << info->latest_sequence
          << std::setw(14) << info->event_count << std::setw(16) << info->bytes << std::setw(10)
          << info->segment_count << "\n";
    }
  }
  if (!jsonl && ids->empty()) out << "(no sessions in store '" << o.store << "')\n";
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
  cmd->add_option("--store", opts->store, "Store: a log store root DIR (or log:DIR), or sqlite:PATH")->required()->type_name("STORE");
  cmd->add_option("--format", opts->format, "Output format: text (a table) or jsonl (one object per session)")
      ->check(CLI::IsMember({"text", "jsonl"}));
  cmd->footer(std::string(kExitCodesFooter));
  cmd->callback([&run, opts] { run = [opts] { return run_sessions(*opts); }; });
}

}  // namespace sessionring::tools
