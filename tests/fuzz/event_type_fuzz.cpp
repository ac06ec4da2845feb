// event_type_fuzz: every parser and option validator of the public API fed with fuzzer bytes
// (docs/fuzzing.md). Each input is consumed in this order:
//   1. an event type name     parse_event_type: success round-trips through to_string;
//                             anything else is Errc::unknown_event_type;
//   2. a durability name      parse_durability: the same, Errc::validation_error;
//   3. a session id           validate_session_id agrees with an independent reference of the
//                             rules (1..128 bytes of [A-Za-z0-9._:-], no leading '.', no "..");
//                             an accepted id is one safe path component;
//   4. option structs         SessionOptions, LogStoreOptions, SubscribeOptions and
//                             SessionServerOptions decoded field by field (raw enum values and
//                             out-of-range numbers included), passed to validate(...) and to the
//                             entry points that validate them: LogStore::open, Session::open,
//                             Session::subscribe, SessionServer::start. Every answer must be a
//                             success or a typed Error with a message; a success then appends
//                             one event, polls it (or checks the filter rejects it) and stops
//                             (a server first executes one run, under its run timeout, and
//                             the store must hold it as run_started, its event, one terminal event).
#include "fuzz_check.hpp"
#include "fuzz_input.hpp"
#include "temp_root.hpp"

#include <sessionring/sessionring.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace sessionring;
using sessionring::fuzz::FuzzInput;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Engines larger than this are only validated, never opened (a 2^24-slot ring of 64 KiB slots
// is a valid option and a terabyte of memory).
constexpr std::uint64_t kMaxRingBytes = 8u << 20;
constexpr std::uint32_t kMaxIngest = 65536;

void check_error(const Error& e, std::initializer_list<Errc> allowed, const char* what) {
  FUZZ_CHECK(!e.message().empty(), what);
  const bool ok = std::find(allowed.begin(), allowed.end(), e.code()) != allowed.end();
  if (!ok) std::fprintf(stderr, "unexpected error: %s\n", e.describe().c_str());
  FUZZ_CHECK(ok, what);
}

/// A u32 that is often a boundary of some option's range.
std::uint32_t pick_u32(FuzzInput& in) {
  static constexpr std::uint32_t kEdges[] = {0,       1,       2,       3,         4,         7,          8,
                                             16,      63,      64,      65,        255,       256,        511,
                                             512,     1000,    4095,    4096,      65534,     65535,      65536,
                                             65537,   1u << 20, (1u << 20) + 1, 1u << 24, (1u << 24) + 1, 1u << 30,
                                             (1u << 30) + 1, 1u << 31, (1u << 31) + 1, 0xffffffffu};
  const std::uint8_t how = in.u8();
  if (how < 160) return kEdges[how % std::size(kEdges)];
  if (how < 220) return in.u8();
  return in.u32();
}

std::uint64_t pick_u64(FuzzInput& in) {
  const std::uint8_t how = in.u8();
  if (how < 64) return how % 8;
  if (how < 128) return pick_u32(in);
  if (how < 160) return kMaxSequence + (how % 3) - 1;
  if (how < 192) return std::uint64_t{1} << 40 | (how % 2);
  return in.u64();
}

/// A duration of type D: a small or boundary count of `Unit`s (converted exactly), or a raw
/// count of D's own ticks (negative included).
template <class D, class Unit = D>
D pick_duration(FuzzInput& in) {
  const std::uint8_t how = in.u8();
  if (how < 128) return std::chrono::duration_cast<D>(Unit(static_cast<std::int64_t>(how % 16) - 2));
  if (how < 192) return std::chrono::duration_cast<D>(Unit(static_cast<std::int64_t>(in.u8()) * 1000 - 1));
  return D(static_cast<std::int64_t>(in.u64()));
}

// ---- 1-3: names and ids ----

void fuzz_event_type(std::string_view name) {
  auto t = parse_event_type(name);
  if (t) {
    FUZZ_CHECK(is_valid_event_type(static_cast<std::uint8_t>(*t)), "parse_event_type returns a valid type");
    FUZZ_CHECK(to_string(*t) == name, "parse_event_type accepts exact names only (round trip)");
  } else {
    check_error(t.error(), {Errc::unknown_event_type}, "parse_event_type error");
    for (EventType e : all_event_types()) FUZZ_CHECK(to_string(e) != name, "a real name was refused");
  }
}

void fuzz_durability(std::string_view name) {
  auto d = parse_durability(name);
  if (d) {
    FUZZ_CHECK(to_string(*d) == name, "parse_durability accepts exact names only (round trip)");
  } else {
    check_error(d.error(), {Errc::validation_error}, "parse_durability error");
    FUZZ_CHECK(name != "none" && name != "buffered" && name != "fsync", "a real durability was refused");
  }
}

/// The rules of include/sessionring/session_id.hpp, written independently.
bool reference_valid_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxSessionIdBytes || id.front() == '.') return false;
  if (id.find("..") != std::string_view::npos) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == ':';
  });
}

