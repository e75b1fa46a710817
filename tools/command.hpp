// How a subcommand of the `earshot` executable plugs itself in.
//
// Each tools/cmd_*.cpp file defines one subcommand and registers it with a static
// `CommandRegistration`; the main program adds every registered command to the CLI11 app.
// This keeps commands independent: adding one never touches another file. Each file keeps its
// helpers in its own namespace (earshot::cli::<name>_command), so that a unity build, which
// compiles several of the files as one, does not mix them up.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace earshot::cli {

// Exit codes every subcommand uses, so scripts can tell failures apart.
enum ExitCode : int {
  kSuccess = 0,
  kFailure = 1,        // the command could not do its job (bad model, unreadable input, ...)
  kUsage = 2,          // wrong flags or arguments
  kPartialFailure = 3  // a batch ran, but some inputs failed; the rest were processed
};

// Called once while the CLI is built: declares the command's flags on `command` and
// returns the function that runs it after parsing. That function returns an ExitCode.
using CommandSetup = std::function<std::function<int()>(CLI::App& command)>;

struct CommandInfo {
  std::string name;
  std::string description;
  CommandSetup setup;
};

std::vector<CommandInfo>& registered_commands();

struct CommandRegistration {
  CommandRegistration(std::string name, std::string description, CommandSetup setup) {
    registered_commands().push_back({std::move(name), std::move(description), std::move(setup)});
  }
};

}  // namespace earshot::cli
