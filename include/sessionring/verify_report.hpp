// VerifyReport: the result of LogStore::verify (`sessionring verify`): every record's checksum
// and the contiguity of the sequence (INV-1, INV-9) checked, the first problem located.
#pragma once
#include <sessionring/session_info.hpp>

#include <cstdint>
#include <string>

namespace sessionring {

struct VerifyReport {
  SessionInfo intact;          ///< the verified prefix: sequences 1..intact.latest_sequence, every record intact
  bool damaged = false;        ///< a record failed its checksum, a sequence is missing, or a segment is garbage
  std::string problem;         ///< what is wrong (damage or torn tail); empty when clean
  std::string file;            ///< file of the first problem
  std::uint64_t offset = 0;    ///< byte offset of the first problem in `file`
  /// Bytes after the last intact record of the last segment that were never secured (a
  /// crash during an append); the next writer open truncates them. Not damage (INV-9).
  std::uint64_t torn_tail_bytes = 0;

  bool ok() const noexcept { return !damaged; }
};

}  // namespace sessionring
