// JetStreamStore beyond the conformance suite, on real nats-server processes
// (tests/nats_server.hpp): single writer across hosts, fencing of a zombie writer, failover
// after SIGKILL of the writer and of the stream leader in a 3-node cluster, idempotent append
// across retries, bounded waits when the server is gone, restart after the server is killed,
// session ids that are not subject tokens, durable cursors whose ids and names are not KV key
// tokens, and errors that name the server and the session.
#include "jetstream_test_support.hpp"
#include "nats_server.hpp"

#include <sessionring/jet_stream_store.hpp>

#include <nats/nats.h>

#include <fcntl.h>
#include <poll.h>

#include <set>
#include <sstream>
#include <thread>

namespace sessionring::test {
namespace {

using namespace std::chrono_literals;

JetStreamStoreOptions options_for(const std::string& url, std::uint32_t replicas = 1) {
  JetStreamStoreOptions o;
  o.url = url;
  o.stream = "SRTEST";
  o.stream_count = 3;
  o.replicas = replicas;
  return o;
}

/// The writer of tests/jetstream_writer_helper.cpp in a child process, driven through pipes.
class WriterProcess {
 public:
  WriterProcess(const JetStreamStoreOptions& o, const std::string& session, const std::string& tag) {
    int in[2], out[2];
    EXPECT_EQ(::pipe(in), 0);
    EXPECT_EQ(::pipe(out), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addclose(&fa, in[1]);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    std::vector<std::string> args{SESSIONRING_JS_HELPER, o.url, o.stream, std::to_string(o.stream_count),
                                  std::to_string(o.replicas), session, tag};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    EXPECT_EQ(::posix_spawn(&pid_, SESSIONRING_JS_HELPER, &fa, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    ::close(in[0]);
    ::close(out[1]);
    to_ = in[1];
    from_ = out[0];
  }
  ~WriterProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(to_);
    ::close(from_);
  }
  void send(const std::string& line) {
    const std::string l = line + "\n";
    ASSERT_EQ(::write(to_, l.data(), l.size()), static_cast<ssize_t>(l.size()));
  }
  /// The next line of output, or "" after `timeout`.
  std::string line(std::chrono::milliseconds timeout = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const std::size_t nl = buf_.find('\n');
      if (nl != std::string::npos) {
        std::string l = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return l;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return "";
      pollfd p{from_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char tmp[4096];
      const ssize_t n = ::read(from_, tmp, sizeof tmp);
      if (n <= 0) return "";
      buf_.append(tmp, static_cast<std::size_t>(n));
    }
  }
  void signal(int sig) { ::kill(pid_, sig); }
  void kill9() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int to_ = -1, from_ = -1;
  std::string buf_;
};

/// Every event 1..n once, in order; returns the provider tag of each sequence.
std::vector<std::string> read_all_contiguous(const SessionLog& log, Sequence n) {
  std::vector<std::string> tags;
  std::set<std::string> ids;
  Sequence expect = 1;
  Status st = log.read(EventQuery{}, [&](const EventView& v) {
    EXPECT_EQ(v.sequence_number, expect) << "gap or duplicate";
    EXPECT_TRUE(ids.insert(std::string(v.id)).second) << "duplicate event id " << v.id;
    tags.emplace_back(v.provider);
    ++expect;
    return true;
  });
  EXPECT_TRUE(st) << st.error();
  EXPECT_EQ(expect - 1, n);
  return tags;
}

TEST(JetStreamStore, secondWriterOnAnotherHostGetsWriterConflictWhileTheFirstIsAlive) {
  NatsServer server;
  ASSERT_TRUE(server.running());
  auto a = open_jetstream_store(options_for(server.url()));
  auto b = open_jetstream_store(options_for(server.url()));  // another connection: another host
  ASSERT_TRUE(a && b);
  auto wa = a->open("s1", OpenMode::write);
  ASSERT_TRUE(wa) << wa.error();
  append_range(**wa, 1, 5);
  auto wb = b->open("s1", OpenMode::write);
  ASSERT_EQ(wb.code(), Errc::writer_conflict);
  EXPECT_NE(wb.error().message().find("s1"), std::string::npos) << wb.error();
  EXPECT_NE(wb.error().message().find(server.url()), std::string::npos) << wb.error();
  // A read handle on B sees A's events; A keeps writing.
  auto rb = b->open("s1", OpenMode::read);
  ASSERT_TRUE(rb) << rb.error();
  append_range(**wa, 6, 5);
  EXPECT_EQ((*rb)->latest_sequence(), 10u);
  expect_events_1_to_n(**rb, 10);
  // Once A closes, B may write, continuing the sequence (INV-1).
  wa->reset();
  wb = b->open("s1", OpenMode::write);
  ASSERT_TRUE(wb) << wb.error();
  EXPECT_EQ((*wb)->written_sequence(), 10u);
  append_range(**wb, 11, 3);
  expect_events_1_to_n(**rb, 13);
}

TEST(JetStreamStore, zombieWriterIsFencedAfterAnotherHostTakesOverAndStoresNothing) {
  NatsServer server;
  ASSERT_TRUE(server.running());
  const auto o = options_for(server.url());
  WriterProcess a(o, "s1", "A");
  ASSERT_EQ(a.line(), "open 0");
  a.send("append 5");
  ASSERT_EQ(a.line(), "ok 5");
  a.signal(SIGSTOP);  // A hangs: its connection stays up but it answers nothing
  auto b = open_jetstream_store(o);
  ASSERT_TRUE(b);
  auto wb = b->open("s1", OpenMode::write);  // A does not answer the presence request: B claims
  ASSERT_TRUE(wb) << wb.error();
  EXPECT_EQ((*wb)->written_sequence(), 5u);
  append_range(**wb, 6, 5);
  a.signal(SIGCONT);  // the zombie comes back and appends
  a.send("append 3");
  const std::string answer = a.line();
  EXPECT_EQ(answer.rfind("err writer_conflict", 0), 0u) << answer;
  EXPECT_NE(answer.find("fenced"), std::string::npos) << answer;
  a.send("append 1");  // and stays fenced
  EXPECT_EQ(a.line().rfind("err writer_conflict", 0), 0u);
  append_range(**wb, 11, 2);
  const auto tags = read_all_contiguous(**wb, 12);
  ASSERT_EQ(tags.size(), 12u);
  for (std::size_t i = 0; i < 12; ++i) EXPECT_EQ(tags[i], i < 5 ? "A" : "prov") << "sequence " << i + 1;
}

TEST(JetStreamStore, writerKilledMidStreamIsContinuedWithoutGapOrDuplicate) {
  NatsServer server;
  ASSERT_TRUE(server.running());
  const auto o = options_for(server.url());
  WriterProcess a(o, "s1", "A");
  ASSERT_EQ(a.line(), "open 0");
  a.send("loop");
  Sequence acked = 0;
  for (int i = 0; i < 200; ++i) {
    const std::string l = a.line();
    ASSERT_EQ(l.rfind("acked ", 0), 0u) << l;
    acked = std::stoull(l.substr(6));  // "acked <seq> <ns>"
  }
  a.kill9();  // mid-stream: a publish may be in flight
  auto b = open_jetstream_store(o);
  ASSERT_TRUE(b);
  auto wb = b->open("s1", OpenMode::write);
  ASSERT_TRUE(wb) << wb.error();
  const Sequence held = (*wb)->written_sequence();
  EXPECT_GE(held, acked) << "an acknowledged event was lost";
  append_range(**wb, held + 1, 10);
  const auto tags = read_all_contiguous(**wb, held + 10);
  ASSERT_EQ(tags.size(), held + 10);
  for (Sequence s = 1; s <= held + 10; ++s) EXPECT_EQ(tags[s - 1], s <= held ? "A" : "prov") << "sequence " << s;
}

TEST(JetStreamStore, appendRetriedThroughAStalledServerIsStoredOnce) {
  NatsServer server;
  ASSERT_TRUE(server.running());
  auto o = options_for(server.url());
  o.request_timeout = 100ms;  // many retries while the server is stopped, each the same Msg-Id
  o.append_timeout = 10s;
  auto store = open_jetstream_store(o);
  ASSERT_TRUE(store);
  auto w = store->open("s1", OpenMode::write);
  ASSERT_TRUE(w) << w.error();
  append_range(**w, 1, 5);
  server.pause();
  std::thread resume([&] {
    std::this_thread::sleep_for(800ms);
    server.resume();
  });
  auto b = make_batch(6, 4);
  const Status st = (*w)->append(b.batch());
  resume.join();
  ASSERT_TRUE(st) << st.error();
  append_range(**w, 10, 3);
  expect_events_1_to_n(**w, 12);  // every retry after the first was a duplicate: stored once
}

TEST(JetStreamStore, appendToAStoppedServerAnswersTimeoutNamingServerAndSessionWithinAppendTimeout) {
  NatsServer server;
  ASSERT_TRUE(server.running());
  auto o = options_for(server.url());
  o.request_timeout = 200ms;
  o.append_timeout = 1s;
  auto store = open_jetstream_store(o);
  ASSERT_TRUE(store);
  auto w = store->open("s-late", OpenMode::write);
  ASSERT_TRUE(w) << w.error();
  append_range(**w, 1, 3);
  server.pause();
  auto b = make_batch(4, 2);
  const auto t0 = std::chrono::steady_clock::now();
  const Status st = (*w)->append(b.batch());
  const auto took = std::chrono::steady_clock::now() - t0;
  server.resume();
  ASSERT_EQ(st.code(), Errc::timeout) << (st ? "ok" : st.error().describe());
  EXPECT_LT(took, 3s) << "a producer must not hang past the deadline";
  EXPECT_NE(st.error().message().find("s-late"), std::string::npos) << st.error();
  EXPECT_NE(st.error().message().find(server.url()), std::string::npos) << st.error();
  // In doubt: the handle refuses further appends; a reopen continues after whatever is stored.
  auto again = make_batch(4, 2);
  EXPECT_EQ((*w)->append(again.batch()).code(), Errc::timeout);
  w->reset();
  auto w2 = store->open("s-late", OpenMode::write);
  ASSERT_TRUE(w2) << w2.error();
  const Sequence held = (*w2)->written_sequence();
  EXPECT_TRUE(held == 3 || held == 5) << held << ": the in-doubt batch is stored whole or not at all";
  append_range(**w2, held + 1, 2);
  const auto tags = read_all_contiguous(**w2, held + 2);
  EXPECT_EQ(tags.size(), held + 2);
}

TEST(JetStreamStore, acknowledgedEventsSurviveSigkillOfTheServer) {
  NatsServer server;
  ASSERT_TRUE(server.running());
  const auto o = options_for(server.url());
  {
    auto store = open_jetstream_store(o);
    ASSERT_TRUE(store);
    auto w = store->open("s1", OpenMode::write);
    ASSERT_TRUE(w) << w.error();
    append_range(**w, 1, 100, 9);
  }
  server.kill();  // the process dies; its page cache (and so the acknowledged R1 writes) remains
  server.start();
  auto store = open_jetstream_store(o);
  ASSERT_TRUE(store);
  auto w = store->open("s1", OpenMode::write);
  ASSERT_TRUE(w) << w.error();
  EXPECT_EQ((*w)->written_sequence(), 100u);
  append_range(**w, 101, 5);
  expect_events_1_to_n(**w, 105);
}

TEST(JetStreamStore, sessionIdsThatAreNotSubjectTokensRoundTrip) {
  NatsServer server;
  ASSERT_TRUE(server.running());
  auto store = open_jetstream_store(options_for(server.url()));
  ASSERT_TRUE(store);
  // validate_session_id allows A-Z a-z 0-9 . _ : -; '.' separates subject tokens, ':' is escaped too.
  const std::vector<std::string> ids{"a.b", "a", "b", "x:y:z", "v1.2_3-4", "UPPER_lower-09", "a.b.c"};
  for (const auto& id : ids) {
    auto w = store->open(id, OpenMode::write);
    ASSERT_TRUE(w) << id << ": " << w.error();
    append_range(**w, 1, 2);
  }
  // "a.b" is one token: it never reads the events of "a" or "b" (or "a.b.c").
  auto r = store->open("a.b", OpenMode::read);
  ASSERT_TRUE(r) << r.error();
  expect_events_1_to_n(**r, 2);
  auto listed = store->list_sessions();
  ASSERT_TRUE(listed) << listed.error();
  auto sorted = ids;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(*listed, sorted);
}

/// The cursor bucket of options_for() as another program sees it (libnats' KV API, its own
/// connection): docs/store.md "JetStreamStore: durable named cursors".
class CursorBucket {
 public:
  explicit CursorBucket(const std::string& url) {
    EXPECT_EQ(natsConnection_ConnectTo(&nc_, url.c_str()), NATS_OK);
    if (nc_ != nullptr) {
      EXPECT_EQ(natsConnection_JetStream(&js_, nc_, nullptr), NATS_OK);
    }
    if (js_ != nullptr) {
      EXPECT_EQ(js_KeyValue(&kv_, js_, "SRTEST_CURSORS"), NATS_OK);
    }
  }
  ~CursorBucket() {
    if (kv_ != nullptr) kvStore_Destroy(kv_);
    if (js_ != nullptr) jsCtx_Destroy(js_);
    if (nc_ != nullptr) natsConnection_Destroy(nc_);
  }
  CursorBucket(const CursorBucket&) = delete;
  CursorBucket& operator=(const CursorBucket&) = delete;
  /// The value under `key`, or "" when it has none.
  std::string get(const std::string& key) const {
    kvEntry* e = nullptr;
    if (kv_ == nullptr || kvStore_Get(&e, kv_, key.c_str()) != NATS_OK) return "";
    std::string v(kvEntry_ValueString(e));
    kvEntry_Destroy(e);
    return v;
  }
  void put(const std::string& key, const std::string& value) {
    ASSERT_NE(kv_, nullptr);
    ASSERT_EQ(kvStore_PutString(nullptr, kv_, key.c_str(), value.c_str()), NATS_OK);
  }

 private:
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
  kvStore* kv_ = nullptr;
};

TEST(JetStreamStore, cursorKeysOfIdsAndNamesThatAreNotKvTokensRoundTripAndNeverMix) {
  NatsServer server;
  ASSERT_TRUE(server.running());
  auto store = open_jetstream_store(options_for(server.url()));
  ASSERT_TRUE(store);
  // '.' and ':' are legal in ids and names but not in KV key tokens: "a.b" must not be session
  // "a" with a cursor "b.…", nor see the cursors of "a".
  const std::vector<std::string> ids{"a", "a.b", "x:y"};
  const std::vector<std::string> names{"n", "n.1", "c:d", "Z_z-9"};
  std::vector<std::shared_ptr<SessionLog>> writers;
  for (const auto& id : ids) {
    auto w = store->open(id, OpenMode::write);
    ASSERT_TRUE(w) << id << ": " << w.error();
    append_range(**w, 1, 20);
    for (std::size_t i = 0; i < names.size(); ++i)
      ASSERT_TRUE((*w)->commit_cursor(names[i], id.size() + i)) << id << " " << names[i];
    writers.push_back(*w);
  }
  auto sorted = names;
  std::sort(sorted.begin(), sorted.end());
  for (const auto& id : ids) {
    auto r = store->open(id, OpenMode::read);
    ASSERT_TRUE(r) << r.error();
    auto listed = (*r)->list_cursors();
    ASSERT_TRUE(listed) << listed.error();
    ASSERT_EQ(listed->size(), names.size()) << id;
    for (std::size_t i = 0; i < sorted.size(); ++i) {
      EXPECT_EQ((*listed)[i].name, sorted[i]) << id;
      const auto at = std::find(names.begin(), names.end(), sorted[i]) - names.begin();
      EXPECT_EQ((*listed)[i].position, id.size() + static_cast<std::size_t>(at)) << id << " " << sorted[i];
    }
  }
  // The documented mapping: =XX for every byte outside [A-Za-z0-9_-], '.' between the two.
  CursorBucket bucket(server.url());
  EXPECT_EQ(bucket.get("a=2Eb.n=2E1"), "4");
  EXPECT_EQ(bucket.get("x=3Ay.c=3Ad"), "5");
  EXPECT_EQ(bucket.get("a.Z_z-9"), "4");
}

TEST(JetStreamStore, cursorValueThatIsNotADecimalPositionIsDamagedStoreNamingTheKey) {
  NatsServer server;
  ASSERT_TRUE(server.running());
  auto store = open_jetstream_store(options_for(server.url()));
  ASSERT_TRUE(store);
  auto w = store->open("s1", OpenMode::write);
  ASSERT_TRUE(w) << w.error();
  append_range(**w, 1, 5);
  ASSERT_TRUE((*w)->commit_cursor("good", 5));
  CursorBucket bucket(server.url());
  bucket.put("s1.bad", "12abc");
  auto r = (*w)->read_cursor("bad");
  ASSERT_EQ(r.code(), Errc::damaged_store);
  EXPECT_NE(r.error().message().find("s1.bad"), std::string::npos) << r.error();
  EXPECT_NE(r.error().message().find("SRTEST_CURSORS"), std::string::npos) << r.error();
  EXPECT_EQ((*w)->list_cursors().code(), Errc::damaged_store);
  EXPECT_EQ((*w)->read_cursor("good").value(), 5u) << "one bad key spoils the others";
}

TEST(JetStreamStore, manySessionsShareAFewStreams) {
  NatsServer server;
  ASSERT_TRUE(server.running());
  auto store = open_jetstream_store(options_for(server.url()));
  ASSERT_TRUE(store);
  constexpr int kSessions = SESSIONRING_TEST_FULL ? 20000 : 1000;
  std::vector<std::string> ids;
  for (int i = 0; i < kSessions; ++i) {
    ids.push_back("sess-" + std::to_string(100000 + i));
    auto w = store->open(ids.back(), OpenMode::write);
    ASSERT_TRUE(w) << w.error();
    append_range(**w, 1, 1);
  }
  auto listed = store->list_sessions();
  ASSERT_TRUE(listed) << listed.error();
  EXPECT_EQ(*listed, ids);
  auto info = store->info(ids[kSessions / 2]);
  ASSERT_TRUE(info) << info.error();
  EXPECT_EQ(info->latest_sequence, 1u);
  EXPECT_EQ(info->segment_count, 2u);  // the writer's claim and one batch
  auto report = store->verify(ids[0]);
  ASSERT_TRUE(report) << report.error();
  EXPECT_TRUE(report->ok()) << report->problem;
  EXPECT_EQ(report->intact.latest_sequence, 1u);
}

TEST(JetStreamStore, badOptionsAreValidationErrorNamingTheOptionAndNoServerIsAnErrorNamingIt) {
  JetStreamStoreOptions o;
  o.stream = "has.dot";
  auto s = JetStreamStore::open(o);
  ASSERT_EQ(s.code(), Errc::validation_error);
  EXPECT_NE(s.error().message().find("stream"), std::string::npos);
  o = JetStreamStoreOptions{};
  o.stream_count = 0;
  EXPECT_EQ(JetStreamStore::open(o).code(), Errc::validation_error);
  o = JetStreamStoreOptions{};
  o.url = "nats://127.0.0.1:" + std::to_string(free_loopback_port());
  o.connect_timeout = 300ms;
  s = JetStreamStore::open(o);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find(o.url), std::string::npos) << s.error();
}

TEST(JetStreamStore, reopeningWithAnotherStreamCountIsValidationError) {
  NatsServer server;
  ASSERT_TRUE(server.running());
  auto o = options_for(server.url());
  ASSERT_TRUE(open_jetstream_store(o));
  o.stream_count = 2;
  auto s = JetStreamStore::open(o);
  ASSERT_EQ(s.code(), Errc::validation_error) << (s ? "opened" : s.error().describe());
  EXPECT_NE(s.error().message().find("stream_count"), std::string::npos) << s.error();
}

// Issue 16 item 2 at the store level (what `sessionring tail --follow` does): a read handle on
// host B follows a session host A writes, from a cursor: history, then live, through a restart
// of the server (B's reads fail meanwhile and B retries from its cursor), with no gap and no
// duplicate; its lag is the leader's latest sequence minus its cursor.
TEST(JetStreamStore, readerOnAnotherHostFollowsHistoryThenLiveAcrossAServerRestartWithoutGapOrDuplicate) {
  NatsServer server;
  ASSERT_TRUE(server.running());
  auto o = options_for(server.url());
  o.request_timeout = 300ms;
  auto a = open_jetstream_store(o);
  auto b = open_jetstream_store(o);
  ASSERT_TRUE(a && b);
  auto w = a->open("s1", OpenMode::write);
  ASSERT_TRUE(w) << w.error();
  append_range(**w, 1, 40);  // history
  auto r = b->open("s1", OpenMode::read);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ((*r)->latest_sequence() - 10, 30u) << "lag of a reader at cursor 10";
  Sequence cursor = 10;  // resume from a cursor
  std::vector<Sequence> seen;
  std::atomic<bool> writer_done{false};  // writer: the test thread at the end; reader: the loop; no data
  std::size_t read_errors = 0;
  std::thread follower([&] {
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto l = (*r)->wait_for(cursor, std::chrono::steady_clock::now() + 100ms);
      if (!l) {  // the server is away: retry from the same cursor
        ++read_errors;
        std::this_thread::sleep_for(20ms);
        continue;
      }
      EventQuery q;
      q.after = cursor;
      Status st = (*r)->read(q, [&](const EventView& v) {
        seen.push_back(v.sequence_number);
        cursor = v.sequence_number;
        return true;
      });
      if (!st) ++read_errors;
      if (writer_done.load(std::memory_order_relaxed) && cursor >= 100) break;  // relaxed: "stop soon" only
    }
  });
  append_range(**w, 41, 30, 3);  // live
  std::this_thread::sleep_for(100ms);
  server.stop();  // B (and A) lose the server
  std::this_thread::sleep_for(300ms);
  server.start();
  // A's handle is in doubt only if an append was attempted meanwhile; none was: it goes on once
  // the client has reconnected (append retries through the reconnect).
  append_range(**w, 71, 30, 3);
  writer_done.store(true, std::memory_order_relaxed);
  follower.join();
  ASSERT_EQ(seen.size(), 90u) << "read errors while the server was away: " << read_errors;
  for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], 11 + i) << "gap or duplicate";
  EXPECT_EQ((*r)->latest_sequence(), 100u);
}

/// The name of the server leading `stream` (libnats stream info), or "" when unknown.
std::string stream_leader(const std::string& url, const std::string& stream) {
  natsConnection* nc = nullptr;
  if (natsConnection_ConnectTo(&nc, url.c_str()) != NATS_OK) return "";
  jsCtx* js = nullptr;
  std::string leader;
  if (natsConnection_JetStream(&js, nc, nullptr) == NATS_OK) {
    jsStreamInfo* si = nullptr;
    if (js_GetStreamInfo(&si, js, stream.c_str(), nullptr, nullptr) == NATS_OK) {
      if (si->Cluster != nullptr && si->Cluster->Leader != nullptr) leader = si->Cluster->Leader;
      jsStreamInfo_Destroy(si);
    }
    jsCtx_Destroy(js);
  }
  natsConnection_Close(nc);
  natsConnection_Destroy(nc);
  return leader;
}

// Issue 16 item 3 in a 3-node R3 cluster: the stream leader is SIGKILLed while A appends (A
// retries the same message through the election and goes on), then A is SIGKILLed mid-stream
// and B attaches: every sequence A had acknowledged is there, B continues, no gap, no duplicate.
TEST(JetStreamCluster, streamLeaderKilledMidStreamThenWriterKilledAndAnotherHostContinuesWithoutGapOrDuplicate) {
  NatsCluster cluster;
  ASSERT_TRUE(cluster.running());
  auto o = options_for(cluster.urls(), 3);
  o.stream_count = 1;
  ASSERT_TRUE(open_jetstream_store(o, 40s)) << "the cluster never elected a JetStream meta leader";
  WriterProcess a(o, "s1", "A");
  ASSERT_EQ(a.line(40s), "open 0");
  a.send("loop");
  Sequence acked = 0;
  std::int64_t acked_at = 0, largest_gap = 0;  // steady clock ns of the last acknowledgement
  auto read_ack = [&](std::chrono::milliseconds patience) {
    const std::string l = a.line(patience);
    std::istringstream in(l);
    std::string word;
    Sequence s = 0;
    std::int64_t at = 0;
    in >> word >> s >> at;
    ASSERT_EQ(word, "acked") << "after " << acked << ": '" << l << "'";
    ASSERT_EQ(s, acked + 1) << "the writer's acknowledgements skip or repeat";
    if (acked_at != 0) largest_gap = std::max(largest_gap, at - acked_at);
    acked = s;
    acked_at = at;
  };
  for (int i = 0; i < 50; ++i) ASSERT_NO_FATAL_FAILURE(read_ack(20s));
  const std::string leader = stream_leader(cluster.urls(), "SRTEST_0");
  ASSERT_FALSE(leader.empty());
  std::size_t killed = cluster.size();
  for (std::size_t i = 0; i < cluster.size(); ++i)
    if (leader == "sr-n" + std::to_string(i)) killed = i;
  ASSERT_LT(killed, cluster.size()) << leader;
  const std::int64_t killed_at = std::chrono::steady_clock::now().time_since_epoch().count();
  cluster.node(killed).kill();
  // A goes on through the election: 30 acknowledgements of publishes made after the kill.
  largest_gap = 0;
  std::int64_t first_after = 0;
  for (int after = 0; after < 30;) {
    ASSERT_NO_FATAL_FAILURE(read_ack(90s));  // the writer's append_timeout is 60 s
    if (acked_at > killed_at) {
      if (first_after == 0) first_after = acked_at;
      ++after;
    }
  }
  std::cout << "[ failover ] leader " << leader << " SIGKILLed; first acknowledgement after it "
            << (first_after - killed_at) / 1'000'000 << " ms later; largest gap between acknowledgements "
            << largest_gap / 1'000'000 << " ms\n";
  a.kill9();
  // A went on appending while the lines above were read: its acknowledgements still in the pipe
  // count too (the bound below is on what A had acknowledged when it died).
  for (std::string l = a.line(2s); !l.empty(); l = a.line(2s)) {
    std::istringstream in(l);
    std::string word;
    Sequence s = 0;
    in >> word >> s;
    if (word != "acked") continue;
    ASSERT_EQ(s, acked + 1) << "the writer's acknowledgements skip or repeat";
    acked = s;
  }
  auto b = open_jetstream_store(o, 30s);
  ASSERT_TRUE(b);
  Result<std::shared_ptr<SessionLog>> wb = Error(Errc::timeout, "not tried");
  for (int i = 0; i < 100 && !wb; ++i) {
    wb = b->open("s1", OpenMode::write);
    if (!wb) std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(wb) << wb.error();
  const Sequence held = (*wb)->written_sequence();
  EXPECT_GE(held, acked) << "an acknowledged event was lost in the failover";
  EXPECT_LE(held, acked + 1) << "at most the one publish in flight at the kill";
  append_range(**wb, held + 1, 10);
  const auto tags = read_all_contiguous(**wb, held + 10);
  ASSERT_EQ(tags.size(), held + 10);
  for (Sequence s = 1; s <= held + 10; ++s) EXPECT_EQ(tags[s - 1], s <= held ? "A" : "prov") << "sequence " << s;
}

}  // namespace
}  // namespace sessionring::test
