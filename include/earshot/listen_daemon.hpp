// `earshot listen`: the live trigger-word daemon, assembled from the listen_* pieces.
//
//   producer (PortAudio callback, or the --input replay thread)
//      -> CaptureBuffer (lock-free ring) -> ListenWorker thread -> JSON lines on stdout
//                                                               -> --exec hooks, --save-dir clips
//   main thread: device supervision (reopen with backoff) or waiting for the replay to end
//   signal thread: SIGINT/SIGTERM -> stop; SIGHUP -> reload the model file
//
// Stopping: the producer stops first, the worker then drains everything already captured,
// writes queued clips and a final status line, and run_listen returns.
// If a capture stream ever had to be abandoned (its close hung in the sound libraries;
// listen_device_supervisor.hpp), the caller must then leave with std::_Exit.
#pragma once

#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "earshot/listen_worker.hpp"

namespace earshot::listen {

struct ListenOptions {
  std::filesystem::path model_path;
  std::string device;  // --device: "" default input, an index, or (part of) a name
  std::optional<std::filesystem::path> input;  // --input: replay a file instead of a device
  bool fast = false;                           // --fast: replay as fast as the worker goes
  std::vector<std::string> exec_command;       // --exec CMD ARGS...
  std::size_t max_running_hooks = HookRunner::kDefaultMaxRunning;
  std::optional<std::filesystem::path> save_dir;
  double status_every_s = 10.0;
  // --device-timeout: how long listing, opening, starting or closing devices may take before
  // the daemon abandons the call (listen_device_supervisor.hpp).
  double device_timeout_s = 10.0;
  ThresholdChoice threshold;
};

// How listening ended.
enum class ListenEnd {
  kFinished,  // the input ended or a stop was requested
  // The same, but a call into the sound libraries (a close, or an open cut short by the stop)
  // had to be abandoned on the way: a thread stuck there still owns its stream and the
  // capture buffer it wrote into (deliberately never freed). Leave the process with
  // std::_Exit: a normal exit would run the libraries' clean-up against that thread.
  kStreamAbandoned,
  // Opening or starting the device hung in the sound libraries (a frozen sound server), or
  // the worker failed after a stream was abandoned: reported as an error line, the stream
  // abandoned as above, and listening given up. Leave with std::_Exit and a failure status,
  // so that a service manager starts the daemon afresh.
  kDeviceHung,
};

// Runs until the input ends (--input) or SIGINT/SIGTERM. Throws
// earshot::Error when listening cannot start (bad model, options, file or device), after
// writing the same message as an error line to `out`.
ListenEnd run_listen(const ListenOptions& options, std::FILE* out);

// `--list-devices`: one line per input device PortAudio sees, default marked with '*'.
// Returns false, having printed nothing, if the scan did not finish within `timeout_s` (a
// frozen sound server): a thread stuck in the sound libraries is then left behind, so leave
// the process with std::_Exit.
[[nodiscard]] bool print_input_devices(std::FILE* out, double timeout_s);

}  // namespace earshot::listen
