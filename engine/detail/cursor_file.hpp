// CursorFile: a LogStore session's durable named cursors in `<session>/CURSORS`, replaced whole
// by write-to-temp + rename, so a reader or a crash sees the old table or the new one, never a
// mix (docs/store.md "Durable named cursors", format version 1). Under Durability::fsync the
// temp file is fdatasync'ed before the rename and the directory after it.
// Threads: put()/erase() on the writer handle from any thread (serialised by mutex_); load()
// from any handle and thread (it reads the file, so a read handle of another process sees the
// writer's latest committed table).
#pragma once
#include <sessionring/fault_injector.hpp>
#include <sessionring/result.hpp>

#include "detail/cursor_table.hpp"

#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace sessionring::detail {

class CursorFile {
 public:
  static constexpr std::string_view kName = "CURSORS";
  static constexpr int kVersion = 1;

  CursorFile(std::string dir, bool durable, FaultInjector* faults)
      : dir_(std::move(dir)), durable_(durable), faults_(faults) {}

  /// The table as stored; empty without a file. damaged_store for a file failing its checksum,
  /// unsupported_format for a version above kVersion.
  Result<CursorTable::Map> load() const;
  /// Writer: sets one cursor and replaces the file.
  Status put(std::string_view name, Sequence position);
  /// Writer (retention, any thread): the lowest committed position (nullopt inside: no
  /// cursors); the error when the file cannot be read. Never waits for a cursor write in
  /// flight (it reads lowest_), except once, to load the file, before the first write.
  Result<std::optional<Sequence>> lowest();
  /// Writer: removes one cursor and replaces the file; not_found when it has none.
  Status erase(std::string_view session, std::string_view name);

  /// The text of a table in format version 1 (also used by tests).
  static std::string encode(const CursorTable::Map& map);
  static Result<CursorTable::Map> decode(std::string_view text, const std::string& path);

 private:
  Status replace_locked(const CursorTable::Map& map);
  Status load_locked();
  void publish_lowest_locked();

  const std::string dir_;
  const bool durable_;
  FaultInjector* const faults_;                        // not owned; null: no fault injection
  std::mutex mutex_;                                   // guards cache_; serialises writers
  std::optional<CursorTable::Map> cache_;              // the writer's copy of the file, loaded on first write
  static constexpr Sequence kUnknown = ~Sequence{0};   // lowest_: the file is not loaded yet
  static constexpr Sequence kNone = ~Sequence{0} - 1;  // lowest_: no cursors
  // Writer: every table change under mutex_ (relaxed); reader: lowest() (relaxed). The value
  // is the whole message: retention needs a recent lowest position, and one racing a commit
  // is as good as the commit landing just after the prune (docs/store.md "Durable named
  // cursors": a cursor below the first available gets Errc::pruned).
  std::atomic<Sequence> lowest_{kUnknown};
};

}  // namespace sessionring::detail
