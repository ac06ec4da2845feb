// Store access and exit-code mapping for the store subcommands (see store_access.hpp).
#include "store_access.hpp"

#include "commands.hpp"

#include <sessionring/session_id.hpp>

#include <filesystem>
#include <iostream>
#include <system_error>

namespace sessionring::tools {

CLI::Validator session_id_validator() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        Status st = validate_session_id(s);
        return st ? std::string() : st.error().message();
      },
      "", "session id");
}

int exit_code_for(Errc code) noexcept {
  switch (code) {
    case Errc::ok: return kExitOk;
    case Errc::damaged_store: return kExitDamaged;
    case Errc::invalid_session_id:
    case Errc::unknown_event_type:
    case Errc::validation_error: return kExitUsage;
    default: return kExitFailure;
  }
}

int report_error(std::string_view command, const Error& error) {
  std::cerr << "sessionring " << command << ": " << error.describe() << "\n";
  return exit_code_for(error.code());
}

Result<std::shared_ptr<ExistingStore>> open_existing_store(const std::string& spec) {
  if (spec.rfind("sqlite:", 0) == 0) {
    SqliteStoreOptions options;
    options.path = spec.substr(7);
    options.read_only = true;
    auto s = SqliteStore::open(std::move(options));
    if (!s) return s.error();
    return std::make_shared<ExistingStore>(std::move(*s));
  }
  const std::string dir = spec.rfind("log:", 0) == 0 ? spec.substr(4) : spec;
  std::error_code ec;
  const auto status = std::filesystem::status(dir, ec);
  if (!std::filesystem::exists(status))
    return Error(Errc::not_found, "no store at '" + dir + "' (no such directory)");
  if (!std::filesystem::is_directory(status))
    return Error(Errc::storage_error, "store root '" + dir + "' is not a directory");
  LogStoreOptions options;
  options.root = dir;
  auto s = LogStore::open(std::move(options));
  if (!s) return s.error();
  return std::make_shared<ExistingStore>(std::move(*s));
}

}  // namespace sessionring::tools
