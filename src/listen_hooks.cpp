#include "earshot/listen_hooks.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "earshot/error.hpp"

extern char** environ;

namespace earshot::listen {
namespace {

bool is_executable_file(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
         ::access(path.c_str(), X_OK) == 0;
}

// The parent's environment with the event's variables replacing any inherited ones.
std::vector<std::string> hook_environment(const HookEvent& event) {
  const std::vector<std::string> own = {
      "EARSHOT_KEYWORD=" + event.keyword,
      fmt::format("EARSHOT_SCORE={:.4f}", event.score),
      fmt::format("EARSHOT_TIME={:.3f}", event.time_s),
      "EARSHOT_WALL_TIME=" + event.wall_time,
  };
  std::vector<std::string> environment;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view variable(*entry);
    bool replaced = false;
    for (const std::string& mine : own) {
      const std::string_view name_and_equals(mine.data(), mine.find('=') + 1);
      if (variable.starts_with(name_and_equals)) replaced = true;
    }
    if (!replaced) environment.emplace_back(variable);
  }
  environment.insert(environment.end(), own.begin(), own.end());
  return environment;
}

std::vector<char*> as_argv(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (std::string& s : strings)
    pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

// Owns the pieces of one posix_spawn call so that every path out frees them.
struct SpawnSetup {
  posix_spawn_file_actions_t actions{};
  posix_spawnattr_t attributes{};

  explicit SpawnSetup(int stdin_fd) {
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, stdin_fd, STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
    // Audio devices, sockets and the other hooks' pipes stay with the daemon.
    posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);

    posix_spawnattr_init(&attributes);
    // The daemon blocks and ignores signals for its own reasons (sigwait thread, SIGPIPE);
    // a hook starts with the ordinary defaults.
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attributes, &none);
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int signal_number : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) {
      sigaddset(&defaults, signal_number);
    }
    posix_spawnattr_setsigdefault(&attributes, &defaults);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

// Writes what fits without blocking. A hook that exited before reading makes the write fail
// with EPIPE; SIGPIPE is blocked meanwhile and a pending one consumed, so it cannot kill the
// daemon whatever its signal setup.
void write_without_blocking(int fd, std::string_view data) {
  sigset_t pipe_signal;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  sigset_t previous;
  pthread_sigmask(SIG_BLOCK, &pipe_signal, &previous);
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  while (!data.empty()) {
    const ssize_t written = ::write(fd, data.data(), data.size());
    if (written > 0) {
      data.remove_prefix(static_cast<std::size_t>(written));
    } else if (written < 0 && errno == EINTR) {
      continue;
    } else {
      if (errno == EPIPE) {
        const timespec no_wait{0, 0};
        sigtimedwait(&pipe_signal, nullptr, &no_wait);
      }
      break;  // EPIPE or EAGAIN: the hook gets what was written, the daemon goes on
    }
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

}  // namespace

bool HookExit::succeeded() const {
  return WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0;
}

std::string HookExit::describe() const {
  if (WIFEXITED(wait_status)) return fmt::format("exited with status {}", WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) {
    const int signal_number = WTERMSIG(wait_status);
    return fmt::format("was killed by signal {} ({})", signal_number, strsignal(signal_number));
  }
  return fmt::format("ended with wait status {}", wait_status);
}

void check_hook_command(const std::vector<std::string>& command) {
  if (command.empty() || command.front().empty()) {
    throw Error("--exec needs a command: --exec CMD [ARGS...]");
  }
  const std::string& program = command.front();
  if (program.find('/') != std::string::npos) {
    if (!is_executable_file(program)) {
      throw Error(fmt::format("--exec: '{}' is not an executable file", program));
    }
    return;
  }
  const char* path_variable = std::getenv("PATH");
  const std::string search_path = path_variable ? path_variable : "/usr/local/bin:/usr/bin:/bin";
  std::size_t begin = 0;
  while (begin <= search_path.size()) {
    std::size_t end = search_path.find(':', begin);
    if (end == std::string::npos) end = search_path.size();
    const std::string directory = search_path.substr(begin, end - begin);
    if (is_executable_file((directory.empty() ? "." : directory) + "/" + program)) return;
    begin = end + 1;
  }
  throw Error(fmt::format("--exec: no executable '{}' on PATH ({})", program, search_path));
}

HookRunner::HookRunner(std::vector<std::string> command, std::size_t max_running)
    : command_(std::move(command)), max_running_(max_running) {
  if (command_.empty()) throw Error("hook runner: the command is empty");
  if (max_running_ == 0) throw Error("hook runner: at least one hook must be allowed to run");
}

HookRunner::~HookRunner() {
  reap();
}

HookLaunch HookRunner::launch(const HookEvent& event) {
  reap();
  if (running_.size() >= max_running_) {
    ++skipped_;
    return {HookLaunch::Result::kSkipped, -1, {}};
  }
  int stdin_pipe[2];
  if (::pipe2(stdin_pipe, O_CLOEXEC) != 0) {
    return {HookLaunch::Result::kFailed, -1, fmt::format("pipe: {}", std::strerror(errno))};
  }
  std::vector<std::string> arguments = command_;
  std::vector<std::string> environment = hook_environment(event);
  std::vector<char*> argv = as_argv(arguments);
  std::vector<char*> envp = as_argv(environment);
  pid_t pid = -1;
  int spawn_error = 0;
  {
    SpawnSetup setup(stdin_pipe[0]);
    spawn_error =
        posix_spawnp(&pid, argv[0], &setup.actions, &setup.attributes, argv.data(), envp.data());
  }
  ::close(stdin_pipe[0]);
  if (spawn_error != 0) {
    ::close(stdin_pipe[1]);
    return {HookLaunch::Result::kFailed, -1,
            fmt::format("could not start '{}': {}", command_.front(), std::strerror(spawn_error))};
  }
  running_.push_back(pid);
  write_without_blocking(stdin_pipe[1], event.json_line + "\n");
  ::close(stdin_pipe[1]);
  return {HookLaunch::Result::kStarted, pid, {}};
}

std::vector<HookExit> HookRunner::reap() {
  std::vector<HookExit> finished;
  for (auto it = running_.begin(); it != running_.end();) {
    int status = 0;
    const pid_t result = ::waitpid(*it, &status, WNOHANG);
    if (result == *it) {
      finished.push_back({*it, status});
      it = running_.erase(it);
    } else if (result < 0 && errno != EINTR) {
      it = running_.erase(it);  // ECHILD: nothing left to wait for
    } else {
      ++it;
    }
  }
  return finished;
}

}  // namespace earshot::listen
