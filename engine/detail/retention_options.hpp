// Validation of the retention options every store shares: a store-wide `retention` and a
// per-session `session_retention` map (MemoryStoreOptions, LogStoreOptions, SqliteStoreOptions).
#pragma once
#include <sessionring/retention_policy.hpp>
#include <sessionring/session_id.hpp>

#include <map>
#include <string>
#include <string_view>

namespace sessionring::detail {

/// Errc::validation_error naming `options` ("LogStoreOptions") and the field. The policy a
/// session gets: retention_for().
inline Status validate_retention_options(const RetentionPolicy& retention,
                                         const std::map<std::string, RetentionPolicy, std::less<>>& session_retention,
                                         std::string_view options) {
  std::string what(options);
  what.append("::retention");
  if (Status st = validate(retention, what); !st) return st;
  for (const auto& [id, policy] : session_retention) {
    std::string field(options);
    field.append("::session_retention");
    if (Status st = validate_session_id(id); !st)
      return Status(Errc::validation_error, field.append(": ").append(st.error().message()));
    field.append("['").append(id).append("']");
    if (Status st = validate(policy, field); !st) return st;
  }
  return {};
}

/// The policy of session `id`: its entry in `session_retention`, else the store-wide default.
inline const RetentionPolicy& retention_for(std::string_view id, const RetentionPolicy& retention,
                                            const std::map<std::string, RetentionPolicy, std::less<>>& session_retention) {
  auto it = session_retention.find(id);
  return it != session_retention.end() ? it->second : retention;
}

}  // namespace sessionring::detail
