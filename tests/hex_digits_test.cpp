// detail::hex_digits8 / write_hex16 (engine/detail/hex_digits.hpp): the ids the engine generates
// are exactly the lowercase hex digits printf gives, most significant first, for every nibble
// value in every position.
#include "detail/hex_digits.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string>

namespace sessionring::detail {
namespace {

std::string printf_hex16(std::uint64_t x) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(x));
  return buf;
}

std::string swar_hex16(std::uint64_t x) {
  std::string out(16, '?');
  write_hex16(x, out.data());
  return out;
}

TEST(HexDigits, everyNibbleValueInEveryPositionIsThePrintfDigit) {
  for (int pos = 0; pos < 16; ++pos)
    for (std::uint64_t n = 0; n < 16; ++n) {
      const std::uint64_t x = n << (4 * pos);
      ASSERT_EQ(swar_hex16(x), printf_hex16(x)) << "nibble " << n << " at " << pos;
      const std::uint64_t y = ~(std::uint64_t{0xf} << (4 * pos)) | x;  // the others all f
      ASSERT_EQ(swar_hex16(y), printf_hex16(y)) << "nibble " << n << " at " << pos << " among f";
    }
}

TEST(HexDigits, randomValuesAndTheEndsOfTheRangeMatchPrintf) {
  std::mt19937_64 rng(42);
  for (std::uint64_t x : {std::uint64_t{0}, ~std::uint64_t{0}, std::uint64_t{0x0123456789abcdef}})
    EXPECT_EQ(swar_hex16(x), printf_hex16(x));
  for (int i = 0; i < 100'000; ++i) {
    const std::uint64_t x = rng();
    ASSERT_EQ(swar_hex16(x), printf_hex16(x));
  }
}

}  // namespace
}  // namespace sessionring::detail
