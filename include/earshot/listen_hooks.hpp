// Runs the user's hook command (`earshot listen --exec CMD ARGS...`) once per detection.
//
// The command runs without a shell (posix_spawnp: argv exactly as given, no word splitting or
// quoting rules), with the event in its environment
//   EARSHOT_KEYWORD=activate  EARSHOT_SCORE=0.9731  EARSHOT_TIME=12.340 (stream seconds)
//   EARSHOT_WALL_TIME=2024-05-01T12:34:56.789+02:00
// and the detection's JSON line on its standard input. Its stdout goes to the daemon's stderr
// so that nothing it prints can corrupt the JSON lines on the daemon's stdout.
//
// The daemon never waits for a hook: the JSON line (far smaller than a pipe's buffer) is
// written without blocking and the pipe closed, so a hook that never reads its input cannot
// stall detection. At most `max_running` hooks are alive at once; a detection that arrives
// while that many are still running is skipped and counted, never queued. Finished hooks are
// reaped with waitpid(WNOHANG), so none lingers as a zombie. Not thread-safe: one thread
// (the listen worker) owns a HookRunner.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace earshot::listen {

struct HookEvent {
  std::string keyword;
  double score = 0;
  double time_s = 0;
  std::string wall_time;
  std::string json_line;  // written to the hook's stdin, followed by a newline
};

struct HookLaunch {
  enum class Result { kStarted, kSkipped, kFailed };
  Result result = Result::kFailed;
  pid_t pid = -1;     // kStarted only
  std::string error;  // kFailed: why (e.g. "No such file or directory")
};

struct HookExit {
  pid_t pid = -1;
  int wait_status = 0;  // as waitpid reports it
  bool succeeded() const;
  // "exited with status 3", "was killed by signal 9 (Killed)".
  std::string describe() const;
};

// Throws earshot::Error unless command[0] names an executable: a path (containing '/') or a
// file found on PATH. Lets the daemon refuse a typo at start-up rather than at the first
// detection.
void check_hook_command(const std::vector<std::string>& command);

class HookRunner {
 public:
  static constexpr std::size_t kDefaultMaxRunning = 4;

  // Throws earshot::Error if the command is empty or max_running is 0.
  explicit HookRunner(std::vector<std::string> command,
                      std::size_t max_running = kDefaultMaxRunning);
  // Reaps what has finished; hooks still running are left to finish on their own.
  ~HookRunner();
  HookRunner(const HookRunner&) = delete;
  HookRunner& operator=(const HookRunner&) = delete;

  // Reaps, then starts the command for `event` unless max_running hooks are still alive.
  HookLaunch launch(const HookEvent& event);
  // Collects every hook that has finished, without waiting.
  std::vector<HookExit> reap();

  std::size_t running() const { return running_.size(); }
  std::uint64_t skipped() const { return skipped_; }
  std::size_t max_running() const { return max_running_; }

 private:
  std::vector<std::string> command_;
  std::size_t max_running_;
  std::vector<pid_t> running_;
  std::uint64_t skipped_ = 0;
};

}  // namespace earshot::listen
