// Event formatting for `sessionring tail` (see event_json.hpp).
#include "event_json.hpp"

#include <sessionring/event_type.hpp>

extern "C" {  // libb64's C header declares no C linkage itself
#include <b64/cencode.h>
}

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>

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
// Proleptic Gregorian date to days since 1970-01-01 (H. Hinnant, days_from_civil).
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2;
  const std::int64_t era = floor_div(y, 400);
  const auto yoe = static_cast<unsigned>(y - era * 400);                 // [0, 399]
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;  // [0, 365]
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           // [0, 146096]
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}
static_assert(days_from_civil(1970, 1, 1) == 0 && days_from_civil(2023, 11, 14) == 19675);
static_assert(days_from_civil(1969, 12, 31) == -1);

static_assert(civil_from_days(0).year == 1970 && civil_from_days(0).month == 1 && civil_from_days(0).day == 1);
static_assert(civil_from_days(-1).year == 1969 && civil_from_days(-1).month == 12 && civil_from_days(-1).day == 31);
static_assert(civil_from_days(19675).year == 2023 && civil_from_days(19675).month == 11);  // 2023-11-14

/// Length of the valid UTF-8 sequence starting at b[i] (1..4), or 0 when the bytes there are
/// not valid UTF-8 (a stray continuation byte, an overlong form, a surrogate, above U+10FFFF,
/// or a sequence cut off by the end).
std::size_t utf8_length(std::string_view b, std::size_t i) noexcept {
  const auto at = [&](std::size_t k) { return static_cast<unsigned char>(b[k]); };
  const unsigned char c = at(i);
  if (c < 0x80) return 1;
  std::size_t n;
  unsigned char lo = 0x80, hi = 0xbf;  // allowed range of the second byte
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c == 0xe0) lo = 0xa0;  // no overlong
    if (c == 0xed) hi = 0x9f;  // no surrogates
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c == 0xf0) lo = 0x90;  // no overlong
    if (c == 0xf4) hi = 0x8f;  // <= U+10FFFF
  } else {
    return 0;
  }
  if (i + n > b.size()) return 0;
  if (at(i + 1) < lo || at(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (at(i + k) < 0x80 || at(i + k) > 0xbf) return 0;
  return n;
}

void append_hex(std::string& out, unsigned char u) {
  char hex[5];
  std::snprintf(hex, sizeof hex, "\\x%02x", u);
  out += hex;
}

void append_escaped(std::string& out, std::string_view bytes, std::size_t limit) {
  const std::string_view shown = bytes.substr(0, limit);
  for (std::size_t i = 0; i < shown.size();) {
    const char c = shown[i];
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80) {
      const std::size_t n = utf8_length(shown, i);
      // C1 controls (U+0080..U+009F, encoded C2 80..C2 9F) are control bytes too.
      const bool c1 = n == 2 && u == 0xc2 && static_cast<unsigned char>(shown[i + 1]) <= 0x9f;
      if (n == 0 || c1) {
        for (std::size_t k = 0; k < (c1 ? 2 : 1); ++k) append_hex(out, static_cast<unsigned char>(shown[i + k]));
        i += c1 ? 2 : 1;
      } else {
        out.append(shown.substr(i, n));  // a valid, printable UTF-8 character
        i += n;
      }
      continue;
    }
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\\': out += "\\\\"; break;
      default:
        if (u < 0x20 || u == 0x7f)
          append_hex(out, u);
        else
          out += c;  // printable ASCII
    }
    ++i;
  }
  if (bytes.size() > shown.size()) out += "...(+" + std::to_string(bytes.size() - shown.size()) + " bytes)";
}

/// SAX pass over a JSON text: whether nlohmann-json keeps every number of it exactly (an
/// integer beyond 64 bits, a non-finite value, or more than 17 significant digits would be
/// re-printed differently), so that embedding the parsed value loses nothing.
class ExactNumbers final : public nlohmann::json_sax<nlohmann::ordered_json> {
 public:
  bool exact = true;
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t v, const string_t& text) override {
    if (!std::isfinite(v) || text.find_first_of(".eE") == std::string::npos) exact = false;  // a too-big integer
    std::size_t digits = 0;
    bool leading = true;
    for (char c : text) {
      if (c == 'e' || c == 'E') break;
      if (c < '0' || c > '9') continue;
      if (leading && c == '0') continue;
      leading = false;
      ++digits;
    }
    if (digits > 17) exact = false;
    return true;
  }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }
};

std::string base64(std::string_view bytes) {
  // libb64 (Debian libb64-dev): at most 4 output bytes per 3 input bytes, plus the end block
  // and the line breaks it inserts every 72 characters (removed below).
  std::string out(bytes.size() / 3 * 4 + bytes.size() / 54 + 16, '\0');
  base64_encodestate state;
  base64_init_encodestate(&state);
  std::size_t n = 0;
  for (std::size_t done = 0; done < bytes.size();) {  // blocks below INT_MAX bytes
    const std::size_t chunk = std::min<std::size_t>(bytes.size() - done, 1u << 30);
    n += static_cast<std::size_t>(base64_encode_block(bytes.data() + done, static_cast<int>(chunk), out.data() + n, &state));
    done += chunk;
  }
  n += static_cast<std::size_t>(base64_encode_blockend(out.data() + n, &state));
  out.resize(n);
  std::erase(out, '\n');
  return out;
}

