// Bad input of the append calls (engine/producer.cpp: Producer::append / append_wait, and
// Session::append / append_wait, which go through the session's shared producer),
// docs/errors.md "Bad-input table". Each test stores known events first, makes the bad call
// through all four calls, checks the exact Errc and that the message names the offending field
// or value, then that the refused event was never stored, that nothing stored was lost or
// altered, and that the session still appends. Runs on a MemoryStore and on a LogStore.
#include "oracle.hpp"
#include "store_snapshot.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

using namespace sessionring;
using namespace sessionring::test;
using namespace std::chrono_literals;

namespace {

constexpr int kSeeded = 3;

class ProducerBadInput : public ::testing::TestWithParam<StoreKind> {
 protected:
  ProducerBadInput() : st_(GetParam()) {}

  SessionOptions opts(std::string id = "s1") { return options(st_.store(), std::move(id)); }

  /// A new session on s1 continues the sequence after `before` and appends.
  void expect_reopens(const StoreSnapshot& before) {
    auto s = Session::open(opts());
    ASSERT_TRUE(s.ok()) << s.error();
    expect_still_appends(*s, before);
  }

  StoreUnderTest st_;
};

EventInput with_type(EventType t) {
  EventInput e;
  e.type = t;
  e.id = "refused";
  e.data = "x";
  return e;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Producer::append / append_wait, Session::append / append_wait

namespace {

/// The four append calls, each given the same event.
struct AppendCall {
  const char* name;
  std::function<Errc(Session&, Producer&, const EventInput&, std::string*)> call;
};

std::vector<AppendCall> append_calls(AppendOptions ao = {}) {
  auto msg = [](const Error& e, std::string* out) {
    if (out) *out = e.message();
    return e.code();
  };
  return {
      {"Producer::append",
       [=](Session&, Producer& p, const EventInput& e, std::string* m) {
         Status st = p.append(e, ao);
         return st ? Errc::ok : msg(st.error(), m);
       }},
      {"Producer::append_wait",
       [=](Session&, Producer& p, const EventInput& e, std::string* m) {
         auto r = p.append_wait(e, ao);
         return r ? Errc::ok : msg(r.error(), m);
       }},
      {"Session::append",
       [=](Session& s, Producer&, const EventInput& e, std::string* m) {
         Status st = s.append(e, ao);
         return st ? Errc::ok : msg(st.error(), m);
       }},
      {"Session::append_wait",
       [=](Session& s, Producer&, const EventInput& e, std::string* m) {
         auto r = s.append_wait(e, ao);
         return r ? Errc::ok : msg(r.error(), m);
       }},
  };
}

}  // namespace

TEST_P(ProducerBadInput, typeOutsideTheEnumerationIsValidationErrorInEveryAppendCallAndNothingIsStored) {
  auto s = Session::open(opts());
  ASSERT_TRUE(s.ok());
  seed(*s, kSeeded);
  auto p = s->producer().value();
  const StoreSnapshot before = take_snapshot(s->log());
  for (unsigned raw : {28u, 29u, 31u, 32u, 200u, 255u}) {
    for (const AppendCall& c : append_calls()) {
      SCOPED_TRACE(std::string(c.name) + " type value " + std::to_string(raw));
      std::string m;
      EXPECT_EQ(c.call(*s, p, with_type(static_cast<EventType>(raw)), &m), Errc::validation_error);
      EXPECT_NE(m.find("event type value " + std::to_string(raw)), std::string::npos) << m;
    }
  }
  expect_still_appends(*s, before);
}

TEST_P(ProducerBadInput, shortFieldAbove65535BytesIsValidationErrorNamingTheFieldInEveryAppendCall) {
  auto s = Session::open(opts());
  ASSERT_TRUE(s.ok());
  seed(*s, kSeeded);
  auto p = s->producer().value();
  const StoreSnapshot before = take_snapshot(s->log());
  const std::string too_long(EventRecord::kMaxShortField + 1, 'x');
  const std::string longest(EventRecord::kMaxShortField, 'y');
  const std::pair<const char*, BorrowedBytes EventInput::*> fields[] = {
      {"id", &EventInput::id},
      {"run_id", &EventInput::run_id},
      {"correlation_id", &EventInput::correlation_id},
      {"provider", &EventInput::provider}};
  for (const auto& [field, member] : fields) {
    EventInput e = with_type(EventType::message_sent);
    e.*member = too_long;
    for (const AppendCall& c : append_calls()) {
      SCOPED_TRACE(std::string(c.name) + " " + field);
      std::string m;
      EXPECT_EQ(c.call(*s, p, e, &m), Errc::validation_error);
      EXPECT_NE(m.find(std::string("EventInput::") + field + " is 65536 bytes long (at most 65535)"),
                std::string::npos)
          << m;
    }
  }
  expect_still_appends(*s, before);
  // 65535 bytes is the limit itself: accepted in every field.
  const StoreSnapshot now = take_snapshot(s->log());
  EventInput e = with_type(EventType::message_sent);
  e.id = longest;
  e.run_id = longest;
  e.correlation_id = longest;
  e.provider = longest;
  auto r = s->append_wait(e);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->sequence, now.latest + 1);
  EXPECT_TRUE(keeps_contents(now, take_snapshot(s->log())));
}

TEST_P(ProducerBadInput, eventAboveMaxEventBytesIsEventTooLargeInEveryAppendCallAndExactlyTheMaxIsStored) {
  SessionOptions o = opts();
  o.max_event_bytes = 1024;
  auto s = Session::open(o);
  ASSERT_TRUE(s.ok());
  seed(*s, kSeeded);
  auto p = s->producer().value();
  const StoreSnapshot before = take_snapshot(s->log());
  EventInput e = with_type(EventType::message_sent);
  const std::size_t fixed = EventRecord::encoded_size(e) - e.data.size();
  for (std::size_t size : {std::size_t{1025}, std::size_t{1032}, std::size_t{1} << 20}) {
    const std::string data(size - fixed, 'd');
    e.data = data;
    ASSERT_EQ(EventRecord::encoded_size(e), size);
    for (const AppendCall& c : append_calls()) {
      SCOPED_TRACE(std::string(c.name) + " " + std::to_string(size) + " bytes");
      std::string m;
      EXPECT_EQ(c.call(*s, p, e, &m), Errc::event_too_large);
      EXPECT_TRUE(names(Error(Errc::event_too_large, m),
                        {"event of " + std::to_string(size) + " encoded bytes", "max_event_bytes = 1024", "'s1'"}));
    }
  }
  expect_still_appends(*s, before);
  const StoreSnapshot now = take_snapshot(s->log());
  e.id = "exactly-max";
  const std::string exact(1024 - (EventRecord::encoded_size(e) - e.data.size()), 'e');
  e.data = exact;
  ASSERT_EQ(EventRecord::encoded_size(e), 1024u);
  auto r = p.append_wait(e);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->sequence, now.latest + 1);
  const StoreSnapshot after = take_snapshot(s->log());
  EXPECT_TRUE(keeps_contents(now, after));
  EXPECT_EQ(after.events.back().data, exact);
}

