// CountersReader: reads the counters file a SessionServer publishes (SessionServerOptions::
// publish_counters; the format is docs/telemetry.md "Counters file"), from any process, without
// touching the writer: the file is mapped read-only and read with atomic loads. `sessionring
// stat` is built on it.
//
// Threads: a reader is used by one thread at a time.
#pragma once
#include <sessionring/counters_snapshot.hpp>
#include <sessionring/result.hpp>

#include <filesystem>
#include <string_view>

namespace sessionring {

/// The counters file of a session of a LogStore: <root>/<session>/COUNTERS.
std::filesystem::path counters_file_in_store(const std::filesystem::path& store_root, std::string_view session_id);
/// The counters file of a session under SessionServerOptions::counters_directory:
/// <directory>/<session>.counters.
std::filesystem::path counters_file_in_directory(const std::filesystem::path& directory, std::string_view session_id);

class CountersReader {
 public:
  /// Maps `path` read-only. Errc::not_found when there is no such file; Errc::unsupported_format
  /// for a counters file of a newer format version; Errc::validation_error for a file that is
  /// not a counters file (saying what is wrong).
  static Result<CountersReader> open(const std::filesystem::path& path);

  CountersReader(CountersReader&& other) noexcept;
  CountersReader& operator=(CountersReader&& other) noexcept;
  CountersReader(const CountersReader&) = delete;
  CountersReader& operator=(const CountersReader&) = delete;
  ~CountersReader();

  const std::filesystem::path& path() const noexcept { return path_; }

  /// One consistent publish round (retried while the writer is inside an update), with its
  /// liveness judged now. Errc::timeout when no consistent round could be read for 100 ms: the
  /// writer died inside an update (the snapshot is then unusable).
  Result<CountersSnapshot> read() const;

  /// True when the file at path() is no longer the one mapped (a new writer replaced it):
  /// open() it again to follow the new writer.
  bool replaced() const noexcept;

 private:
  CountersReader() = default;
  std::filesystem::path path_;
  const void* map_ = nullptr;
  std::size_t bytes_ = 0;
  std::uint64_t dev_ = 0, ino_ = 0;
};

}  // namespace sessionring
