#include "earshot/listen_daemon.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <exception>
#include <memory>
#include <thread>
#include <vector>

#include "earshot/error.hpp"
#include "earshot/listen_deadline.hpp"
#include "earshot/listen_device_supervisor.hpp"
#include "earshot/listen_file_replay.hpp"
#include "earshot/listen_signals.hpp"
#include "earshot/listen_stop_token.hpp"

namespace earshot::listen {
namespace {

// Ring room: 4 s of 48 kHz stereo from a device (about 2 MiB), 4 s of 16 kHz mono from a file.
constexpr double kCaptureBuffer_s = 4.0;
constexpr CaptureFormat kLargestExpectedDeviceFormat{48000.0, 2};

void validate(const ListenOptions& options) {
  if (!(options.device_timeout_s > 0)) {
    throw Error(fmt::format("--device-timeout must be > 0 s, got {}", options.device_timeout_s));
  }
  if (!(options.status_every_s >= 0)) {
    throw Error(fmt::format("--status-every must be >= 0 s, got {}", options.status_every_s));
  }
  if (options.fast && !options.input) throw Error("--fast only applies to --input FILE");
  if (options.input && !options.device.empty()) {
    throw Error("give either --input FILE or --device, not both");
  }
  if (!options.exec_command.empty()) check_hook_command(options.exec_command);
}

// 16000 rather than 16000.0 for the usual whole-number rates.
nlohmann::json rate_json(double sample_rate) {
  if (sample_rate == std::floor(sample_rate)) return static_cast<std::int64_t>(sample_rate);
  return sample_rate;
}

nlohmann::json started_event(const std::string& source, const CaptureFormat& format,
                             const ListenOptions& options, const Model& model) {
  return {{"type", "started"},
          {"source", source},
          {"sample_rate", rate_json(format.sample_rate)},
          {"channels", format.channels},
          {"model", options.model_path.string()},
          {"keywords", model.metadata().keywords},
          {"threshold", detector_config_for(model, options.threshold).threshold},
          {"wall_time", format_wall_time(std::chrono::system_clock::now())}};
}

void wait_until_adopted(CaptureBuffer& capture, StopToken& stop) {
  while (!capture.wait_format_adopted(std::chrono::milliseconds(100)) && !stop.requested()) {
  }
}

void replay_file(const ListenOptions& options, const Model& model, CaptureBuffer& capture,
                 EventSink& sink, StopToken& stop) {
  const std::filesystem::path& path = *options.input;
  FileReplay replay(path, capture, options.fast ? ReplayPacing::kFast : ReplayPacing::kRealTime,
                    [&sink, &path](const std::string& message) {
                      sink.error(fmt::format("reading '{}' failed: {}", path.string(), message));
                    });
  capture.announce_format(FileReplay::format());
  wait_until_adopted(capture, stop);
  sink.emit(started_event(path.string(), FileReplay::format(), options, model));
  replay.start();
  replay.wait(stop);
  replay.stop();
}

SupervisionEnd listen_to_device(const ListenOptions& options, const Model& model,
                                CaptureBuffer& capture, EventSink& sink, StopToken& stop) {
  SupervisorSettings settings;
  settings.device_timeout_s = options.device_timeout_s;
  return supervise_device(
      options.device, capture, sink, stop, settings, [&](const DeviceCapture& stream) {
        sink.emit(started_event(stream.device().name, stream.format(), options, model));
      });
}

std::unique_ptr<DetectionClipSaver> make_clip_saver(const ListenOptions& options, EventSink& sink) {
  if (!options.save_dir) return nullptr;
  ClipSaverConfig config;
  config.directory = *options.save_dir;
  ClipSaverCallbacks callbacks;
  callbacks.on_saved = [&sink](const SavedClip& clip) {
    sink.emit({{"type", "saved"},
               {"keyword", clip.keyword},
               {"time_s", std::round(clip.time_s * 1000) / 1000},
               {"path", clip.path.string()},
               {"samples", clip.samples}});
  };
  callbacks.on_error = [&sink](const std::string& message) {
    sink.error(fmt::format("saving a detection clip failed: {}", message));
  };
  return std::make_unique<DetectionClipSaver>(std::move(config), std::move(callbacks));
}

ListenEnd listen(const ListenOptions& options, EventSink& sink) {
  validate(options);
  std::shared_ptr<const Model> model = load_listen_model(options.model_path);
  detector_config_for(*model, options.threshold);  // a bad --threshold fails before any thread

  // A closed stdout or a hook that exits early must not kill the daemon with SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  StopToken stop;
  ModelHandoff reloads;
  // Before any other thread starts, so that they all inherit the blocked signals.
  SignalWatcher signals(
      {[&stop] { stop.request(); },
       [&options, &reloads, &sink] {
         try {
           reloads.offer(load_listen_model(options.model_path));
         } catch (const Error& e) {
           sink.error(fmt::format("model reload failed, keeping the current model: {}", e.what()));
         }
       }});

  // On the heap, so that it can outlive this function (see the end).
  auto capture_owner = std::make_unique<CaptureBuffer>(ring_capacity_for(
      options.input ? FileReplay::format() : kLargestExpectedDeviceFormat, kCaptureBuffer_s));
  CaptureBuffer& capture = *capture_owner;
  std::unique_ptr<HookRunner> hooks;
  if (!options.exec_command.empty()) {
    hooks = std::make_unique<HookRunner>(options.exec_command, options.max_running_hooks);
  }
  std::unique_ptr<DetectionClipSaver> saver = make_clip_saver(options, sink);
  WorkerSettings settings;
  settings.status_every_s = options.status_every_s;
  ListenWorker worker({&capture, &sink, hooks.get(), saver.get(), &reloads}, model,
                      options.threshold, settings);

  std::exception_ptr worker_failure;
  std::thread worker_thread([&] {
    try {
      worker.run();
    } catch (...) {
      worker_failure = std::current_exception();
      stop.request();
    }
  });
  std::exception_ptr producer_failure;
  SupervisionEnd device_end = SupervisionEnd::kStopped;
  try {
    if (options.input) {
      replay_file(options, *model, capture, sink, stop);
    } else {
      device_end = listen_to_device(options, *model, capture, sink, stop);
    }
  } catch (...) {
    producer_failure = std::current_exception();
  }
  if (producer_failure) {
    worker.cancel();  // listening never started: nothing to drain or report
  } else {
    worker.end_of_input();
  }
  worker_thread.join();
  // An abandoned stream's stuck thread still points at the buffer, so it is never freed then.
  if (device_end != SupervisionEnd::kStopped) static_cast<void>(capture_owner.release());
  if (producer_failure) std::rethrow_exception(producer_failure);
  if (worker_failure && device_end != SupervisionEnd::kStopped) {
    // The worker's failure stopped the supervisor, which abandoned a stream on the way: report
    // it here and leave as after a hang (no normal exit with a thread stuck in the libraries).
    try {
      std::rethrow_exception(worker_failure);
    } catch (const std::exception& e) {
      sink.error(e.what());
    }
    return ListenEnd::kDeviceHung;
  }
  if (worker_failure) std::rethrow_exception(worker_failure);
  switch (device_end) {
    case SupervisionEnd::kStopped:
      return ListenEnd::kFinished;
    case SupervisionEnd::kStoppedAbandoning:
      return ListenEnd::kStreamAbandoned;
    case SupervisionEnd::kDeviceHung:
      return ListenEnd::kDeviceHung;
  }
  return ListenEnd::kFinished;
}

}  // namespace

ListenEnd run_listen(const ListenOptions& options, std::FILE* out) {
  EventSink sink(out);
  try {
    return listen(options, sink);
  } catch (const std::exception& e) {
    sink.error(e.what());
    throw;
  }
}

bool print_input_devices(std::FILE* out, double timeout_s) {
  // The scan connects to the sound server, which can hang (see ListenOptions::device_timeout_s):
  // it runs on a helper thread that owns the session and the listing.
  auto listing = std::make_shared<std::vector<InputDevice>>();
  if (!finish_within(std::chrono::duration<double>(timeout_s), [listing] {
        PortAudioSession session;
        *listing = session.input_devices();
      })) {
    return false;
  }
  if (listing->empty()) {
    fmt::print(out, "no audio input devices found\n");
    return true;
  }
  fmt::print(out, "   index  name  (host API, input channels, default rate); * = default\n");
  for (const InputDevice& device : *listing) {
    fmt::print(out, "{} {:>5}  {}  ({}, {} ch, {:.0f} Hz)\n", device.is_default ? '*' : ' ',
               device.index, device.name, device.host_api, device.max_input_channels,
               device.default_sample_rate);
  }
  return true;
}

}  // namespace earshot::listen
