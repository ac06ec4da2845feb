// Bad input of validate_session_id (engine/session_id.cpp), docs/errors.md "Bad-input table":
// every rule of a session id is exercised at both sides of its boundary, and the message says
// which rule the id breaks. The stores and the engine reuse this check; their own tests
// (memory_store/log_store/session/session_server _bad_input_test.cpp) show that they refuse the
// same ids before touching anything stored.
#include "store_snapshot.hpp"

#include <sessionring/session_id.hpp>

#include <gtest/gtest.h>

#include <string>

using namespace sessionring;
using namespace sessionring::test;

namespace {

bool allowed_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == ':';
}

void expect_invalid(const std::string& id, std::string_view rule) {
  SCOPED_TRACE("id of " + std::to_string(id.size()) + " bytes, first bytes '" + id.substr(0, 20) + "'");
  Status st = validate_session_id(id);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Errc::invalid_session_id);
  EXPECT_TRUE(names(st.error(), {"session id", rule}));
}

}  // namespace

TEST(SessionIdBadInput, emptyIdIsInvalidSessionIdSayingItIsEmpty) {
  expect_invalid("", "is empty");
}

TEST(SessionIdBadInput, idAbove128BytesIsInvalidAndExactly128IsValid) {
  EXPECT_TRUE(validate_session_id(std::string(kMaxSessionIdBytes, 'a')).ok());
  EXPECT_TRUE(validate_session_id("a").ok());
  for (std::size_t n : {kMaxSessionIdBytes + 1, kMaxSessionIdBytes + 2, std::size_t{4096}})
    expect_invalid(std::string(n, 'a'), std::to_string(n) + " bytes long (at most 128)");
}

TEST(SessionIdBadInput, everyControlCharacterAnywhereIsInvalid) {
  std::vector<unsigned char> controls;
  for (unsigned c = 0; c < 0x20; ++c) controls.push_back(static_cast<unsigned char>(c));
  controls.push_back(0x7f);
  for (unsigned char c : controls) {
    const std::string ch(1, static_cast<char>(c));
    SCOPED_TRACE("byte " + std::to_string(c));
    expect_invalid(ch, "control character");
    expect_invalid(ch + "abc", "control character");
    expect_invalid("ab" + ch + "c", "control character");
    expect_invalid("abc" + ch, "control character");
  }
}

TEST(SessionIdBadInput, pathSeparatorsAreInvalidWherever) {
  for (std::string id : {"/", "\\", "a/b", "a\\b", "/etc", "x/", "..\\x", "C:\\dir", "s1/../s2"})
    expect_invalid(id, "path separator");
}

TEST(SessionIdBadInput, everyByteOutsideTheAllowedSetIsInvalidAndEveryAllowedByteIsValid) {
  int refused = 0;
  for (unsigned c = 0x20; c < 0x100; ++c) {
    const auto u = static_cast<unsigned char>(c);
    const std::string id = std::string("a") + static_cast<char>(u) + "b";
    SCOPED_TRACE("byte " + std::to_string(c));
    if (allowed_byte(u)) {
      EXPECT_TRUE(validate_session_id(id).ok());
    } else if (u == 0x7f) {
      expect_invalid(id, "control character");
      ++refused;
    } else if (u == '/' || u == '\\') {
      expect_invalid(id, "path separator");
      ++refused;
    } else if (u > 0x7e) {
      static constexpr char kHex[] = "0123456789abcdef";
      expect_invalid(id, std::string("contains byte 0x") + kHex[u >> 4] + kHex[u & 0xf] + " (allowed: A-Z a-z 0-9 . _ : -)");
      ++refused;
    } else {
      expect_invalid(id, "contains '" + std::string(1, static_cast<char>(u)) + "' (allowed: A-Z a-z 0-9 . _ : -)");
      ++refused;
    }
  }
  EXPECT_EQ(refused, 256 - 0x20 - 66);  // 66 allowed bytes: 26 + 26 + 10 + "-_.:"
  for (std::string id : {"caf\xc3\xa9", "\xe2\x80\xae" "evil", "a b", "a*b", "a?b", "a%2Fb", "a\"b", "~a"})
    expect_invalid(id, "contains");
}

TEST(SessionIdBadInput, leadingDotOrDotDotIsInvalidButInnerAndTrailingSingleDotsAreValid) {
  for (std::string id : {".", ".hidden", ".a.b"}) expect_invalid(id, "starts with '.'");
  expect_invalid("..", "starts with '.'");
  for (std::string id : {"a..b", "a..", "ab...c", "x.y..z"}) expect_invalid(id, "contains '..'");
  for (std::string id : {"a.b", "a.", "a.b.c", "a:b", "-a", "_a", ":", "0", "A-Z_a-z.0:9"})
    EXPECT_TRUE(validate_session_id(id).ok()) << id;
}

TEST(SessionIdBadInput, messageShowsTheIdWithUnprintableBytesMasked) {
  Status st = validate_session_id(std::string("ab\x01\xff", 4));
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(names(st.error(), {"session id 'ab?" "?'"}));
  EXPECT_EQ(st.error().message().find('\x01'), std::string::npos);
}