/// `key` and, unless the bytes are valid UTF-8, `key`_encoding = "base64".
void put_string(nlohmann::ordered_json& j, const std::string& key, std::string_view bytes) {
  if (is_valid_utf8(bytes)) {
    j[key] = std::string(bytes);
  } else {
    j[key] = base64(bytes);
    j[key + "_encoding"] = "base64";
  }
}

/// `key` and `key`_encoding (json, utf8 or base64): data_as_json().
void put_payload(nlohmann::ordered_json& j, const std::string& key, std::string_view bytes) {
  auto [value, encoding] = data_as_json(bytes);
  j[key] = std::move(value);
  j[key + "_encoding"] = encoding;
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

bool is_valid_utf8(std::string_view bytes) noexcept {
  for (std::size_t i = 0; i < bytes.size();) {
    const std::size_t n = utf8_length(bytes, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::pair<nlohmann::ordered_json, const char*> data_as_json(std::string_view bytes) {
  if (!bytes.empty()) {
    ExactNumbers check;
    if (nlohmann::ordered_json::sax_parse(bytes.begin(), bytes.end(), &check) && check.exact) {
      // allow_exceptions = false: a parse failure yields a discarded value instead of throwing.
      nlohmann::ordered_json parsed = nlohmann::ordered_json::parse(bytes.begin(), bytes.end(), nullptr, false);
      if (!parsed.is_discarded()) return {std::move(parsed), "json"};
    }
  }
  if (is_valid_utf8(bytes)) return {nlohmann::ordered_json(std::string(bytes)), "utf8"};
  return {nlohmann::ordered_json(base64(bytes)), "base64"};
}

std::optional<std::int64_t> parse_time_point(std::string_view t, std::int64_t now_ns) {
  constexpr std::int64_t kNs = 1'000'000'000;
  auto digits = [&](std::size_t at, std::size_t n, unsigned& out) {
    if (at + n > t.size()) return false;
    out = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (t[i] < '0' || t[i] > '9') return false;
      out = out * 10 + static_cast<unsigned>(t[i] - '0');
    }
    return true;
  };
  // A duration before now: <number><s|m|h|d>.
  if (t.size() >= 2 && std::string_view("smhd").find(t.back()) != std::string_view::npos) {
    unsigned n = 0;
    if (t.size() - 1 <= 9 && digits(0, t.size() - 1, n)) {
      const std::int64_t unit = t.back() == 's' ? 1 : t.back() == 'm' ? 60 : t.back() == 'h' ? 3600 : 86400;
      return now_ns - static_cast<std::int64_t>(n) * unit * kNs;
    }
    if (t.back() != 'm' && t.back() != 'h' && t.back() != 'd' && t.back() != 's') return std::nullopt;
  }
  unsigned y, mo, d, h, mi, sec;
  if (!digits(0, 4, y) || t.size() < 19 || t[4] != '-' || !digits(5, 2, mo) || t[7] != '-' || !digits(8, 2, d) ||
      (t[10] != 'T' && t[10] != 't' && t[10] != ' ') || !digits(11, 2, h) || t[13] != ':' || !digits(14, 2, mi) ||
      t[16] != ':' || !digits(17, 2, sec))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  std::size_t p = 19;
  std::int64_t frac = 0;
  if (p < t.size() && t[p] == '.') {
    std::size_t n = 0;
    for (++p; p < t.size() && t[p] >= '0' && t[p] <= '9'; ++p, ++n)
      if (n < 9) frac = frac * 10 + (t[p] - '0');
    if (n == 0) return std::nullopt;
    for (; n < 9; ++n) frac *= 10;
  }
  std::int64_t offset = 0;
  if (p < t.size() && (t[p] == 'Z' || t[p] == 'z')) {
    ++p;
  } else if (p < t.size() && (t[p] == '+' || t[p] == '-')) {
    unsigned oh, om;
    if (!digits(p + 1, 2, oh) || p + 3 >= t.size() || t[p + 3] != ':' || !digits(p + 4, 2, om) || oh > 23 || om > 59)
      return std::nullopt;
    offset = (t[p] == '+' ? 1 : -1) * static_cast<std::int64_t>(oh * 3600 + om * 60);
    p += 6;
  } else {
    return std::nullopt;  // RFC 3339 needs the offset
  }
  if (p != t.size()) return std::nullopt;
  const std::int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset;
  return secs * kNs + frac;
}

nlohmann::ordered_json event_to_json(const EventView& e) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["seq"] = e.sequence_number;
  j["type"] = std::string(to_string(e.type));
  put_string(j, "id", e.id);
  put_string(j, "session_id", e.session_id);
  put_string(j, "run_id", e.run_id);
  j["timestamp"] = format_rfc3339_ns(e.timestamp_ns);
  put_payload(j, "data", e.data);
  put_payload(j, "metadata", e.metadata);
  if (!e.correlation_id.empty()) put_string(j, "correlation_id", e.correlation_id);
  if (!e.provider.empty()) put_string(j, "provider", e.provider);
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
