#include "detail/follower.hpp"

#include "detail/session_core.hpp"

#include <sessionring/event_record.hpp>

#include <algorithm>
#include <thread>

namespace sessionring::detail {

namespace {
// How long one long poll of the store lasts: the bound on how late stop() is noticed.
constexpr auto kFollowPoll = std::chrono::milliseconds(20);
// Back-off after a store failure (server away): 1 ms doubling up to 500 ms.
std::chrono::milliseconds backoff(std::uint32_t failures) {
  return std::chrono::milliseconds(std::min<std::uint64_t>(500, 1ull << std::min(failures, 9u)));
}
}  // namespace

Follower::Follower(SessionCore& core) : core_(core), published_(core.ring.start()) {}

void Follower::run() {
  Sequence known = core_.log->latest_sequence();  // what the store said it holds
  while (!core_.stop_requested.load(std::memory_order_seq_cst)) {  // pairs with stop()'s (S2)
    if (known > published_) {
      if (follow_once()) continue;
      known = published_;  // read nothing (or failed): ask the store again below
    }
    if (failures_ > 0) std::this_thread::sleep_for(backoff(failures_));
    auto latest = core_.log->wait_for(published_, std::chrono::steady_clock::now() + kFollowPoll);
    if (!latest) {
      core_.set_last_store_error(latest.error());
      ++failures_;
      continue;
    }
    known = *latest;
  }
  core_.mark_closed();  // (X1): subscribers see the final cursor and end after it
}

bool Follower::follow_once() {
  EventQuery q;
  q.after = published_;
  q.limit = core_.options.max_batch;
  Sequence last = published_;
  Status st = core_.log->read(q, [&](const EventView& v) {
    if (v.sequence_number != last + 1) return false;  // never publish past a hole (INV-1)
    record_.resize(EventRecord::encoded_size(v));
    EventRecord::encode(record_.data(), v);
    if (!core_.ring.write(v.sequence_number, record_))  // too big for a slot: readers take it from the store
      core_.oversize_events.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
    last = v.sequence_number;
    return true;
  });
  const bool progressed = last > published_;
  if (progressed) {
    core_.ring.publish(last);  // (P1) inside: the slots written above (W3), then the cursor
    core_.events_sequenced.fetch_add(last - published_, std::memory_order_relaxed);  // relaxed: a statistic
    published_ = last;
  }
  if (!st) {
    core_.set_last_store_error(st.error());
    ++failures_;
    return progressed;
  }
  failures_ = 0;
  return progressed;
}

}  // namespace sessionring::detail
