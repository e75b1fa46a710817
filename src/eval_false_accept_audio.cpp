// Hard negatives: cutting the audio each false accept fired on out of its stream.
#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "earshot/audio_io.hpp"
#include "earshot/error.hpp"
#include "earshot/eval.hpp"
#include "earshot/text_file.hpp"

namespace earshot {

namespace {

std::size_t to_sample(double seconds, std::size_t limit) {
  if (seconds <= 0) return 0;
  return std::min(limit, static_cast<std::size_t>(std::llround(seconds * kSampleRate)));
}

// The detections of `stream` at `threshold` that are false accepts, in time order, each
// with the range of audio to keep; a detection inside a trigger word keeps none.
struct Excerpt {
  FalseAccept accept;
  SampleRange range;
};

std::vector<Excerpt> excerpts_of(const ScoredStream& stream, std::size_t stream_samples,
                                 float threshold, const DetectionTiming& timing,
                                 const FalseAcceptAudioConfig& config) {
  std::vector<FalseAccept> accepts = false_accepts_at({stream}, threshold, timing);
  std::sort(accepts.begin(), accepts.end(),
            [](const FalseAccept& a, const FalseAccept& b) { return a.time_s < b.time_s; });
  std::vector<Excerpt> excerpts;
  for (FalseAccept& accept : accepts) {
    const SampleRange range =
        false_accept_excerpt(accept.time_s, stream_samples, stream.triggers, config);
    if (range.end > range.begin) excerpts.push_back({std::move(accept), range});
  }
  return excerpts;
}

std::string clip_name(const std::string& prefix, double time_s) {
  return fmt::format("{}_{:09}ms.wav", prefix, std::llround(time_s * 1000.0));
}

SavedFalseAccept write_excerpt(const Excerpt& excerpt, std::span<const float> audio,
                               const std::string& condition, const std::string& prefix,
                               const FalseAcceptAudioConfig& config) {
  SavedFalseAccept saved{clip_name(prefix, excerpt.accept.time_s), condition, excerpt.accept};
  write_audio(config.directory / saved.file, audio);
  return saved;
}

}  // namespace

SampleRange false_accept_excerpt(double time_s, std::size_t stream_samples,
                                 const std::vector<TriggerSpan>& triggers,
                                 const FalseAcceptAudioConfig& config) {
  double begin_s = time_s - config.before_s;
  double end_s = time_s + config.after_s;
  for (const TriggerSpan& trigger : triggers) {
    if (trigger.start_s <= time_s && time_s <= trigger.end_s) return {};
    if (trigger.end_s < time_s) begin_s = std::max(begin_s, trigger.end_s);
    if (trigger.start_s > time_s) end_s = std::min(end_s, trigger.start_s);
  }
  const std::size_t begin = to_sample(begin_s, stream_samples);
  return {begin, std::max(begin, to_sample(end_s, stream_samples))};
}

std::vector<SavedFalseAccept> save_false_accept_audio(const ScoredStream& stream,
                                                      std::span<const float> samples,
                                                      const std::string& condition,
                                                      const std::string& prefix, float threshold,
                                                      const DetectionTiming& timing,
                                                      const FalseAcceptAudioConfig& config) {
  std::vector<SavedFalseAccept> saved;
  if (config.directory.empty()) return saved;
  for (const Excerpt& excerpt : excerpts_of(stream, samples.size(), threshold, timing, config)) {
    const auto audio =
        samples.subspan(excerpt.range.begin, excerpt.range.end - excerpt.range.begin);
    saved.push_back(write_excerpt(excerpt, audio, condition, prefix, config));
  }
  return saved;
}

std::vector<SavedFalseAccept> save_false_accept_audio(const ScoredStream& stream,
                                                      const std::filesystem::path& recording,
                                                      const std::string& condition,
                                                      const std::string& prefix, float threshold,
                                                      const DetectionTiming& timing,
                                                      const FalseAcceptAudioConfig& config) {
  std::vector<SavedFalseAccept> saved;
  if (config.directory.empty()) return saved;
  const auto stream_samples =
      static_cast<std::size_t>(std::llround(stream.duration_s * kSampleRate));
  const std::vector<Excerpt> excerpts =
      excerpts_of(stream, stream_samples, threshold, timing, config);
  if (excerpts.empty()) return saved;
  // Read once, in order, keeping only the audio from the current excerpt's start on: a long
  // recording never has to fit in memory.
  AudioFileReader reader(recording);
  std::vector<float> window;     // the samples read and not yet dropped
  std::size_t window_start = 0;  // stream index of window[0]
  for (const Excerpt& excerpt : excerpts) {
    const std::size_t drop = std::min(window.size(), excerpt.range.begin - window_start);
    window.erase(window.begin(), window.begin() + static_cast<std::ptrdiff_t>(drop));
    window_start += drop;
    while (window_start + window.size() < excerpt.range.end &&
           reader.read(window, kSampleRate) > 0) {
    }
    const std::size_t end = std::min(excerpt.range.end, window_start + window.size());
    if (end <= excerpt.range.begin) break;  // the file is shorter than its header said
    const auto audio = std::span<const float>(window).subspan(excerpt.range.begin - window_start,
                                                              end - excerpt.range.begin);
    saved.push_back(write_excerpt(excerpt, audio, condition, prefix, config));
  }
  return saved;
}

void write_false_accept_manifest(const FalseAcceptAudioConfig& config,
                                 const std::vector<SavedFalseAccept>& saved) {
  if (config.directory.empty()) return;
  std::string text = "file\tcondition\tstream\ttime_s\tpeak_probability\tfired_on\tnoise\n";
  for (const SavedFalseAccept& clip : saved) {
    const FalseAccept& a = clip.accept;
    text += fmt::format("{}\t{}\t{}\t{:.3f}\t{:.4f}\t{}\t{}\n", clip.file, clip.condition, a.stream,
                        a.time_s, a.peak_probability, a.fired_on.empty() ? "-" : a.fired_on,
                        a.noise_source.empty() ? "-" : a.noise_source);
  }
  write_text_file(config.directory / "manifest.tsv", text);
}

}  // namespace earshot
