// Formatting of stored events for `sessionring tail` (docs/cli.md "Output formats"): one JSON
// object per line (jsonl) or one human-readable line (text), and RFC 3339 timestamps with
// nanoseconds. Pure functions: any thread.
#pragma once
#include <sessionring/event_view.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace sessionring::tools {

/// Nanoseconds since the Unix epoch as RFC 3339 UTC with nine fraction digits:
/// 1700000000123456789 -> "2023-11-14T22:13:20.123456789Z". Negative values (before 1970) too.
std::string format_rfc3339_ns(std::int64_t ns_since_epoch);

/// `bytes` parsed as JSON when it is a valid JSON text, else the bytes as a JSON string
/// (invalid UTF-8 is replaced by U+FFFD when dumped). Empty bytes are the empty string.
nlohmann::ordered_json json_or_string(std::string_view bytes);

/// The jsonl object of one event, keys in this order: seq, type, id, session_id, run_id,
/// timestamp (RFC 3339 ns), data and metadata (json_or_string), then correlation_id and
/// provider when non-empty, and schema_version.
nlohmann::ordered_json event_to_json(const EventView& e);

/// event_to_json(e) dumped on one line (no trailing newline), invalid UTF-8 replaced.
std::string event_to_jsonl(const EventView& e);

/// One human-readable line (no trailing newline):
///   `#12 2023-11-14T22:13:20.123456789Z message_streamed run=r1 id=… data={"delta":"Hi"}`
/// Fields that are empty are left out; control bytes are escaped (\n, \t, \xNN) so an event
/// is always exactly one line; data and metadata longer than kTextFieldLimit bytes are cut
/// and marked with the number of bytes left out.
std::string event_to_text(const EventView& e);

inline constexpr std::size_t kTextFieldLimit = 240;

/// Dumps `j` on one line, replacing invalid UTF-8 instead of throwing.
std::string dump_line(const nlohmann::ordered_json& j);

}  // namespace sessionring::tools
