// CommitMark: the highest sequence of one session's log that its writer can no longer undo,
// shared with other processes through a 16-byte memory-mapped file <session>/COMMIT.
//
// A follower in another process (`sessionring tail --follow`, a read handle with no writer in
// its process) reads the segment files directly; without the mark it could deliver a frame the
// writer has written but later undoes (a failed inline fdatasync, a short write, a failed
// segment roll) and then read other events under the same sequences (issue 12, defect 4). The
// writer stores the mark only after the records up to it are on the OS and accepted for good
// (docs/store.md "What a follower sees"); a follower never reads past it.
//
// Layout (little-endian, versioned: docs/store.md "Files"):
//   bytes 0..3  magic "SRCM"   bytes 4..7  version (1)   bytes 8..15  sequence
// A missing file (a log written before the mark existed) means "no mark: trust the files".
//
// Threads: store() by the writer with the publish mutex held; load() by the follower's
// publisher (refresh, publish mutex held) — in different processes, through the shared page.
#pragma once
#include <sessionring/config.hpp>
#include <sessionring/result.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace sessionring::detail {

class CommitMark {
 public:
  static constexpr std::uint32_t kMagic = 0x4d435253;  // "SRCM"
  static constexpr std::uint32_t kVersion = 1;
  static constexpr std::size_t kBytes = 16;

  CommitMark() = default;
  CommitMark(CommitMark&& other) noexcept;
  CommitMark& operator=(CommitMark&& other) noexcept;
  CommitMark(const CommitMark&) = delete;
  CommitMark& operator=(const CommitMark&) = delete;
  ~CommitMark();

  /// Writer: creates (or reuses) <session_dir>/COMMIT, mapped read-write, holding `initial`.
  static Result<CommitMark> create(const std::string& session_dir, Sequence initial);
  /// Follower: maps <session_dir>/COMMIT read-only; an empty mark (is_open() false) if it does
  /// not exist or is not a version-1 mark file (then the follower trusts the files, as before).
  static CommitMark open_existing(const std::string& session_dir);

  bool is_open() const noexcept { return word_ != nullptr; }
  /// Writer: records up to `seq` can no longer be undone. (K1) release: pairs with (K2) — a
  /// follower that sees `seq` sees the file bytes the writer handed to the OS before it.
  void store(Sequence seq) noexcept;
  /// Follower: the mark, or nullopt when there is no mark file. (K2) acquire, pairs with (K1).
  std::optional<Sequence> load() const noexcept;

 private:
  void* map_ = nullptr;
  std::uint64_t* word_ = nullptr;  // the sequence field inside map_; accessed only through std::atomic_ref
};

}  // namespace sessionring::detail
