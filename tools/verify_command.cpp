// `sessionring verify`: reads every record of one session (or of every session) of a LogStore,
// checking its checksum and the contiguity of the sequence (INV-1, INV-9); names the file and
// offset of the first problem and exits 3 on damage. Never modifies the files. A torn tail
// (bytes a crash left after the last secured record) is reported but is not damage: the next
// writer open truncates it. docs/cli.md "verify".
#include "commands.hpp"
#include "event_json.hpp"
#include "store_access.hpp"

#include <sessionring/log_store.hpp>

#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace sessionring::tools {
namespace {

struct VerifyOptions {
  std::string store = default_store();
  std::string session;  // empty: every session
  std::string format = "text";
};

std::string text_line(const VerifyReport& r) {
  std::ostringstream s;
  const SessionInfo& i = r.intact;
  if (r.ok()) {
    s << i.session_id << ": ok: " << i.event_count << " events";
    if (i.latest_sequence >= i.first_sequence) s << " (seq " << i.first_sequence << ".." << i.latest_sequence << ")";
    s << " in " << i.segment_count << " segment" << (i.segment_count == 1 ? "" : "s") << ", " << i.bytes << " bytes";
    if (r.torn_tail_bytes > 0)
      s << "; torn tail: " << r.torn_tail_bytes << " bytes at " << r.file << " offset " << r.offset << " ("
        << r.problem << "; never secured, the next writer open truncates them)";
  } else {
    s << i.session_id << ": DAMAGED: " << r.file << " offset " << r.offset << ": " << r.problem << "; intact prefix: ";
    if (i.latest_sequence > 0)
      s << "seq " << i.first_sequence << ".." << i.latest_sequence;
    else
      s << "none";
  }
  return s.str();
}

nlohmann::ordered_json json_line(const VerifyReport& r) {
  nlohmann::ordered_json j;
  j["session_id"] = r.intact.session_id;
  j["ok"] = r.ok();
  j["latest_seq"] = r.intact.latest_sequence;
  j["event_count"] = r.intact.event_count;
  j["bytes"] = r.intact.bytes;
  j["segment_count"] = r.intact.segment_count;
  if (!r.problem.empty()) {
    j["problem"] = r.problem;
    j["file"] = r.file;
    j["offset"] = r.offset;
  }
  j["torn_tail_bytes"] = r.torn_tail_bytes;
  return j;
}

int run_verify(const VerifyOptions& o) {
  auto store = open_existing_store(o.store);
  if (!store) return report_error("verify", store.error());
  std::vector<std::string> ids;
  if (!o.session.empty()) {
    ids.push_back(o.session);
  } else {
    auto listed = (*store)->list_sessions();
    if (!listed) return report_error("verify", listed.error());
    ids = std::move(*listed);
  }
  const bool jsonl = o.format == "jsonl";
  int rc = kExitOk;
  std::size_t damaged = 0;
  std::size_t failed = 0;
  for (const std::string& id : ids) {
    auto report = (*store)->verify(id);
    if (!report) {
      const int code = report_error("verify", report.error());
      if (code == kExitDamaged) {
        ++damaged;
        rc = kExitDamaged;
      } else {
        ++failed;
        if (rc == kExitOk) rc = code;
      }
      continue;
    }
    std::cout << (jsonl ? dump_line(json_line(*report)) : text_line(*report)) << "\n" << std::flush;
    if (!report->ok()) {
      ++damaged;
      rc = kExitDamaged;
      std::cerr << "sessionring verify: damaged_store: session '" << id << "': " << report->file << " offset "
                << report->offset << ": " << report->problem << "\n";
    }
  }
  if (!jsonl) {
    std::cout << "verified " << ids.size() << " session" << (ids.size() == 1 ? "" : "s") << ": "
              << ids.size() - damaged - failed << " ok, " << damaged << " damaged";
    if (failed > 0) std::cout << ", " << failed << " could not be read";
    std::cout << "\n";
  }
  std::cout << std::flush;
  if (!std::cout) {
    std::cerr << "sessionring verify: cannot write to standard output\n";
    return kExitFailure;
  }
  return rc;
}

}  // namespace

void add_verify_command(CLI::App& app, std::function<int()>& run) {
  auto opts = std::make_shared<VerifyOptions>();
  CLI::App* cmd = app.add_subcommand(
      "verify", "Check every record's checksum and the sequence contiguity; exit 3 on damage, naming file and offset");
  cmd->add_option("--store", opts->store, store_option_help())->type_name("STORE")->capture_default_str();
  cmd->add_option("--session", opts->session, "Only this session (default: every session)")
      ->type_name("ID")
      ->check(session_id_validator());
  cmd->add_option("--format", opts->format, "Output format: text or jsonl (one object per session)")
      ->check(CLI::IsMember({"text", "jsonl"}));
  cmd->footer(std::string(kExitCodesFooter));
  cmd->callback([&run, opts] { run = [opts] { return run_verify(*opts); }; });
}

}  // namespace sessionring::tools
