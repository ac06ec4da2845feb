// Segment: one segment file of a session's log as LogState tracks it, shared with readers
// through shared_ptr (a reader keeps the object alive while it reads). Files are deleted by a
// writer undoing a failed roll (before any of their records is published) and by retention
// (after LogState's first available sequence moved past them, (L3)): a reader that opened the
// file keeps reading it; one that finds it gone answers Errc::pruned.
#pragma once
#include <sessionring/config.hpp>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace sessionring::detail {

/// Sparse index entry: the frame of `sequence` starts at `offset` in its segment file.
struct IndexEntry {
  Sequence sequence = 0;
  std::uint64_t offset = 0;
};

struct Segment {
  Segment(std::string p, Sequence first, std::uint64_t end) : path(std::move(p)), first_sequence(first), visible_end(end) {}

  const std::string path;
  const Sequence first_sequence;
  // Writer: the publisher (LogState's publish mutex held), a release store before the seq_cst
  // store of LogState::secured_ that covers the records; readers: acquire after loading
  // secured_. Publishes: bytes [0, visible_end) of the file are complete records on the OS.
  std::atomic<std::uint64_t> visible_end;
  std::vector<IndexEntry> index;  // guarded by LogState's segments mutex; sorted by sequence
  /// The newest event timestamp in the segment (retention by max_age). Publisher only.
  std::int64_t max_timestamp_ns = INT64_MIN;
};

}  // namespace sessionring::detail
