// SIGINT/SIGTERM for the long-running subcommands (tail --follow, stat, ship): the handler
// only records the signal; the command's loop polls stop_signal() and ends cleanly, exiting
// 128 + the signal where docs/cli.md says so.
#pragma once

namespace sessionring::tools {

/// Clears any earlier signal and installs the handlers for SIGINT and SIGTERM (no SA_RESTART:
/// a blocking call returns early).
void install_stop_handlers();
/// The signal received since install_stop_handlers(), or 0.
int stop_signal() noexcept;
inline bool stop_requested() noexcept { return stop_signal() != 0; }

}  // namespace sessionring::tools
