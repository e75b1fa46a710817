// `earshot listen`: the live trigger-word daemon (library: include/earshot/listen_*.hpp).
#include <fmt/core.h>

#include <cstdio>
#include <cstdlib>
#include <optional>

#include "command.hpp"
#include "earshot/listen_daemon.hpp"

namespace earshot::cli::listen_command {
namespace {

struct ListenFlags {
  listen::ListenOptions options;
  std::string model = "models/activate.earshot";
  std::string input;
  std::string save_dir;
  std::optional<float> threshold;
  std::optional<float> sensitivity;
  bool exec = false;
  bool list_devices = false;
};

std::function<int()> setup_listen(CLI::App& command) {
  auto flags = std::make_shared<ListenFlags>();
  // Everything after --exec's first word belongs to the hook, options included.
  command.prefix_command();
  command.add_option("--model,-m", flags->model, "Model file")->capture_default_str();
  auto* device =
      command.add_option("--device,-d", flags->options.device,
                         "Input device: index or (part of) its name; default: the system default");
  command.add_flag("--list-devices", flags->list_devices, "List input devices and exit");
  auto* input = command.add_option("--input,-i", flags->input,
                                   "Replay an audio file as if it were the microphone (real time)");
  auto* fast = command.add_flag("--fast", flags->options.fast,
                                "With --input: replay as fast as detection keeps up (never drops)");
  command.add_option("--save-dir", flags->save_dir,
                     "Save 2 s before to 0.5 s after each detection as a WAV file here");
  command
      .add_option("--status-every", flags->options.status_every_s,
                  "Seconds between status lines; 0: only the final one")
      ->check(CLI::Range(0.0, 86400.0))
      ->capture_default_str();
  command
      .add_option("--device-timeout", flags->options.device_timeout_s,
                  "Seconds that listing, opening, starting or closing devices may take; an open "
                  "that hangs longer (a frozen sound server) ends the daemon with exit 1")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  fast->needs(input);
  input->excludes(device);
  auto* threshold = command.add_option("--threshold,-t", flags->threshold,
                                       "Detection threshold in (0, 1); default: the model's");
  command
      .add_option("--sensitivity,-s", flags->sensitivity,
                  "Sensitivity in [0, 1]; 0.5 = the model's default threshold")
      ->excludes(threshold);
  command
      .add_option("--max-hooks", flags->options.max_running_hooks,
                  "Most --exec commands running at once; more detections skip the hook")
      ->capture_default_str();
  command.add_flag("--exec", flags->exec,
                   "Must come last: --exec CMD ARGS... runs CMD (no shell) on each detection, "
                   "with the JSON line on stdin and EARSHOT_KEYWORD, EARSHOT_SCORE, "
                   "EARSHOT_TIME, EARSHOT_WALL_TIME set");

  return [flags, &command]() -> int {
    if (flags->list_devices) {
      const double timeout_s = flags->options.device_timeout_s;
      if (listen::print_input_devices(stdout, timeout_s)) return kSuccess;
      fmt::print(stderr,
                 "earshot listen: listing the input devices did not finish within {} s (the "
                 "sound library hung in it: is the sound server frozen?)\n",
                 timeout_s);
      std::fflush(stdout);
      std::_Exit(kFailure);  // see print_input_devices
    }
    const std::vector<std::string> rest = command.remaining();
    if (flags->exec && rest.empty()) {
      fmt::print(stderr, "earshot listen: --exec needs a command: --exec CMD [ARGS...]\n");
      return kUsage;
    }
    if (!flags->exec && !rest.empty()) {
      fmt::print(stderr, "earshot listen: unexpected argument '{}' (hook commands follow --exec)\n",
                 rest.front());
      return kUsage;
    }
    listen::ListenOptions options = flags->options;
    options.model_path = flags->model;
    if (!flags->input.empty()) options.input = flags->input;
    if (!flags->save_dir.empty()) options.save_dir = flags->save_dir;
    options.threshold = {flags->threshold, flags->sensitivity};
    options.exec_command = rest;
    // See ListenEnd: no normal exit with a thread stuck in the sound libraries.
    switch (listen::run_listen(options, stdout)) {
      case listen::ListenEnd::kFinished:
        return kSuccess;
      case listen::ListenEnd::kStreamAbandoned:
        std::fflush(stdout);
        std::_Exit(kSuccess);
      case listen::ListenEnd::kDeviceHung:
        std::fflush(stdout);
        std::_Exit(kFailure);
    }
    return kSuccess;
  };
}

const CommandRegistration registration{
    "listen", "Listen to a microphone (or replay a file) and report trigger words as JSON lines",
    setup_listen};

}  // namespace
}  // namespace earshot::cli::listen_command
