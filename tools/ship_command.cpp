// `sessionring ship`: runs a Shipper (include/sessionring/shipper.hpp) from one store to
// another — typically a local LogStore to a JetStreamStore that other hosts read — and shows
// each session's shipped watermark and lag. docs/cli.md "ship".
#include "commands.hpp"
#include "event_json.hpp"
#include "stop_signal.hpp"
#include "store_access.hpp"
#include "text_table.hpp"

#include <sessionring/shipper.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace sessionring::tools {
namespace {

struct ShipCommandOptions {
  std::string from = default_store();
  std::string to;
  std::vector<std::string> sessions;
  bool once = false;
  double interval_s = 1.0;
  double timeout_s = 60.0;
  std::string format = "text";
};

/// Opens `text` (parse_store_spec) as a SessionStore: the source read-only (a LogStore or
/// SqliteStore file that exists; never created or locked), the destination for writing
/// (created when missing).
Result<std::shared_ptr<SessionStore>> open_ship_store(const std::string& text, bool source) {
  auto spec = parse_store_spec(text, false);
  if (!spec) return spec.error();
  switch (spec->kind) {
    case StoreSpec::Kind::sqlite: {
      SqliteStoreOptions o;
      o.path = spec->path;
      o.read_only = source;
      auto s = SqliteStore::open(o);
      if (!s) return s.error();
      return std::shared_ptr<SessionStore>(*s);
    }
    case StoreSpec::Kind::nats: {
      auto o = parse_nats_url(spec->path);
      if (!o) return o.error();
      auto s = JetStreamStore::open(std::move(*o));
      if (!s) return s.error();
      return std::shared_ptr<SessionStore>(*s);
    }
    case StoreSpec::Kind::memory:  // refused by parse_store_spec(…, false)
    case StoreSpec::Kind::log: break;
  }
  if (source) {  // the checks of every read-only subcommand (a store marker, a clear not_found)
    if (auto existing = open_existing_store(text); !existing) return existing.error();
  }
  LogStoreOptions o;
  o.root = spec->path;
  o.read_only = source;
  auto s = LogStore::open(o);
  if (!s) return s.error();
  return std::shared_ptr<SessionStore>(*s);
}

void print_report(const Shipper::Stats& st, bool jsonl) {
  std::ostringstream out;
  if (jsonl) {
    for (const auto& l : st.sessions) {
      nlohmann::ordered_json j;
      j["session_id"] = l.session_id;
      j["source_latest"] = l.source_latest;
      j["shipped"] = l.shipped;
      j["lag"] = l.lag;
      j["events_shipped"] = l.events_shipped;
      j["error"] = l.error ? nlohmann::ordered_json(l.error->describe()) : nlohmann::ordered_json(nullptr);
      j["stopped"] = l.stopped;
      out << dump_line(j) << "\n";
    }
  } else {
    std::vector<std::vector<std::string>> rows = {{"session", "source", "shipped", "lag", "error"}};
    for (const auto& l : st.sessions)
      rows.push_back({l.session_id, std::to_string(l.source_latest), std::to_string(l.shipped), std::to_string(l.lag),
                      l.error ? std::string(l.stopped ? "stopped: " : "retrying: ").append(l.error->describe()) : "-"});
    out << render_table(rows, {.left_first = true, .free_last = true, .indent = {}});
    out << st.events_shipped << " events shipped in " << st.batches << " batches; " << st.failures
        << " failed attempts (retried)\n";
  }
  std::cout << out.str() << std::flush;
}

int run_ship(const ShipCommandOptions& o) {
  auto from = open_ship_store(o.from, true);
  if (!from) return report_error("ship", from.error());
  auto to = open_ship_store(o.to, false);
  if (!to) return report_error("ship", to.error());
  ShipperOptions so;
  so.source = *from;
  so.destination = *to;
  so.sessions = o.sessions;
  auto shipper = Shipper::start(std::move(so));
  if (!shipper) return report_error("ship", shipper.error());
  const bool jsonl = o.format == "jsonl";
  install_stop_handlers();
  if (o.once) {
    Status st = (*shipper)->wait_caught_up(std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::duration<double>(o.timeout_s)));
    (*shipper)->stop();
    print_report((*shipper)->stats(), jsonl);
    if (!st) return report_error("ship", st.error());
    return kExitOk;
  }
  const auto interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(o.interval_s));
  while (!stop_requested()) {
    const auto until = std::chrono::steady_clock::now() + interval;
    while (!stop_requested() && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
          std::chrono::milliseconds(50), until - std::chrono::steady_clock::now()));
    print_report((*shipper)->stats(), jsonl);
  }
  (*shipper)->stop();  // what was shipped stays shipped; the next run continues from the replica
  return 128 + stop_signal();
}

}  // namespace

void add_ship_command(CLI::App& app, std::function<int()>& run) {
  auto opts = std::make_shared<ShipCommandOptions>();
  CLI::App* cmd = app.add_subcommand(
      "ship",
      "Copy sessions from one store to another (e.g. a local LogStore to nats://…), same sequences, "
      "continuing where the destination ends; shows each session's lag");
  cmd->add_option("--from", opts->from, "The source store, opened read-only; " + store_option_help())
      ->type_name("STORE")
      ->capture_default_str();
  cmd->add_option("--to", opts->to, "The destination store (created if missing); the same syntax as --from")
      ->type_name("STORE")
      ->required();
  cmd->add_option("--session", opts->sessions, "Ship only this session (repeatable); default: every session")
      ->type_name("SESSION")
      ->check(session_id_validator());
  cmd->add_flag("--once", opts->once,
                "Ship what the source holds now, print the report and exit (0, or 1 when a session could not be "
                "shipped within --timeout)");
  cmd->add_option("--timeout", opts->timeout_s, "With --once: seconds to wait for the destination to catch up")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--interval", opts->interval_s, "Without --once: seconds between two lag reports")
      ->check(CLI::Range(0.05, 3600.0))
      ->capture_default_str();
  cmd->add_option("--format", opts->format, "Output format: text (a table) or jsonl (one object per session)")
      ->check(CLI::IsMember({"text", "jsonl"}))
      ->capture_default_str();
  cmd->footer(std::string(kExitCodesFooter));
  cmd->callback([&run, opts] { run = [opts] { return run_ship(*opts); }; });
}

}  // namespace sessionring::tools
