// Synthesis of labelled training clips: the lecture's "programmatic labelling and generation".
//
// A clip is a background excerpt (10 s by default) with 0-4 trigger words and 0-2 negative
// words inserted at random, non-overlapping positions. Each insert is augmented (speed/pitch,
// EQ, reverberation) and mixed at a random signal-to-noise ratio; the whole clip then passes a
// random channel (band-limiting) and a random output level. Labels are never stored: they
// come from the recorded word positions through make_labels() (dataset.hpp).
//
// Every clip is a pure function of (dataset seed, clip index), so a dataset can be made in
// shards on many machines, with any number of threads, and come out byte-identical.
//
// Sections below, one concept each: randomness, placement, levels and mixing, augmentation
// effects, source collections, the clip synthesizer, and datasets on disk.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "earshot/dataset.hpp"

namespace earshot {

// ---------------------------------------------------------------------------------------------
// Randomness (synth_random.cpp)

// The splitmix64 mixing function: a fast, well-scrambled 64-bit hash.
std::uint64_t splitmix64(std::uint64_t x);

// The seed of one clip: a hash of the dataset seed and the clip index, so clip i is the same
// whichever shard, thread or order produces it.
std::uint64_t clip_seed(std::uint64_t dataset_seed, std::size_t clip_index);

// Random draws defined here rather than by <random>'s distributions, whose results differ
// between standard library implementations.
class SynthRng {
 public:
  explicit SynthRng(std::uint64_t seed) : engine_(seed) {}

  std::uint64_t next() { return engine_(); }
  // Uniform in [0, 1), 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  // Uniform in [low, high); returns low when high <= low.
  double uniform(double low, double high);
  // Uniform integer in [low, high], both included; returns low when high <= low.
  int integer(int low, int high);
  // Uniform index in [0, count); count must be > 0.
  std::size_t index(std::size_t count);
  // True with the given probability.
  bool chance(double probability) { return uniform() < probability; }
  // Standard normal (Box-Muller).
  double normal();
  // Log-uniform in [low, high] (both > 0): equal odds per octave, as for frequencies.
  double log_uniform(double low, double high);

 private:
  std::mt19937_64 engine_;
};

// ---------------------------------------------------------------------------------------------
// Placement (synth_placement.cpp)

// A span of a time axis in any integer unit (samples in synthesis, milliseconds in the
// lecture's examples). Both ends belong to the segment.
struct Segment {
  std::int64_t start = 0;
  std::int64_t end = 0;
};

// Inclusive overlap test, as in the lecture: a segment ending at 200 overlaps one starting
// at 200. Overlap iff a.start <= b.end && a.end >= b.start.
bool segments_overlap(const Segment& a, const Segment& b);
bool overlaps_any(const Segment& candidate, std::span<const Segment> taken);

// Finds a free place for something `length` units long on an axis [0, axis_length]: draws
// the start uniformly in [0, axis_length - length] until the segment
// [start, start + length + guard_after] overlaps none of `taken`, at most `max_tries` times.
// `guard_after` keeps room after the item (the label window after a trigger) and may run
// past the axis end; the caller adds the guarded segment to `taken`. Returns the segment
// [start, start + length] (without the guard), or nothing if no try succeeded or the item
// does not fit at all.
std::optional<Segment> place_segment(std::int64_t length, std::int64_t axis_length,
                                     std::span<const Segment> taken, SynthRng& rng, int max_tries,
                                     std::int64_t guard_after = 0);

// ---------------------------------------------------------------------------------------------
// Levels and mixing (synth_mixing.cpp)

// Speech level is measured on its loudest frame of this many samples (32 ms at 16 kHz), so
// a short word is not rated quieter for the silence around it.
inline constexpr std::size_t kLevelFrameSamples = 512;
// Floor for a background level, so digital silence does not ask for an infinite gain.
inline constexpr double kMinBackgroundRms = 1e-5;

double db_to_amplitude(double db);
double amplitude_to_db(double amplitude);
double rms(std::span<const float> samples);
double peak_abs(std::span<const float> samples);
// RMS of the loudest kLevelFrameSamples-long frame; frames start every half frame, and the
// last one is aligned to the end. A signal shorter than one frame is one frame.
double peak_frame_rms(std::span<const float> samples);

// Adds `word` into `mix` from sample `start` on (it must fit), scaled so that its loudest
// frame is `snr_db` above the RMS of `background` over the same span
// [start, start + word.size()). Returns the gain applied to the word.
double mix_at_snr(std::span<float> mix, std::span<const float> background,
                  std::span<const float> word, std::size_t start, double snr_db);

// ---------------------------------------------------------------------------------------------
// Augmentation effects (augment_*.cpp), one per function. All work at 16 kHz.

// Plays `samples` `speed_factor` times faster by resampling (libsoxr): tempo and pitch move
// together, a cheap stand-in for a different speaker's vocal tract. Length ~ n / factor.
std::vector<float> change_speed(std::span<const float> samples, double speed_factor);

// A second-order IIR section (coefficients normalised so a0 = 1), designed with the usual
// audio-EQ cookbook formulas.
struct Biquad {
  double b0 = 1, b1 = 0, b2 = 0, a1 = 0, a2 = 0;

