#include "command_helpers.hpp"

#include <fmt/core.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace earshot::testing {

CommandResult run_command(const std::string& command, const std::filesystem::path& output_file) {
  const std::string redirected = fmt::format("{} > '{}' 2>&1", command, output_file.string());
  const int status = std::system(redirected.c_str());
  std::stringstream output;
  output << std::ifstream(output_file).rdbuf();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output.str()};
}

CommandResult run_earshot(const std::string& arguments, const std::filesystem::path& output_file) {
  return run_command(fmt::format("'{}' {}", EARSHOT_BINARY, arguments), output_file);
}

}  // namespace earshot::testing
