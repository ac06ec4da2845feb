// Shared by the store subcommands (tail, sessions, verify): opening an existing LogStore
// without creating it, and mapping errors to the exit codes of docs/cli.md.
#pragma once
#include <sessionring/errc.hpp>
#include <sessionring/error.hpp>
#include <sessionring/jet_stream_store.hpp>
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

/// The store named by --store: a LogStore directory, or a JetStreamStore URL
///   nats://HOST:PORT[,nats://HOST2:PORT...][?stream=NAME&streams=N&replicas=R]
/// (defaults: JetStreamStoreOptions; docs/cli.md "Stores"). The subcommands use these four calls.
class ToolStore {
 public:
  explicit ToolStore(std::shared_ptr<LogStore> log) : log_(std::move(log)) {}
  explicit ToolStore(std::shared_ptr<JetStreamStore> js) : js_(std::move(js)) {}
  Result<std::shared_ptr<SessionLog>> open(std::string_view id, OpenMode mode) {
    return log_ ? log_->open(id, mode) : js_->open(id, mode);
  }
  Result<std::vector<std::string>> list_sessions() const { return log_ ? log_->list_sessions() : js_->list_sessions(); }
  Result<SessionInfo> info(std::string_view id) const { return log_ ? log_->info(id) : js_->info(id); }
  Result<VerifyReport> verify(std::string_view id) const { return log_ ? log_->verify(id) : js_->verify(id); }

 private:
  std::shared_ptr<LogStore> log_;
  std::shared_ptr<JetStreamStore> js_;
};

/// True for "nats://…" (a JetStreamStore URL).
bool is_nats_url(std::string_view spec) noexcept;
/// Parses a nats:// store URL (above) into options; validation_error naming a bad parameter.
Result<JetStreamStoreOptions> parse_nats_url(const std::string& spec);

/// Opens the store at `spec` for reading. A nats:// URL connects to JetStream (the streams are
/// created if missing). Otherwise the LogStore directory, which unlike LogStore::open is never
/// created: a missing one is Errc::not_found ("no store at ..."), a file is storage_error.
Result<std::shared_ptr<ToolStore>> open_existing_store(const std::string& spec);

}  // namespace sessionring::tools
