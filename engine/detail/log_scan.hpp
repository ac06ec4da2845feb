// Scanning a session directory: the recovery pass of a writer open, the load of a read
// open, LogStore::verify and LogStore::info (docs/store.md "Recovery"). Never modifies files;
// the caller decides what to do with a torn tail (truncate it) or damage (report it).
#pragma once
#include "detail/log_file.hpp"

#include <sessionring/config.hpp>
#include <sessionring/result.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace sessionring::detail {

/// Receives what a scan finds, in file order. All records passed are intact and contiguous.
class ScanSink {
 public:
  virtual ~ScanSink() = default;
  virtual void on_segment(const std::string& path, Sequence first, std::uint64_t header_end) = 0;
  virtual void on_record(Sequence seq, std::uint64_t offset, std::size_t frame_bytes,
                         std::span<const std::byte> payload) = 0;
  /// End of the intact prefix of the segment last announced.
  virtual void on_segment_end(std::uint64_t end) = 0;
};

struct ScanResult {
  enum class Tail : std::uint8_t {
    clean,    ///< every segment ends with an intact record
    torn,     ///< the last segment ends with bytes never secured (a crash): truncate them (INV-9)
    damaged,  ///< a record that had been secured is bad, a sequence is missing, or a segment is garbage
  };
  Tail tail = Tail::clean;
  bool in_last_segment = false;  ///< the problem lies in the last segment file
  bool torn_header = false;      ///< torn: the last segment's header itself was never completed
  std::string file;              ///< where the problem is
  std::uint64_t offset = 0;
  std::string problem;
  std::uint64_t tail_bytes = 0;  ///< bytes from `offset` to the end of `file`
  Sequence latest = 0;           ///< last intact record of the contiguous prefix
  std::uint64_t bytes = 0;       ///< total size of the segment files
  std::uint32_t segments = 0;    ///< segment files found (not counting pruned leftovers)
  /// The first available sequence: <dir>/FIRST (retention pruned everything below it), else 1.
  Sequence first = 1;
  /// Segments wholly below `first`: an interrupted prune (FIRST written, files not yet
  /// removed). Not part of the log; a writer open removes them.
  std::vector<std::string> pruned_leftovers;
  /// "damaged_store: <file> offset <n>: <problem>"
  Error damage_error(std::string_view session_id) const;
};

enum class ScanDepth : std::uint8_t {
  full,          ///< every record of every segment (recovery, load, verify)
  last_segment,  ///< headers of all segments, records of the last one only (info)
};

/// Segment files of a session directory: (first sequence, path), sorted by sequence.
Result<std::vector<std::pair<Sequence, std::string>>> list_segments(const std::string& dir);

/// <dir>/FIRST: the first available sequence once retention pruned the session's front
/// (docs/store.md "Retention"); 1 when the file does not exist. A file that does not hold a
/// sequence is damaged_store.
Result<Sequence> read_first_sequence(const std::string& dir);

/// Replaces <dir>/FIRST atomically (FIRST.tmp, then rename); `durable`: the file is synced
/// before the rename and the directory after it.
Status write_first_sequence(const std::string& dir, Sequence first, bool durable);

/// Reads the segment header of `file`: its first sequence, or the reason it is invalid.
Result<Sequence> read_segment_header(const File& file);

Result<ScanResult> scan_session(const std::string& dir, std::size_t read_chunk, ScanDepth depth, ScanSink* sink);

}  // namespace sessionring::detail
