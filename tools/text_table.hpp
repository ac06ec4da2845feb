// The tables of the text output of `sessions`, `cursors`, `ship` and `stat`: columns as wide as
// their widest cell (ids of any length), right-aligned (numbers) except the first (a name) where
// asked, two spaces apart, trailing spaces trimmed.
#pragma once
#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sessionring::tools {

struct TableStyle {
  bool left_first = true;   ///< the first column left-aligned (names, ids)
  bool free_last = false;   ///< the last column is free text (an error message), written as it is
  std::string_view indent;  ///< before every line
};

/// One line per row (each ends in '\n').
inline std::string render_table(const std::vector<std::vector<std::string>>& rows, TableStyle style = {}) {
  std::vector<std::size_t> w;
  for (const auto& r : rows) {
    w.resize(std::max(w.size(), r.size()), 0);
    for (std::size_t c = 0; c < r.size(); ++c) w[c] = std::max(w[c], r[c].size());
  }
  std::string out;
  for (const auto& r : rows) {
    std::string line(style.indent);
    for (std::size_t c = 0; c < r.size(); ++c) {
      if (c == 0 && style.left_first) {
        line.append(r[c]).append(w[c] - r[c].size(), ' ');
      } else if (style.free_last && c > 0 && c + 1 == r.size()) {
        line.append("  ").append(r[c]);
      } else {
        line.append(c == 0 ? 0 : 2, ' ').append(w[c] - r[c].size(), ' ').append(r[c]);
      }
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out.append(line).append("\n");
  }
  return out;
}

}  // namespace sessionring::tools
