// FUZZ_CHECK: the fuzz targets' assertion. Active in every build type (unlike assert()): a
// violated property prints what failed and aborts, which libFuzzer reports as a crash and
// saves the input that caused it (docs/fuzzing.md).
#pragma once
#include <cstdio>
#include <cstdlib>

namespace sessionring::fuzz {

[[noreturn]] inline void check_failed(const char* expr, const char* file, int line, const char* what) {
  std::fprintf(stderr, "\nFUZZ_CHECK failed: %s\n  at %s:%d\n  %s\n", expr, file, line, what ? what : "");
  std::fflush(stderr);
  std::abort();
}

}  // namespace sessionring::fuzz

/// Aborts with `expr` and `what` (a C string, may be empty) when `expr` is false.
#define FUZZ_CHECK(expr, what)                                                        \
  do {                                                                                \
    if (!(expr)) ::sessionring::fuzz::check_failed(#expr, __FILE__, __LINE__, what);  \
  } while (0)
