#include "detail/run_events.hpp"

#include <algorithm>
#include <cstdio>

namespace sessionring::detail {
namespace {
std::string ns(std::chrono::nanoseconds d) { return std::to_string(d.count()); }
}  // namespace

std::string json_string(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

std::string run_started_data(std::chrono::nanoseconds queued) { return "{\"queued_ns\":" + ns(queued) + "}"; }

std::string run_completed_data(std::chrono::nanoseconds duration, std::size_t output_bytes) {
  return "{\"duration_ns\":" + ns(duration) + ",\"output_bytes\":" + std::to_string(output_bytes) + "}";
}

std::string run_failed_data(std::chrono::nanoseconds duration, const Error& error, std::size_t max_bytes) {
  const std::string_view msg = error.message();
  auto build = [&](std::size_t keep) {
    const std::string shown =
        keep >= msg.size() ? std::string(msg) : std::string(msg.substr(0, keep)) + "...(truncated)";
    return "{\"duration_ns\":" + ns(duration) + ",\"code\":" + json_string(to_string(error.code())) +
           ",\"error\":" + json_string(shown) + "}";
  };
  // At most 4096 bytes of the message; halved until the object fits (escaping may grow it).
  std::size_t keep = std::min<std::size_t>(msg.size(), 4096);
  std::string data = build(keep);
  while (data.size() > max_bytes && keep > 0) {
    keep /= 2;
    data = build(keep);
  }
  if (data.size() > max_bytes)  // not even an empty message fits: code only
    data = "{\"duration_ns\":" + ns(duration) + ",\"code\":" + json_string(to_string(error.code())) + "}";
  return data;
}

std::string run_cancelled_data(std::chrono::nanoseconds duration, std::string_view reason) {
  return "{\"duration_ns\":" + ns(duration) + ",\"reason\":" + json_string(reason) + "}";
}

std::string run_timeout_data(std::chrono::nanoseconds duration, std::chrono::nanoseconds timeout) {
  return "{\"duration_ns\":" + ns(duration) + ",\"timeout_ns\":" + ns(timeout) + "}";
}

}  // namespace sessionring::detail
