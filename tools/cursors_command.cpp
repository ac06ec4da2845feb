// `sessionring cursors`: the durable named cursors of one session (SubscribeOptions::
// durable_name) with their position and lag (latest − position), read through a read handle:
// never takes the writer role, so it runs beside a live host. With --delete NAME it removes one
// cursor, which needs the session's writer handle: refused (writer_conflict) while a live host
// writes the session. docs/cli.md "cursors".
#include "commands.hpp"
#include "event_json.hpp"
#include "store_access.hpp"
#include "text_table.hpp"

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
  std::string delete_name;  ///< --delete: the cursor to remove ("" lists)
};

int write_out(const std::ostringstream& out) {
  std::cout << out.str() << std::flush;
  if (!std::cout) {
    std::cerr << "sessionring cursors: cannot write to standard output\n";
    return kExitFailure;
  }
  return kExitOk;
}

// --delete: the store opened for writing (never created: it was opened read-only first), the
// session's writer handle (writer_conflict while a live host holds it), the cursor removed.
int run_delete(const CursorsOptions& o, const ExistingStore& existing) {
  // The session must exist: a writer open would create it.
  if (auto reader = existing.open(o.session, OpenMode::read); !reader) return report_error("cursors", reader.error());
  auto store = existing.writable();
  if (!store) return report_error("cursors", store.error());
  auto log = (*store)->open(o.session, OpenMode::write);
  if (!log) {
    if (log.code() != Errc::writer_conflict) return report_error("cursors", log.error());
    std::string text = log.error().message();
    text.append("; deleting a cursor needs the session's writer handle: stop the host writing session '")
        .append(o.session)
        .append("', or delete the cursor through it (SessionLog::delete_cursor)");
    return report_error("cursors", Error(Errc::writer_conflict, std::move(text)));
  }
  auto position = (*log)->read_cursor(o.delete_name);
  if (!position) return report_error("cursors", position.error());
  if (Status st = (*log)->delete_cursor(o.delete_name); !st) return report_error("cursors", st.error());
  std::ostringstream out;
  if (o.format == "jsonl") {
    nlohmann::ordered_json j;
    j["session_id"] = o.session;
    j["name"] = o.delete_name;
    j["deleted"] = true;
    j["position"] = *position;
    out << dump_line(j) << "\n";
  } else {
    out << "deleted cursor '" << o.delete_name << "' of session '" << o.session << "' (it was at position "
        << *position << ")\n";
  }
  return write_out(out);
}

int run_cursors(const CursorsOptions& o) {
  auto store = open_existing_store(o.store);
  if (!store) return report_error("cursors", store.error());
  if (!o.delete_name.empty()) return run_delete(o, **store);
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
    out << render_table(table);
    if (list->empty()) out << "(no cursors in session '" << o.session << "'; latest sequence " << latest << ")\n";
  }
  return write_out(out);
}

CLI::Validator cursor_name_validator() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        Status st = validate_cursor_name(s);
        return st ? std::string() : st.error().message();
      },
      "", "cursor name");
}

}  // namespace

void add_cursors_command(CLI::App& app, std::function<int()>& run) {
  auto opts = std::make_shared<CursorsOptions>();
  CLI::App* cmd = app.add_subcommand(
      "cursors",
      "List the durable named cursors of a session: name, committed position, lag behind the latest event; or "
      "delete one (--delete NAME)");
  cmd->add_option("--store", opts->store, store_option_help())->type_name("STORE")->capture_default_str();
  cmd->add_option("session,--session", opts->session, "The session whose cursors to list (or delete one of)")
      ->required()
      ->type_name("SESSION")
      ->check(session_id_validator());
  cmd->add_option("--format", opts->format, "Output format: text (a table) or jsonl (one object per cursor)")
      ->check(CLI::IsMember({"text", "jsonl"}));
  cmd->add_option("--delete", opts->delete_name,
                  "Delete the cursor NAME instead of listing (prints its last position). Needs the session's writer "
                  "handle: refused with writer_conflict (exit 1) while a live host writes the session")
      ->type_name("NAME")
      ->check(cursor_name_validator());
  cmd->footer(std::string(kExitCodesFooter));
  cmd->callback([&run, opts] { run = [opts] { return run_cursors(*opts); }; });
}

}  // namespace sessionring::tools
