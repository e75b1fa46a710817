// The listen worker: everything that happens to captured audio after the real-time callback.
//
// One thread runs ListenWorker::run(). It drains the capture buffer, mixes the channels down
// to mono, resamples to 16 kHz (libsoxr) when the device runs at another rate, and feeds the
// Detector. Each detection becomes a JSON line, a hook launch (--exec) and a saved clip
// (--save-dir). Between chunks it also: adopts a new capture format (after a device was
// reopened), swaps in a reloaded model (SIGHUP), reports lost audio when the overrun or
// input-overflow counters grew, reaps finished hooks, and writes the periodic status line.
// Until a format is adopted, samples are taken to be 16 kHz mono.
// When the buffer is empty it sleeps a few milliseconds rather than waiting on a semaphore:
// the callback must never have to signal anything.
//
// After end_of_input() it processes what is left in the buffer and the resampler's tail,
// writes the queued clips, emits a final status line ("final":true) and returns.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "earshot/audio_io.hpp"
#include "earshot/detector.hpp"
#include "earshot/listen_capture_buffer.hpp"
#include "earshot/listen_clip_saver.hpp"
#include "earshot/listen_events.hpp"
#include "earshot/listen_hooks.hpp"
#include "earshot/listen_model_reload.hpp"
#include "earshot/listen_status_meter.hpp"
#include "earshot/model.hpp"

namespace earshot::listen {

// --threshold T or --sensitivity S (at most one); neither means the model's default.
struct ThresholdChoice {
  std::optional<float> threshold;
  std::optional<float> sensitivity;
};

// The detector settings for `model` under `choice`. Throws earshot::Error if the choice is
// out of range. Computed afresh for a reloaded model, whose default threshold may differ.
DetectorConfig detector_config_for(const Model& model, const ThresholdChoice& choice);

struct WorkerSettings {
  double status_every_s = 10.0;  // 0: only the final status line
  std::chrono::duration<double> idle_sleep{0.005};
  std::chrono::duration<double> min_warning_interval{
      1.0};                               // lost-audio warnings at most this often
  std::size_t read_chunk_samples = 4096;  // even, so stereo frames stay whole
};

// The worker's collaborators; the optional ones may be null. None is owned.
struct WorkerParts {
  CaptureBuffer* capture = nullptr;
  EventSink* sink = nullptr;
  HookRunner* hooks = nullptr;
  DetectionClipSaver* saver = nullptr;
  ModelHandoff* reloads = nullptr;
};

class ListenWorker {
 public:
  // Throws earshot::Error if the threshold choice is invalid for the model.
  ListenWorker(WorkerParts parts, std::shared_ptr<const Model> model, ThresholdChoice threshold,
               WorkerSettings settings = {});

  // The worker thread's body; returns after end_of_input() and the last sample.
  void run();
  // Any thread, once every producer has stopped: no more samples will be delivered.
  void end_of_input() { input_ended_.store(true, std::memory_order_release); }
  // Any thread, when listening failed to start: run() returns soon, without draining the
  // buffer and without a final status line (there was nothing to report on).
  void cancel() { cancelled_.store(true, std::memory_order_release); }

  // Totals so far (any thread).
  std::uint64_t detections() const { return detections_.load(std::memory_order_relaxed); }

 private:
  using Clock = std::chrono::steady_clock;

  void process(std::span<const float> interleaved);
  void feed(std::span<const float> samples);
  void publish(Detection& detection);
  void launch_hook(const nlohmann::json& event, const Detection& detection);
  void adopt_format(const CaptureFormat& format);
  void flush_resampler();
  void housekeeping(Clock::time_point now);
  void swap_in_reloaded_model();
  // Rate-limited to one line per min_warning_interval unless forced (the last one at exit).
  void report_lost_audio(Clock::time_point now, bool force = false);
  void report_finished_hooks();
  void emit_status(bool final);

  WorkerParts parts_;
  ThresholdChoice threshold_;
  WorkerSettings settings_;
  Detector detector_;
  double stream_offset_s_ = 0;  // where the current detector's clock starts (model reloads)

  CaptureFormat format_;
  std::optional<Resampler> resampler_;
  std::vector<float> chunk_;
  std::vector<float> mono_;
  std::vector<float> resampled_;
  std::vector<Detection> events_;

  std::atomic<bool> input_ended_{false};
  std::atomic<bool> cancelled_{false};
  std::atomic<std::uint64_t> detections_{0};
  std::uint64_t samples_fed_ = 0;
  std::uint64_t reported_overruns_ = 0;
  std::uint64_t reported_overflows_ = 0;
  Clock::time_point last_warning_{};
  Clock::time_point next_status_{};
  Clock::time_point next_reap_{};
  StatusMeter meter_;
};

}  // namespace earshot::listen
