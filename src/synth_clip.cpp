// One synthesized clip: background, augmented words at free places and chosen SNRs, channel,
// output level. A pure function of (dataset seed, clip index).
#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "earshot/audio_io.hpp"
#include "earshot/error.hpp"
#include "earshot/synth.hpp"

namespace earshot {

namespace {

// Peak the output may reach before it is turned down (or, rarely and on purpose, clipped).
constexpr double kMaxOutputPeak = 0.99;

void require_clips(const std::vector<SourceCollection>& collections, const char* what) {
  for (const SourceCollection& collection : collections) {
    if (collection.clips.empty()) {
      throw Error(fmt::format("{} collection '{}' holds no clips", what, collection.root));
    }
    if (!(collection.weight > 0)) {
      throw Error(fmt::format("{} collection '{}' has weight {}, must be > 0", what,
                              collection.root, collection.weight));
    }
  }
}

double seconds(std::int64_t samples) {
  return static_cast<double>(samples) / kSampleRate;
}

void scale(std::vector<float>& samples, double gain) {
  for (float& sample : samples)
    sample = static_cast<float>(sample * gain);
}

void clamp_to_full_scale(std::vector<float>& samples) {
  for (float& sample : samples)
    sample = std::clamp(sample, -1.0f, 1.0f);
}

}  // namespace

// A word after augmentation: `samples` include any reverberation tail; the word itself (what
// the labels follow) ends after `dry_length` samples.
struct Synthesizer::Augmented {
  std::vector<float> samples;
  std::size_t dry_length = 0;
};

Synthesizer::Synthesizer(SynthConfig config, std::vector<SourceCollection> triggers,
                         std::vector<SourceCollection> negatives,
                         std::vector<SourceCollection> backgrounds)
    : config_(config),
      triggers_(std::move(triggers)),
      negatives_(std::move(negatives)),
      backgrounds_(std::move(backgrounds)) {
  config_.validate();
  if (triggers_.empty()) throw Error("synthesis needs at least one trigger clip; none given");
  if (backgrounds_.empty()) throw Error("synthesis needs at least one background; none given");
  require_clips(triggers_, "trigger");
  require_clips(negatives_, "negative");
  require_clips(backgrounds_, "background");
}

Synthesizer::Augmented Synthesizer::augment_word(const SourceClip& clip, SynthRng& rng) const {
  Augmented word;
  word.samples = change_speed(clip.samples, rng.uniform(config_.speed_min, config_.speed_max));
  word.dry_length = word.samples.size();
  if (rng.chance(config_.eq_prob)) {
    apply_filters(word.samples, draw_random_eq(rng, config_.eq_gain_db_max));
  }
  if (rng.chance(config_.reverb_prob)) {
    const double rt60_s = rng.uniform(config_.rt60_s_min, config_.rt60_s_max);
    const double direct_to_reverb_db =
        rng.uniform(config_.direct_to_reverb_db_min, config_.direct_to_reverb_db_max);
    word.samples =
        convolve(word.samples, make_room_impulse_response(rt60_s, direct_to_reverb_db, rng));
  }
  return word;
}

void Synthesizer::insert_words(WordKind kind, int count, std::vector<float>& mix,
                               const std::vector<float>& background, std::vector<Segment>& taken,
                               ClipRecord& record, SynthRng& rng) const {
  const auto& collections = kind == WordKind::kTrigger ? triggers_ : negatives_;
  // After a trigger, its label window stays free of other words.
  const std::int64_t guard =
      kind == WordKind::kTrigger ? std::llround(config_.label_window_s * kSampleRate) : 0;
  const auto axis_length = static_cast<std::int64_t>(mix.size());
  for (int i = 0; i < count; ++i) {
    const SourceClip& clip = pick_clip(collections, rng);
    const Augmented word = augment_word(clip, rng);
    const double snr_db = rng.uniform(config_.snr_db_min, config_.snr_db_max);
    const auto placed = place_segment(static_cast<std::int64_t>(word.samples.size()), axis_length,
                                      taken, rng, config_.max_placement_tries, guard);
    if (!placed) {
      ++record.failed_placements;
      continue;
    }
    taken.push_back({placed->start, placed->end + guard});
    const auto start = static_cast<std::size_t>(placed->start);
    mix_at_snr(mix, background, word.samples, start, snr_db);
    record.words.push_back({kind, clip.name, clip.voice, seconds(placed->start),
                            seconds(placed->start + static_cast<std::int64_t>(word.dry_length)),
                            snr_db});
  }
}

void Synthesizer::finish_channel_and_level(SynthesizedClip& clip, SynthRng& rng) const {
  const bool keep_background = !clip.background.empty();
  if (rng.chance(config_.bandlimit_prob)) {
    const BandLimit band_limit = draw_band_limit(rng);
    apply_band_limit(clip.audio, band_limit);
    if (keep_background) apply_band_limit(clip.background, band_limit);
  }
  const double target_rms =
      db_to_amplitude(rng.uniform(config_.level_dbfs_min, config_.level_dbfs_max));
  const double level = rms(clip.audio);
  double gain = level > 0 ? target_rms / level : 1.0;
  const double peak = peak_abs(clip.audio);
  // Too loud for the chosen level: usually turn it down, occasionally clip on purpose, as
  // cheap microphones and shouting users do.
  if (peak * gain > kMaxOutputPeak && !rng.chance(config_.clipping_prob)) {
    gain = kMaxOutputPeak / peak;
  }
  scale(clip.audio, gain);
  clamp_to_full_scale(clip.audio);
  if (keep_background) scale(clip.background, gain);
}

SynthesizedClip Synthesizer::synthesize(std::uint64_t dataset_seed, std::size_t clip_index,
                                        bool keep_background) const {
  SynthesizedClip clip;
  ClipRecord& record = clip.record;
  record.index = clip_index;
  record.file = fmt::format("clips/{:06d}.wav", clip_index);
  record.seed = clip_seed(dataset_seed, clip_index);
  record.duration_s = seconds(static_cast<std::int64_t>(config_.samples_per_clip()));
  SynthRng rng(record.seed);

  const std::vector<float> background = make_background(rng, record.backgrounds);
  clip.audio = background;
  const int trigger_count = rng.integer(0, config_.max_triggers);
  const int negative_count = negatives_.empty() ? 0 : rng.integer(0, config_.max_negatives);
  std::vector<Segment> taken;
  insert_words(WordKind::kTrigger, trigger_count, clip.audio, background, taken, record, rng);
  insert_words(WordKind::kNegative, negative_count, clip.audio, background, taken, record, rng);
  std::sort(record.words.begin(), record.words.end(),
            [](const InsertedWord& a, const InsertedWord& b) { return a.start_s < b.start_s; });

  if (keep_background) clip.background = background;
  finish_channel_and_level(clip, rng);
  return clip;
}

}  // namespace earshot
