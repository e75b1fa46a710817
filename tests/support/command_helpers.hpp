// Test support for running the `earshot` executable (or any shell command) as a user would.
#pragma once

#include <filesystem>
#include <string>

namespace earshot::testing {

struct CommandResult {
  int exit_code = -1;  // -1 when the command did not exit normally (e.g. killed by a signal)
  std::string output;  // what it wrote to stdout and stderr, interleaved
};

// Runs `command` with /bin/sh, its stdout and stderr going to `output_file`, which is kept
// for inspection after a failure.
CommandResult run_command(const std::string& command, const std::filesystem::path& output_file);

// Runs the earshot executable under test (EARSHOT_BINARY) with `arguments`, already quoted
// for the shell.
CommandResult run_earshot(const std::string& arguments, const std::filesystem::path& output_file);

}  // namespace earshot::testing
