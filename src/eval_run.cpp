// Whole evaluations: build or read the streams, score them in parallel, sweep thresholds.
#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <functional>
#include <iterator>
#include <mutex>
#include <thread>

#include "earshot/audio_io.hpp"
#include "earshot/error.hpp"
#include "earshot/eval.hpp"

namespace earshot {

namespace {

// Runs task(i) for i in [0, count) on `threads` threads; rethrows the first failure.
void parallel_for(std::size_t count, int threads, const std::function<void(std::size_t)>& task) {
  std::atomic<std::size_t> next{0};
  std::exception_ptr failure;
  std::mutex failure_mutex;
  auto worker = [&] {
    for (std::size_t i = next++; i < count; i = next++) {
      try {
        task(i);
      } catch (...) {
        const std::lock_guard lock(failure_mutex);
        if (!failure) failure = std::current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < std::max(1, threads); ++t)
    pool.emplace_back(worker);
  worker();
  for (std::thread& thread : pool)
    thread.join();
  if (failure) std::rethrow_exception(failure);
}

ConditionResult summarise(std::string name, const std::vector<ScoredStream>& streams,
                          const DetectionTiming& timing) {
  ConditionResult result;
  result.name = std::move(name);
  result.streams = streams.size();
  for (const ScoredStream& stream : streams)
    result.audio_hours += stream.duration_s / 3600.0;
  result.curve = operating_curve(streams, timing, sweep_thresholds());
  result.at_default_threshold = score_at_threshold(streams, timing.post.threshold, timing);
  result.false_accepts = false_accepts_at(streams, timing.post.threshold, timing);
  result.threshold_at_headline_fa = threshold_for_fa_per_hour(result.curve, kHeadlineFaPerHour);
  result.by_voice_at_default = misses_by_voice(streams, timing.post.threshold, timing);
  result.by_voice_at_headline_fa =
      misses_by_voice(streams, result.threshold_at_headline_fa, timing);
  result.by_noise_at_default = misses_by_noise(streams, timing.post.threshold, timing);
  result.by_noise_at_headline_fa =
      misses_by_noise(streams, result.threshold_at_headline_fa, timing);
  result.false_accepts_by_word_at_headline_fa =
      false_accepts_by_word(false_accepts_at(streams, result.threshold_at_headline_fa, timing));
  result.latency_at_default = detection_latency(streams, timing.post.threshold, timing);
  result.latency_at_headline_fa =
      detection_latency(streams, result.threshold_at_headline_fa, timing);
  return result;
}

}  // namespace

std::vector<ConditionResult> evaluate_mixtures(
    const std::shared_ptr<const Model>& model, const std::vector<SourceCollection>& positives,
    const std::vector<SourceCollection>& negatives, const std::vector<SourceCollection>& noise,
    const std::vector<double>& snrs_db, EvalStreamConfig config, const DetectorConfig& post,
    int threads, const FalseAcceptAudioConfig& save_audio) {
  post.validate();
  const DetectionTiming timing = DetectionTiming::for_model(*model, post);
  std::vector<ConditionResult> results;
  for (const double snr_db : snrs_db) {
    config.snr_db = snr_db;
    const std::string name = fmt::format("snr_{:g}db", snr_db);
    std::vector<ScoredStream> streams(static_cast<std::size_t>(config.parts));
    std::vector<std::vector<SavedFalseAccept>> saved(streams.size());
    parallel_for(streams.size(), threads, [&](std::size_t part) {
      EvalAudio audio = make_eval_part(positives, negatives, noise, config, static_cast<int>(part));
      ScoredStream& stream = streams[part];
      stream = score_audio(model, audio.samples, std::move(audio.triggers),
                           fmt::format("snr {:g} dB, part {}", snr_db, part));
      stream.negatives = std::move(audio.negatives);
      stream.noise = std::move(audio.noise);
      // The mixture exists only here: its false accepts are cut out before it is dropped.
      saved[part] =
          save_false_accept_audio(stream, audio.samples, name, fmt::format("{}_part{}", name, part),
                                  post.threshold, timing, save_audio);
    });
    ConditionResult result = summarise(name, streams, timing);
    result.snr_db = snr_db;
    result.has_snr = true;
    for (std::vector<SavedFalseAccept>& part : saved)
      std::ranges::move(part, std::back_inserter(result.saved_false_accepts));
    results.push_back(std::move(result));
  }
  return results;
}

ConditionResult evaluate_recordings(const std::shared_ptr<const Model>& model,
                                    const std::filesystem::path& directory,
                                    const DetectorConfig& post, int threads,
                                    const FalseAcceptAudioConfig& save_audio) {
  post.validate();
  if (!std::filesystem::is_directory(directory)) {
    throw Error(fmt::format("recordings directory '{}' does not exist", directory.string()));
  }
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(directory)) {
    if (entry.is_regular_file() && has_audio_extension(entry.path())) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    throw Error(fmt::format("recordings directory '{}' holds no audio file", directory.string()));
  }
  const DetectionTiming timing = DetectionTiming::for_model(*model, post);
  std::vector<ScoredStream> streams(files.size());
  std::vector<std::vector<SavedFalseAccept>> saved(files.size());
  parallel_for(files.size(), threads, [&](std::size_t i) {
    std::filesystem::path labels = files[i];
    labels.replace_extension(".txt");
    std::vector<TriggerSpan> triggers;
    if (std::filesystem::exists(labels)) triggers = read_audacity_labels(labels);
    streams[i] = score_file(model, files[i], std::move(triggers));
    saved[i] =
        save_false_accept_audio(streams[i], files[i], "recordings", fmt::format("recording{}", i),
                                post.threshold, timing, save_audio);
  });
  ConditionResult result = summarise("recordings", streams, timing);
  for (std::vector<SavedFalseAccept>& recording : saved)
    std::ranges::move(recording, std::back_inserter(result.saved_false_accepts));
  return result;
}

}  // namespace earshot
