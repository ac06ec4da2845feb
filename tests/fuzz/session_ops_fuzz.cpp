// session_ops_fuzz: fuzzer bytes decoded into a sequence of at most kMaxOps operations on one
// Session over a MemoryStore with a tiny ring (docs/fuzzing.md): appends (fire-and-forget and
// append_wait, through the session's shared producer and an own Producer, with run ids and
// caller ids from small sets so that filters match and dedupe triggers, payloads around the
// slot size so that some events travel as "read me from the store" markers), subscribe from
// any sequence up to latest + 2 with optional run / type filters, poll, poll_wait with a zero
// timeout, unsubscribe (twice), resubscribe from the cursor, dropping a subscription. With
// bit 0 of the first byte set the session belongs to a SessionServer and the operations also
// submit, cancel and await runs (Session itself has no cancel).
//
// After the last operation the session is stopped and the oracle — the stored events read
// back from the store — checks (docs/design.md §3):
//   INV-1  sequences 1..N, contiguous;
//   INV-3  every subscription stream (including its resumptions from the cursor) delivered
//          exactly the stored events from its start that match its filter, in order, without
//          gap or duplicate, with the stored content; a stream that was unsubscribed delivered
//          a prefix of that;
//   INV-4  fire-and-forget appends with FullPolicy::fail return at once (the writer never
//          waits for a subscriber, however far behind);
//   INV-5  each producer's stored events are in its append order;
//   INV-6  caller ids are stored at most once; append_wait answers the original sequence
//          (duplicate = true) for a repeated id; accepted events are stored, refused ones not;
//   runs   (server variant) every accepted run ends with exactly one terminal event after its
//          run_started (or only run_cancelled, if it never left the queue), with the events
//          its task emitted in between, in order.
#include "fuzz_check.hpp"
#include "fuzz_input.hpp"

#include <sessionring/sessionring.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace sessionring;
using sessionring::fuzz::FuzzInput;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxOps = 64;
constexpr std::size_t kMaxStreams = 4;
constexpr std::size_t kMaxRuns = 8;
constexpr std::array<std::string_view, 4> kRunIds = {"", "r1", "r2", "r3"};
constexpr std::array<std::string_view, 4> kCallerIds = {"id-a", "id-b", "id-c", "id-d"};
// A fail-fast append that takes longer than this was blocked: by a subscriber (INV-4) or a hang.
constexpr auto kFailFastBound = 5s;

/// The tag that makes each appended event's data unique: "#<n>;" then padding.
std::string_view tag_of(std::string_view data) { return data.substr(0, data.find(';') + 1); }

struct Appended {
  std::string tag;
  std::string id;           // caller id, empty: generated
  int producer = 0;         // 0: session's shared producer, 1: own Producer
  bool waited = false;      // append_wait
  AppendResult result;      // append_wait only
};

/// One logical subscriber: a Subscription and its resumptions from the cursor.
struct Stream {
  std::optional<Subscription> sub;
  Sequence start = 1;
  EventFilter filter;
  std::vector<Event> got;
  bool resumable = true;  // false once unsubscribed for good: then `got` must be a prefix
};

/// What a run's task emitted and had accepted (written by the slot thread, read at the end).
struct RunLog {
  std::mutex m;
  std::map<std::string, std::vector<std::string>> accepted;  // run id -> tags, in emit order
};

class Driver {
 public:
  Driver(FuzzInput& in, Session& session, SessionServer* server) : in_(in), session_(session), server_(server) {}

  void run() {
    auto own = session_.producer();
    FUZZ_CHECK(own.ok(), "a second producer");
    producer_.emplace(std::move(*own));
    for (std::size_t op = 0; op < kMaxOps && !in_.empty(); ++op) step(in_.u8());
  }

