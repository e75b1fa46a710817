// `earshot`: one executable, one subcommand per job (label, listen, synth, train, eval, ...).
#include <fmt/core.h>

#include <algorithm>
#include <cstdio>
#include <map>

#include "command.hpp"
#include "earshot/error.hpp"

namespace earshot::cli {

std::vector<CommandInfo>& registered_commands() {
  static std::vector<CommandInfo> commands;
  return commands;
}

}  // namespace earshot::cli

int main(int argc, char** argv) {
  using namespace earshot::cli;
  CLI::App app{"Earshot: real-time trigger-word detection, training and evaluation", "earshot"};
  app.set_version_flag("--version", std::string("earshot ") + EARSHOT_VERSION);
  app.require_subcommand(1);

  auto commands = registered_commands();
  std::sort(commands.begin(), commands.end(),
            [](const CommandInfo& a, const CommandInfo& b) { return a.name < b.name; });
  std::map<const CLI::App*, std::function<int()>> runners;
  for (const auto& info : commands) {
    CLI::App* command = app.add_subcommand(info.name, info.description);
    runners[command] = info.setup(*command);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kSuccess : kUsage;
  }

  const CLI::App* chosen = app.get_subcommands().front();
  try {
    return runners.at(chosen)();
  } catch (const earshot::Error& e) {
    fmt::print(stderr, "earshot {}: error: {}\n", chosen->get_name(), e.what());
    return kFailure;
  } catch (const std::exception& e) {
    fmt::print(stderr, "earshot {}: unexpected error: {}\n", chosen->get_name(), e.what());
    return kFailure;
  }
}
