// Shared by the tests of `earshot listen`: a model that detects a 1 kHz tone burst, test
// recordings of tone bursts at known times, and a child-process runner for the daemon.
//
// Why a constructed model: these tests check the daemon's plumbing (capture, hand-off,
// resampling, timing, hooks, files, signals), so they need a detector whose answer is known
// exactly and does not depend on training. The tone model's weights are set by hand: its
// convolution measures how far the mel band holding 1 kHz stands above the bands four
// either side, the GRU passes that through (update gate held shut), and the output is ~1
// while a 1 kHz tone sounds and ~0 in silence or for other tones.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "earshot/audio_io.hpp"
#include "earshot/frontend.hpp"
#include "earshot/model.hpp"
#include "earshot/model_file.hpp"

extern char** environ;

namespace earshot::listen_test {

inline constexpr double kToneHz = 1000.0;
inline constexpr double kDistractorHz = 3000.0;
inline constexpr double kBurst_s = 0.4;
// A tone burst is detected this soon after it starts (conv window + two steps above threshold).
inline constexpr double kMaxDetectionDelay_s = 0.3;

// The mel band with the most energy for a steady tone at `frequency_hz`.
inline int loudest_band(double frequency_hz, const FrontEndConfig& frontend) {
  std::vector<float> tone(static_cast<std::size_t>(frontend.window_samples));
  for (std::size_t i = 0; i < tone.size(); ++i) {
    tone[i] = 0.3f * static_cast<float>(std::sin(2 * M_PI * frequency_hz * static_cast<double>(i) /
                                                 frontend.sample_rate));
  }
  const std::vector<float> frame = compute_features(tone, frontend);
  return static_cast<int>(std::max_element(frame.begin(), frame.end()) - frame.begin());
}

inline std::shared_ptr<const Model> make_tone_model(const std::string& keyword = "tone") {
  ModelMetadata metadata;
  metadata.keywords = {keyword};
  metadata.shape.feature_dim = metadata.frontend.feature_dim();
  metadata.shape.conv_filters = 1;
  metadata.shape.conv_kernel = 5;
  metadata.shape.conv_stride = 4;
  metadata.shape.gru_sizes = {1};
  const int dim = metadata.shape.feature_dim;
  const int kernel = metadata.shape.conv_kernel;
  metadata.feature_mean.assign(static_cast<std::size_t>(dim), 0.0f);
  metadata.feature_std.assign(static_cast<std::size_t>(dim), 1.0f);
  metadata.default_threshold = 0.5f;
  metadata.provenance = {{"constructed", "1 kHz tone detector for the listen tests"}};

  const int band = loudest_band(kToneHz, metadata.frontend);
  ModelWeights weights;
  // Mean over the window of: log energy of the tone's band minus that of bands 4 below and
  // above. About +20 for a 1 kHz tone, 0 in digital silence, negative for far tones.
  weights.conv_weights = Eigen::MatrixXf::Zero(1, kernel * dim);
  for (int t = 0; t < kernel; ++t) {
    weights.conv_weights(0, t * dim + band) = 1.0f / static_cast<float>(kernel);
    weights.conv_weights(0, t * dim + band - 4) = -0.5f / static_cast<float>(kernel);
    weights.conv_weights(0, t * dim + band + 4) = -0.5f / static_cast<float>(kernel);
  }
  weights.conv_bias = Eigen::VectorXf::Constant(1, -8.0f);
  // GRU of one unit: reset 0 (unused), update gate shut (bias -30), candidate tanh(x - 2).
  GruWeights gru;
  gru.input_weights = Eigen::MatrixXf(3, 1);
  gru.input_weights << 0.0f, 0.0f, 1.0f;
  gru.hidden_weights = Eigen::MatrixXf::Zero(3, 1);
  gru.input_bias = Eigen::VectorXf(3);
  gru.input_bias << 0.0f, -30.0f, -2.0f;
  gru.hidden_bias = Eigen::VectorXf::Zero(3);
  weights.gru = {gru};
  // tanh(x - 2) is -0.96 in silence and ~1 during the tone: sigmoid(8 h) is ~0 and ~1.
  weights.dense_weights = Eigen::VectorXf::Constant(1, 8.0f);
  weights.dense_bias = 0.0f;
  return std::make_shared<const Model>(std::move(metadata), std::move(weights));
}

inline std::filesystem::path save_tone_model(const std::filesystem::path& path,
                                             const std::string& keyword = "tone") {
  save_model(path, *make_tone_model(keyword));
  return path;
}

// Bursts of `frequency_hz` (0.4 s, amplitude 0.3, 5 ms ramps) starting at `starts_s`, in
// silence, `total_s` long, at `sample_rate`.
inline std::vector<float> tone_bursts(const std::vector<double>& starts_s, double total_s,
                                      int sample_rate = kSampleRate,
                                      double frequency_hz = kToneHz) {
  std::vector<float> audio(static_cast<std::size_t>(std::lround(total_s * sample_rate)), 0.0f);
  const double ramp_s = 0.005;
  for (const double start_s : starts_s) {
    const auto first = static_cast<std::size_t>(std::lround(start_s * sample_rate));
    const auto length = static_cast<std::size_t>(std::lround(kBurst_s * sample_rate));
    for (std::size_t i = 0; i < length && first + i < audio.size(); ++i) {
      const double t = static_cast<double>(i) / sample_rate;
      const double envelope = std::min({1.0, t / ramp_s, (kBurst_s - t) / ramp_s});
      audio[first + i] +=
          static_cast<float>(0.3 * envelope * std::sin(2 * M_PI * frequency_hz * t));
    }
  }
  return audio;
}

// Checks that `detection_times_s` hold exactly one detection per burst start, each within
// [start, start + kMaxDetectionDelay_s].
inline void check_one_detection_per_burst(const std::vector<double>& detection_times_s,
                                          const std::vector<double>& burst_starts_s) {
  INFO("detections: " << nlohmann::json(detection_times_s).dump()
                      << " bursts: " << nlohmann::json(burst_starts_s).dump());
  REQUIRE(detection_times_s.size() == burst_starts_s.size());
  for (std::size_t i = 0; i < burst_starts_s.size(); ++i) {
    CHECK(detection_times_s[i] >= burst_starts_s[i]);
    CHECK(detection_times_s[i] <= burst_starts_s[i] + kMaxDetectionDelay_s);
  }
}

// This process's environment with AddressSanitizer's leak check turned off, for a daemon that
// opens real audio devices. PortAudio's device scan makes ALSA load and later unload its
// plugin modules; what they leave behind is reported against an "<unknown module>" that no
// suppression can name. The daemon's own code is leak-checked by the --input tests.
inline std::vector<std::string> environment_for_real_audio_devices() {
  std::vector<std::string> environment;
  std::string asan_options = "ASAN_OPTIONS=detect_leaks=0";
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string_view text = *entry;
    if (text.starts_with("ASAN_OPTIONS="))
      asan_options = std::string(text) + ":detect_leaks=0";
    else
      environment.emplace_back(text);
  }
  environment.push_back(asan_options);
  return environment;
}

