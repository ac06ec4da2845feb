#include "stop_signal.hpp"

#include <atomic>
#include <csignal>

namespace sessionring::tools {
namespace {
// Writer: the signal handler (the signal number); readers: the commands' loops. Lock-free, so
// the handler may store it; relaxed: it carries no data, only "stop soon".
std::atomic<int> g_stop{0};
static_assert(std::atomic<int>::is_always_lock_free, "stored from a signal handler");

extern "C" void on_stop_signal(int sig) { g_stop.store(sig, std::memory_order_relaxed); }
}  // namespace

void install_stop_handlers() {
  g_stop.store(0, std::memory_order_relaxed);
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

int stop_signal() noexcept { return g_stop.load(std::memory_order_relaxed); }

}  // namespace sessionring::tools
