// Shared by the store subcommands (tail, sessions, verify): opening an existing store (a
// LogStore directory, or a SqliteStore file given as sqlite:PATH) without creating it, and
// mapping errors to the exit codes of docs/cli.md.
#pragma once
#include <sessionring/errc.hpp>
#include <sessionring/error.hpp>
#include <sessionring/log_store.hpp>
#include <sessionring/result.hpp>
#include <sessionring/sqlite_store.hpp>

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

/// An existing store opened for reading: a LogStore or a SqliteStore behind the calls the
/// store subcommands make.
class ExistingStore {
 public:
  explicit ExistingStore(std::shared_ptr<LogStore> s) : log_(std::move(s)) {}
  explicit ExistingStore(std::shared_ptr<SqliteStore> s) : sqlite_(std::move(s)) {}
  Result<std::vector<std::string>> list_sessions() const { return store().list_sessions(); }
  Result<std::shared_ptr<SessionLog>> open(std::string_view id, OpenMode mode) const { return store().open(id, mode); }
  Result<SessionInfo> info(std::string_view id) const { return log_ ? log_->info(id) : sqlite_->info(id); }
  Result<VerifyReport> verify(std::string_view id) const { return log_ ? log_->verify(id) : sqlite_->verify(id); }

 private:
  SessionStore& store() const { return log_ ? static_cast<SessionStore&>(*log_) : *sqlite_; }
  std::shared_ptr<LogStore> log_;
  std::shared_ptr<SqliteStore> sqlite_;
};

/// Opens the store named by `spec` for reading: `sqlite:PATH` a SqliteStore file (read-only;
/// a missing file is Errc::not_found), `log:DIR` or a plain DIR the LogStore at DIR. Unlike
/// LogStore::open it never creates the directory: a missing one is Errc::not_found ("no store
/// at ..."), a file is storage_error.
Result<std::shared_ptr<ExistingStore>> open_existing_store(const std::string& spec);

}  // namespace sessionring::tools
