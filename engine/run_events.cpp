#include "detail/run_events.hpp"

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

std::string run_failed_data(std::chrono::nanoseconds duration, const Error& error) {
  constexpr std::size_t kMaxMessage = 4096;  // keeps the event far below max_event_bytes
  std::string_view msg = error.message();
  std::string cut;
  if (msg.size() > kMaxMessage) {
    cut = std::string(msg.substr(0, kMaxMessage)) + "...(truncated)";
    msg = cut;
  }
  return "{\"duration_ns\":" + ns(duration) + ",\"code\":" + json_string(to_string(error.code())) +
         ",\"error\":" + json_string(msg) + "}";
}

std::string run_cancelled_data(std::chrono::nanoseconds duration, std::string_view reason) {
  return "{\"duration_ns\":" + ns(duration) + ",\"reason\":" + json_string(reason) + "}";
}

std::string run_timeout_data(std::chrono::nanoseconds duration, std::chrono::nanoseconds timeout) {
  return "{\"duration_ns\":" + ns(duration) + ",\"timeout_ns\":" + ns(timeout) + "}";
}

}  // namespace sessionring::detail
