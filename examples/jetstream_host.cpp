// A host on JetStreamStore, built against the *installed* package's jetstream component
// (find_package(sessionring COMPONENTS jetstream) -> sessionring::jetstream). Usage:
//   jetstream_host nats://127.0.0.1:4222
// It opens a session on the NATS JetStream server at that URL, appends 200 events, reads them
// back through a subscription from sequence 1, and exits 0 only if it received every event once,
// in order. tests/install_example_test.sh runs it against a nats-server it starts on loopback.
#include <sessionring/jet_stream_store.hpp>
#include <sessionring/sessionring.hpp>

#include <chrono>
#include <cstdio>
#include <string>

using namespace sessionring;

namespace {
int fail(const char* what, const Error& e) {
  std::fprintf(stderr, "jetstream_host: %s: %s\n", what, e.describe().c_str());
  return 1;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: jetstream_host NATS_URL\n");
    return 2;
  }
  JetStreamStoreOptions jo;
  jo.url = argv[1];
  auto store = JetStreamStore::open(jo);
  if (!store) return fail("JetStreamStore::open", store.error());
  SessionOptions so;
  so.store = *store;
  so.session_id = "example-js";
  auto session = Session::open(so);
  if (!session) return fail("Session::open", session.error());
  constexpr int kEvents = 200;
  const Sequence base = session->latest_sequence();  // a rerun against the same server continues
  for (int i = 0; i < kEvents; ++i) {
    std::string data = "event ";
    data.append(std::to_string(i));
    EventInput e;
    e.type = EventType::message_streamed;
    e.run_id = "run-1";
    e.data = data;
    auto r = session->append_wait(e);
    if (!r) return fail("append_wait", r.error());
  }
  SubscribeOptions sub_options;
  sub_options.from_sequence = base + 1;
  auto sub = session->subscribe(sub_options);
  if (!sub) return fail("subscribe", sub.error());
  Sequence expect = base + 1;
  int bad = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (expect <= base + kEvents && std::chrono::steady_clock::now() < deadline) {
    auto n = sub->poll_wait(
        [&](const EventView& v) {
          std::string want = "event ";
          want.append(std::to_string(expect - base - 1));
          if (v.sequence_number != expect || v.data != want) ++bad;
          expect = v.sequence_number + 1;
        },
        std::chrono::steady_clock::now() + std::chrono::seconds(1));
    if (!n) return fail("poll", n.error());
  }
  if (Status st = session->stop(); !st) return fail("stop", st.error());
  if (bad != 0 || expect != base + kEvents + 1) {
    std::fprintf(stderr, "jetstream_host: received up to %llu with %d out of order\n",
                 static_cast<unsigned long long>(expect - 1), bad);
    return 1;
  }
  std::printf("jetstream_host: %d events through JetStream, sequences %llu..%llu, in order\n", kEvents,
              static_cast<unsigned long long>(base + 1), static_cast<unsigned long long>(base + kEvents));
  return 0;
}
