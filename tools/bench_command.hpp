// Pieces of `sessionring bench` that `sessionring tune` reuses.
#pragma once
#include "bench_runner.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace sessionring::tools {

/// The options shared by bench and tune (--producers, --events, --rate, ...), bound to `c`.
/// `knobs`: also --ring-capacity, --slot-bytes and --run-slots (tune takes lists of those).
void add_bench_options(CLI::App& cmd, BenchConfig& c, bool knobs);

/// One result as the JSON object `sessionring bench --json` prints (peers' field names first).
nlohmann::ordered_json bench_json(const BenchConfig& c, const BenchResult& r);

}  // namespace sessionring::tools
