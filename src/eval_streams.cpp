// Evaluation streams: trigger words among negative speech over noise, at a fixed SNR.
#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <numbers>
#include <sstream>

#include "earshot/audio_io.hpp"
#include "earshot/error.hpp"
#include "earshot/eval.hpp"

namespace earshot {

namespace {

// All clips of a set of collections, in a stable order.
std::vector<const SourceClip*> all_clips(const std::vector<SourceCollection>& collections) {
  std::vector<const SourceClip*> clips;
  for (const SourceCollection& collection : collections) {
    for (const SourceClip& clip : collection.clips)
      clips.push_back(&clip);
  }
  return clips;
}

std::size_t seconds_to_samples(double seconds) {
  return static_cast<std::size_t>(std::llround(seconds * kSampleRate));
}

// The order in which the noise recordings take turns: each turn goes to the recording
// furthest behind its share (smooth weighted round-robin), so a recording of weight w gets
// w / total of the turns, spread out rather than in runs. A clip's weight is its
// collection's weight shared among the collection's clips, as when synthesis draws one.
class NoiseTurns {
 public:
  struct Recording {
    const SourceClip* clip = nullptr;
    double weight = 0;
    double rms = 0;  // measured once: a recording takes many turns
  };

  explicit NoiseTurns(const std::vector<SourceCollection>& noise) {
    for (const SourceCollection& collection : noise) {
      for (const SourceClip& clip : collection.clips) {
        const double weight = collection.weight / static_cast<double>(collection.clips.size());
        recordings_.push_back({&clip, weight, rms(clip.samples)});
        total_weight_ += weight;
      }
    }
    credit_.assign(recordings_.size(), 0.0);
  }

  const Recording& take() {
    std::size_t chosen = 0;
    for (std::size_t i = 0; i < recordings_.size(); ++i) {
      credit_[i] += recordings_[i].weight;
      // Equal shares must tie exactly, or rounding would reorder the turns from one
      // cycle to the next: anything within rounding of the best is a tie, first one wins.
      if (credit_[i] > credit_[chosen] + 1e-9 * total_weight_) chosen = i;
    }
    credit_[chosen] -= total_weight_;
    return recordings_[chosen];
  }

 private:
  std::vector<Recording> recordings_;
  std::vector<double> credit_;
  double total_weight_ = 0;
};

// Continuous noise at a fixed level: one recording looped from a random place until its
// turn is over, then the one of the part's next turn, crossfaded so the background never
// clicks.
class NoiseTrack {
 public:
  NoiseTrack(const std::vector<SourceCollection>& noise, const EvalStreamConfig& config, int part,
             SynthRng& rng)
      : turns_(noise),
        parts_(config.parts),
        level_(db_to_amplitude(rng.uniform(config.noise_dbfs_min, config.noise_dbfs_max))),
        turn_samples_(seconds_to_samples(config.noise_turn_s)),
        crossfade_samples_(seconds_to_samples(kNoiseCrossfade_s)) {
    for (int i = 0; i < part; ++i)
      turns_.take();  // the turns dealt to the parts before this one
    playing_ = start(turns_.take(), rng);
  }

  const std::string& source() const { return playing_.clip->name; }

  // Called at a word gap: once the current recording has played its turn, the next one takes
  // over (a recording following itself just plays on). Returns whether the source changed.
  bool take_turn_if_due(SynthRng& rng) {
    if (played_ < turn_samples_) return false;
    played_ = 0;
    for (int i = 1; i < parts_; ++i)
      turns_.take();  // the other parts' turns
    const NoiseTurns::Recording& next = turns_.take();
    if (next.clip == playing_.clip) return false;
    fading_ = playing_;
    playing_ = start(next, rng);
    fade_left_ = crossfade_samples_;
    return true;
  }

  std::vector<float> play(std::size_t length) {
    std::vector<float> out(length);
    for (float& sample : out) {
      double value = playing_.advance();
      if (fade_left_ > 0) {
        // Equal power: the two recordings are unrelated, so their powers add.
        const double done = double(crossfade_samples_ - fade_left_) + 0.5;
        const double angle = 0.5 * std::numbers::pi * done / double(crossfade_samples_);
        value = value * std::sin(angle) + fading_.advance() * std::cos(angle);
        --fade_left_;
      }
      sample = static_cast<float>(value);
    }
    played_ += length;
    return out;
  }