  /// Stops the session (or server) and checks everything against the stored events.
  void finish() {
    if (server_) {
      Status st = server_->stop();
      FUZZ_CHECK(st.ok(), "server stop");
    }
    Status st = session_.stop();
    FUZZ_CHECK(st.ok(), "session stop");
    auto stored = session_.log().read(EventQuery{});
    FUZZ_CHECK(stored.ok(), "reading the store back");
    const std::vector<Event>& all = *stored;
    for (std::size_t i = 0; i < all.size(); ++i)
      FUZZ_CHECK(all[i].sequence_number == i + 1, "INV-1: stored sequences are 1..N");
    FUZZ_CHECK(session_.latest_sequence() == all.size(), "everything stored is published at stop");
    check_appends(all);
    for (Stream& s : streams_) check_stream(s, all);
    if (server_) check_runs(all);
  }

 private:
  // ---- operations ----

  void step(std::uint8_t op) {
    switch (op % 13) {
      case 0: append(0, false); break;
      case 1: append(0, true); break;
      case 2: append(1, false); break;
      case 3: append(1, true); break;
      case 4: subscribe(); break;
      case 5: poll(false); break;
      case 6: poll(true); break;
      case 7: unsubscribe(); break;
      case 8: resubscribe(); break;
      case 9: burst(); break;
      case 10: drop(); break;
      case 11: if (server_) submit_run(); else append(in_.u8() & 1, true); break;
      default: if (server_) cancel_or_await(); else poll(false); break;
    }
  }

  EventInput make_event(std::string& data_out, std::string& id_out) {
    EventInput e;
    const std::uint8_t shape = in_.u8();
    e.type = static_cast<EventType>(in_.u8() % kEventTypeCount);
    e.run_id = kRunIds[shape & 3];
    id_out = (shape & 4) ? std::string(kCallerIds[(shape >> 3) & 3]) : std::string();
    e.id = id_out;
    // Padding around the slot sizes (64..256 bytes) so some events do not fit a ring slot.
    static constexpr std::size_t kPads[] = {0, 8, 40, 100, 200, 300};
    data_out = "#" + std::to_string(next_tag_++) + ";" + std::string(kPads[(shape >> 5) % 6], 'x');
    e.data = data_out;
    return e;
  }

  void append(int producer, bool wait) {
    std::string data, id;
    EventInput e = make_event(data, id);
    Appended a{std::string(tag_of(data)), id, producer, wait, {}};
    if (wait) {
      auto r = producer == 0 ? session_.append_wait(e, AppendOptions::wait_for(30s))
                             : producer_->append_wait(e, AppendOptions::wait_for(30s));
      if (!r) std::fprintf(stderr, "append_wait: %s\n", r.error().describe().c_str());
      FUZZ_CHECK(r.ok(), "append_wait of a small event on a running session");
      a.result = *r;
      accepted_.push_back(std::move(a));
      return;
    }
    const auto t0 = Clock::now();
    Status st = producer == 0 ? session_.append(e, AppendOptions::fail_fast())
                              : producer_->append(e, AppendOptions::fail_fast());
    FUZZ_CHECK(Clock::now() - t0 < kFailFastBound, "INV-4: a fail-fast append returned late (blocked?)");
    if (st) {
      accepted_.push_back(std::move(a));
    } else {
      FUZZ_CHECK(st.code() == Errc::queue_full && !st.error().message().empty(), "fail-fast append: queue_full only");
      refused_.insert(a.tag);
    }
  }

  void burst() {
    const int n = 1 + in_.u8() % 16;
    for (int i = 0; i < n; ++i) append(i & 1, false);
  }

  Stream* pick_stream() {
    if (streams_.empty()) return nullptr;
    return &streams_[in_.u8() % streams_.size()];
  }

  void subscribe() {
    if (streams_.size() >= kMaxStreams) return poll(false);
    Stream s;
    SubscribeOptions o;
    o.from_sequence = in_.in_range(0, session_.latest_sequence() + 2);
    const std::uint8_t f = in_.u8();
    if (f & 1) o.filter.run_id(std::string(kRunIds[(f >> 1) & 3]));
    if (f & 8) o.filter.run_id(std::string(kRunIds[(f >> 4) & 3]));
    if (f & 64) o.filter.type(static_cast<EventType>(in_.u8() % kEventTypeCount));
    if (f & 128) o.filter.type(EventType::message_streamed);
    s.start = std::max<Sequence>(o.from_sequence, 1);
    s.filter = o.filter;
    auto sub = session_.subscribe(std::move(o));
    FUZZ_CHECK(sub.ok(), "subscribe on a running session");
    s.sub.emplace(std::move(*sub));
    streams_.push_back(std::move(s));
  }