void fuzz_session_id(std::string_view id) {
  Status st = validate_session_id(id);
  FUZZ_CHECK(st.ok() == reference_valid_id(id), "validate_session_id disagrees with the documented rules");
  if (st) {
    // One safe path component under a store root.
    FUZZ_CHECK(!id.empty() && id.size() <= kMaxSessionIdBytes, "id length");
    FUZZ_CHECK(id.find('/') == std::string_view::npos && id.find('\\') == std::string_view::npos, "separator");
    FUZZ_CHECK(id != "." && id != ".." && id.find("..") == std::string_view::npos, "dot path");
    FUZZ_CHECK(id.find('\0') == std::string_view::npos, "NUL in an id");
    FUZZ_CHECK(fs::path(std::string(id)).filename() == fs::path(std::string(id)), "not a single component");
  } else {
    check_error(st.error(), {Errc::invalid_session_id}, "validate_session_id error");
  }
}

// ---- 4: option structs ----

void decode_engine(FuzzInput& in, SessionOptions& o) {
  o.ring_capacity = pick_u32(in);
  o.ring_slot_bytes = pick_u32(in);
  o.ingest_capacity = pick_u32(in);
  o.max_producers = pick_u32(in);
  o.queue = static_cast<QueueBackend>(in.u8() % 4);  // 2, 3: not a QueueBackend value
  o.wait = static_cast<WaitStrategy>(in.u8() % 4);   // 3: not a WaitStrategy value
  o.max_batch = pick_u32(in);
  o.max_event_bytes = pick_u32(in);
}

bool engine_fits(const SessionOptions& o) {
  // spin/yield waiters busy-wait: fine for one short poll, but keep the default on 2 cores.
  return std::uint64_t{o.ring_capacity} * o.ring_slot_bytes <= kMaxRingBytes && o.ingest_capacity <= kMaxIngest &&
         o.max_batch <= kMaxIngest && o.max_producers <= kMaxIngest;
}

LogStoreOptions decode_log_options(FuzzInput& in, const fs::path& tmp) {
  LogStoreOptions o;
  switch (in.u8() % 5) {
    case 0: o.root = tmp / "root"; break;
    case 1: o.root = tmp / "nested" / "deeper"; break;
    case 2: o.root = tmp / "a-file"; break;  // a regular file: storage_error
    case 3: o.root = ""; break;              // validation_error
    default: o.root = tmp / "root/"; break;  // trailing slash
  }
  o.durability = static_cast<Durability>(in.u8() % 4);  // 3: invalid
  o.segment_bytes = pick_u64(in);
  o.index_every_records = pick_u32(in);
  o.index_every_bytes = pick_u32(in);
  o.read_chunk_bytes = pick_u32(in);
  o.background_sync = in.flag();
  o.buffer_bytes = pick_u32(in);
  o.flush_interval = pick_duration<std::chrono::milliseconds>(in);
  o.poll_interval = pick_duration<std::chrono::milliseconds>(in);
  o.repair_damaged_tail = in.flag();
  return o;
}

/// `invalid_type`: a filter type outside the 28 enumerators was given (subscribe refuses it).
SubscribeOptions decode_subscribe(FuzzInput& in, bool& invalid_type) {
  SubscribeOptions o;
  o.from_sequence = pick_u64(in);
  const unsigned runs = in.u8() % 3;
  for (unsigned i = 0; i < runs; ++i) o.filter.run_id(std::string(in.bytes(8)));
  const unsigned types = in.u8() % 3;
  invalid_type = false;
  for (unsigned i = 0; i < types; ++i) {
    const std::uint8_t raw = in.u8();
    const std::uint8_t t = raw < 240 ? raw % kEventTypeCount : raw;  // mostly valid, sometimes not
    invalid_type = invalid_type || !is_valid_event_type(t);
    o.filter.type(static_cast<EventType>(t));
  }
  return o;
}

