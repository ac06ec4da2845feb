// sessionring: demo, bench, tune, tail, sessions, verify (docs/cli.md).
#include "commands.hpp"

#include <iostream>

int main(int argc, char** argv) {
  using namespace sessionring::tools;
  CLI::App app{"sessionring: sessions of runs emitting sequenced, durable, resumable event streams"};
  app.require_subcommand(1);
  std::function<int()> run;
  add_demo_command(app, run);
  add_bench_command(app, run);
  add_tune_command(app, run);
  add_tail_command(app, run);
  add_sessions_command(app, run);
  add_verify_command(app, run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  try {
    return run ? run() : kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "sessionring: " << e.what() << "\n";
    return kExitFailure;
  }
}