  void poll_into(Stream& s, Deadline deadline, std::size_t max) {
    auto n = s.sub->poll_wait([&](const EventView& v) { s.got.push_back(v.to_event()); }, deadline, max);
    if (!n) std::fprintf(stderr, "poll: %s\n", n.error().describe().c_str());
    FUZZ_CHECK(n.ok(), "poll of an attached subscription");
    FUZZ_CHECK(*n <= max, "poll delivered more than max_events");
    if (!s.got.empty()) FUZZ_CHECK(s.sub->cursor() > s.got.back().sequence_number, "the cursor is past what was delivered");
  }

  void poll(bool wait_zero) {
    Stream* s = pick_stream();
    if (!s || !s->sub) return;
    const std::uint8_t m = in_.u8();
    const std::size_t max = m < 128 ? Subscription::kAll : 1 + m % 8;
    if (wait_zero) poll_into(*s, Clock::now(), max);
    else {
      auto n = s->sub->poll([&](const EventView& v) { s->got.push_back(v.to_event()); }, max);
      FUZZ_CHECK(n.ok(), "poll of an attached subscription");
    }
  }

  void unsubscribe() {
    Stream* s = pick_stream();
    if (!s || !s->sub) return;
    Status first = s->sub->unsubscribe();
    FUZZ_CHECK(first.ok(), "the first unsubscribe succeeds");
    Status second = s->sub->unsubscribe();
    FUZZ_CHECK(!second.ok() && second.code() == Errc::closed && !second.error().message().empty(),
               "a second unsubscribe answers Errc::closed");
    auto after = s->sub->poll([](const EventView&) { FUZZ_CHECK(false, "delivery after unsubscribe"); });
    FUZZ_CHECK(!after.ok() && after.code() == Errc::closed, "poll after unsubscribe answers Errc::closed");
    s->sub.reset();
    s->resumable = false;
  }

  void resubscribe() {
    Stream* s = pick_stream();
    if (!s || !s->sub) return;
    const Sequence cursor = s->sub->cursor();
    FUZZ_CHECK(cursor >= s->start, "the cursor never moves back");
    if (!s->got.empty()) FUZZ_CHECK(cursor > s->got.back().sequence_number, "the cursor is past what was delivered");
    FUZZ_CHECK(s->sub->unsubscribe().ok(), "unsubscribe before resuming");
    s->sub.reset();
    SubscribeOptions o;
    o.from_sequence = cursor;
    o.filter = s->filter;
    auto sub = session_.subscribe(std::move(o));
    FUZZ_CHECK(sub.ok(), "resubscribe from the cursor");
    s->sub.emplace(std::move(*sub));
  }

  void drop() {  // destroying a Subscription detaches it (no unsubscribe call)
    Stream* s = pick_stream();
    if (!s || !s->sub) return;
    s->sub.reset();
    s->resumable = false;
  }

  // ---- server variant: runs ----

  void submit_run() {
    if (runs_.size() >= kMaxRuns) return;
    const std::string run_id = "x" + std::to_string(runs_.size());
    const int events = in_.u8() % 6;
    const auto hold = std::chrono::milliseconds(in_.u8() % 4 == 0 ? 20 : 0);
    auto log = run_log_;
    RunOptions ro;
    ro.run_id = run_id;
    auto id = server_->submit_run(
        [log, events, hold](RunContext& ctx) -> RunResult {
          for (int i = 0; i < events; ++i) {
            const std::string data = ctx.run_id() + "-" + std::to_string(i) + ";";
            Status st = ctx.emit(EventType::message_streamed, data);
            if (!st) return st.error();
            std::lock_guard lock(log->m);
            log->accepted[ctx.run_id()].push_back(data);
          }
          if (hold.count() > 0) ctx.wait_for_cancel(hold);
          return std::string("done");
        },
        ro);
    if (id) {
      FUZZ_CHECK(*id == run_id, "submit_run keeps the given run id");
      runs_.push_back(run_id);
    } else {
      FUZZ_CHECK(id.code() == Errc::max_runs_exceeded && !id.error().message().empty(), "submit_run error");
    }
  }

