// OneUserCheck: a debug check that a handle documented as "one thread at a time" is not used by
// two threads at once (the LMAX Disruptor's `assert sameThread() : "Accessed by two threads -
// use ProducerType.MULTI!"`). Handing a handle to another thread between calls is allowed; two
// calls that overlap abort with a message that names the fix.
//
// Compiled in when SESSIONRING_OWNER_CHECKS is 1: debug builds and the sanitizer builds of CI
// (engine/CMakeLists.txt); a no-op otherwise, so Release pays nothing.
#pragma once
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>

#ifndef SESSIONRING_OWNER_CHECKS
#define SESSIONRING_OWNER_CHECKS 0
#endif

namespace sessionring::detail {

class OneUserCheck {
 public:
  /// RAII: marks the calling thread as the handle's user for the scope of one call.
  class Scope {
   public:
#if SESSIONRING_OWNER_CHECKS
    Scope(OneUserCheck& check, const char* fix) : check_(check) {
      std::thread::id none{};
      // acq_rel: pairs with the release in ~Scope of the previous user (a handed-over handle
      // is seen with everything its previous user did).
      if (!check_.user_.compare_exchange_strong(none, std::this_thread::get_id(), std::memory_order_acq_rel)) {
        std::fprintf(stderr, "sessionring: %s\n", fix);
        std::fflush(stderr);
        std::abort();
      }
    }
    ~Scope() { check_.user_.store(std::thread::id{}, std::memory_order_release); }  // pairs with the CAS above

   private:
    OneUserCheck& check_;
#else
    Scope(OneUserCheck&, const char*) noexcept {}
#endif
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;
  };

 private:
  // The thread inside a call, or none. Writer/reader: the threads calling the handle (CAS on
  // entry, release store on exit); publishes nothing but who is inside. Present in every build
  // (the layout must not depend on the macro: tests include these headers), used only by checks.
  std::atomic<std::thread::id> user_{};
};

}  // namespace sessionring::detail
