#include <sessionring/event_record.hpp>
#include <sessionring/session_id.hpp>
#include <sessionring/session_options.hpp>

#include <bit>
#include <string>

namespace sessionring {

std::string_view to_string(WaitStrategy w) noexcept {
  switch (w) {
    case WaitStrategy::block: return "block";
    case WaitStrategy::yield: return "yield";
    case WaitStrategy::spin: return "spin";
  }
  return "invalid";
}

std::string_view to_string(QueueBackend q) noexcept {
  switch (q) {
    case QueueBackend::moodycamel: return "moodycamel";
    case QueueBackend::boost_lockfree: return "boost";
  }
  return "invalid";
}

Status validate(const SessionOptions& o) {
  auto bad = [](const char* option, const std::string& why) {
    return Status(Errc::validation_error, std::string(option) + " " + why);
  };
  auto range = [&](const char* option, std::uint64_t v, std::uint64_t lo, std::uint64_t hi) -> Status {
    if (v < lo || v > hi)
      return bad(option, "= " + std::to_string(v) + " is out of range [" + std::to_string(lo) + ", " +
                             std::to_string(hi) + "]");
    return {};
  };
  if (!o.store) return bad("store", "is required (e.g. MemoryStore::create())");
  if (Status st = validate_session_id(o.session_id); !st) return st;
  if (Status st = range("ring_capacity", o.ring_capacity, 2, 1u << 24); !st) return st;
  if (!std::has_single_bit(o.ring_capacity))
    return bad("ring_capacity", "= " + std::to_string(o.ring_capacity) + " is not a power of two");
  if (Status st = range("ring_slot_bytes", o.ring_slot_bytes, 64, 65536); !st) return st;
  // Whole cache lines per slot: the sequencer writes slot n+1 while subscribers copy slot n; a
  // shared line would bounce between their cores on every write (false sharing).
  if (o.ring_slot_bytes % kCacheLine != 0)
    return bad("ring_slot_bytes", "= " + std::to_string(o.ring_slot_bytes) + " is not a multiple of " +
                                      std::to_string(kCacheLine) + " (a slot is whole cache lines)");
  if (std::uint64_t{o.ring_capacity} * o.ring_slot_bytes > kMaxRingBytes)
    return bad("ring_capacity", "x ring_slot_bytes = " + std::to_string(o.ring_capacity) + " x " +
                                    std::to_string(o.ring_slot_bytes) + " = " +
                                    std::to_string(std::uint64_t{o.ring_capacity} * o.ring_slot_bytes) +
                                    " bytes is above the largest ring, " + std::to_string(kMaxRingBytes) +
                                    " bytes (1 GiB)");
  if (o.queue == QueueBackend::boost_lockfree) {
    if (Status st = range("ingest_capacity", o.ingest_capacity, 2, 65534); !st) return st;
  } else if (o.queue == QueueBackend::moodycamel) {
    if (Status st = range("ingest_capacity", o.ingest_capacity, 1, 1u << 20); !st) return st;
  } else {
    return bad("queue", "is not a QueueBackend value");
  }
  if (Status st = range("max_producers", o.max_producers, 1, 65536); !st) return st;
  if (static_cast<unsigned>(o.wait) > static_cast<unsigned>(WaitStrategy::spin))
    return bad("wait", "is not a WaitStrategy value");
  if (Status st = range("max_batch", o.max_batch, 1, 65536); !st) return st;
  if (Status st = range("max_event_bytes", o.max_event_bytes, 64, 1u << 31); !st) return st;
  return {};
}

}  // namespace sessionring