 private:
  struct Playing {
    const SourceClip* clip = nullptr;
    std::size_t position = 0;
    double gain = 0;

    double advance() {
      const double value = clip->samples[position] * gain;
      position = (position + 1) % clip->samples.size();
      return value;
    }
  };

  Playing start(const NoiseTurns::Recording& recording, SynthRng& rng) const {
    return {recording.clip, rng.index(recording.clip->samples.size()),
            level_ / std::max(recording.rms, kMinBackgroundRms)};
  }

  NoiseTurns turns_;
  int parts_;
  double level_;
  std::size_t turn_samples_;
  std::size_t crossfade_samples_;
  Playing playing_;
  Playing fading_;
  std::size_t played_ = 0;     // samples of the current turn so far
  std::size_t fade_left_ = 0;  // samples of the crossfade still to play
};

// Appends a gap of noise, then `word` over noise at the configured SNR; returns the word's
// span in seconds. A new noise recording may take over at the start of the gap.
TriggerSpan append_word(EvalAudio& audio, const SourceClip& word, NoiseTrack& noise,
                        const EvalStreamConfig& config, SynthRng& rng) {
  if (noise.take_turn_if_due(rng))
    audio.noise.push_back({double(audio.samples.size()) / kSampleRate, noise.source()});
  const std::size_t gap = seconds_to_samples(rng.uniform(config.gap_s_min, config.gap_s_max));
  std::vector<float> background = noise.play(gap + word.samples.size());
  std::vector<float> piece = background;
  mix_at_snr(piece, background, word.samples, gap, config.snr_db);
  const std::size_t word_start = audio.samples.size() + gap;
  audio.samples.insert(audio.samples.end(), piece.begin(), piece.end());
  return {double(word_start) / kSampleRate, double(word_start + word.samples.size()) / kSampleRate,
          ""};
}

void append_negative(EvalAudio& audio, const SourceClip& word, NoiseTrack& noise,
                     const EvalStreamConfig& config, SynthRng& rng) {
  const TriggerSpan span = append_word(audio, word, noise, config, rng);
  audio.negatives.push_back({span.start_s, span.end_s, word.name});
}

}  // namespace

EvalAudio make_eval_part(const std::vector<SourceCollection>& positives,
                         const std::vector<SourceCollection>& negatives,
                         const std::vector<SourceCollection>& noise, const EvalStreamConfig& config,
                         int part) {
  const std::vector<const SourceClip*> trigger_clips = all_clips(positives);
  const std::vector<const SourceClip*> negative_clips = all_clips(negatives);
  if (trigger_clips.empty()) throw Error("evaluation needs at least one trigger clip");
  if (negative_clips.empty()) throw Error("evaluation needs at least one negative clip");
  if (all_clips(noise).empty()) throw Error("evaluation needs at least one noise recording");
  for (const SourceClip* recording : all_clips(noise)) {
    if (recording->samples.empty())
      throw Error(fmt::format("noise recording '{}' holds no audio", recording->name));
  }
  if (config.parts < 1 || part < 0 || part >= config.parts) {
    throw Error(fmt::format("evaluation part {} is outside 0..{}", part, config.parts - 1));
  }

  // The same shuffle for every part, so the parts share the trigger clips out exactly.
  std::vector<std::size_t> order(trigger_clips.size());
  for (std::size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  SynthRng shuffle_rng(splitmix64(config.seed));
  for (std::size_t i = order.size(); i > 1; --i)
    std::swap(order[i - 1], order[shuffle_rng.index(i)]);

  SynthRng rng(clip_seed(config.seed, static_cast<std::size_t>(part)));
  NoiseTrack noise_track(noise, config, part, rng);
  EvalAudio audio;
  audio.noise.push_back({0.0, noise_track.source()});
  for (std::size_t i = static_cast<std::size_t>(part); i < order.size(); i += config.parts) {
    const int lead_in =
        rng.integer(config.negatives_per_trigger_min, config.negatives_per_trigger_max);
    for (int n = 0; n < lead_in; ++n) {
      append_negative(audio, *negative_clips[rng.index(negative_clips.size())], noise_track, config,
                      rng);
    }
    const SourceClip& trigger = *trigger_clips[order[i]];
    TriggerSpan span = append_word(audio, trigger, noise_track, config, rng);
    span.voice = trigger.voice.substr(0, trigger.voice.find('+'));  // the variant's base voice
    audio.triggers.push_back(std::move(span));
  }
  const std::size_t negative_only_samples =
      seconds_to_samples(config.min_negative_hours * 3600.0 / config.parts);
  const std::size_t target = audio.samples.size() + negative_only_samples;
  while (audio.samples.size() < target) {
    append_negative(audio, *negative_clips[rng.index(negative_clips.size())], noise_track, config,
                    rng);
  }
  // A last stretch of noise, so the final word's hit window lies inside the stream.
  const std::vector<float> tail = noise_track.play(seconds_to_samples(1.0));
  audio.samples.insert(audio.samples.end(), tail.begin(), tail.end());
  return audio;
}

ScoredStream score_audio(const std::shared_ptr<const Model>& model,
                         const std::vector<float>& samples, std::vector<TriggerSpan> triggers,
                         std::string name) {
  Detector detector(model, DetectorConfig::for_model(*model));
  ScoredStream scored;
  scored.name = std::move(name);
  scored.triggers = std::move(triggers);
  scored.duration_s = double(samples.size()) / kSampleRate;
  std::vector<Detection> events;
  std::vector<StepProbability> steps;
  for (std::size_t start = 0; start < samples.size(); start += kSampleRate) {
    const std::size_t length = std::min<std::size_t>(kSampleRate, samples.size() - start);
    detector.accept_waveform(std::span(samples).subspan(start, length), events, &steps);
  }
  scored.probabilities.reserve(steps.size());
  for (const StepProbability& step : steps)
    scored.probabilities.push_back(step.probability);
  return scored;
}

ScoredStream score_file(const std::shared_ptr<const Model>& model,
                        const std::filesystem::path& path, std::vector<TriggerSpan> triggers) {
  AudioFileReader reader(path);
  Detector detector(model, DetectorConfig::for_model(*model));
  ScoredStream scored;
  scored.name = path.string();
  scored.triggers = std::move(triggers);
  std::vector<float> piece;
  std::vector<Detection> events;
  std::vector<StepProbability> steps;
  std::size_t total_samples = 0;
  for (;;) {
    piece.clear();
    const std::size_t got = reader.read(piece, kSampleRate);
    if (got == 0) break;
    total_samples += got;
    detector.accept_waveform(piece, events, &steps);
    for (const StepProbability& step : steps)
      scored.probabilities.push_back(step.probability);
    steps.clear();
  }
  scored.duration_s = double(total_samples) / kSampleRate;
  return scored;
}

std::vector<TriggerSpan> read_audacity_labels(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw Error(fmt::format("cannot open label file '{}'", path.string()));
  std::vector<TriggerSpan> spans;
  std::string line;
  for (int line_number = 1; std::getline(in, line); ++line_number) {
    // Blank lines, and the frequency lines Audacity writes after a spectral label ("\t..."),
    // carry no time span.
    if (line.find_first_not_of(" \t\r") == std::string::npos || line.front() == '\\') continue;
    std::istringstream fields(line);
    TriggerSpan span;
    if (!(fields >> span.start_s >> span.end_s) || span.end_s < span.start_s || span.start_s < 0) {
      throw Error(
          fmt::format("label file '{}' line {}: expected 'start<TAB>end<TAB>label' with "
                      "0 <= start <= end, got '{}'",
                      path.string(), line_number, line));
    }
    spans.push_back(span);
  }
  std::sort(spans.begin(), spans.end(),
            [](const TriggerSpan& a, const TriggerSpan& b) { return a.start_s < b.start_s; });
  return spans;
}

}  // namespace earshot
