#include <sessionring/cursor_position.hpp>
#include <sessionring/session_id.hpp>

#include <string>

namespace sessionring {

Status validate_session_id(std::string_view id) {
  auto bad = [&](const std::string& why) {
    std::string shown;
    for (char c : id.substr(0, 40))
      shown += (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) ? '?' : c;
    return Status(Errc::invalid_session_id, "session id '" + shown + "' " + why);
  };
  if (id.empty()) return bad("is empty");
  if (id.size() > kMaxSessionIdBytes)
    return bad("is " + std::to_string(id.size()) + " bytes long (at most " +
               std::to_string(kMaxSessionIdBytes) + ")");
  for (char c : id) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return bad("contains a control character");
    if (c == '/' || c == '\\') return bad("contains a path separator");
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                         c == '-' || c == '_' || c == '.' || c == ':';
    if (!allowed) {
      // A byte above 0x7e (UTF-8, ...) is shown as hex: the message stays printable ASCII.
      static constexpr char kHex[] = "0123456789abcdef";
      std::string why = "contains ";
      if (u > 0x7e) {
        why += "byte 0x";
        why += kHex[u >> 4];
        why += kHex[u & 0xf];
      } else {
        why += '\'';
        why += c;
        why += '\'';
      }
      return bad(why + " (allowed: A-Z a-z 0-9 . _ : -)");
    }
  }
  if (id.front() == '.') return bad("starts with '.'");
  if (id.find("..") != std::string_view::npos) return bad("contains '..'");
  return {};
}

Status validate_cursor_name(std::string_view name) {
  Status st = validate_session_id(name);
  if (st) return st;
  std::string text = st.error().message();
  constexpr std::string_view kPrefix = "session id";
  if (text.compare(0, kPrefix.size(), kPrefix) == 0) text.replace(0, kPrefix.size(), "cursor name");
  return Status(Errc::validation_error, text);
}

}  // namespace sessionring
