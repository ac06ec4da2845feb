// Formatting of stored events for `sessionring tail` (docs/cli.md "Output formats"): one JSON
// object per line (jsonl) or one human-readable line (text), and RFC 3339 timestamps with
// nanoseconds. Pure functions: any thread.
#pragma once
#include <sessionring/event_view.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace sessionring::tools {

/// Nanoseconds since the Unix epoch as RFC 3339 UTC with nine fraction digits:
/// 1700000000123456789 -> "2023-11-14T22:13:20.123456789Z". Negative values (before 1970) too.
std::string format_rfc3339_ns(std::int64_t ns_since_epoch);

/// Parses a point in time for `tail --since/--until-time`: RFC 3339 (`2023-11-14T22:13:20Z`,
/// optional fraction up to 9 digits, `Z` or `+HH:MM`/`-HH:MM`; `t` and a space accepted for
/// `T`), or a duration before `now_ns` (`90s`, `15m`, `2h`, `7d`). Nanoseconds since the epoch,
/// or nullopt when it is neither.
std::optional<std::int64_t> parse_time_point(std::string_view text, std::int64_t now_ns);

/// Whether `bytes` is valid UTF-8 (no overlong forms, surrogates or values above U+10FFFF).
bool is_valid_utf8(std::string_view bytes) noexcept;

/// The lossless jsonl form of a payload (docs/cli.md "jsonl"): (value, encoding) where
///   "json":   the bytes are a JSON text whose numbers nlohmann-json keeps exactly; value is it,
///   "utf8":   otherwise valid UTF-8 (also empty); value is the string,
///   "base64": anything else; value is the standard base64 (RFC 4648, padded) of the bytes.
std::pair<nlohmann::ordered_json, const char*> data_as_json(std::string_view bytes);

/// The jsonl object of one event, keys in this order: seq, type, id, session_id, run_id,
/// timestamp (RFC 3339 ns), data and data_encoding, metadata and metadata_encoding
/// (data_as_json), then correlation_id and provider when non-empty, and schema_version.
/// A string field that is not valid UTF-8 holds its base64 and is followed by
/// `<field>_encoding: "base64"`. Nothing is replaced or rounded: the bytes can be rebuilt.
nlohmann::ordered_json event_to_json(const EventView& e);

/// event_to_json(e) dumped on one line (no trailing newline).
std::string event_to_jsonl(const EventView& e);

/// One human-readable line (no trailing newline):
///   `#12 2023-11-14T22:13:20.123456789Z message_streamed run=r1 id=… data={"delta":"Hi"}`
/// Fields that are empty are left out; control bytes (C0, DEL, C1) and bytes that are not valid
/// UTF-8 are escaped (\n, \r, \t, \\, \xNN), so an event is always exactly one line and no
/// raw byte reaches a terminal; data and metadata longer than kTextFieldLimit bytes are cut
/// and marked with the number of bytes left out.
std::string event_to_text(const EventView& e);

inline constexpr std::size_t kTextFieldLimit = 240;

/// Dumps `j` on one line, replacing invalid UTF-8 instead of throwing.
std::string dump_line(const nlohmann::ordered_json& j);

}  // namespace sessionring::tools
