// Specification of `earshot listen --exec`: hooks run without a shell, get the event in
// their environment and on stdin, never block the daemon, are capped, and are reaped.
#include <sys/stat.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "audio_helpers.hpp"
#include "earshot/error.hpp"
#include "earshot/listen_hooks.hpp"

using namespace earshot::listen;
using Catch::Matchers::Contains;

namespace {

using earshot::testing::read_text;

std::filesystem::path write_script(const std::filesystem::path& path, const std::string& body) {
  std::ofstream(path) << "#!/bin/sh\n" << body;
  std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  return path;
}

HookEvent sample_event() {
  return {"activate", 0.97312, 12.34, "2024-05-01T12:34:56.789+00:00",
          R"({"type":"detection","keyword":"activate"})"};
}

// Reaps until no hook runs (deadline: a guard against hanging, not a timing assertion).
std::vector<HookExit> reap_all(HookRunner& hooks) {
  std::vector<HookExit> exits;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (hooks.running() > 0 && std::chrono::steady_clock::now() < deadline) {
    for (const HookExit& exit : hooks.reap())
      exits.push_back(exit);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  REQUIRE(hooks.running() == 0);
  return exits;
}

}  // namespace

TEST_CASE("a hook gets its arguments verbatim: no shell splits or quotes or expands them",
          "[listen]") {
  const auto dir = earshot::testing::fresh_test_directory(EARSHOT_TEST_TMP);
  const auto out = dir / "argv.txt";
  // Writes each argument on its own line between brackets.
  const auto hook =
      write_script(dir / "hook.sh", "out=$1; shift; printf '[%s]\\n' \"$@\" > \"$out\"\n");
  HookRunner hooks(
      {hook.string(), out.string(), "two words", "it's \"quoted\"", "$HOME", "*", "", "a;b|c"});
  REQUIRE(hooks.launch(sample_event()).result == HookLaunch::Result::kStarted);
  const auto exits = reap_all(hooks);
  REQUIRE(exits.size() == 1);
  CHECK(exits.front().succeeded());
  CHECK(read_text(out) == "[two words]\n[it's \"quoted\"]\n[$HOME]\n[*]\n[]\n[a;b|c]\n");
}

TEST_CASE("a hook finds the event in its environment and its JSON line on stdin", "[listen]") {
  const auto dir = earshot::testing::fresh_test_directory(EARSHOT_TEST_TMP);
  const auto env_out = dir / "env.txt";
  const auto stdin_out = dir / "stdin.txt";
  const auto hook =
      write_script(dir / "hook.sh",
                   "printf '%s\\n' \"$EARSHOT_KEYWORD\" \"$EARSHOT_SCORE\" \"$EARSHOT_TIME\" "
                   "\"$EARSHOT_WALL_TIME\" > \"$1\"\ncat > \"$2\"\n");
  setenv("EARSHOT_KEYWORD", "inherited-value-must-be-replaced", 1);
  HookRunner hooks({hook.string(), env_out.string(), stdin_out.string()});
  REQUIRE(hooks.launch(sample_event()).result == HookLaunch::Result::kStarted);
  reap_all(hooks);
  unsetenv("EARSHOT_KEYWORD");
  CHECK(read_text(env_out) == "activate\n0.9731\n12.340\n2024-05-01T12:34:56.789+00:00\n");
  CHECK(read_text(stdin_out) == "{\"type\":\"detection\",\"keyword\":\"activate\"}\n");
}

TEST_CASE("at most max_running hooks run at once and further detections are skipped and counted",
          "[listen]") {
  const auto dir = earshot::testing::fresh_test_directory(EARSHOT_TEST_TMP);
  const auto release = dir / "release";
  // Each hook waits until the test creates the release file.
  const auto hook = write_script(dir / "hook.sh", "while [ ! -e \"$1\" ]; do sleep 0.01; done\n");
  HookRunner hooks({hook.string(), release.string()}, 2);
  CHECK(hooks.launch(sample_event()).result == HookLaunch::Result::kStarted);
  CHECK(hooks.launch(sample_event()).result == HookLaunch::Result::kStarted);
  CHECK(hooks.launch(sample_event()).result == HookLaunch::Result::kSkipped);
  CHECK(hooks.launch(sample_event()).result == HookLaunch::Result::kSkipped);
  CHECK(hooks.running() == 2);
  CHECK(hooks.skipped() == 2);

  std::ofstream(release).put('\n');
  reap_all(hooks);
  CHECK(hooks.launch(sample_event()).result == HookLaunch::Result::kStarted);
  reap_all(hooks);
  CHECK(hooks.skipped() == 2);
}

TEST_CASE("finished hooks are reaped and leave no zombie", "[listen]") {
  HookRunner hooks({"true"});
  const HookLaunch launch = hooks.launch(sample_event());
  REQUIRE(launch.result == HookLaunch::Result::kStarted);
  reap_all(hooks);
  // Already collected: the kernel has nothing left to report for that pid.
  int status = 0;
  CHECK(::waitpid(launch.pid, &status, WNOHANG) == -1);
  CHECK(errno == ECHILD);
}

TEST_CASE("a hook that never reads its input cannot block the launcher", "[listen]") {
  const auto dir = earshot::testing::fresh_test_directory(EARSHOT_TEST_TMP);
  const auto release = dir / "release";
  const auto hook = write_script(dir / "hook.sh", "while [ ! -e \"$1\" ]; do sleep 0.01; done\n");
  HookRunner hooks({hook.string(), release.string()});
  HookEvent huge = sample_event();
  huge.json_line = std::string(4 << 20, 'x');  // 4 MiB: far beyond any pipe buffer
  // With a blocking write this call would never return.
  CHECK(hooks.launch(huge).result == HookLaunch::Result::kStarted);
  std::ofstream(release).put('\n');
  reap_all(hooks);
}

TEST_CASE("a hook that exits without reading does not kill the launcher with SIGPIPE", "[listen]") {
  HookRunner hooks({"true"});
  HookEvent big = sample_event();
  big.json_line = std::string(1 << 20, 'x');
  for (int i = 0; i < 3; ++i) {
    CHECK(hooks.launch(big).result == HookLaunch::Result::kStarted);
    reap_all(hooks);
  }
}

TEST_CASE("a hook that cannot start is reported, not thrown", "[listen]") {
  HookRunner hooks({"/nonexistent/earshot-hook"});
  const HookLaunch launch = hooks.launch(sample_event());
  CHECK(launch.result == HookLaunch::Result::kFailed);
  CHECK_THAT(launch.error, Contains("/nonexistent/earshot-hook") && Contains("No such file"));
  CHECK(hooks.running() == 0);
}

TEST_CASE("a failing hook's exit status is described", "[listen]") {
  HookRunner hooks({"sh", "-c", "exit 3"});
  REQUIRE(hooks.launch(sample_event()).result == HookLaunch::Result::kStarted);
  const auto exits = reap_all(hooks);
  REQUIRE(exits.size() == 1);
  CHECK_FALSE(exits.front().succeeded());
  CHECK(exits.front().describe() == "exited with status 3");
}

TEST_CASE("hook commands are checked before the daemon starts", "[listen]") {
  CHECK_NOTHROW(check_hook_command({"sh", "-c", "true"}));
  CHECK_NOTHROW(check_hook_command({"/bin/sh"}));
  CHECK_THROWS_WITH(check_hook_command({"earshot-no-such-hook-command"}),
                    Contains("earshot-no-such-hook-command") && Contains("PATH"));
  CHECK_THROWS_WITH(check_hook_command({"/etc/passwd"}), Contains("not an executable"));
  CHECK_THROWS_AS(check_hook_command({}), earshot::Error);
}
