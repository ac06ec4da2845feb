// `sessionring cursors`: the durable named cursors of one session (SubscribeOptions::
// durable_name) with their position and lag (latest − position), read through a read handle:
// never takes the writer role, so it runs beside a live host. docs/cli.md "cursors".
#include "commands.hpp"
#include "event_json.hpp"
#include "store_access.hpp"

#include <sessionring/cursor_position.hpp>

#include <algorithm>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace sessionring::tools {
namespace {

struct CursorsOptions {
  std::string store = default_store();
  std::string session;
  std::string format = "text";
};

int run_cursors(const CursorsOptions& o) {
  auto store = open_existing_store(o.store);
  if (!store) return report_error("cursors", store.error());
  auto log = (*store)->open(o.session, OpenMode::read);
  if (!log) return report_error("cursors", log.error());
  auto list = (*log)->list_cursors();
  if (!list) return report_error("cursors", list.error());
  const Sequence latest = (*log)->latest_sequence();
  std::ostringstream out;
  if (o.format == "jsonl") {
    for (const auto& c : *list) {
      nlohmann::ordered_json j;
      j["session_id"] = o.session;
      j["name"] = c.name;
      j["position"] = c.position;
      j["lag"] = latest > c.position ? latest - c.position : 0;
      out << dump_line(j) << "\n";
    }
  } else {
    std::vector<std::vector<std::string>> table = {{"cursor", "position", "lag"}};
    for (const auto& c : *list)
      table.push_back(
          {c.name, std::to_string(c.position), std::to_string(latest > c.position ? latest - c.position : 0)});
    std::vector<std::size_t> w(3, 0);
    for (const auto& r : table)
      for (std::size_t c = 0; c < r.size(); ++c) w[c] = std::max(w[c], r[c].size());
    for (const auto& r : table) {
      std::string line = r[0];
      line.append(w[0] - r[0].size(), ' ');
      for (std::size_t c = 1; c < r.size(); ++c) line.append("  ").append(w[c] - r[c].size(), ' ').append(r[c]);
      out << line << "\n";
    }
    if (list->empty()) out << "(no cursors in session '" << o.session << "'; latest sequence " << latest << ")\n";
  }
  std::cout << out.str() << std::flush;
  if (!std::cout) {
    std::cerr << "sessionring cursors: cannot write to standard output\n";
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace

void add_cursors_command(CLI::App& app, std::function<int()>& run) {
  auto opts = std::make_shared<CursorsOptions>();
  CLI::App* cmd = app.add_subcommand(
      "cursors", "List the durable named cursors of a session: name, committed position, lag behind the latest event");
  cmd->add_option("--store", opts->store, store_option_help())->type_name("STORE")->capture_default_str();
  cmd->add_option("session,--session", opts->session, "The session whose cursors to list")
      ->required()
      ->type_name("SESSION")
      ->check(session_id_validator());
  cmd->add_option("--format", opts->format, "Output format: text (a table) or jsonl (one object per cursor)")
      ->check(CLI::IsMember({"text", "jsonl"}));
  cmd->footer(std::string(kExitCodesFooter));
  cmd->callback([&run, opts] { run = [opts] { return run_cursors(*opts); }; });
}

}  // namespace sessionring::tools
