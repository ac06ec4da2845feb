// The sequencer pool: docs/design.md §13 walks through a pool thread's turn.
//
// Ready queue and timers under one mutex; a session is in at most one of them (or parked, or
// on one pool thread), which SessionCore::sched_ (D1-D3) and the queue's mutex guarantee.
// Every hand-over of a session between threads goes through that mutex or through (D1)/(D2),
// so the next pool thread sees everything the last one wrote in the session's sequencer.
#include <sessionring/sequencer_pool.hpp>

#include "detail/sequencer.hpp"
#include "detail/session_core.hpp"
#include "detail/spin.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <latch>
#include <limits>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

namespace sessionring {

using detail::Sequencer;
using detail::SessionCore;
using Clock = std::chrono::steady_clock;

namespace {
// A session idle this long gives its ring pages and pop buffer back (design §13).
constexpr auto kIdleRelease = std::chrono::seconds(1);
// While a saturated session is on another thread's turn and its store has no preparation work
// (SessionLog::prefault_ahead) yet, an idle pool thread looks again this often.
constexpr auto kHelpPoll = std::chrono::microseconds(500);
// A session is saturated while at least kSaturatedOn of its turn's last 16 steps had work; it
// stops being so below kSaturatedOff of them (hysteresis: a saturated sequencer finds its queue
// empty now and then) or when its turn ends. Idle pool threads help only saturated sessions
// (design §13): a paced session (a batch, an idle step, a batch, ...) has about 8 of 16 and
// never is; help there only takes a core its subscribers need.
constexpr int kSaturatedOn = 14;
constexpr int kSaturatedOff = 10;
}  // namespace

// A reference the pool holds to a session, counted in its PoolHandle::holds (stop() waits
// until the pool holds none).
class Ref {
 public:
  Ref() = default;
  explicit Ref(std::shared_ptr<SessionCore> s) : s_(std::move(s)), h_(s_->pool_handle()) {
    h_->holds.fetch_add(1, std::memory_order_relaxed);  // relaxed: the session is alive (we hold it)
  }
  Ref(Ref&& o) noexcept = default;
  Ref& operator=(Ref&& o) noexcept {
    if (this != &o) {
      drop();
      s_ = std::move(o.s_);
      h_ = std::move(o.h_);
    }
    return *this;
  }
  Ref(const Ref&) = delete;
  Ref& operator=(const Ref&) = delete;
  ~Ref() { drop(); }
  explicit operator bool() const noexcept { return h_ != nullptr; }
  std::shared_ptr<SessionCore>& session() noexcept { return s_; }
  void drop() noexcept {
    s_.reset();
    if (h_) h_->holds.fetch_sub(1, std::memory_order_release);  // pairs with stop()'s acquire load
    h_.reset();
  }

 private:
  std::shared_ptr<SessionCore> s_;
  std::shared_ptr<SessionCore::PoolHandle> h_;
};

struct SequencerPool::Impl : std::enable_shared_from_this<SequencerPool::Impl> {
  struct Timer {
    Clock::time_point when;
    std::uint64_t order;  // FIFO among equal deadlines
    Ref session;          // step again (back-off, group commit): owned
    std::shared_ptr<SessionCore::PoolHandle> idle;  // idle-release check of a parked session
    std::uint64_t sequenced = 0;            // idle: events_sequenced when it parked
    bool operator>(const Timer& o) const noexcept { return when != o.when ? when > o.when : order > o.order; }
  };

  Impl(std::uint32_t n, std::function<void(std::uint32_t)> start_hook)
      : thread_count(n), on_thread_start(std::move(start_hook)) {}

  const std::uint32_t thread_count;
  const std::function<void(std::uint32_t)> on_thread_start;  // Options::on_thread_start
  std::mutex mutex;
  std::condition_variable changed;  // a session was queued, a timer added, or stopping
  std::deque<Ref> ready;                                                   // guarded
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers;   // guarded
  std::uint64_t next_order = 0;                                            // guarded
  bool stopping = false;                                                   // guarded
  // Handles of the sessions on a pool thread's turn now, for idle threads to help (design §13).
  std::vector<std::shared_ptr<SessionCore::PoolHandle>> serving;          // guarded
  std::size_t next_help = 0;                                               // guarded
  std::vector<std::thread> threads;  // written before the first schedule and by ~SequencerPool
  // Sessions waiting in `ready`. Writer: any thread under `mutex` (relaxed stores); readers:
  // pool threads between batches (relaxed: a hint whether to requeue now or keep going; a
  // stale value costs one more batch of the current session, or one more requeue).
  std::atomic<std::size_t> waiting{0};
  // When the earliest timer is due (steady-clock ns; max: none). Writer: any thread under
  // `mutex` when the timer heap changes (relaxed stores); readers: pool threads between batches
  // (relaxed: a hint like `waiting`, so a busy session also makes way for a due timer, which a
  // thread can only move to the ready queue between turns).
  std::atomic<std::int64_t> next_due{std::numeric_limits<std::int64_t>::max()};
  // Statistics: writers pool threads, readers stats() (relaxed: counters only).
  std::atomic<std::uint64_t> turns{0}, requeues{0}, timed{0}, parks{0}, releases{0}, helps{0};

