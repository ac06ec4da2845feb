// A writer on another "host" for the JetStream tests: its own process and NATS connection, so a
// test can SIGSTOP it (a zombie), SIGKILL it (failover), and let it come back.
//   jetstream_writer_helper URL STREAM STREAM_COUNT REPLICAS SESSION TAG
// Opens SESSION for writing (retrying while the server or cluster is starting) and prints
// "open <latest>", then reads commands on stdin:
//   append N   one batch of N events        → "ok <written>" or "err <errc> <message>"
//   loop       one event per batch for ever → "acked <seq> <steady clock ns>" per batch; stops at
//              the first error
// Event data carries TAG, so the test can tell which writer stored a sequence.
#include "log_test_util.hpp"

#include <sessionring/jet_stream_store.hpp>

#include <iostream>
#include <thread>

using namespace sessionring;

namespace {
test::TestBatch batch_of(Sequence first, std::size_t n, const std::string& tag) {
  std::vector<Event> events;
  for (std::size_t i = 0; i < n; ++i) {
    Event e = test::test_event(first + i);
    e.provider = tag;
    e.id = tag + "-" + std::to_string(first + i);
    events.push_back(std::move(e));
  }
  return test::TestBatch(std::move(events));
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::cerr << "usage: jetstream_writer_helper URL STREAM STREAM_COUNT REPLICAS SESSION TAG\n";
    return 2;
  }
  JetStreamStoreOptions o;
  o.url = argv[1];
  o.stream = argv[2];
  o.stream_count = static_cast<std::uint32_t>(std::stoul(argv[3]));
  o.replicas = static_cast<std::uint32_t>(std::stoul(argv[4]));
  // Long enough for an R3 leader election while sanitizer builds run tests in parallel on 2
  // cores (CI saw one take over 15 s): the failover test asserts no gap and no duplicate, not speed.
  o.append_timeout = std::chrono::seconds(60);
  const std::string session = argv[5], tag = argv[6];
  std::shared_ptr<SessionLog> log;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    Error last(Errc::timeout, "not tried");
    auto store = JetStreamStore::open(o);
    if (store) {
      auto l = (*store)->open(session, OpenMode::write);
      if (l) {
        log = *l;
        break;
      }
      last = l.error();
    } else {
      last = store.error();
    }
    if (std::chrono::steady_clock::now() > deadline) {
      std::cout << "err " << to_string(last.code()) << " " << last.message() << std::endl;
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::cout << "open " << log->written_sequence() << std::endl;
  std::string cmd;
  while (std::cin >> cmd) {
    if (cmd == "append") {
      std::size_t n = 0;
      std::cin >> n;
      auto b = batch_of(log->written_sequence() + 1, n, tag);
      Status st = log->append(b.batch());
      if (st) std::cout << "ok " << log->written_sequence() << std::endl;
      else std::cout << "err " << to_string(st.code()) << " " << st.error().message() << std::endl;
    } else if (cmd == "loop") {
      for (;;) {
        auto b = batch_of(log->written_sequence() + 1, 1, tag);
        Status st = log->append(b.batch());
        if (!st) {
          std::cout << "err " << to_string(st.code()) << " " << st.error().message() << std::endl;
          break;
        }
        // The steady clock (CLOCK_MONOTONIC) is the same in every process: the test compares it.
        std::cout << "acked " << log->written_sequence() << " "
                  << std::chrono::steady_clock::now().time_since_epoch().count() << std::endl;
      }
    } else if (cmd == "quit") {
      break;
    }
  }
  return 0;
}
