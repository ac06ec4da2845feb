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
  const std::string accepted =
      std::string("accepted: DIR, log:DIR, sqlite:PATH, nats://HOST:PORT") + (allow_memory ? ", memory" : "");
  if (spec == "memory") {
    if (!allow_memory)
      return Error(Errc::validation_error,
                   "--store memory: a MemoryStore lives inside one process, there is nothing to read; give a LogStore "
                   "directory (DIR or log:DIR), sqlite:PATH or nats://HOST:PORT");
    s.kind = StoreSpec::Kind::memory;
    return s;
  }
  if (is_nats_url(spec)) {  // JetStreamStore: the whole URL (parse_nats_url reads it)
    s.kind = StoreSpec::Kind::nats;
    s.path = std::string(spec);
    return s;
  }
  if (spec.rfind("sqlite:", 0) == 0) {
    spec.remove_prefix(7);
    if (spec.empty()) return Error(Errc::validation_error, "--store '" + s.text + "': empty file name; " + accepted);
    s.kind = StoreSpec::Kind::sqlite;
    s.path = std::string(spec);
    return s;
  }
  if (spec.rfind("log:", 0) == 0) spec.remove_prefix(4);
  if (spec.empty()) return Error(Errc::validation_error, "--store '" + s.text + "': empty directory; " + accepted);
  s.kind = StoreSpec::Kind::log;
  s.path = std::string(spec);
  return s;
}

std::string default_store() {
  const char* env = std::getenv(kStoreEnvironmentVariable);
  return env != nullptr && *env != '\0' ? std::string(env) : std::string(kDefaultStoreDirectory);
}

std::string store_option_help() {
  return std::string("Store: DIR or log:DIR (a LogStore root), sqlite:PATH or nats://HOST:PORT. Default: $") + kStoreEnvironmentVariable +
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

bool is_nats_url(std::string_view spec) noexcept { return spec.rfind("nats://", 0) == 0; }

Result<JetStreamStoreOptions> parse_nats_url(const std::string& spec) {
  JetStreamStoreOptions o;
  const std::size_t q = spec.find('?');
  o.url = spec.substr(0, q);
  if (q != std::string::npos) {
    const std::string query = spec.substr(q + 1);
    for (std::size_t start = 0; start <= query.size();) {
      std::size_t amp = query.find('&', start);
      if (amp == std::string::npos) amp = query.size();
      const std::string kv = query.substr(start, amp - start);
      start = amp + 1;
      if (kv.empty()) continue;
      const std::size_t eq = kv.find('=');
      const std::string key = kv.substr(0, eq), value = eq == std::string::npos ? "" : kv.substr(eq + 1);
      auto number = [&](std::uint32_t& out) -> Status {
        try {
          std::size_t used = 0;
          const unsigned long v = std::stoul(value, &used);
          if (used == value.size() && v <= UINT32_MAX) {
            out = static_cast<std::uint32_t>(v);
            return {};
          }
        } catch (const std::exception&) {
        }
        return Status(Errc::validation_error, "store URL '" + spec + "': " + key + "='" + value + "' is not a number");
      };
      Status st;
      if (key == "stream") o.stream = value;
      else if (key == "streams") st = number(o.stream_count);
      else if (key == "replicas") st = number(o.replicas);
      else
        st = Status(Errc::validation_error,
                    "store URL '" + spec + "': unknown parameter '" + key + "' (known: stream, streams, replicas)");
      if (!st) return st.error();
    }
  }
  if (Status st = validate(o); !st) return st.error();
  return o;
}

Result<std::shared_ptr<SessionStore>> ExistingStore::writable() const {
  if (js_) return std::shared_ptr<SessionStore>(js_);
  if (sqlite_) {
    SqliteStoreOptions o = sqlite_->options();
    o.read_only = false;
    auto s = SqliteStore::open(std::move(o));
    if (!s) return s.error();
    return std::shared_ptr<SessionStore>(std::move(*s));
  }
  LogStoreOptions o = log_->options();
  o.read_only = false;
  auto s = LogStore::open(std::move(o));
  if (!s) return s.error();
  return std::shared_ptr<SessionStore>(std::move(*s));
}

Result<std::shared_ptr<ExistingStore>> open_existing_store(const std::string& spec) {
  auto parsed = parse_store_spec(spec, false);
  if (!parsed) return parsed.error();
  switch (parsed->kind) {
    case StoreSpec::Kind::nats: {  // JetStreamStore (docs/cli.md "Stores")
      auto o = parse_nats_url(parsed->path);
      if (!o) return o.error();
      auto s = JetStreamStore::open(std::move(*o));
      if (!s) return s.error();
      return std::make_shared<ExistingStore>(std::move(*s));
    }
    case StoreSpec::Kind::sqlite: {
      SqliteStoreOptions options;
      options.path = parsed->path;
      options.read_only = true;
      auto s = SqliteStore::open(std::move(options));
      if (!s) return s.error();
      return std::make_shared<ExistingStore>(std::move(*s));
    }
    case StoreSpec::Kind::memory:  // refused by parse_store_spec(spec, false)
    case StoreSpec::Kind::log: break;
  }
  LogStoreOptions options;
  options.root = parsed->path;
  options.read_only = true;
  auto s = LogStore::open(std::move(options));
  if (!s) return s.error();
  return std::make_shared<ExistingStore>(std::move(*s));
}

}  // namespace sessionring::tools