  static std::int64_t ns(Clock::time_point t) noexcept { return t.time_since_epoch().count(); }
  // Under `mutex`.
  void update_next_due() noexcept {
    next_due.store(timers.empty() ? std::numeric_limits<std::int64_t>::max() : ns(timers.top().when),
                   std::memory_order_relaxed);
  }
  // Another session should get this thread: one waits in the ready queue, or a timer is due.
  bool others_waiting() const noexcept {
    return waiting.load(std::memory_order_relaxed) > 0 ||
           next_due.load(std::memory_order_relaxed) <= ns(Clock::now());
  }

  // With a start hook, returns once every thread has run it (Options::on_thread_start): the
  // host may read what its hook recorded. Without one, nothing waits for a thread to start.
  void start() {
    threads.reserve(thread_count);
    if (!on_thread_start) {
      for (std::uint32_t i = 0; i < thread_count; ++i)
        threads.emplace_back([self = shared_from_this()] { self->worker(); });
      return;
    }
    std::latch started(thread_count);
    std::uint32_t made = 0;
    try {
      for (; made < thread_count; ++made)
        threads.emplace_back([self = shared_from_this(), i = made, &started] {
          self->on_thread_start(i);
          started.count_down();  // `started` lives until every thread has counted down
          self->worker();
        });
    } catch (...) {  // a thread could not be started: the ones that were still count down
      started.count_down(thread_count - made);
      started.wait();
      throw;
    }
    started.wait();
  }

  void enqueue(Ref s) {
    {
      std::lock_guard lock(mutex);
      ready.push_back(std::move(s));
      waiting.store(ready.size(), std::memory_order_relaxed);
    }
    changed.notify_one();
  }

  void add_timer(Timer t) {
    {
      std::lock_guard lock(mutex);
      t.order = next_order++;
      timers.push(std::move(t));
      update_next_due();
    }
    changed.notify_one();
  }

