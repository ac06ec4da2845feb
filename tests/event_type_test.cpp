// EventType: the 28 names of DESIGN §6, exactly, and parse/to_string round trips.
// (Every type through append → subscribe: tests/session_test.cpp.)
#include <sessionring/event_type.hpp>

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>

using namespace sessionring;

namespace {

// DESIGN §6, in declaration order: the reference runtime's names, spelled out independently of
// the engine's table so a typo there fails here.
constexpr std::string_view kReferenceNames[] = {
    "session_created",     "session_started",        "session_paused",          "session_resumed",
    "session_completed",   "session_failed",         "session_cancelled",       "run_started",
    "run_completed",       "run_failed",             "run_cancelled",           "run_timeout",
    "message_sent",        "message_received",       "message_streamed",        "tool_call_started",
    "tool_call_completed", "tool_call_failed",       "error_occurred",          "error_recovered",
    "token_usage_updated", "turn_completed",         "workspace_snapshot_taken", "workspace_diff_computed",
    "policy_violation",    "tool_approval_requested", "tool_approval_granted",  "tool_approval_denied",
};

}  // namespace

TEST(EventType, thereAreExactly28InDeclarationOrder) {
  static_assert(kEventTypeCount == 28);
  static_assert(std::size(kReferenceNames) == kEventTypeCount);
  const auto& all = all_event_types();
  ASSERT_EQ(all.size(), 28u);
  for (std::size_t i = 0; i < all.size(); ++i) EXPECT_EQ(static_cast<std::size_t>(all[i]), i);
}

TEST(EventType, everyTypeHasItsReferenceName) {
  for (std::size_t i = 0; i < kEventTypeCount; ++i)
    EXPECT_EQ(to_string(static_cast<EventType>(i)), kReferenceNames[i]) << "type " << i;
  EXPECT_EQ(to_string(EventType::run_started), "run_started");
  EXPECT_EQ(to_string(EventType::tool_approval_denied), "tool_approval_denied");
}

TEST(EventType, everyTypeRoundTripsByName) {
  std::set<std::string_view> seen;
  for (EventType t : all_event_types()) {
    const std::string_view name = to_string(t);
    EXPECT_TRUE(seen.insert(name).second) << "duplicate name " << name;
    auto parsed = parse_event_type(name);
    ASSERT_TRUE(parsed.ok()) << parsed.error();
    EXPECT_EQ(*parsed, t) << name;
  }
  EXPECT_EQ(seen.size(), kEventTypeCount);
}

TEST(EventType, unknownNamesAreUnknownEventType) {
  for (std::string_view bad : {"", "Run_Started", "RUN_STARTED", "run_started ", " run_started", "run-started",
                               "runstarted", "run_start", "invalid", "session", "tool_approval_denied\n"}) {
    auto r = parse_event_type(bad);
    ASSERT_FALSE(r.ok()) << "'" << bad << "' parsed";
    EXPECT_EQ(r.code(), Errc::unknown_event_type) << bad;
    EXPECT_FALSE(r.error().message().empty());
  }
  // A name with a NUL inside is not a prefix match.
  auto nul = parse_event_type(std::string_view("run_started\0x", 13));
  EXPECT_EQ(nul.code(), Errc::unknown_event_type);
}

TEST(EventType, unknownNameMessageNamesTheInputPrintably) {
  auto r = parse_event_type("bogus\x01type");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("bogus?type"), std::string::npos) << r.error();
}

TEST(EventType, valuesOutsideTheEnumerationAreInvalid) {
  EXPECT_TRUE(is_valid_event_type(0));
  EXPECT_TRUE(is_valid_event_type(27));
  EXPECT_FALSE(is_valid_event_type(28));
  EXPECT_FALSE(is_valid_event_type(255));
  EXPECT_EQ(to_string(static_cast<EventType>(28)), "invalid");
  EXPECT_EQ(to_string(static_cast<EventType>(255)), "invalid");
}