TEST_P(ProducerBadInput, queueFullWithFailPolicyOrPastDeadlineIsQueueFullAndTheRefusedEventIsNeverStored) {
  auto controlled = std::make_shared<ControlledStore>(st_.store());
  SessionOptions o = options(controlled, "s1");
  o.ingest_capacity = 1;
  auto s = Session::open(o);
  ASSERT_TRUE(s.ok()) << s.error();
  seed(*s, kSeeded);
  const StoreSnapshot before = take_snapshot(s->log());
  auto p = s->producer().value();
  StoreControl& ctl = controlled->control();
  ctl.block_appends();
  const KnownEvent a1(1, "accepted-p"), a2(2, "accepted-p"), as(3, "accepted-shared");
  ASSERT_TRUE(p.append(a1.input()).ok());
  ASSERT_TRUE(ctl.wait_blocked(1));  // the sequencer took a1 (its credit is back) and is stuck storing it
  ASSERT_TRUE(p.append(a2.input()).ok());  // fills the producer's one slot
  ASSERT_TRUE(s->append(as.input()).ok());  // fills the shared producer's one slot
  const KnownEvent refused(9, "refused");
  const auto now = std::chrono::steady_clock::now();
  for (AppendOptions ao : {AppendOptions::fail_fast(), AppendOptions::wait_for(0ns), AppendOptions::wait_for(-1s),
                           AppendOptions{FullPolicy::wait, now - 1s}, AppendOptions::wait_for(1ms)}) {
    for (const AppendCall& c : append_calls(ao)) {
      SCOPED_TRACE(std::string(c.name) + (ao.on_full == FullPolicy::fail ? " fail" : " wait"));
      std::string m;
      EXPECT_EQ(c.call(*s, p, refused.input(), &m), Errc::queue_full);
      EXPECT_TRUE(names(Error(Errc::queue_full, m), {"ingest queue of session 's1' is full"}));
    }
  }
  ctl.unblock_appends();
  // Accepted events are stored after the seeded ones; the refused one never is.
  auto r = s->append_wait(KnownEvent(4, "accepted-shared").input());
  ASSERT_TRUE(r.ok()) << r.error();
  const StoreSnapshot after = take_snapshot(s->log());
  EXPECT_TRUE(keeps_contents(before, after));
  std::vector<std::string> added;
  for (std::size_t i = before.events.size(); i < after.events.size(); ++i) added.push_back(after.events[i].id);
  ASSERT_EQ(added.size(), 4u);
  EXPECT_EQ(added[0], "accepted-p-1");
  EXPECT_EQ(added.back(), "accepted-shared-4");
  EXPECT_NE(std::find(added.begin(), added.end(), "accepted-p-2"), added.end());
  EXPECT_NE(std::find(added.begin(), added.end(), "accepted-shared-3"), added.end());
  EXPECT_EQ(s->log().find_by_id("refused-9").code(), Errc::not_found);
}

