// RetentionPolicy validation (include/sessionring/retention_policy.hpp).
#include <sessionring/retention_policy.hpp>

#include <string>

namespace sessionring {

Status validate(const RetentionPolicy& p, std::string_view what) {
  auto bad = [&](const char* field, long long value, const char* range) {
    return Status(Errc::validation_error, std::string(what) + "." + field + " = " + std::to_string(value) +
                                              " is outside " + range);
  };
  if (p.max_events > (std::uint64_t{1} << 62))
    return Status(Errc::validation_error, std::string(what) + ".max_events = " + std::to_string(p.max_events) +
                                              " is outside [0, 2^62]");
  if (p.max_bytes > (std::uint64_t{1} << 62))
    return Status(Errc::validation_error, std::string(what) + ".max_bytes = " + std::to_string(p.max_bytes) +
                                              " is outside [0, 2^62]");
  constexpr long long kHundredYears = 100LL * 366 * 24 * 3600;
  if (p.max_age.count() < 0 || p.max_age.count() > kHundredYears)
    return bad("max_age (s)", static_cast<long long>(p.max_age.count()), "[0, 100 years]");
  if (p.prune_unit < 1 || p.prune_unit > (1u << 24))
    return bad("prune_unit", static_cast<long long>(p.prune_unit), "[1, 2^24]");
  return {};
}

}  // namespace sessionring
