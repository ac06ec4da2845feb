// Per-run choices for SessionServer::submit_run.
#pragma once
#include <chrono>
#include <string>

namespace sessionring {

struct RunOptions {
  /// Empty: the server generates a unique id ("run-" + 16 hex digits). Otherwise 1..128 bytes,
  /// unique among the server's queued, running and retained runs (Errc::validation_error).
  std::string run_id;
  /// Per-run deadline, counted from the moment the run leaves the queue. 0: the server's
  /// SessionServerOptions::default_run_timeout (whose 0 means no deadline). Negative: invalid.
  std::chrono::nanoseconds timeout{0};
};

}  // namespace sessionring