/// One event through an opened session: append_wait, then a subscription with `sub` must
/// deliver it exactly when it matches (from_sequence and filter), and nothing else.
void exercise_session(Session& session, SubscribeOptions sub, bool invalid_type, FuzzInput& in) {
  const std::string run(in.bytes(8));
  const std::string data(in.bytes(64));
  EventInput e;
  e.type = static_cast<EventType>(in.u8() % kEventTypeCount);
  e.run_id = run;
  e.data = data;
  const EventFilter filter = sub.filter;
  const Sequence from = sub.from_sequence;
  auto s = session.subscribe(std::move(sub));
  if (!s) {
    check_error(s.error(), {Errc::validation_error}, "subscribe");
    FUZZ_CHECK(from > kMaxSequence || invalid_type, "subscribe refused valid options");
  }
  FUZZ_CHECK(!s.ok() || (from <= kMaxSequence && !invalid_type),
             "subscribe must refuse from_sequence > kMaxSequence and invalid filter types");
  auto appended = session.append_wait(e, AppendOptions::wait_for(5s));
  if (!appended) {
    check_error(appended.error(), {Errc::event_too_large, Errc::validation_error}, "append_wait");
  }
  if (s && appended) {
    const Sequence seq = appended->sequence;
    EventView v;
    v.type = e.type;
    v.run_id = e.run_id;
    const bool expect = std::max<Sequence>(from, 1) <= seq && filter.matches(v);
    std::size_t got = 0;
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (got < (expect ? 1u : 0u) && std::chrono::steady_clock::now() < deadline) {
      auto n = s->poll_wait(
          [&](const EventView& ev) {
            if (ev.sequence_number != seq || ev.data != data) {  // say what was delivered and stored
              std::fprintf(stderr, "delivered #%llu %s '%s', appended #%llu '%s' (from %llu, latest %llu)\n",
                           static_cast<unsigned long long>(ev.sequence_number), std::string(to_string(ev.type)).c_str(),
                           std::string(ev.data).c_str(), static_cast<unsigned long long>(seq), data.c_str(),
                           static_cast<unsigned long long>(from),
                           static_cast<unsigned long long>(session.latest_sequence()));
              auto all = session.log().read(EventQuery{});
              if (all)
                for (const Event& x : *all)
                  std::fprintf(stderr, "  stored #%llu %s run=%s data=%s\n",
                               static_cast<unsigned long long>(x.sequence_number),
                               std::string(to_string(x.type)).c_str(), x.run_id.c_str(), x.data.c_str());
            }
            FUZZ_CHECK(ev.sequence_number == seq && ev.data == data, "delivered the appended event");
          },
          std::chrono::steady_clock::now() + 100ms);
      FUZZ_CHECK(n.ok(), "poll_wait on a live subscription");
      got += *n;
    }
    auto more = s->poll([](const EventView&) {});
    FUZZ_CHECK(more.ok(), "poll on a live subscription");
    got += *more;
    FUZZ_CHECK(got == (expect ? 1u : 0u), "a subscription delivers exactly the matching events (INV-3)");
  }
  Status st = session.stop();
  FUZZ_CHECK(st.ok(), "stop of a healthy session");
}

/// The run "fuzz-run" left run_started, then its event, then one terminal event (docs/runtime.md).
void check_run_events(SessionServer& server) {
  FUZZ_CHECK(server.drain(60s).ok(), "the run ends");
  auto all = server.session().log().read(EventQuery{});
  FUZZ_CHECK(all.ok(), "reading the server's session");
  std::vector<EventType> types;
  for (const Event& e : *all)
    if (e.run_id == "fuzz-run") types.push_back(e.type);
  const bool ok = types.size() >= 2 && types.front() == EventType::run_started &&
                  (types.back() == EventType::run_completed || types.back() == EventType::run_failed ||
                   types.back() == EventType::run_timeout || types.back() == EventType::run_cancelled);
  if (!ok) {
    std::fprintf(stderr, "events of the run:");
    for (EventType t : types) std::fprintf(stderr, " %s", std::string(to_string(t)).c_str());
    std::fprintf(stderr, "\n");
  }
  FUZZ_CHECK(ok, "a run is stored as run_started, its events, one terminal event");
}

