// Store access and exit-code mapping for the store subcommands (see store_access.hpp).
#include "store_access.hpp"

#include "commands.hpp"

#include <sessionring/session_id.hpp>
#include <sessionring/session_server_options.hpp>

#include <cstdlib>
#include <iostream>

namespace sessionring::tools {

Result<StoreSpec> parse_store_spec(std::string_view spec, bool allow_memory) {
  StoreSpec s;
  s.text = std::string(spec);
  if (spec == "memory") {
    if (!allow_memory)
      return Error(Errc::validation_error,
                   "--store memory: a MemoryStore lives inside one process, there is nothing to read; give a LogStore "
                   "directory (DIR or log:DIR)");
    s.kind = StoreSpec::Kind::memory;
    return s;
  }
  if (spec.rfind("log:", 0) == 0) spec.remove_prefix(4);
  if (spec.empty())
    return Error(Errc::validation_error, "--store '" + s.text + "': empty directory; accepted: DIR, log:DIR" +
                                             (allow_memory ? ", memory" : ""));
  s.kind = StoreSpec::Kind::log;
  s.path = std::string(spec);
  return s;
}

std::string default_store() {
  const char* env = std::getenv(kStoreEnvironmentVariable);
  return env != nullptr && *env != '\0' ? std::string(env) : std::string(kDefaultStoreDirectory);
}

std::string store_option_help() {
  return std::string("Store: DIR or log:DIR (a LogStore root). Default: $") + kStoreEnvironmentVariable +
         " if set, else ./" + kDefaultStoreDirectory;
}

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

Result<std::shared_ptr<LogStore>> open_existing_store(const std::string& spec) {
  auto parsed = parse_store_spec(spec, false);
  if (!parsed) return parsed.error();
  LogStoreOptions options;
  options.root = parsed->path;
  options.read_only = true;
  return LogStore::open(std::move(options));
}

}  // namespace sessionring::tools