TEST_P(ProducerBadInput, appendAfterStopIsStoppedInEveryAppendCallAndStoreUnchanged) {
  auto s = Session::open(opts());
  ASSERT_TRUE(s.ok());
  seed(*s, kSeeded);
  auto p = s->producer().value();
  const StoreSnapshot before = take_snapshot(s->log());
  ASSERT_TRUE(s->stop().ok());
  for (const AppendCall& c : append_calls()) {
    SCOPED_TRACE(c.name);
    std::string m;
    EXPECT_EQ(c.call(*s, p, with_type(EventType::message_sent), &m), Errc::stopped);
    EXPECT_TRUE(names(Error(Errc::stopped, m), {"session 's1' is stopped"}));
  }
  EXPECT_TRUE(same_contents(before, take_snapshot(s->log())));
  { Producer gone = std::move(p); }
  s = Session::open(opts("other"));  // releases s1's writer
  expect_reopens(before);
}

TEST_P(ProducerBadInput, movedFromProducerIsClosedAndTheMovedToOneKeepsAppending) {
  auto s = Session::open(opts());
  ASSERT_TRUE(s.ok());
  seed(*s, kSeeded);
  const StoreSnapshot before = take_snapshot(s->log());
  Producer p = s->producer().value();
  Producer q = std::move(p);
  const KnownEvent e(7, "refused");
  Status st = p.append(e.input());  // NOLINT(bugprone-use-after-move): the case under test
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Errc::closed);
  EXPECT_TRUE(names(st.error(), {"Producer was moved from"}));
  auto r = p.append_wait(e.input());  // NOLINT(bugprone-use-after-move)
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), Errc::closed);
  EXPECT_TRUE(names(r.error(), {"Producer was moved from"}));
  EXPECT_EQ(p.in_flight_approx(), 0u);  // NOLINT(bugprone-use-after-move)
  auto ok = q.append_wait(KnownEvent(8, "moved-to").input());
  ASSERT_TRUE(ok.ok()) << ok.error();
  EXPECT_EQ(ok->sequence, before.latest + 1);
  EXPECT_TRUE(keeps_contents(before, take_snapshot(s->log())));
  EXPECT_EQ(s->log().find_by_id("refused-7").code(), Errc::not_found);
}

TEST_P(ProducerBadInput, appendWaitOfABatchTheStoreRefusesIsStorageErrorAndNothingIsStored) {
  auto controlled = std::make_shared<ControlledStore>(st_.store());
  auto s = Session::open(options(controlled, "s1"));
  ASSERT_TRUE(s.ok()) << s.error();
  seed(*s, kSeeded);
  auto p = s->producer().value();
  const StoreSnapshot before = take_snapshot(s->log());
  const auto files = st_.files();
  const KnownEvent refused(5, "refused");
  {
    controlled->control().fail_next.store(1);
    auto r = p.append_wait(refused.input());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), Errc::storage_error);
    EXPECT_TRUE(names(r.error(), {"'s1'", "the store refused the batch", "injected failure"}));
  }
  {
    controlled->control().fail_next.store(1);
    auto r = s->append_wait(refused.input());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), Errc::storage_error);
    EXPECT_TRUE(names(r.error(), {"'s1'", "the store refused the batch"}));
  }
  EXPECT_TRUE(same_contents(before, take_snapshot(s->log())));
  EXPECT_TRUE(files == st_.files()) << "a refused batch reached the files";
  EXPECT_EQ(s->latest_sequence(), before.latest) << "a refused batch was published";
  expect_still_appends(*s, before);
  EXPECT_EQ(s->log().find_by_id("refused-5").code(), Errc::not_found);
}

INSTANTIATE_TEST_SUITE_P(Stores, ProducerBadInput, ::testing::Values(StoreKind::memory, StoreKind::log), kind_name);
