// The counters file format, version 1 (docs/telemetry.md "Counters file"): shared by its one
// writer (CountersFile) and its readers (CountersReader). Little-endian; every field is an
// aligned 64-bit word (or two 32-bit words in the fixed header), so each is read and written
// with one lock-free atomic operation through std::atomic_ref on the shared mapping.
//
//   offset  bytes  field
//        0      8  magic "SRCOUNTR"
//        8      4  format version (1)
//       12      4  header bytes (256)
//       16      4  session counter words (32)
//       20      4  words per subscriber slot (8)
//       24      4  subscriber slots (256)
//       28      4  session id bytes
//       32      8  writer pid
//       40      8  writer start time, Unix ns
//       48      8  publish interval, ns
//       64      8  round: odd while the writer updates the words below, even between rounds
//       72      8  heartbeat: Unix ns of the round
//       80      8  publish count
//       88      8  writer state: 1 live, 2 closed
//      128    128  session id
//      256    256  session counters (kSession* indices)
//      512  16384  subscriber slots, 64 bytes each (kSub* indices); the first subscriber_count are valid
//
// Bytes 0..255 except 64..95 are written once, before the file is renamed into place; 64..95
// and everything from 256 on are the published words.
#pragma once
#include <cstddef>
#include <cstdint>

namespace sessionring::detail::counters_layout {

inline constexpr char kMagic[8] = {'S', 'R', 'C', 'O', 'U', 'N', 'T', 'R'};
inline constexpr std::uint32_t kFormatVersion = 1;
inline constexpr std::size_t kHeaderBytes = 256;
inline constexpr std::uint32_t kSessionWords = 32;
inline constexpr std::uint32_t kSubscriberWords = 8;
inline constexpr std::uint32_t kSubscriberSlots = 256;
inline constexpr std::size_t kSessionIdOffset = 128;
inline constexpr std::size_t kSessionIdCapacity = 128;
inline constexpr std::size_t kSessionBlockOffset = kHeaderBytes;
inline constexpr std::size_t kSubscriberBlockOffset = kSessionBlockOffset + kSessionWords * 8;
inline constexpr std::size_t kFileBytes = kSubscriberBlockOffset + std::size_t{kSubscriberSlots} * kSubscriberWords * 8;

// Fixed header offsets.
inline constexpr std::size_t kVersionOffset = 8;
inline constexpr std::size_t kHeaderBytesOffset = 12;
inline constexpr std::size_t kSessionWordsOffset = 16;
inline constexpr std::size_t kSubscriberWordsOffset = 20;
inline constexpr std::size_t kSubscriberSlotsOffset = 24;
inline constexpr std::size_t kSessionIdBytesOffset = 28;
inline constexpr std::size_t kPidOffset = 32;
inline constexpr std::size_t kStartOffset = 40;
inline constexpr std::size_t kIntervalOffset = 48;
// Published header words (word index = offset / 8).
inline constexpr std::size_t kRoundWord = 64 / 8;
inline constexpr std::size_t kHeartbeatWord = 72 / 8;
inline constexpr std::size_t kPublishCountWord = 80 / 8;
inline constexpr std::size_t kStateWord = 88 / 8;
inline constexpr std::uint64_t kStateLive = 1;
inline constexpr std::uint64_t kStateClosed = 2;

// Session counter indices (word kSessionBlockOffset / 8 + index).
enum SessionCounter : std::uint32_t {
  kLatestSequence = 0,  // ring cursor
  kStoredSequence,      // the store's latest secured sequence
  kIngestDepth,
  kEventsSequenced,
  kDuplicates,
  kBatches,
  kOversizeEvents,
  kStoreFailures,
  kStoreFailing,  // 0 or 1
  kAbandonedWaits,
  kRunsActive,
  kRunsQueued,
  kMaxConcurrentRuns,
  kMaxQueuedRuns,
  kRingCapacity,
  kRingSlotBytes,
  kSubscriberCount,
  kStopped,  // 0 or 1
  kSessionCounterCount,
};
static_assert(kSessionCounterCount <= kSessionWords, "the session block has room for every counter");

// Subscriber slot word indices.
enum SubscriberCounter : std::uint32_t {
  kSubId = 0,
  kSubCursor,
  kSubLag,
  kSubLead,
  kSubLapped,
  kSubStoreReads,
  kSubDelivered,
  kSubState,  // SubscriptionState in bits 0..7, reading_store in bit 8
  kSubscriberCounterCount,
};
static_assert(kSubscriberCounterCount == kSubscriberWords, "a subscriber slot is one 64-byte cache line");
static_assert(kSubscriberWords * 8 == 64, "a subscriber slot is one 64-byte cache line");
static_assert(kFileBytes == 16896, "version 1 files are 16896 bytes (docs/telemetry.md)");

/// The one list of which snapshot field each session counter word holds, for the writer
/// (CountersFile: `snapshot` const) and the reader (CountersReader): `f(index, field)` for every
/// counter. Fields are unsigned or bool (0 or 1 in the file).
template <class Snapshot, class F>
void for_each_session_counter(Snapshot& v, F&& f) {
  f(kLatestSequence, v.latest_sequence);
  f(kStoredSequence, v.stored_sequence);
  f(kIngestDepth, v.ingest_depth);
  f(kEventsSequenced, v.events_sequenced);
  f(kDuplicates, v.duplicates);
  f(kBatches, v.batches);
  f(kOversizeEvents, v.oversize_events);
  f(kStoreFailures, v.store_failures);
  f(kStoreFailing, v.store_failing);
  f(kAbandonedWaits, v.abandoned_waits);
  f(kRunsActive, v.runs_active);
  f(kRunsQueued, v.runs_queued);
  f(kMaxConcurrentRuns, v.max_concurrent_runs);
  f(kMaxQueuedRuns, v.max_queued_runs);
  f(kRingCapacity, v.ring_capacity);
  f(kRingSlotBytes, v.ring_slot_bytes);
  f(kSubscriberCount, v.subscriber_count);
  f(kStopped, v.stopped);
}

/// The same for a subscriber slot's plain counters (kSubState is packed: written and read apart).
template <class Stats, class F>
void for_each_subscriber_counter(Stats& sub, F&& f) {
  f(kSubId, sub.id);
  f(kSubCursor, sub.cursor);
  f(kSubLag, sub.lag);
  f(kSubLead, sub.lead);
  f(kSubLapped, sub.lapped_count);
  f(kSubStoreReads, sub.store_reads);
  f(kSubDelivered, sub.delivered);
}

}  // namespace sessionring::detail::counters_layout
