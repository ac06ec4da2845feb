// Event formatting for `sessionring tail` (see event_json.hpp).
#include "event_json.hpp"

#include <sessionring/event_type.hpp>

#include <algorithm>
#include <cstdio>

namespace sessionring::tools {
namespace {

// Floor division (C++ `/` truncates toward zero; timestamps before 1970 need floor).
constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

struct CivilDate {
  std::int64_t year;
  unsigned month;  // 1..12
  unsigned day;    // 1..31
};

// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant, "chrono-Compatible
// Low-Level Date Algorithms", civil_from_days).
constexpr CivilDate civil_from_days(std::int64_t z) noexcept {
  z += 719468;
  const std::int64_t era = floor_div(z, 146097);
  const auto doe = static_cast<unsigned>(z - era * 146097);                   // [0, 146096]
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                // [0, 365]
  const unsigned mp = (5 * doy + 2) / 153;                                     // [0, 11]
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;                             // [1, 31]
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;                                // [1, 12]
  return {m <= 2 ? y + 1 : y, m, d};
}
static_assert(civil_from_days(0).year == 1970 && civil_from_days(0).month == 1 && civil_from_days(0).day == 1);
static_assert(civil_from_days(-1).year == 1969 && civil_from_days(-1).month == 12 && civil_from_days(-1).day == 31);
static_assert(civil_from_days(19675).year == 2023 && civil_from_days(19675).month == 11);  // 2023-11-14

void append_escaped(std::string& out, std::string_view bytes, std::size_t limit) {
  const std::string_view shown = bytes.substr(0, limit);
  for (char c : shown) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\\': out += "\\\\"; break;
      default:
        if (u < 0x20 || u == 0x7f) {
          char hex[5];
          std::snprintf(hex, sizeof hex, "\\x%02x", u);
          out += hex;
        } else {
          out += c;  // printable ASCII and UTF-8 bytes as they are
        }
    }
  }
  if (bytes.size() > shown.size()) out += "...(+" + std::to_string(bytes.size() - shown.size()) + " bytes)";
}

}  // namespace

std::string format_rfc3339_ns(std::int64_t ns) {
  constexpr std::int64_t kNsPerSec = 1'000'000'000;
  const std::int64_t secs = floor_div(ns, kNsPerSec);
  const auto frac = static_cast<long>(ns - secs * kNsPerSec);  // [0, 1e9)
  const std::int64_t days = floor_div(secs, 86400);
  const auto sod = static_cast<long>(secs - days * 86400);  // [0, 86400)
  const CivilDate date = civil_from_days(days);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02ld:%02ld:%02ld.%09ldZ", static_cast<long long>(date.year),
                date.month, date.day, sod / 3600, sod / 60 % 60, sod % 60, frac);
  return buf;
}

nlohmann::ordered_json json_or_string(std::string_view bytes) {
  if (!bytes.empty()) {
    // allow_exceptions = false: a parse failure yields a discarded value instead of throwing.
    nlohmann::ordered_json parsed = nlohmann::ordered_json::parse(bytes.begin(), bytes.end(), nullptr, false);
    if (!parsed.is_discarded()) return parsed;
  }
  return nlohmann::ordered_json(std::string(bytes));
}

nlohmann::ordered_json event_to_json(const EventView& e) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["seq"] = e.sequence_number;
  j["type"] = std::string(to_string(e.type));
  j["id"] = std::string(e.id);
  j["session_id"] = std::string(e.session_id);
  j["run_id"] = std::string(e.run_id);
  j["timestamp"] = format_rfc3339_ns(e.timestamp_ns);
  j["data"] = json_or_string(e.data);
  j["metadata"] = json_or_string(e.metadata);
  if (!e.correlation_id.empty()) j["correlation_id"] = std::string(e.correlation_id);
  if (!e.provider.empty()) j["provider"] = std::string(e.provider);
  j["schema_version"] = e.schema_version;
  return j;
}

std::string dump_line(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string event_to_jsonl(const EventView& e) { return dump_line(event_to_json(e)); }

std::string event_to_text(const EventView& e) {
  std::string out;
  out.reserve(96 + std::min(e.data.size(), kTextFieldLimit));
  out += '#';
  out += std::to_string(e.sequence_number);
  out += ' ';
  out += format_rfc3339_ns(e.timestamp_ns);
  out += ' ';
  out += to_string(e.type);
  auto field = [&](std::string_view name, std::string_view value, std::size_t limit) {
    if (value.empty()) return;
    out += ' ';
    out += name;
    out += '=';
    append_escaped(out, value, limit);
  };
  field("run", e.run_id, kTextFieldLimit);
  field("id", e.id, kTextFieldLimit);
  field("corr", e.correlation_id, kTextFieldLimit);
  field("provider", e.provider, kTextFieldLimit);
  field("data", e.data, kTextFieldLimit);
  field("metadata", e.metadata, kTextFieldLimit);
  return out;
}

}  // namespace sessionring::tools
