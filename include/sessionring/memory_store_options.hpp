// Options of a MemoryStore (sessions in process memory). MemoryStore::create validates every
// field and answers Errc::validation_error naming the option (docs/store.md "Retention").
#pragma once
#include <sessionring/result.hpp>
#include <sessionring/retention_policy.hpp>

#include <cstddef>
#include <map>
#include <string>

namespace sessionring {

struct MemoryStoreOptions {
  /// Records live in arena chunks of this size (a record larger than it gets a chunk of its
  /// own); retention prunes and reuses whole chunks. [4096, 2^30]
  std::size_t chunk_bytes = std::size_t{8} << 20;
  /// Store-wide default retention (default: keep everything), applied by each session's writer
  /// after each batch (docs/store.md "Retention").
  RetentionPolicy retention;
  /// Per-session retention, replacing `retention` for the sessions named (valid session ids).
  std::map<std::string, RetentionPolicy, std::less<>> session_retention;
};

/// Checks every field; Errc::validation_error naming the first bad option.
Status validate(const MemoryStoreOptions& options);

}  // namespace sessionring
