// The store root of a LogStore: its versioned marker file and the checks that tell a store
// root from any other directory (docs/store.md "Layout": the root marker).
//
// <root>/SESSIONRING holds two text lines:
//   sessionring log store
//   format 1
// A writable open writes it into a new or empty root (and into a store written before the
// marker existed, recognised by its session directories holding segment files); every open
// checks it. A root without it is refused with an error that says what the directory holds
// and what a store root looks like.
#pragma once
#include <sessionring/result.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace sessionring::detail {

inline constexpr std::string_view kRootMarkerName = "SESSIONRING";
inline constexpr std::string_view kRootMarkerTitle = "sessionring log store";
/// The store layout version this build reads and writes (the root marker's `format N`).
inline constexpr std::uint32_t kStoreFormatVersion = 1;

/// Checks that `root` (an existing directory) is a store root. read_only: never writes;
/// otherwise writes the marker into an empty root or a pre-marker store (`durable`: synced).
/// Errors: not_found (not a store: says what was found, and the parent store when `root` is
/// a session directory), unsupported_format (a marker of a newer format), storage_error (I/O,
/// or an unreadable marker).
Status check_store_root(const std::string& root, bool read_only, bool durable);

}  // namespace sessionring::detail