  void cancel_or_await() {
    if (runs_.empty()) return;
    const std::uint8_t b = in_.u8();
    const std::string& id = runs_[b % runs_.size()];
    if (b & 0x80) {
      Status st = server_->cancel_run(id);
      if (!st) FUZZ_CHECK(st.code() == Errc::run_not_found && !st.error().message().empty(), "cancel_run error");
    } else {
      RunResult r = server_->await_run(id, std::chrono::milliseconds(b % 3));
      if (!r)
        FUZZ_CHECK((r.code() == Errc::timeout || r.code() == Errc::cancelled || r.code() == Errc::run_not_found) &&
                       !r.error().message().empty(),
                   "await_run error");
    }
  }

  // ---- the oracle ----

  void check_appends(const std::vector<Event>& all) {
    std::map<std::string, Sequence> by_tag;
    std::set<std::string> ids;
    for (const Event& e : all) {
      FUZZ_CHECK(ids.insert(e.id).second, "INV-6: an event id is stored at most once");
      const std::string tag(tag_of(e.data));
      if (tag.starts_with("#")) FUZZ_CHECK(by_tag.emplace(tag, e.sequence_number).second, "an append stored twice");
    }
    for (const std::string& t : refused_) FUZZ_CHECK(!by_tag.contains(t), "a refused append was stored");
    Sequence last[2] = {0, 0};
    for (const Appended& a : accepted_) {
      auto it = by_tag.find(a.tag);
      if (a.waited) {
        const Sequence s = a.result.sequence;
        FUZZ_CHECK(s >= 1 && s <= all.size(), "append_wait answers a stored sequence");
        const Event& e = all[s - 1];
        if (a.result.duplicate) {
          FUZZ_CHECK(!a.id.empty() && e.id == a.id && it == by_tag.end(), "INV-6: duplicate = the original event");
          continue;
        }
        FUZZ_CHECK(it != by_tag.end() && it->second == s, "append_wait's sequence holds its event");
      } else if (it == by_tag.end()) {
        // Accepted but not stored: only as a duplicate of an earlier stored id.
        FUZZ_CHECK(!a.id.empty() && ids.contains(a.id), "an accepted append was lost");
        continue;
      }
      if (!a.id.empty()) FUZZ_CHECK(all[it->second - 1].id == a.id, "the caller id is stored");
      FUZZ_CHECK(it->second > last[a.producer], "INV-5: a producer's events are stored in append order");
      last[a.producer] = it->second;
    }
  }

  void check_stream(Stream& s, const std::vector<Event>& all) {
    if (s.sub) {  // drain: the stop closes the subscription once it delivered everything
      const auto deadline = Clock::now() + 60s;
      while (s.sub->state() != SubscriptionState::closed) {
        FUZZ_CHECK(Clock::now() < deadline, "a subscription did not close after the session stopped");
        poll_into(s, Clock::now() + 50ms, Subscription::kAll);
      }
      poll_into(s, Clock::now(), Subscription::kAll);
    }
    std::vector<const Event*> want;
    for (Sequence q = s.start; q <= all.size(); ++q)
      if (s.filter.matches(all[q - 1].view())) want.push_back(&all[q - 1]);
    if (s.got.size() > want.size() || (s.resumable && s.got.size() != want.size())) {
      std::fprintf(stderr, "stream from %llu: got %zu events, want %zu (resumable %d)\n",
                   static_cast<unsigned long long>(s.start), s.got.size(), want.size(), int(s.resumable));
      for (std::size_t i = 0; i < s.got.size() && i < 40; ++i)
        std::fprintf(stderr, "  got #%llu\n", static_cast<unsigned long long>(s.got[i].sequence_number));
      FUZZ_CHECK(false, "INV-3: a subscription delivers exactly the filtered stored stream from its start");
    }
    for (std::size_t i = 0; i < s.got.size(); ++i) {
      Event expect = *want[i];
      if (!(s.got[i] == expect))
        std::fprintf(stderr, "stream from %llu, item %zu: got #%llu, want #%llu\n",
                     static_cast<unsigned long long>(s.start), i,
                     static_cast<unsigned long long>(s.got[i].sequence_number),
                     static_cast<unsigned long long>(expect.sequence_number));
      FUZZ_CHECK(s.got[i] == expect, "INV-3: no gap, no duplicate, the stored content");
    }
  }

