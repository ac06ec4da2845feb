// Session id rules: 1..128 bytes of [A-Za-z0-9._:-], not starting with '.', no "..".
// Guarantees an id is a safe single path component under a store root.
#pragma once
#include <sessionring/result.hpp>

#include <cstddef>
#include <string_view>

namespace sessionring {

inline constexpr std::size_t kMaxSessionIdBytes = 128;

/// Ok, or Errc::invalid_session_id with a message saying which rule the id breaks.
Status validate_session_id(std::string_view id);

}  // namespace sessionring
