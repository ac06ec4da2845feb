// str_cat: builds a std::string from string-like parts with append. GCC 12 warns falsely
// (-Wrestrict) about `"literal" + std::string` chains, which -Werror turns into errors.
#pragma once
#include <string>
#include <string_view>

namespace sessionring::detail {

template <class... Parts>
std::string str_cat(const Parts&... parts) {
  std::string s;
  (s.append(std::string_view(parts)), ...);
  return s;
}

}  // namespace sessionring::detail
