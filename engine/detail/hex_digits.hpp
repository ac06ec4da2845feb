// Lowercase hexadecimal digits of a 64-bit value without a table lookup per digit: the nibbles
// are spread one per byte and turned into ASCII in one register (SWAR), then stored at once.
// Used for the ids the engine generates (32 digits per event on the producer's path).
#pragma once
#include <bit>
#include <cstdint>
#include <cstring>

namespace sessionring::detail {

/// The 8 hex digits of `x`, most significant first, as the bytes of one 64-bit word in memory order.
constexpr std::uint64_t hex_digits8(std::uint32_t x) noexcept {
  std::uint64_t v = x;
  // Spread: nibble i of x ends up alone in byte i (byte 0 = least significant nibble).
  v = ((v & 0xFFFF'0000ull) << 16) | (v & 0xFFFFull);
  v = ((v & 0x0000'FF00'0000'FF00ull) << 8) | (v & 0x0000'00FF'0000'00FFull);
  v = ((v & 0x00F0'00F0'00F0'00F0ull) << 4) | (v & 0x000F'000F'000F'000Full);
  // Each byte n in [0, 15]: '0' + n, plus ('a' - '0' - 10) where n >= 10 (n + 6 carries into bit 4).
  const std::uint64_t letters = ((v + 0x0606'0606'0606'0606ull) >> 4) & 0x0101'0101'0101'0101ull;
  v += 0x3030'3030'3030'3030ull + letters * static_cast<std::uint64_t>('a' - '0' - 10);
  // Most significant digit at the lowest address.
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
  return v;
}

/// Writes the 16 hex digits of `x`, most significant first, to out[0..16) (no terminator).
inline void write_hex16(std::uint64_t x, char* out) noexcept {
  const std::uint64_t hi = hex_digits8(static_cast<std::uint32_t>(x >> 32));
  const std::uint64_t lo = hex_digits8(static_cast<std::uint32_t>(x));
  std::memcpy(out, &hi, sizeof hi);
  std::memcpy(out + 8, &lo, sizeof lo);
}

}  // namespace sessionring::detail
