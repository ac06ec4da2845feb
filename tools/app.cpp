// make_app: the subcommands of the `sessionring` program (see app.hpp).
#include "app.hpp"

#include "commands.hpp"

namespace sessionring::tools {

void make_app(CLI::App& app, std::function<int()>& run) {
  app.require_subcommand(1);
  add_demo_command(app, run);
  add_bench_command(app, run);
  add_tune_command(app, run);
  add_tail_command(app, run);
  add_sessions_command(app, run);
  add_verify_command(app, run);
}

}  // namespace sessionring::tools
