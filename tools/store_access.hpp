// Shared by the store subcommands (tail, sessions, verify, demo): the one parser of the
// --store syntax (a LogStore directory, a SqliteStore file given as sqlite:PATH, a
// JetStreamStore as nats://HOST:PORT, or memory), the default store, opening an existing store
// read-only without creating it, and mapping errors to the exit codes of docs/cli.md.
#pragma once
#include <sessionring/errc.hpp>
#include <sessionring/error.hpp>
#include <sessionring/jet_stream_store.hpp>
#include <sessionring/log_store.hpp>
#include <sessionring/result.hpp>
#include <sessionring/sqlite_store.hpp>

#include <CLI/CLI.hpp>

#include <filesystem>
#include <memory>
#include <optional>
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
  enum class Kind { log, memory, sqlite, nats };
  Kind kind = Kind::log;
  std::string path;  ///< log: the store root directory; sqlite: the database file; nats: the URL
  std::string text;  ///< as the user wrote it (for messages)
};

/// The only parser of the --store syntax, used by every subcommand: `DIR` or `log:DIR` is a
/// LogStore root; `sqlite:PATH` a SqliteStore file; `nats://HOST:PORT[?…]` a JetStreamStore;
/// `memory` a MemoryStore (only where `allow_memory`: it lives inside one process).
/// Errc::validation_error saying what is accepted otherwise.
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

/// An existing store opened for reading: a LogStore, a SqliteStore or a JetStreamStore behind
/// the calls the store subcommands make.
class ExistingStore {
 public:
  explicit ExistingStore(std::shared_ptr<LogStore> s) : log_(std::move(s)) {}
  explicit ExistingStore(std::shared_ptr<SqliteStore> s) : sqlite_(std::move(s)) {}
  explicit ExistingStore(std::shared_ptr<JetStreamStore> s) : js_(std::move(s)) {}
  Result<std::vector<std::string>> list_sessions() const { return store().list_sessions(); }
  Result<std::shared_ptr<SessionLog>> open(std::string_view id, OpenMode mode) const { return store().open(id, mode); }
  Result<SessionInfo> info(std::string_view id) const {
    return log_ ? log_->info(id) : sqlite_ ? sqlite_->info(id) : js_->info(id);
  }
  Result<VerifyReport> verify(std::string_view id) const {
    return log_ ? log_->verify(id) : sqlite_ ? sqlite_->verify(id) : js_->verify(id);
  }
  /// LogStore: LogStore::open_intact_prefix (the intact prefix of a damaged session, `report`
  /// says where the damage is). Other stores: open(id, OpenMode::read), `report` untouched
  /// (damage is an error of the open or of a read).
  Result<std::shared_ptr<SessionLog>> open_intact_prefix(std::string_view id, VerifyReport& report) const {
    return log_ ? log_->open_intact_prefix(id, report) : store().open(id, OpenMode::read);
  }
  /// LogStore: whether a writer holds the session's lock (LogStore::writer_active); nullopt
  /// for the other stores, or when the OS cannot tell.
  std::optional<bool> writer_active(std::string_view id) const {
    if (!log_) return std::nullopt;
    auto held = log_->writer_active(id);
    if (!held) return std::nullopt;
    return *held;
  }
  /// LogStore: LogStore::open_tail (headers and the last segment read at open: for reads near
  /// the end of a long session). Other stores: open_intact_prefix.
  Result<std::shared_ptr<SessionLog>> open_tail(std::string_view id, VerifyReport& report) const {
    return log_ ? log_->open_tail(id, report) : open_intact_prefix(id, report);
  }
  /// The same store opened for writing, for a command that needs a writer handle (`cursors
  /// --delete`): the JetStreamStore itself; a LogStore / SqliteStore opened again on this one's
  /// root / file without read_only (so it never creates a store: this one exists).
  Result<std::shared_ptr<SessionStore>> writable() const;
  /// The LogStore root directory; nullopt for the other stores (no per-session directory).
  std::optional<std::filesystem::path> log_root() const {
    if (log_) return log_->options().root;
    return std::nullopt;
  }

 private:
  SessionStore& store() const {
    if (log_) return *log_;
    if (sqlite_) return *sqlite_;
    return *js_;
  }
  std::shared_ptr<LogStore> log_;
  std::shared_ptr<SqliteStore> sqlite_;
  std::shared_ptr<JetStreamStore> js_;
};

/// True for "nats://…": a JetStreamStore URL
///   nats://HOST:PORT[,nats://HOST2:PORT...][?stream=NAME&streams=N&replicas=R]
/// (defaults: JetStreamStoreOptions; docs/cli.md "Stores").
bool is_nats_url(std::string_view spec) noexcept;
/// Parses a nats:// store URL into options; validation_error naming a bad parameter.
Result<JetStreamStoreOptions> parse_nats_url(const std::string& spec);

/// Opens the store named by `spec` (parse_store_spec; `memory` refused) for reading:
/// `nats://…` a JetStreamStore (connects; creates the streams if missing), `sqlite:PATH` a
/// SqliteStore file (read-only; a missing file is Errc::not_found), `log:DIR` or a plain DIR the
/// LogStore at DIR read-only (LogStoreOptions::read_only): never creates, locks or writes
/// anything, so it works on a store this process cannot write. No directory: Errc::not_found
/// ("no store at ..."); a directory that is not a store: Errc::not_found saying what it holds.
Result<std::shared_ptr<ExistingStore>> open_existing_store(const std::string& spec);

}  // namespace sessionring::tools