// A child process with its stdout on a pipe, read line by line.
class ChildProcess {
 public:
  // `environment` replaces the inherited environment when given (see
  // environment_for_real_audio_devices).
  explicit ChildProcess(const std::vector<std::string>& argv,
                        std::optional<std::vector<std::string>> environment = std::nullopt) {
    int out_pipe[2];
    REQUIRE(::pipe2(out_pipe, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
    std::vector<std::string> args = argv;
    std::vector<char*> pointers;
    for (std::string& arg : args)
      pointers.push_back(arg.data());
    pointers.push_back(nullptr);
    std::vector<char*> environment_pointers;
    if (environment) {
      for (std::string& entry : *environment)
        environment_pointers.push_back(entry.data());
      environment_pointers.push_back(nullptr);
    }
    const int error = posix_spawn(&pid_, pointers[0], &actions, nullptr, pointers.data(),
                                  environment ? environment_pointers.data() : environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out_pipe[1]);
    out_fd_ = out_pipe[0];
    REQUIRE(error == 0);
  }
  ~ChildProcess() {
    if (pid_ > 0 && !exit_status_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(out_fd_);
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }

  // The next line of stdout, or nothing at end of output or after `deadline_s` (a guard
  // against hanging, generous enough for sanitizer builds; not a timing assertion).
  std::optional<std::string> read_line(double deadline_s = 60.0) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(deadline_s);
    for (;;) {
      if (const auto newline = pending_.find('\n'); newline != std::string::npos) {
        std::string line = pending_.substr(0, newline);
        pending_.erase(0, newline + 1);
        return line;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd readable{out_fd_, POLLIN, 0};
      if (::poll(&readable, 1, static_cast<int>(left.count())) <= 0) continue;
      char buffer[4096];
      const ssize_t count = ::read(out_fd_, buffer, sizeof buffer);
      if (count <= 0) return std::nullopt;
      pending_.append(buffer, static_cast<std::size_t>(count));
    }
  }

  // Every line until the child closes stdout, parsed as JSON (non-JSON lines fail the test).
  std::vector<nlohmann::json> read_events(double deadline_s = 120.0) {
    std::vector<nlohmann::json> events;
    while (auto line = read_line(deadline_s)) {
      INFO("line: " << *line);
      REQUIRE(nlohmann::json::accept(*line));
      events.push_back(nlohmann::json::parse(*line));
    }
    return events;
  }

  // The next event of `type`, skipping others; nothing if output ends first.
  std::optional<nlohmann::json> read_until(const std::string& type, double deadline_s = 60.0) {
    while (auto line = read_line(deadline_s)) {
      const auto event = nlohmann::json::parse(*line, nullptr, false);
      if (!event.is_discarded() && event.value("type", "") == type) return event;
    }
    return std::nullopt;
  }

  // Waits for the child to exit; its wait status.
  int wait() {
    int status = 0;
    REQUIRE(::waitpid(pid_, &status, 0) == pid_);
    exit_status_ = status;
    return status;
  }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string pending_;
  std::optional<int> exit_status_;
};

inline std::vector<nlohmann::json> of_type(const std::vector<nlohmann::json>& events,
                                           const std::string& type) {
  std::vector<nlohmann::json> selected;
  for (const auto& event : events) {
    if (event.value("type", "") == type) selected.push_back(event);
  }
  return selected;
}

inline std::vector<double> detection_times(const std::vector<nlohmann::json>& events) {
  std::vector<double> times;
  for (const auto& event : of_type(events, "detection"))
    times.push_back(event["time_s"].get<double>());
  return times;
}

}  // namespace earshot::listen_test
