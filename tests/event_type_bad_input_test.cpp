// Bad input of parse_event_type (engine/event_type.cpp), docs/errors.md "Bad-input table":
// anything but one of the 28 exact snake_case names is Errc::unknown_event_type naming the input.
#include "store_snapshot.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <string>

using namespace sessionring;
using namespace sessionring::test;

namespace {

void expect_unknown(const std::string& name, std::string_view shown) {
  SCOPED_TRACE("name '" + name + "'");
  auto r = parse_event_type(name);
  ASSERT_FALSE(r.ok()) << "parsed as " << to_string(*r);
  EXPECT_EQ(r.code(), Errc::unknown_event_type);
  std::string expected = "'";  // built by appends: GCC 12's -Wrestrict misfires on "'" + std::string
  expected += shown;
  expected += "' is not an event type";
  EXPECT_TRUE(names(r.error(), {expected}));
}

}  // namespace

TEST(EventTypeBadInput, everyExactNameParsesToItsType) {
  for (EventType t : all_event_types()) {
    auto r = parse_event_type(to_string(t));
    ASSERT_TRUE(r.ok()) << to_string(t);
    EXPECT_EQ(*r, t);
  }
}

TEST(EventTypeBadInput, emptyNameIsUnknownEventType) { expect_unknown("", ""); }

TEST(EventTypeBadInput, wrongCaseSpacesAndNearMissesOfEveryNameAreUnknownEventType) {
  for (EventType t : all_event_types()) {
    const std::string name(to_string(t));
    std::string upper = name;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    std::string first_upper = name;
    first_upper[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(first_upper[0])));
    std::string dashed = name;
    for (char& c : dashed)
      if (c == '_') c = '-';
    for (const std::string& bad : {upper, first_upper, dashed, " " + name, name + " ", name + "\t",
                                   name.substr(0, name.size() - 1), name + "s"})
      expect_unknown(bad, bad == name + "\t" ? name + "?" : bad);
  }
  for (std::string bad : {"run_start", "runstarted", "invalid", "RunStarted", "0", "28"}) expect_unknown(bad, bad);
}

TEST(EventTypeBadInput, embeddedNulAndControlBytesAreUnknownAndMaskedInTheMessage) {
  expect_unknown(std::string("run_started\0", 12), "run_started?");
  expect_unknown(std::string("run_\x01started"), "run_?started");
}

TEST(EventTypeBadInput, aVeryLongNameIsUnknownAndTheMessageShowsAPrefixOnly) {
  const std::string bad(10000, 'x');
  auto r = parse_event_type(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), Errc::unknown_event_type);
  EXPECT_TRUE(names(r.error(), {"'" + std::string(64, 'x') + "'"}));
  EXPECT_LT(r.error().message().size(), 400u);
}
