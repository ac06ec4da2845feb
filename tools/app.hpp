// The `sessionring` command-line app: every subcommand registered on one CLI11 app. Shared by
// the program (main.cpp) and the CLI fuzz target (tests/fuzz/cli_args_fuzz.cpp), so both parse
// exactly the same grammar (docs/cli.md).
#pragma once
#include <CLI/CLI.hpp>

#include <functional>

namespace sessionring::tools {

/// The app's description line (its --help header).
inline constexpr const char* kAppDescription =
    "sessionring: sessions of runs emitting sequenced, durable, resumable event streams";

/// Registers demo, bench, tune, tail, sessions and verify on `app` (which must outlive `run`)
/// and requires exactly one of them. After app.parse() succeeds, `run` holds the chosen
/// subcommand's body, returning the exit code of docs/cli.md; parsing itself starts nothing.
void make_app(CLI::App& app, std::function<int()>& run);

}  // namespace sessionring::tools
