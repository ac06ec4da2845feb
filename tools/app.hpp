// The `sessionring` command-line app: every subcommand registered on one CLI11 app. Shared by
// the program (main.cpp) and the CLI fuzz target (tests/fuzz/cli_args_fuzz.cpp), so both parse
// exactly the same grammar (docs/cli.md).
#pragma once
#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace sessionring::tools {

/// The app's description line (its --help header).
inline constexpr const char* kAppDescription =
    "sessionring: sessions of runs emitting sequenced, durable, resumable event streams";

/// Registers demo, bench, tune, tail, sessions, verify, stat, help and completion, and --version, on `app` (which must outlive `run`)
/// and requires exactly one of them. After app.parse() succeeds, `run` holds the chosen
/// subcommand's body, returning the exit code of docs/cli.md; parsing itself starts nothing.
void make_app(CLI::App& app, std::function<int()>& run);

/// A hint for a usage error: "; did you mean 'tail'?" when the first unknown subcommand or the
/// first unknown option of the chosen subcommand in `args` (argv without the program) is a
/// typo of a known one (at most 2 edits); else empty.
std::string did_you_mean(const CLI::App& app, const std::vector<std::string>& args);

}  // namespace sessionring::tools
