// CursorTable: a session's durable named cursors in memory, behind a mutex (MemoryStore keeps
// them here; docs/store.md "Durable named cursors"). Any thread.
#pragma once
#include <sessionring/cursor_position.hpp>

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sessionring::detail {

class CursorTable {
 public:
  using Map = std::map<std::string, Sequence, std::less<>>;

  void put(std::string_view name, Sequence position) {
    std::lock_guard lock(mutex_);
    map_.insert_or_assign(std::string(name), position);
  }
  std::optional<Sequence> get(std::string_view name) const {
    std::lock_guard lock(mutex_);
    auto it = map_.find(name);
    if (it == map_.end()) return std::nullopt;
    return it->second;
  }
  bool erase(std::string_view name) {
    std::lock_guard lock(mutex_);
    auto it = map_.find(name);
    if (it == map_.end()) return false;
    map_.erase(it);
    return true;
  }
  std::vector<CursorPosition> list() const {
    std::lock_guard lock(mutex_);
    return to_list(map_);
  }
  /// The lowest committed position, or nullopt without cursors (retention keep_cursor_needs).
  std::optional<Sequence> lowest() const {
    std::lock_guard lock(mutex_);
    return lowest_of(map_);
  }

  static std::vector<CursorPosition> to_list(const Map& map) {
    std::vector<CursorPosition> out;
    out.reserve(map.size());
    for (const auto& [name, pos] : map) out.push_back(CursorPosition{name, pos, 0});
    return out;
  }
  static std::optional<Sequence> lowest_of(const Map& map) {
    std::optional<Sequence> low;
    for (const auto& kv : map)
      if (!low || kv.second < *low) low = kv.second;
    return low;
  }

 private:
  mutable std::mutex mutex_;  // guards map_
  Map map_;
};

}  // namespace sessionring::detail
