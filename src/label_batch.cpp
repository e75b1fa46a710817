// One file through a Detector, and a batch of files on worker threads (label_batch.hpp).
//
// Threads exist here only, in the batch runner: each worker owns a Detector (front end and
// model state) over the one shared Model and takes the next file index from an atomic
// counter. Finished outcomes wait in their input slot until every earlier one has been
// delivered, so output order never depends on timing.
#include "earshot/label_batch.hpp"

#include <fmt/format.h>
#include <fmt/std.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>

#include "earshot/audio_io.hpp"
#include "earshot/error.hpp"

namespace earshot {
namespace fs = std::filesystem;

FileLabels label_file(Detector& detector, const fs::path& path, const LabelFileOptions& options,
                      const std::function<void(double)>& progress) {
  if (options.block_samples == 0) throw Error("label_file: block_samples must be positive");
  const int sample_rate = detector.model().metadata().frontend.sample_rate;
  if (sample_rate != kSampleRate) {
    throw Error(fmt::format("the model expects {} Hz audio, but files are read at {} Hz",
                            sample_rate, kSampleRate));
  }
  detector.reset();
  AudioFileReader reader(path);
  FileLabels labels;
  if (options.keep_envelope) {
    labels.envelope = WaveformEnvelope::for_duration(reader.duration_s(), sample_rate);
  }
  std::vector<float> block;
  block.reserve(options.block_samples);
  std::size_t samples_read = 0;
  const double expected_samples = std::max(reader.duration_s() * sample_rate, 1.0);
  for (;;) {
    block.clear();
    if (reader.read(block, options.block_samples) == 0) break;
    samples_read += block.size();
    try {
      detector.accept_waveform(block, labels.detections,
                               options.keep_steps ? &labels.steps : nullptr);
    } catch (const Error& e) {
      throw Error(fmt::format("audio file {}: {}", path, e.what()));
    }
    if (labels.envelope) labels.envelope->add(block);
    if (progress) progress(std::min(1.0, static_cast<double>(samples_read) / expected_samples));
  }
  labels.duration_s = static_cast<double>(samples_read) / sample_rate;
  return labels;
}

namespace {

// Shared between the calling thread and the workers.
class BatchState {
 public:
  BatchState(std::size_t files, std::size_t workers)
      : outcomes_(files), worker_fraction_(workers) {}

  std::optional<std::size_t> take_next() {
    if (stopping_.load()) return std::nullopt;
    const std::size_t index = next_.fetch_add(1);
    if (index >= outcomes_.size()) return std::nullopt;
    return index;
  }

  void finish(std::size_t index, LabelOutcome outcome, std::size_t worker) {
    {
      const std::lock_guard lock(mutex_);
      outcomes_[index] = std::move(outcome);
      ++finished_;
    }
    worker_fraction_[worker].store(0.0);
    ready_.notify_one();
  }

  void set_worker_fraction(std::size_t worker, double fraction) {
    worker_fraction_[worker].store(fraction);
  }

  // Waits until outcome `index` is there (true) or the wait times out (false).
  bool wait_for(std::size_t index, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return ready_.wait_for(lock, timeout, [&] { return outcomes_[index].has_value(); });
  }

  LabelOutcome take(std::size_t index) {
    const std::lock_guard lock(mutex_);
    LabelOutcome outcome = std::move(*outcomes_[index]);
    outcomes_[index].reset();
    return outcome;
  }

  double fraction_done() {
    double done = 0;
    {
      const std::lock_guard lock(mutex_);
      done = static_cast<double>(finished_);
    }
    for (const auto& fraction : worker_fraction_)
      done += fraction.load();
    return std::min(1.0, done / static_cast<double>(std::max<std::size_t>(outcomes_.size(), 1)));
  }

  void stop() { stopping_.store(true); }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::vector<std::optional<LabelOutcome>> outcomes_;
  std::size_t finished_ = 0;
  std::atomic<std::size_t> next_{0};
  std::atomic<bool> stopping_{false};
  std::vector<std::atomic<double>> worker_fraction_;
};

LabelOutcome label_one(Detector& detector, const fs::path& path, const LabelFileOptions& options,
                       const std::function<void(double)>& progress) {
  LabelOutcome outcome;
  try {
    outcome.labels = label_file(detector, path, options, progress);
  } catch (const std::exception& e) {
    outcome.error = e.what();
  }
  return outcome;
}

void run_worker(std::size_t worker, Detector detector, std::span<const fs::path> files,
                const LabelFileOptions& options, BatchState& state) {
  const auto progress = [&state, worker](double fraction) {
    state.set_worker_fraction(worker, fraction);
  };
  while (const std::optional<std::size_t> index = state.take_next()) {
    state.finish(*index, label_one(detector, files[*index], options, progress), worker);
  }
}

void deliver_in_order(std::size_t count, BatchState& state, const BatchCallbacks& callbacks) {
  constexpr std::chrono::milliseconds kProgressInterval{200};
  for (std::size_t index = 0; index < count; ++index) {
    while (!state.wait_for(index, kProgressInterval)) {
      if (callbacks.progress) callbacks.progress(state.fraction_done());
    }
    LabelOutcome outcome = state.take(index);
    if (callbacks.deliver) callbacks.deliver(index, outcome);
    if (callbacks.progress) callbacks.progress(state.fraction_done());
  }
}

}  // namespace

void label_files(std::shared_ptr<const Model> model, const DetectorConfig& config,
                 std::span<const fs::path> files, const LabelFileOptions& options, int threads,
                 const BatchCallbacks& callbacks) {
  if (files.empty()) return;
  const std::size_t workers =
      std::min(files.size(), static_cast<std::size_t>(std::max(threads, 1)));
  // Detectors are built here, so a bad config throws before any thread starts.
  std::vector<Detector> detectors;
  for (std::size_t w = 0; w < workers; ++w)
    detectors.emplace_back(model, config);

  BatchState state(files.size(), workers);
  std::exception_ptr failure;
  {
    std::vector<std::jthread> pool;
    for (std::size_t w = 0; w < workers; ++w) {
      pool.emplace_back(run_worker, w, std::move(detectors[w]), files, std::cref(options),
                        std::ref(state));
    }
    try {
      deliver_in_order(files.size(), state, callbacks);
    } catch (...) {
      failure = std::current_exception();
      state.stop();
    }
  }
  if (failure) std::rethrow_exception(failure);
}

}  // namespace earshot
