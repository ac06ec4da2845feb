// ProgressBar: a one-line bar on stderr, redrawn 5 times a second by its own thread while a
// benchmark round runs. Draws only when stderr is a terminal. It never allocates while it runs
// (snprintf into a stack buffer, write(2)), so it does not disturb the allocation count of the
// measured phase.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <thread>

#include <unistd.h>

namespace sessionring::tools {

class ProgressBar {
 public:
  /// `done()` returns the fraction done in [0, 1] and is called on the bar's thread.
  ProgressBar(bool enabled, const char* label, std::function<double()> done)
      : label_(label), done_(std::move(done)) {
    if (!enabled || isatty(STDERR_FILENO) == 0) return;
    thread_ = std::thread([this] { loop(); });
  }
  ~ProgressBar() { finish(); }
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  /// Stops the thread and clears the line. Idempotent.
  void finish() {
    if (!thread_.joinable()) return;
    stop_.store(true, std::memory_order_relaxed);  // relaxed: polled; join() orders the rest
    thread_.join();
    const char clear[] = "\r\033[K";
    (void)!write(STDERR_FILENO, clear, sizeof clear - 1);
  }

 private:
  void loop() {
    const auto t0 = std::chrono::steady_clock::now();
    while (!stop_.load(std::memory_order_relaxed)) {  // relaxed: see finish()
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      double f = done_();
      f = f < 0 ? 0 : (f > 1 ? 1 : f);
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      char bar[41];
      const int filled = static_cast<int>(f * 40);
      for (int i = 0; i < 40; ++i) bar[i] = i < filled ? '#' : '.';
      bar[40] = '\0';
      char line[160];
      const int n = std::snprintf(line, sizeof line, "\r%s [%s] %5.1f%%  %6.1f s", label_, bar, f * 100, secs);
      if (n > 0) (void)!write(STDERR_FILENO, line, static_cast<std::size_t>(n < 160 ? n : 159));
    }
  }

  const char* label_;
  std::function<double()> done_;
  std::atomic<bool> stop_{false};  // writer: finish(); reader: the bar's thread (relaxed, polled)
  std::thread thread_;
};

}  // namespace sessionring::tools
