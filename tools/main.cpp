// sessionring: demo, bench, tune, tail, sessions, cursors, verify, stat, help, completion (docs/cli.md).
#include "app.hpp"
#include "commands.hpp"

#include <iostream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  using namespace sessionring::tools;
  CLI::App app{kAppDescription};
  std::function<int()> run;
  make_app(app, run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    const std::string hint = did_you_mean(app, std::vector<std::string>(argv + 1, argv + argc));
    if (!hint.empty()) std::cerr << "sessionring: " << hint.substr(2) << "\n";
    return kExitUsage;
  }
  try {
    return run ? run() : kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "sessionring: " << e.what() << "\n";
    return kExitFailure;
  }
}