  static Biquad low_pass(double cutoff_hz, double q, double sample_rate_hz);
  static Biquad high_pass(double cutoff_hz, double q, double sample_rate_hz);
  static Biquad peaking(double centre_hz, double q, double gain_db, double sample_rate_hz);
};
// Filters `samples` in place, starting from silence.
void apply_biquad(std::span<float> samples, const Biquad& filter);

// Random microphone/voice colour: 1 to 3 peaking filters, centres log-uniform in
// 80 Hz..7 kHz, gains uniform in [-max_gain_db, max_gain_db], Q in [0.5, 2].
std::vector<Biquad> draw_random_eq(SynthRng& rng, double max_gain_db);
void apply_filters(std::span<float> samples, std::span<const Biquad> filters);

// A band-limited channel: a telephone line (300-3400 Hz and 8-bit mu-law companding) or a
// microphone with a lower cut-off (low-pass, 3-7 kHz).
struct BandLimit {
  bool telephone = false;
  double low_pass_hz = 8000;
};
BandLimit draw_band_limit(SynthRng& rng);
void apply_band_limit(std::span<float> samples, const BandLimit& band_limit);
// 8-bit mu-law encode and decode relative to the signal's peak (a G.711-like codec).
void apply_mu_law(std::span<float> samples);

// A synthetic room: a direct path followed, after a short pre-delay, by exponentially
// decaying Gaussian noise that falls 60 dB in `rt60_s`. `direct_to_reverb_db` sets the
// energy of the direct path over the tail.
std::vector<float> make_room_impulse_response(double rt60_s, double direct_to_reverb_db,
                                              SynthRng& rng);
// Full linear convolution (length signal + response - 1), by FFT (KissFFT).
std::vector<float> convolve(std::span<const float> signal, std::span<const float> response);

// ---------------------------------------------------------------------------------------------
// Source collections (synth_sources.cpp)

// One raw clip (a word, or a background recording) held in memory at 16 kHz.
struct SourceClip {
  std::string name;   // its path, as found under the collection root
  std::string voice;  // from the collection's manifest.tsv ("voice" or "speaker"), or ""
  std::vector<float> samples;
};

// The clips found under one --triggers/--negatives/--backgrounds argument. A clip is drawn
// by first choosing a collection with odds proportional to `weight`, then a clip uniformly,
// so a big set of real speech does not drown a small TTS set (or a user's own recordings).
struct SourceCollection {
  std::string root;
  double weight = 1.0;
  std::vector<SourceClip> clips;
};

// A command-line source argument: "PATH" or "PATH:WEIGHT" (a path that exists as written
// is never split).
struct SourceSpec {
  std::filesystem::path path;
  double weight = 1.0;

  static SourceSpec parse(const std::string& argument);
};

// What a load rejects: too long, silent, unreadable. Never fatal on its own.
struct SkippedSource {
  std::string path;
  std::string reason;
};

struct SourceLimits {
  double max_duration_s = 0;  // 0: no limit. Words longer than the clip cannot be placed.
  double silence_rms = 1e-4;  // a clip whose loudest frame is below this is silent (-80 dBFS)
};

struct LoadedSources {
  std::vector<SourceCollection> collections;
  std::vector<SkippedSource> skipped;
  std::size_t clip_count() const;
};

// Voices listed in `directory`/manifest.tsv (tab-separated with a header naming a "file"
// column and a "voice" or "speaker" column; files relative to the directory). Returns
// (normalised path, voice) pairs; an absent manifest, or one without a voice column, gives
// none. Throws earshot::Error if the manifest has no "file" column.
std::vector<std::pair<std::filesystem::path, std::string>> read_voice_manifest(
    const std::filesystem::path& directory);

// Every audio file under each spec's path (a file, or a directory walked recursively in
// sorted order), read at 16 kHz mono with `threads` readers. Bad clips are skipped and
// listed. Throws earshot::Error if a path does not exist or a collection ends up with no
// usable clip (naming the path and why).
LoadedSources load_sources(std::span<const SourceSpec> specs, const SourceLimits& limits,
                           int threads = 1);

// ---------------------------------------------------------------------------------------------
// The clip synthesizer (synth_clip.cpp, synth_background.cpp)

struct SynthConfig {
  double duration_s = 10.0;
  int max_triggers = 4;   // each clip gets a uniform 0..max_triggers of them
  int max_negatives = 2;  // and a uniform 0..max_negatives negative words
  int max_placement_tries = 100;
  // After a trigger's end this much time stays free of other words: the steps labelled 1
  // must not hear another word.
  double label_window_s = 0.36;

  double snr_db_min = 0, snr_db_max = 20;             // per insert
  double level_dbfs_min = -35, level_dbfs_max = -15;  // final RMS level of the clip
  double clipping_prob = 0.02;  // else a clip too loud for its level is turned down instead

