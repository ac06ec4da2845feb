// CountersFile: the writer side of one session's counters file (format: detail/counters_layout.hpp,
// docs/telemetry.md "Counters file"). Owned by the CountersPublisher thread, which writes one
// publish round per interval; readers in other processes (CountersReader, `sessionring stat`)
// map the same file read-only.
//
// A round is a seqlock, as a ring slot is (docs/design.md §12, T1–T6): the round word goes odd
// (T1, relaxed), every published word is stored with release (T2), the round word goes even
// (T3, release). A reader loads the round (T4, acquire), copies the words (T5, acquire), and
// loads the round again (T6, relaxed, after the acquires): equal and even means the copy is one
// round. No fence; no lock; the writer never waits for a reader.
//
// Threads: create() on any thread; publish()/close() by one thread at a time (the publisher).
#pragma once
#include <sessionring/counters_snapshot.hpp>
#include <sessionring/result.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string_view>

namespace sessionring::detail {

class CountersFile {
 public:
  /// Writes a new file under a temporary name in the directory of `path` and renames it into
  /// place, so a reader never maps a half-written header (a reader holding the previous file
  /// keeps its mapping; CountersReader::replaced() tells it). Errc::writer_conflict when `path`
  /// holds the file of a writer that is still publishing (another host of the same session);
  /// Errc::storage_error with the OS reason when the file cannot be written.
  static Result<CountersFile> create(const std::filesystem::path& path, std::string_view session_id,
                                     std::chrono::nanoseconds interval);

  CountersFile(CountersFile&& other) noexcept;
  CountersFile& operator=(CountersFile&& other) noexcept;
  CountersFile(const CountersFile&) = delete;
  CountersFile& operator=(const CountersFile&) = delete;
  /// Unmaps; the file stays as it is (a reader then sees a stale or dead writer).
  ~CountersFile();

  const std::filesystem::path& path() const noexcept { return path_; }

  /// One publish round: the values and the heartbeat (now), state live.
  void publish(const CountersSnapshot& values) noexcept;
  /// The final round (state closed), then removes the file if `path` is still this file.
  void close(const CountersSnapshot& values) noexcept;

 private:
  CountersFile() = default;
  void round(const CountersSnapshot& values, std::uint64_t state) noexcept;
  std::filesystem::path path_;
  // The shared mapping as 64-bit words. Published words (round, heartbeat, count, state,
  // counters, subscriber slots) are accessed only through std::atomic_ref: writer this object
  // on the publisher thread (T1–T3); readers CountersReader in any process (T4–T6); they
  // publish one round of counters (the round word publishes the others).
  std::uint64_t* words_ = nullptr;
  std::uint64_t round_ = 0;          // the last round value stored (even): this writer's own copy
  std::uint64_t published_ = 0;      // rounds published
  std::uint64_t dev_ = 0, ino_ = 0;  // the file's identity, to remove only our own file
};

}  // namespace sessionring::detail