  void check_runs(const std::vector<Event>& all) {
    static constexpr EventType kTerminal[] = {EventType::run_completed, EventType::run_failed,
                                              EventType::run_cancelled, EventType::run_timeout};
    std::lock_guard lock(run_log_->m);
    for (const std::string& id : runs_) {
      std::vector<const Event*> mine;
      for (const Event& e : all)
        if (e.run_id == id) mine.push_back(&e);
      FUZZ_CHECK(!mine.empty(), "an accepted run left no event");
      const bool is_terminal =
          std::find(std::begin(kTerminal), std::end(kTerminal), mine.back()->type) != std::end(kTerminal);
      FUZZ_CHECK(is_terminal, "a run ends with a terminal event");
      if (mine.front()->type != EventType::run_started) {
        FUZZ_CHECK(mine.size() == 1 && mine.front()->type == EventType::run_cancelled,
                   "a run that never started has only run_cancelled");
        continue;
      }
      const std::vector<std::string>& emitted = run_log_->accepted[id];
      FUZZ_CHECK(mine.size() == emitted.size() + 2, "run_started, the task's accepted events, one terminal event");
      for (std::size_t i = 0; i < emitted.size(); ++i)
        FUZZ_CHECK(mine[i + 1]->data == emitted[i], "INV-5: a run's events in emit order");
    }
  }

  FuzzInput& in_;
  Session& session_;
  SessionServer* server_;
  std::optional<Producer> producer_;
  std::vector<Appended> accepted_;
  std::set<std::string> refused_;
  std::vector<Stream> streams_;
  std::vector<std::string> runs_;
  std::shared_ptr<RunLog> run_log_ = std::make_shared<RunLog>();
  std::uint64_t next_tag_ = 0;
};

SessionOptions engine_options(FuzzInput& in) {
  SessionOptions o;
  const std::uint8_t a = in.u8();
  const std::uint8_t b = in.u8();
  o.ring_capacity = 2u << (a & 3);                     // 2, 4, 8, 16
  static constexpr std::uint32_t kSlots[] = {64, 128, 256, 64};
  o.ring_slot_bytes = kSlots[(a >> 2) & 3];            // small: larger events travel as markers
  o.queue = (a & 16) ? QueueBackend::boost_lockfree : QueueBackend::moodycamel;
  o.ingest_capacity = 2 + (b & 7);                     // tiny: fail-fast appends meet queue_full
  o.max_batch = 1 + ((b >> 3) & 7);
  o.wait = WaitStrategy::block;                        // 2 cores: spinning waiters starve the sequencer
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzInput in(data, size);
  const std::uint8_t mode = in.u8();
  SessionOptions o = engine_options(in);
  o.store = MemoryStore::create();
  if ((mode & 1) == 0) {
    o.session_id = "ops";
    auto session = Session::open(o);
    FUZZ_CHECK(session.ok(), "Session::open");
    Driver d(in, *session, nullptr);
    d.run();
    d.finish();
    return 0;
  }
  SessionServerOptions so;
  so.store = o.store;
  so.new_session = NewSession{"ops", "{}", ""};
  so.max_concurrent_runs = 1 + ((mode >> 1) & 1);
  so.max_queued_runs = (mode >> 2) & 3;  // 0: start at once or max_runs_exceeded
  so.engine = o;
  so.engine.store = nullptr;
  so.engine.session_id.clear();
  so.engine.max_producers = 8;
  so.stop_policy = (mode & 16) ? StopPolicy::cancel : StopPolicy::drain;
  auto server = SessionServer::start(so);
  if (!server) std::fprintf(stderr, "SessionServer::start: %s\n", server.error().describe().c_str());
  FUZZ_CHECK(server.ok(), "SessionServer::start");
  Driver d(in, server->session(), &*server);
  d.run();
  d.finish();
  return 0;
}
