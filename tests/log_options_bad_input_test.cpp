// Bad input of parse_durability (engine/log_options.cpp), docs/errors.md "Bad-input table":
// anything but none, buffered or fsync is Errc::validation_error naming the input.
// (LogStoreOptions validation is exercised through LogStore::open: log_store_bad_input_test.cpp.)
#include "store_snapshot.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace sessionring;
using namespace sessionring::test;

TEST(LogOptionsBadInput, theThreeDurabilityNamesParse) {
  for (Durability d : {Durability::none, Durability::buffered, Durability::fsync}) {
    auto r = parse_durability(to_string(d));
    ASSERT_TRUE(r.ok()) << to_string(d);
    EXPECT_EQ(*r, d);
  }
}

TEST(LogOptionsBadInput, anyOtherDurabilityNameIsValidationErrorNamingIt) {
  for (std::string bad : {"", "None", "BUFFERED", "Fsync", "sync", "fdatasync", " none", "none ", "buffer", "fsyncs",
                          "invalid", "0", "1", "2"}) {
    SCOPED_TRACE("name '" + bad + "'");
    auto r = parse_durability(bad);
    ASSERT_FALSE(r.ok()) << "parsed as " << to_string(*r);
    EXPECT_EQ(r.code(), Errc::validation_error);
    EXPECT_TRUE(names(r.error(), {"durability '" + bad + "'", "none, buffered, fsync"}));
  }
}

TEST(LogOptionsBadInput, aDurabilityValueOutsideTheEnumerationPrintsAsInvalid) {
  // validate(LogStoreOptions) relies on this to refuse such a value.
  EXPECT_EQ(to_string(static_cast<Durability>(3)), "invalid");
  EXPECT_EQ(to_string(static_cast<Durability>(255)), "invalid");
  LogStoreOptions o;
  o.root = "unused";
  o.durability = static_cast<Durability>(3);
  Status st = validate(o);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Errc::validation_error);
  EXPECT_TRUE(names(st.error(), {"LogStoreOptions::durability"}));
}
