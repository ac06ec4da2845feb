// Shared by the store subcommands (tail, sessions, verify): opening an existing LogStore
// without creating it, and mapping errors to the exit codes of docs/cli.md.
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
    "Exit codes: 0 ok, 1 runtime failure, 2 bad usage, 3 damaged store (docs/cli.md).";

/// CLI11 check: the value is a valid session id (validate_session_id), else a usage error.
CLI::Validator session_id_validator();

/// kExitDamaged for damaged_store; kExitUsage for errors in what the user typed
/// (invalid_session_id, unknown_event_type, validation_error); kExitFailure otherwise.
int exit_code_for(Errc code) noexcept;

/// Prints "sessionring <command>: <code>: <message>" to stderr; returns exit_code_for(code).
int report_error(std::string_view command, const Error& error);

/// Opens the LogStore at `dir` for reading. Unlike LogStore::open it never creates the
/// directory: a missing one is Errc::not_found ("no store at ..."), a file is storage_error.
Result<std::shared_ptr<LogStore>> open_existing_store(const std::string& dir);

}  // namespace sessionring::tools
