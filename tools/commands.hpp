// Subcommands of the `sessionring` program. Each registers its options on the CLI11 app and
// returns the process exit code (docs/cli.md): 0 ok, 1 runtime failure, 2 bad usage, 3 damaged store.
#pragma once
#include <CLI/CLI.hpp>

#include <functional>

namespace sessionring::tools {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitDamaged = 3;

/// Registers the subcommand; `run` is set to its body, called after parsing.
void add_demo_command(CLI::App& app, std::function<int()>& run);
void add_bench_command(CLI::App& app, std::function<int()>& run);
void add_tune_command(CLI::App& app, std::function<int()>& run);
void add_tail_command(CLI::App& app, std::function<int()>& run);
void add_sessions_command(CLI::App& app, std::function<int()>& run);
void add_verify_command(CLI::App& app, std::function<int()>& run);
void add_stat_command(CLI::App& app, std::function<int()>& run);
void add_cursors_command(CLI::App& app, std::function<int()>& run);
void add_ship_command(CLI::App& app, std::function<int()>& run);

}  // namespace sessionring::tools