void fuzz_options(FuzzInput& in, const fs::path& tmp) {
  // A regular file where case 2 of decode_log_options puts the root.
  { std::ofstream(tmp / "a-file") << "x"; }

  SessionOptions so;
  so.session_id = std::string(in.bytes(16));
  decode_engine(in, so);
  LogStoreOptions lo = decode_log_options(in, tmp);
  const bool use_log = in.flag();
  bool invalid_type = false;
  SubscribeOptions sub = decode_subscribe(in, invalid_type);

  // LogStoreOptions: validate() and LogStore::open agree.
  Status lv = validate(lo);
  if (!lv) check_error(lv.error(), {Errc::validation_error}, "validate(LogStoreOptions)");
  auto log_store = LogStore::open(lo);
  if (!lv) FUZZ_CHECK(!log_store.ok() && log_store.code() == Errc::validation_error, "LogStore::open validates");
  if (!log_store) check_error(log_store.error(), {Errc::validation_error, Errc::storage_error}, "LogStore::open");

  // SessionOptions: validate() and Session::open agree; open only what fits in memory.
  if (use_log && log_store) so.store = *log_store;
  else if (in.flag()) so.store = MemoryStore::create();  // else: no store, validation_error
  Status sv = validate(so);
  if (!sv) check_error(sv.error(), {Errc::validation_error, Errc::invalid_session_id}, "validate(SessionOptions)");
  if (engine_fits(so)) {
    auto session = Session::open(so);
    if (!sv) FUZZ_CHECK(!session.ok() && session.code() == sv.code(), "Session::open validates");
    if (session) exercise_session(*session, std::move(sub), invalid_type, in);
    else check_error(session.error(), {Errc::validation_error, Errc::invalid_session_id}, "Session::open");
  }

  // SessionServerOptions.
  SessionServerOptions svo;
  svo.store = MemoryStore::create();  // never null: the default store would write to the working directory
  switch (in.u8() % 4) {
    case 0: svo.session_id = std::string(in.bytes(16)); break;  // attach: not_found in an empty store
    case 1: svo.new_session = NewSession{std::string(in.bytes(16)), std::string(in.bytes(16)), ""}; break;
    case 2: break;  // neither: validation_error
    default:
      svo.session_id = std::string(in.bytes(16));
      svo.new_session = NewSession{};
      break;  // both
  }
  svo.max_concurrent_runs = pick_u32(in);
  svo.max_queued_runs = pick_u32(in);
  svo.default_run_timeout = pick_duration<std::chrono::nanoseconds>(in);
  svo.result_retention_count = pick_u32(in);
  svo.result_retention_age = pick_duration<std::chrono::nanoseconds>(in);
  svo.lapped_sample_interval = pick_duration<std::chrono::nanoseconds, std::chrono::milliseconds>(in);
  svo.stop_policy = static_cast<StopPolicy>(in.u8() % 3);  // 2: invalid
  svo.stop_drain_timeout = pick_duration<std::chrono::nanoseconds>(in);
  if (in.flag()) {
    decode_engine(in, svo.engine);
  } else {
    svo.engine.ring_capacity = 16;
    svo.engine.max_producers = svo.max_concurrent_runs < 1024 ? svo.max_concurrent_runs + 1 : 2;
  }
  if (in.u8() == 0xA5) svo.engine.session_id = "x";  // must be empty
  if (in.u8() == 0x5A) svo.engine.store = MemoryStore::create();  // must be empty (or the same)
  Status vv = validate(svo);
  if (!vv) check_error(vv.error(), {Errc::validation_error}, "validate(SessionServerOptions)");
  if (engine_fits(svo.engine) && svo.max_concurrent_runs <= 4) {  // one thread per run slot
    auto server = SessionServer::start(svo);
    if (!vv) FUZZ_CHECK(!server.ok() && server.code() == Errc::validation_error, "SessionServer::start validates");
    if (!server) {
      // event_too_large: session_created (with new_session's data) above engine.max_event_bytes.
      check_error(server.error(),
                  {Errc::validation_error, Errc::not_found, Errc::invalid_session_id, Errc::event_too_large},
                  "SessionServer::start");
    } else {
      // One run: its deadline comes from default_run_timeout, its retention from the retention options.
      RunOptions ro;
      ro.run_id = "fuzz-run";
      RunResult r = server->execute_run(
          [](RunContext& ctx) -> RunResult {
            if (Status st = ctx.emit(EventType::message_streamed, "{}"); !st) return st.error();
            return std::string("ok");
          },
          30s, ro);
      if (!r) {
        check_error(r.error(), {Errc::timeout, Errc::cancelled, Errc::max_runs_exceeded, Errc::run_not_found},
                    "execute_run");
        // Documented (docs/runtime.md): a result not retained may be gone before execute_run awaits it.
        FUZZ_CHECK(r.code() != Errc::run_not_found || svo.result_retention_count == 0 ||
                       svo.result_retention_age < std::chrono::seconds(1),
                   "execute_run lost a retained result");
      }
      if (r.code() != Errc::max_runs_exceeded) check_run_events(*server);
      SubscribeOptions live;  // after session_created, session_started and the run's events
      live.from_sequence = server->session().latest_sequence() + 1;
      exercise_session(server->session(), std::move(live), false, in);
      Status st = server->stop();
      FUZZ_CHECK(st.ok(), "stop of a healthy server");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const sessionring::fuzz::TempRoot tmp("sessionring-fuzz-options");
  FuzzInput in(data, size);
  fuzz_event_type(in.bytes(40));
  fuzz_durability(in.bytes(12));
  fuzz_session_id(in.bytes(160));
  tmp.clear();
  fuzz_options(in, tmp.path());
  return 0;
}
