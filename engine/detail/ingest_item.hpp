// IngestItem: one event on its way from a producer to the sequencer. Trivially copyable (as
// boost::lockfree::queue requires) and 256 bytes: the EventRecord is inline when it fits in
// kInlineBytes, otherwise in a block of the producer's SpillPool, which the sequencer gives
// back when it no longer needs the record.
#pragma once
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace sessionring::detail {

struct ProducerSlot;
struct Completion;

struct IngestItem {
  static constexpr std::size_t kInlineBytes = 224;

  ProducerSlot* producer;   // for the per-producer credit count (INV-7)
  Completion* completion;   // nullptr: fire-and-forget
  std::byte* spill;         // SpillPool block of the record when size > kInlineBytes, else nullptr
  std::uint32_t size;       // record bytes
  std::uint32_t reserved;
  alignas(8) std::byte inline_record[kInlineBytes];

  std::byte* record() noexcept { return spill != nullptr ? spill : inline_record; }
  const std::byte* record() const noexcept { return spill != nullptr ? spill : inline_record; }
};

static_assert(sizeof(IngestItem) == 256, "four cache lines per queued event");
static_assert(std::is_trivially_copyable_v<IngestItem> && std::is_trivially_destructible_v<IngestItem>,
              "boost::lockfree::queue needs a trivially copyable, trivially destructible element");

}  // namespace sessionring::detail
