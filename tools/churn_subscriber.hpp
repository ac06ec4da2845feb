// ChurnSubscriber: a subscriber of `sessionring bench --duration` (the soak) that does what
// real clients do to a long-lived session: it joins, reads for a while, lags (stops polling for
// long enough that the ring laps it and it has to read the store), leaves (unsubscribes), stays
// away while events keep flowing, and comes back with a new subscription from the cursor it had
// reached. Across all of that it checks the contract of docs/design.md INV-3: every event from
// its first sequence on is delivered exactly once, in order. `lost` counts sequences it never
// saw, `duplicates` sequences it saw twice; both must end at 0.
//
// Runs on its own thread (run()); the control thread calls finish(last) once the producers are
// done and every event up to `last` is published, and the churner then reads up to `last`.
#pragma once
#include "bench_engines.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>
#include <thread>

namespace sessionring::tools::bench_detail {

struct ChurnStats {
  std::uint64_t received = 0;    ///< events delivered (each sequence once when the contract holds)
  std::uint64_t lost = 0;        ///< sequences skipped (a gap)
  std::uint64_t duplicates = 0;  ///< sequences delivered again
  std::uint64_t joins = 0;       ///< subscriptions opened (the first one and every resume)
  std::uint64_t lags = 0;        ///< pauses without polling
  std::uint64_t lapped = 0;      ///< times the ring lapped it (summed over its subscriptions)
  std::uint64_t store_reads = 0; ///< store reads (lapped fallback, backfill on resume)
  std::uint64_t failures = 0;    ///< poll errors, or a final read that never reached `last`
};

template <class Eng>
class ChurnSubscriber {
 public:
  ChurnSubscriber(Eng& eng, std::uint64_t seed) : eng_(eng), rng_(seed) {}

  /// Control thread: every event up to `last` is published; read up to it and return.
  void finish(Sequence last) { last_.store(last, std::memory_order_release); }  // pairs with run()'s acquire

  ChurnStats run() {
    using std::chrono::milliseconds;
    // Start somewhere in the recent past so the first subscription backfills from the store.
    const Sequence latest = eng_.latest();
    next_ = latest + 1 - std::min<Sequence>(latest, pick(0, 50'000));
    for (;;) {
      auto sub = eng_.subscribe(next_);
      ++st_.joins;
      const auto leave_at = Clock::now() + milliseconds(pick(20, 500));
      bool done = false;
      while (!done && Clock::now() < leave_at) {
        if (pick(0, 7) == 0) {  // lag: no polling while the ring laps us
          ++st_.lags;
          std::this_thread::sleep_for(milliseconds(pick(10, 300)));
        }
        bool failed = false;
        auto handler = [this](const EventView& v) { see(v.sequence_number); };
        (void)sub.poll(handler, Clock::now() + milliseconds(20), failed);
        if (failed) ++st_.failures;
        done = reached_last();
      }
      if (!done && last_.load(std::memory_order_acquire) != kOpen) {  // pairs with finish()
        // Final drain: keep this subscription until `last`, give up after a minute.
        const auto give_up = Clock::now() + std::chrono::minutes(1);
        while (!reached_last() && Clock::now() < give_up) {
          bool failed = false;
          auto handler = [this](const EventView& v) { see(v.sequence_number); };
          (void)sub.poll(handler, Clock::now() + milliseconds(20), failed);
          if (failed) ++st_.failures;
        }
        done = true;
      }
      st_.lapped += sub.lapped();
      st_.store_reads += sub.store_reads();
      if (done) break;
      // Leave (the subscription is dropped here) and stay away while events flow.
      std::this_thread::sleep_for(milliseconds(pick(0, 200)));
    }
    const Sequence last = last_.load(std::memory_order_acquire);  // pairs with finish()
    if (next_ <= last) {
      st_.lost += last + 1 - next_;  // never got there: count the rest as lost
      ++st_.failures;
    }
    return st_;
  }

 private:
  static constexpr Sequence kOpen = ~Sequence{0};

  void see(Sequence s) {
    if (s < next_) {
      ++st_.duplicates;
      return;
    }
    st_.lost += s - next_;
    next_ = s + 1;
    ++st_.received;
  }
  bool reached_last() const { return next_ > last_.load(std::memory_order_acquire); }  // pairs with finish()
  std::uint64_t pick(std::uint64_t lo, std::uint64_t hi) { return std::uniform_int_distribution<std::uint64_t>(lo, hi)(rng_); }

  Eng& eng_;
  std::mt19937_64 rng_;
  Sequence next_ = 1;  // the sequence expected next
  ChurnStats st_;
  // Writer: the control thread, once (finish, release); reader: this churner (acquire), which
  // then reads up to it. kOpen while the producers still emit.
  std::atomic<Sequence> last_{kOpen};
};

}  // namespace sessionring::tools::bench_detail
