// Shared by the store subcommands (tail, sessions, verify, demo): the one parser of the
// --store syntax, the default store, opening an existing LogStore read-only, and mapping
// errors to the exit codes of docs/cli.md.
#pragma once
#include <sessionring/errc.hpp>
#include <sessionring/error.hpp>
#include <sessionring/log_store.hpp>
#include <sessionring/result.hpp>

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace sessionring::tools {

/// The footer of every store subcommand's --help.
inline constexpr std::string_view kExitCodesFooter =
    "Exit codes: 0 ok, 1 runtime failure, 2 bad usage, 3 damaged store, 130/143 interrupted by SIGINT/SIGTERM "
    "(docs/cli.md).";

/// The environment variable naming the default store of every subcommand.
inline constexpr const char* kStoreEnvironmentVariable = "SESSIONRING_STORE";

/// One parsed --store value (docs/cli.md "Stores").
struct StoreSpec {
  enum class Kind { log, memory };
  Kind kind = Kind::log;
  std::string path;  ///< log: the store root directory
  std::string text;  ///< as the user wrote it (for messages)
};

/// The only parser of the --store syntax, used by every subcommand: `DIR` or `log:DIR` is a
/// LogStore root; `memory` a MemoryStore (only where `allow_memory`: it lives inside one
/// process). Errc::validation_error saying what is accepted otherwise.
Result<StoreSpec> parse_store_spec(std::string_view spec, bool allow_memory);

/// $SESSIONRING_STORE when set and non-empty, else `sessionring-data` (the demo's store).
std::string default_store();

/// The help text of --store (names the default and the environment variable).
std::string store_option_help();

/// CLI11 check: the value is a valid session id (validate_session_id), else a usage error.
CLI::Validator session_id_validator();

/// kExitDamaged for damaged_store; kExitUsage for errors in what the user typed
/// (invalid_session_id, unknown_event_type, validation_error); kExitFailure otherwise.
int exit_code_for(Errc code) noexcept;

/// Prints "sessionring <command>: <code>: <message>" to stderr; returns exit_code_for(code).
int report_error(std::string_view command, const Error& error);

/// Opens the LogStore named by `spec` (parse_store_spec; `memory` refused) read-only
/// (LogStoreOptions::read_only): never creates, locks or writes anything, so it works on a
/// store this process cannot write. No directory: Errc::not_found ("no store at ..."); a
/// directory that is not a store: Errc::not_found saying what it holds.
Result<std::shared_ptr<LogStore>> open_existing_store(const std::string& spec);

}  // namespace sessionring::tools
