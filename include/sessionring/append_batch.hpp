// One sequencer batch handed to SessionLog::append: contiguous sequence numbers
// first_sequence, first_sequence + 1, ... each as a decoded view and as its EventRecord bytes.
#pragma once
#include <sessionring/event_view.hpp>

#include <cstddef>
#include <span>

namespace sessionring {

struct AppendBatch {
  Sequence first_sequence = 0;
  std::span<const EventView> events;                    ///< events[i].sequence_number == first + i
  std::span<const std::span<const std::byte>> records;  ///< records[i] encodes events[i] (EventRecord)

  std::size_t size() const noexcept { return events.size(); }
  Sequence last_sequence() const noexcept { return first_sequence + events.size() - 1; }
};

}  // namespace sessionring