  double speed_min = 0.88, speed_max = 1.12;  // per insert; pitch and tempo together
  double eq_prob = 0.3;                       // per insert: random peaking EQ
  double eq_gain_db_max = 8;
  double reverb_prob = 0.3;  // per insert: synthetic room
  double rt60_s_min = 0.1, rt60_s_max = 0.8;
  double direct_to_reverb_db_min = -3, direct_to_reverb_db_max = 12;
  double bandlimit_prob = 0.2;  // per clip: telephone or low-pass channel

  int background_mix_max = 2;  // backgrounds layered per clip: uniform 1..max
  double background_gain_db_min = -12, background_gain_db_max = 0;  // extra layers vs first

  // Throws earshot::Error naming the first inconsistent setting.
  void validate() const;
  std::size_t samples_per_clip() const;
};

void to_json(nlohmann::json& j, const SynthConfig& config);

struct SynthesizedClip {
  std::vector<float> audio;
  ClipRecord record;
  // The background alone, through the same channel and output gain (linear effects only),
  // when asked for: what the mix minus the words should be. For tests and inspection.
  std::vector<float> background;
};

// Holds the configuration and the (immutable) sources; synthesize() is const and safe to
// call from many threads at once.
class Synthesizer {
 public:
  // Throws earshot::Error if the config is invalid or there is no trigger clip or no
  // background. Negatives may be empty (then clips hold no negative words).
  Synthesizer(SynthConfig config, std::vector<SourceCollection> triggers,
              std::vector<SourceCollection> negatives, std::vector<SourceCollection> backgrounds);

  SynthesizedClip synthesize(std::uint64_t dataset_seed, std::size_t clip_index,
                             bool keep_background = false) const;

  const SynthConfig& config() const { return config_; }

 private:
  struct Augmented;
  std::vector<float> make_background(SynthRng& rng, std::vector<std::string>& names) const;
  Augmented augment_word(const SourceClip& clip, SynthRng& rng) const;
  void insert_words(WordKind kind, int count, std::vector<float>& mix,
                    const std::vector<float>& background, std::vector<Segment>& taken,
                    ClipRecord& record, SynthRng& rng) const;
  void finish_channel_and_level(SynthesizedClip& clip, SynthRng& rng) const;

  SynthConfig config_;
  std::vector<SourceCollection> triggers_;
  std::vector<SourceCollection> negatives_;
  std::vector<SourceCollection> backgrounds_;
};

// Picks a collection with odds proportional to the weights, then a clip uniformly.
const SourceClip& pick_clip(std::span<const SourceCollection> collections, SynthRng& rng);
// A `length`-sample excerpt of `clip` from a random offset, looping a shorter clip (an empty
// clip gives silence).
std::vector<float> background_excerpt(const SourceClip& clip, std::size_t length, SynthRng& rng);

// ---------------------------------------------------------------------------------------------
// Datasets on disk (synth_dataset.cpp)

// Shard i of N makes clips i, i+N, i+2N, ...
struct Shard {
  std::size_t index = 0;
  std::size_t count = 1;

  // Parses "i/N" (0 <= i < N). Throws earshot::Error otherwise.
  static Shard parse(const std::string& text);
  // "manifest.jsonl" for 0/1, else "manifest.shard-i-of-N.jsonl".
  std::string manifest_name() const;
  std::vector<std::size_t> clip_indices(std::size_t clip_count) const;
};

struct DatasetRun {
  std::filesystem::path out_dir;
  std::size_t clip_count = 0;
  std::uint64_t seed = 0;
  Shard shard;
  int threads = 1;
  // Called from the calling thread now and then, and once at the end: (done, total).
  std::function<void(std::size_t, std::size_t)> progress;
  // If not empty, written to OUT/synth_config.json: how the dataset was made. Shards of one
  // dataset write the same text.
  std::string provenance_json;
};

struct DatasetSummary {
  std::size_t clips = 0;
  double audio_s = 0;
  std::size_t triggers = 0;
  std::size_t negatives = 0;
  std::size_t failed_placements = 0;
  std::filesystem::path manifest;
};

// Synthesizes this shard's clips into OUT/clips/NNNNNN.wav with `threads` workers and writes
// its manifest (sorted by index). Output bytes do not depend on the thread count.
DatasetSummary synthesize_dataset(const Synthesizer& synthesizer, const DatasetRun& run);

// Writes records as JSON lines, replacing `path` atomically.
void write_manifest_file(const std::filesystem::path& path, std::span<const ClipRecord> records);

// Joins OUT/manifest.shard-i-of-N.jsonl (all N present, one N) into OUT/manifest.jsonl,
// sorted by index; byte-identical to an unsharded run. Returns the number of clips.
// Throws earshot::Error naming missing shards or clips that appear twice.
std::size_t merge_manifest_shards(const std::filesystem::path& out_dir);

}  // namespace earshot
