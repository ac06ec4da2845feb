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

Result<std::shared_ptr<ExistingStore>> open_existing_store(const std::string& spec) {
  if (is_nats_url(spec)) {  // JetStreamStore (docs/cli.md "Stores")
    auto o = parse_nats_url(spec);
    if (!o) return o.error();
    auto s = JetStreamStore::open(std::move(*o));
    if (!s) return s.error();
    return std::make_shared<ExistingStore>(std::move(*s));
  }
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
