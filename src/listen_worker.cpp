#include "earshot/listen_worker.hpp"

#include <fmt/format.h>

#include <cmath>
#include <thread>

#include "earshot/error.hpp"

namespace earshot::listen {
namespace {

constexpr std::chrono::milliseconds kReapInterval{100};

double seconds_between(std::chrono::steady_clock::time_point a,
                       std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

}  // namespace

DetectorConfig detector_config_for(const Model& model, const ThresholdChoice& choice) {
  if (choice.threshold && choice.sensitivity) {
    throw Error("give either --threshold or --sensitivity, not both");
  }
  DetectorConfig config = DetectorConfig::for_model(model);
  if (choice.threshold) config.threshold = *choice.threshold;
  if (choice.sensitivity) {
    config.threshold = DetectorConfig::threshold_for_sensitivity(
        *choice.sensitivity, model.metadata().default_threshold);
  }
  config.validate();
  return config;
}

ListenWorker::ListenWorker(WorkerParts parts, std::shared_ptr<const Model> model,
                           ThresholdChoice threshold, WorkerSettings settings)
    : parts_(parts),
      threshold_(threshold),
      settings_(settings),
      detector_(model, detector_config_for(*model, threshold)),
      chunk_(settings.read_chunk_samples) {
  if (!parts_.capture || !parts_.sink) throw Error("listen worker: capture buffer and sink needed");
  if (settings_.read_chunk_samples < 2 || settings_.read_chunk_samples % 2 != 0) {
    throw Error("listen worker: the read chunk must be an even number of samples");
  }
  if (!(settings_.status_every_s >= 0)) {
    throw Error(fmt::format("--status-every must be >= 0 s, got {}", settings_.status_every_s));
  }
}

void ListenWorker::run() {
  const Clock::time_point start = Clock::now();
  next_status_ = start + std::chrono::duration_cast<Clock::duration>(
                             std::chrono::duration<double>(settings_.status_every_s));
  next_reap_ = start;
  while (!cancelled_.load(std::memory_order_acquire)) {
    // Read the flag before the buffer: producers stop before it is set, so an empty read
    // after seeing it means nothing more can come.
    const bool ending = input_ended_.load(std::memory_order_acquire);
    const std::size_t count = parts_.capture->read(chunk_);
    if (count > 0) {
      process(std::span<const float>(chunk_).first(count));
    } else if (const auto format = parts_.capture->adopt_announced_format()) {
      adopt_format(*format);
    } else if (ending) {
      break;
    } else {
      std::this_thread::sleep_for(settings_.idle_sleep);
    }
    housekeeping(Clock::now());
  }
  if (!cancelled_.load(std::memory_order_acquire)) flush_resampler();
  if (parts_.saver) parts_.saver->finish();
  if (cancelled_.load(std::memory_order_acquire)) return;
  report_lost_audio(Clock::now(), /*force=*/true);
  report_finished_hooks();
  emit_status(true);
}

void ListenWorker::process(std::span<const float> interleaved) {
  const Clock::time_point started = Clock::now();
  const std::size_t channels = static_cast<std::size_t>(format_.channels);
  const std::size_t frames = interleaved.size() / channels;
  mono_.resize(frames);
  for (std::size_t frame = 0; frame < frames; ++frame) {
    float sum = 0.0f;
    for (std::size_t channel = 0; channel < channels; ++channel) {
      sum += interleaved[frame * channels + channel];
    }
    const float mixed = sum / static_cast<float>(channels);
    // A device glitch must not become a NaN that poisons every later feature frame.
    mono_[frame] = std::isfinite(mixed) ? mixed : 0.0f;
  }
  const std::uint64_t fed_before = samples_fed_;
  if (resampler_) {
    resampled_.clear();
    resampler_->process(mono_, resampled_);
    feed(resampled_);
  } else {
    feed(mono_);
  }
  meter_.add_processing(static_cast<double>(samples_fed_ - fed_before) / kSampleRate,
                        seconds_between(started, Clock::now()));
}

void ListenWorker::feed(std::span<const float> samples) {
  if (samples.empty()) return;
  events_.clear();
  detector_.accept_waveform(samples, events_);
  samples_fed_ += samples.size();
  if (parts_.saver) parts_.saver->append(samples);
  for (Detection& detection : events_)
    publish(detection);
}

void ListenWorker::publish(Detection& detection) {
  detection.time_s += stream_offset_s_;
  detection.start_s += stream_offset_s_;
  detection.end_s += stream_offset_s_;
  const auto wall_time = std::chrono::system_clock::now();
  const nlohmann::json event = detection_event(detection, wall_time);
  parts_.sink->emit(event);
  detections_.fetch_add(1, std::memory_order_relaxed);
  if (parts_.hooks) launch_hook(event, detection);
  if (parts_.saver) parts_.saver->schedule(detection, wall_time);
}

void ListenWorker::launch_hook(const nlohmann::json& event, const Detection& detection) {
  const HookEvent hook_event{detection.keyword, detection.score, detection.time_s,
                             event.value("wall_time", ""), event_line(event)};
  const HookLaunch launch = parts_.hooks->launch(hook_event);
  if (launch.result == HookLaunch::Result::kSkipped) {
    parts_.sink->warning(fmt::format(
        "hook skipped for the detection at {:.3f} s: {} hooks are still running (the limit)",
        detection.time_s, parts_.hooks->max_running()));
  } else if (launch.result == HookLaunch::Result::kFailed) {
    parts_.sink->error(fmt::format("hook for the detection at {:.3f} s failed: {}",
                                   detection.time_s, launch.error));
  }
}

void ListenWorker::adopt_format(const CaptureFormat& format) {
  flush_resampler();
  format_ = format;
  if (std::abs(format.sample_rate - kSampleRate) > 1e-6) {
    resampler_.emplace(format.sample_rate, kSampleRate);
  } else {
    resampler_.reset();
  }
}

void ListenWorker::flush_resampler() {
  if (!resampler_) return;
  resampled_.clear();
  resampler_->flush(resampled_);
  feed(resampled_);
}

void ListenWorker::housekeeping(Clock::time_point now) {
  if (parts_.reloads) swap_in_reloaded_model();
  report_lost_audio(now);
  if (parts_.hooks && now >= next_reap_) {
    report_finished_hooks();
    next_reap_ = now + kReapInterval;
  }
  if (settings_.status_every_s > 0 && now >= next_status_) {
    emit_status(false);
    const auto every = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(settings_.status_every_s));
    next_status_ += every;
    if (next_status_ <= now) next_status_ = now + every;  // after a stall, no burst of lines
  }
}

void ListenWorker::swap_in_reloaded_model() {
  std::shared_ptr<const Model> model = parts_.reloads->take();
  if (!model) return;
  try {
    Detector replacement(model, detector_config_for(*model, threshold_));
    // The new detector's clock starts at zero; events keep counting from the stream start.
    // A word being spoken right at the swap may be missed: its start went to the old model.
    detector_ = std::move(replacement);
    stream_offset_s_ = static_cast<double>(samples_fed_) / kSampleRate;
    parts_.sink->emit({{"type", "reloaded"},
                       {"keywords", model->metadata().keywords},
                       {"threshold", detector_.config().threshold},
                       {"time_s", stream_offset_s_}});
  } catch (const Error& e) {
    parts_.sink->error(fmt::format("model reload failed, keeping the current model: {}", e.what()));
  }
}

void ListenWorker::report_lost_audio(Clock::time_point now, bool force) {
  const std::uint64_t overruns = parts_.capture->overrun_samples();
  const std::uint64_t overflows = parts_.capture->input_overflows();
  if (overruns == reported_overruns_ && overflows == reported_overflows_) return;
  if (!force && now - last_warning_ < settings_.min_warning_interval) return;
  parts_.sink->emit(
      {{"type", "warning"},
       {"message", fmt::format("audio lost: {} samples dropped because processing "
                               "fell behind, {} device input overflows",
                               overruns - reported_overruns_, overflows - reported_overflows_)},
       {"overruns", overruns},
       {"input_overflows", overflows}});
  reported_overruns_ = overruns;
  reported_overflows_ = overflows;
  last_warning_ = now;
}

void ListenWorker::report_finished_hooks() {
  if (!parts_.hooks) return;
  for (const HookExit& exit : parts_.hooks->reap()) {
    if (!exit.succeeded()) {
      parts_.sink->warning(fmt::format("hook (pid {}) {}", exit.pid, exit.describe()));
    }
  }
}

void ListenWorker::emit_status(bool final) {
  const MeterReading reading = meter_.take();
  StatusSnapshot status;
  status.audio_s = static_cast<double>(samples_fed_) / kSampleRate;
  status.overruns = parts_.capture->overrun_samples();
  status.input_overflows = parts_.capture->input_overflows();
  status.cpu_percent = reading.cpu_percent;
  status.real_time_factor = reading.real_time_factor;
  status.detections = detections();
  status.hooks_skipped = parts_.hooks ? parts_.hooks->skipped() : 0;
  status.final = final;
  parts_.sink->emit(status_event(status));
}

}  // namespace earshot::listen
