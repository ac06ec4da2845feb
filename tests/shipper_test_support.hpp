// Helpers of the Shipper tests (shipper_test, jetstream_shipper_test): a store's events as
// owning copies, and appends with distinct ids.
#pragma once
#include "oracle.hpp"

#include <sessionring/sessionring.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace sessionring::test {

/// A started Shipper (fails the test when it does not start) with small batches and short
/// intervals, so tests see many batches, rescans and retries.
inline std::unique_ptr<Shipper> start_shipper(std::shared_ptr<SessionStore> from, std::shared_ptr<SessionStore> to,
                                              std::vector<std::string> sessions, std::uint32_t max_batch_events,
                                              std::chrono::milliseconds intervals) {
  ShipperOptions o;
  o.source = std::move(from);
  o.destination = std::move(to);
  o.sessions = std::move(sessions);
  o.max_batch_events = max_batch_events;
  o.rescan_interval = intervals;
  o.retry_interval = intervals;
  auto s = Shipper::start(std::move(o));
  EXPECT_TRUE(s.ok()) << s.error();
  return s ? std::move(*s) : nullptr;
}

/// Every stored event of `id` in `store`, as owning copies (session_id cleared: stores differ).
inline std::vector<Event> all_of(SessionStore& store, const std::string& id) {
  auto log = store.open(id, OpenMode::read);
  EXPECT_TRUE(log.ok()) << log.error();
  if (!log) return {};
  auto events = (*log)->read(EventQuery{});
  EXPECT_TRUE(events.ok()) << events.error();
  if (!events) return {};
  for (Event& e : *events) e.session_id.clear();
  return std::move(*events);
}

/// Appends messages "m<first>".."m<first + n - 1>" (id and data) and waits for each.
inline void append_messages(Session& s, std::size_t first, std::size_t n) {
  for (std::size_t i = first; i < first + n; ++i) {
    const std::string id = std::string("m").append(std::to_string(i));
    ASSERT_TRUE(s.append_wait(ev(EventType::message_streamed, "r", id, id)).ok());
  }
}

}  // namespace sessionring::test