  void worker() {
    // After on_thread_start: a real-time thread never helps (below). Its help, page faults of
    // another session's next chunk, would hold a core at real-time priority for milliseconds
    // while the normal-priority producers and subscribers wait (design §13).
    const bool may_help = !detail::is_realtime_thread();
    std::unique_lock lock(mutex);
    for (;;) {
      const auto now = Clock::now();
      while (!timers.empty() && timers.top().when <= now) {
        Timer t = std::move(const_cast<Timer&>(timers.top()));  // top() is const; popped next
        timers.pop();
        update_next_due();
        if (t.session) {
          ready.push_back(std::move(t.session));
        } else {
          lock.unlock();
          release_if_idle(t.idle, t.sequenced);
          t.idle.reset();
          lock.lock();
        }
      }
      if (!ready.empty()) {
        Ref s = std::move(ready.front());
        ready.pop_front();
        waiting.store(ready.size(), std::memory_order_relaxed);
        std::shared_ptr<SessionCore::PoolHandle> handle = s.session()->pool_handle();
        if (thread_count > 1) serving.push_back(handle);
        lock.unlock();
        turns.fetch_add(1, std::memory_order_relaxed);
        serve(s.session());  // drops the session itself when it closes
        s.drop();
        lock.lock();
        if (thread_count > 1) serving.erase(std::find(serving.begin(), serving.end(), handle));
        continue;
      }
      if (stopping) return;
      // Nothing to serve: help a saturated session another thread serves, then look again soon
      // (its store's preparation, e.g. the MemoryStore's next arena block, design §13).
      auto wake = timers.empty() ? Clock::time_point::max() : timers.top().when;
      if (std::shared_ptr<SessionCore::PoolHandle> h = may_help ? next_saturated() : nullptr; h) {
        lock.unlock();
        const bool helped = help(*h);
        h.reset();
        lock.lock();
        if (helped) {
          helps.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        wake = std::min(wake, Clock::now() + kHelpPoll);
      }
      if (wake == Clock::time_point::max())
        changed.wait(lock);
      else
        changed.wait_until(lock, wake);
    }
  }

  // Under `mutex`: the next saturated session on another thread's turn, round robin; null when
  // none is (an idle thread then sleeps until a turn becomes saturated and notifies `changed`).
  std::shared_ptr<SessionCore::PoolHandle> next_saturated() {
    for (std::size_t i = 0; i < serving.size(); ++i) {
      const std::shared_ptr<SessionCore::PoolHandle>& h = serving[next_help++ % serving.size()];
      if (h->saturated.load(std::memory_order_relaxed)) return h;  // relaxed: a hint (PoolHandle::saturated)
    }
    return nullptr;
  }

  // One bounded step of preparing the store of a session another thread serves. The handle's
  // mutex keeps the session from finishing stop() meanwhile (order: handle mutex -> pool mutex;
  // the pool mutex is not held here).
  static bool help(SessionCore::PoolHandle& h) {
    std::lock_guard hold(h.mutex);
    return h.core != nullptr && h.core->log->prefault_ahead();
  }

  // A parked session that sequenced nothing since it parked gives its memory back. Claiming it
  // makes this thread its owner, so nothing else runs its sequencer meanwhile.
  // At most one such timer per session (idle_timer_pending); a session whose memory was given
  // back gets none until it sequences again. The timer holds the session's PoolHandle, not the
  // session: stop() detaches the handle under its mutex, so a check never keeps a stopped
  // session (and its store handle) alive.
  void release_if_idle(const std::shared_ptr<SessionCore::PoolHandle>& handle, std::uint64_t sequenced) {
    std::lock_guard hold(handle->mutex);  // order: handle mutex -> pool mutex (enqueue, add_timer)
    SessionCore* core = handle->core;
    if (core == nullptr) return;  // stopped
    // relaxed loads of events_sequenced: its writer is the session's owner; a stale value only
    // postpones the release by one period
    if (!core->claim_parked()) {  // running or queued: look again later (the timer stays pending)
      add_timer(Timer{Clock::now() + kIdleRelease, 0, Ref(), handle,
                      core->events_sequenced.load(std::memory_order_relaxed)});
      return;
    }
    const std::uint64_t now = core->events_sequenced.load(std::memory_order_relaxed);
    if (now == sequenced) {
      core->idle_timer_pending = false;
      core->release_idle_memory();
      core->released_at = now;
      releases.fetch_add(1, std::memory_order_relaxed);
    } else {
      // It sequenced since the timer was armed, and parked again without arming one (this one
      // was pending): look again a period later, or it would never be released (a session
      // that went idle after two bursts kept its ring pages and store descriptors).
      add_timer(Timer{Clock::now() + kIdleRelease, 0, Ref(), handle, now});
    }
    // Destroyed before `hold` is released: while the handle is attached, the session's stopper
    // (or a Session handle) holds it too, so this is never its last reference.
    std::shared_ptr<SessionCore> strong = core->weak_from_this().lock();
    if (!strong) {  // its destructor is claiming it to run its last steps (stop_unowned)
      core->unclaim();
      return;
    }
    if (core->park()) {
      parks.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    enqueue(Ref(std::move(strong)));  // work arrived meanwhile: a pool thread serves it
  }

  // One turn of a session this thread owns: batches until it has nothing to do (then it parks),
  // it must wait (a timer), it closes, or another session waits (then it is requeued after one
  // batch: no session can hold a pool thread while others are ready).
  void serve(std::shared_ptr<SessionCore>& s) {
    Sequencer& q = s->sequencer();
    const WaitStrategy wait = s->options.wait;
    const std::shared_ptr<SessionCore::PoolHandle> handle = s->pool_handle();
    std::uint16_t steps = 0;  // this turn's last 16 steps, newest in bit 0: 1 = it had work
    bool saturated = false;   // what this thread last stored in handle->saturated
    auto set_saturated = [&](bool h) {
      saturated = h;
      handle->saturated.store(h, std::memory_order_relaxed);  // relaxed: a hint; when set, the mutex below orders it
      if (!h || thread_count == 1) return;
      // An idle pool thread asleep on `changed` looks for a saturated session only when woken;
      // taking the mutex orders the store before its next next_saturated() or its wait.
      { std::lock_guard lock(mutex); }
      changed.notify_one();
    };
    auto end_turn = [&] {
      if (saturated) set_saturated(false);
    };
    for (;;) {
      const Sequencer::Step step = q.step();
      steps = static_cast<std::uint16_t>((steps << 1) | (step == Sequencer::Step::busy ? 1u : 0u));
      const int recent = std::popcount(steps);
      if (!saturated && recent >= kSaturatedOn) set_saturated(true);
      else if (saturated && recent < kSaturatedOff) set_saturated(false);
      switch (step) {
        case Sequencer::Step::closed: {
          end_turn();
          // Drop our reference first, then mark it closed: stop() returns only after (X1), and
          // the pool then holds nothing of the session (its stopper holds it meanwhile).
          SessionCore* core = s.get();
          s.reset();
          core->mark_closed();
          return;
        }
        case Sequencer::Step::later:
          end_turn();
          timed.fetch_add(1, std::memory_order_relaxed);
          add_timer(Timer{q.wake_at(), 0, Ref(s), {}, 0});
          return;
        case Sequencer::Step::busy:
          if (others_waiting()) {
            end_turn();
            requeues.fetch_add(1, std::memory_order_relaxed);
            enqueue(Ref(s));
            return;
          }
          continue;
        case Sequencer::Step::idle:
          break;
      }
      // Idle. While no other session waits, wait for this one as its dedicated sequencer
      // would (spin, yield), then give idle time to a hot session's store (design §8).
      auto others = [&] { return others_waiting(); };
      auto ready_now = [&] { return q.work_hint() || others(); };
      if (wait != WaitStrategy::block && !others()) {
        if (wait == WaitStrategy::spin) detail::cpu_relax(); else std::this_thread::yield();
        continue;
      }
      if (detail::spin_then_yield(ready_now) && q.work_hint()) continue;  // real-time: spin only
      if (q.hot() && !others()) {
        while (!ready_now() && s->log->prepare_append()) {
        }
        if (q.work_hint()) continue;
      }
      const std::uint64_t sequenced = s->events_sequenced.load(std::memory_order_relaxed);  // relaxed: own counter
      const bool arm = !s->idle_timer_pending && sequenced != s->released_at;
      if (arm) s->idle_timer_pending = true;  // before park(): afterwards the session is not ours
      end_turn();                              // likewise
      if (!s->park()) {  // work arrived while parking: still ours
        if (arm) s->idle_timer_pending = false;
        continue;
      }
      parks.fetch_add(1, std::memory_order_relaxed);
      if (arm) add_timer(Timer{Clock::now() + kIdleRelease, 0, Ref(), s->pool_handle(), sequenced});
      return;
    }
  }
};

Result<std::shared_ptr<SequencerPool>> SequencerPool::create(Options options) {
  if (options.threads > 1024)
    return Error(Errc::validation_error,
                 "SequencerPool::Options::threads = " + std::to_string(options.threads) + " is above 1024");
  std::uint32_t n = options.threads;
  if (n == 0) n = std::max(1u, std::thread::hardware_concurrency());
  auto impl = std::make_shared<Impl>(n, std::move(options.on_thread_start));
  impl->start();
  return std::shared_ptr<SequencerPool>(new SequencerPool(std::move(impl)));
}

std::shared_ptr<SequencerPool> SequencerPool::default_pool() {
  // Kept until the process exits (never destroyed: a session in a static may outlive any
  // destruction order); its threads end with the process.
  static const auto* pool = new std::shared_ptr<SequencerPool>(*create());
  return *pool;
}

SequencerPool::SequencerPool(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

SequencerPool::~SequencerPool() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->changed.notify_all();
  // The last session using the pool may be dropped by a pool thread: that thread cannot join
  // itself; it ends on its own (each thread holds the Impl).
  for (auto& t : impl_->threads) {
    if (t.get_id() == std::this_thread::get_id())
      t.detach();
    else
      t.join();
  }
}

std::uint32_t SequencerPool::threads() const noexcept { return impl_->thread_count; }

SequencerPool::Stats SequencerPool::stats() const noexcept {
  Stats s;
  s.threads = impl_->thread_count;
  s.turns = impl_->turns.load(std::memory_order_relaxed);  // relaxed: counters
  s.requeues = impl_->requeues.load(std::memory_order_relaxed);
  s.timers = impl_->timed.load(std::memory_order_relaxed);
  s.parks = impl_->parks.load(std::memory_order_relaxed);
  s.idle_releases = impl_->releases.load(std::memory_order_relaxed);
  s.helps = impl_->helps.load(std::memory_order_relaxed);
  return s;
}

void SequencerPool::schedule(std::shared_ptr<detail::SessionCore> session) { impl_->enqueue(Ref(std::move(session))); }

}  // namespace sessionring
