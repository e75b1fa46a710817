// Accuracy evaluation the way the wake-word field measures itself (docs: evaluation.md).
//
// Trigger clips are mixed into long streams of negative speech and noise at a fixed SNR
// (measured on the loudest 32 ms frame of each word). The streaming detector runs over the
// streams once, keeping every output step's probability; the threshold is then swept over
// its whole range by replaying the post-processing on those probabilities:
//   - a trigger word is hit when a detection fires within [word start, word end + 0.5 s];
//   - every other detection is a false accept; false accepts per hour (FA/h) divide them
//     by the hours of audio outside the trigger words' hit windows.
// The result is an operating curve (miss rate against FA/h), summarised as the miss rate
// at 0.1, 0.5 and 1 FA/h, linearly interpolated between measured points.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string>
#include <vector>

#include "earshot/detector.hpp"
#include "earshot/model.hpp"
#include "earshot/synth.hpp"

namespace earshot {

// A trigger word's position in an evaluation stream, in seconds.
struct TriggerSpan {
  double start_s = 0;
  double end_s = 0;
  std::string voice;  // its base voice (manifest voice up to any "+variant"), "" if unknown
};

// A negative word of an evaluation stream: where it lies and the clip it came from.
struct NegativeWord {
  double start_s = 0;
  double end_s = 0;
  std::string source;
};

// From `start_s` until the next span's start, the noise under a mixture is `source` (the
// recording before it fades out over the first kNoiseCrossfade_s).
struct NoiseSpan {
  double start_s = 0;
  std::string source;

  bool operator==(const NoiseSpan&) const = default;
};

// One stream the detector ran over: its per-step probabilities and where the triggers were.
struct ScoredStream {
  std::string name;
  double duration_s = 0;
  std::vector<float> probabilities;  // one per output step, in order
  std::vector<TriggerSpan> triggers;
  std::vector<NegativeWord> negatives;  // known for mixtures; empty for recordings
  std::vector<NoiseSpan> noise;         // in time order; empty for recordings
};

// The noise recording under `stream` at `time_s`, or "" (a recording, or before the first span).
const std::string& noise_at(const ScoredStream& stream, double time_s);

// How to turn probabilities back into detections: the model's timing and the detector's
// post-processing settings other than the threshold, which the sweep varies.
struct DetectionTiming {
  double output_step_s = 0;
  // Step j is available (the detector can fire on it) at j * output_step_s + this.
  double step_available_offset_s = 0;
  DetectorConfig post;  // threshold ignored

  static DetectionTiming for_model(const Model& model, const DetectorConfig& post);
};

// Counts at one threshold, over all streams of a condition.
struct OperatingPoint {
  float threshold = 0;
  std::size_t triggers = 0;
  std::size_t misses = 0;
  std::size_t false_accepts = 0;
  double negative_hours = 0;  // audio outside the hit windows

  double miss_rate() const { return triggers == 0 ? 0.0 : double(misses) / double(triggers); }
  double fa_per_hour() const { return negative_hours > 0 ? false_accepts / negative_hours : 0.0; }
};

// A hit window extends this far past the end of the word.
inline constexpr double kHitToleranceAfter_s = 0.5;

// Detections (fire times) the post-processing makes from `probabilities` at `threshold`.
std::vector<double> detection_times(const std::vector<float>& probabilities, float threshold,
                                    const DetectionTiming& timing);

// Scores `streams` at one threshold.
OperatingPoint score_at_threshold(const std::vector<ScoredStream>& streams, float threshold,
                                  const DetectionTiming& timing);

// The trigger words of one group (a base voice, a noise recording) and how many of them
// were missed.
struct GroupMisses {
  std::string name;
  std::size_t triggers = 0;
  std::size_t misses = 0;
};

// Misses at `threshold` per base voice, in voice-name order: which voices a model cannot hear.
std::vector<GroupMisses> misses_by_voice(const std::vector<ScoredStream>& streams, float threshold,
                                         const DetectionTiming& timing);
// Misses at `threshold` per noise recording under the words, in name order: which noises
// mask the word. Recordings (no noise mixed in) form the group "".
std::vector<GroupMisses> misses_by_noise(const std::vector<ScoredStream>& streams, float threshold,
                                         const DetectionTiming& timing);

// How long after the end of each trigger word the detector fired on it: for every word hit,
// its first detection in the hit window minus the word's end (negative when it fired before
// the word ended). Quantiles interpolate linearly between ranks; all 0 when nothing was hit.
struct DetectionLatency {
  std::size_t hits = 0;
  double median_s = 0;
  double p90_s = 0;  // the 90th percentile
};

DetectionLatency detection_latency(const std::vector<ScoredStream>& streams, float threshold,
                                   const DetectionTiming& timing);

// "median 156 ms, 90th percentile 210 ms, over 402 words", or "no word detected".
std::string latency_text(const DetectionLatency& latency);

// A detection outside every trigger's hit window, and what it fired on.
struct FalseAccept {
  std::string stream;
  double time_s = 0;
  float peak_probability = 0;  // highest probability from the firing step while above threshold
  // The negative word whose [start, end + kHitToleranceAfter_s] holds the detection (the
  // window a trigger would get), or "" when no known word does: the noise between words,
  // or a recording, whose other sounds are not labelled.
  std::string fired_on;
  std::string noise_source;  // the noise recording under it (mixtures)
};

// The false accepts of `streams` at `threshold`, highest peak probability first: which
// words and noises a model mistakes for its trigger.
std::vector<FalseAccept> false_accepts_at(const std::vector<ScoredStream>& streams, float threshold,
                                          const DetectionTiming& timing);

// How many false accepts one negative word set off. The evaluation plays each clip in many
// mixtures, so a few false accepts can all be one clip heard again: then the FA/h at that
// operating point says more about that clip than about speech in general.
struct WordFalseAccepts {
  std::string word;  // the clip's path, "" for the noise between known words
  int false_accepts = 0;
};

// `accepts` counted per word they fired on, most first (ties in name order).
std::vector<WordFalseAccepts> false_accepts_by_word(const std::vector<FalseAccept>& accepts);

// The thresholds a sweep visits: `count` values evenly spaced in log-odds from about 3e-4
// to 1 - 3e-4, in increasing order, so both ends of the curve are reached.
std::vector<float> sweep_thresholds(int count = 241);

// Operating points for every threshold of the sweep, in increasing threshold order.
std::vector<OperatingPoint> operating_curve(const std::vector<ScoredStream>& streams,
                                            const DetectionTiming& timing,
                                            const std::vector<float>& thresholds);

// Miss rate at `fa_per_hour` on the curve, linearly interpolated between the two measured
// points around it. Each point's miss rate is the best reachable at or below its FA/h, and
// the "never fire" point (0 FA/h, every word missed) anchors the low end, so a target below
// every measured FA/h interpolates towards a miss rate of 1.
double miss_rate_at_fa_per_hour(const std::vector<OperatingPoint>& curve, double fa_per_hour);

// The lowest threshold of the curve whose FA/h is at most `fa_per_hour` (the most sensitive
// setting that still meets the target), or the highest threshold if none does.
float threshold_for_fa_per_hour(const std::vector<OperatingPoint>& curve, double fa_per_hour);

// ---------------------------------------------------------------------------------------------
// Evaluation streams made from clip directories (eval_streams.cpp)

struct EvalStreamConfig {
  double snr_db = 10;
  std::uint64_t seed = 1;
  // Negative-only audio added after the trigger words, so FA/h rests on enough hours.
  double min_negative_hours = 0.25;
  // Each trigger word is preceded by this many negative words (uniform), each with a gap.
  int negatives_per_trigger_min = 1, negatives_per_trigger_max = 3;
  double gap_s_min = 0.5, gap_s_max = 2.5;
  // Background noise RMS level; speech is placed `snr_db` above it.
  double noise_dbfs_min = -45, noise_dbfs_max = -30;
  // The streams are cut into this many independent parts (each a fresh detector), a fixed
  // number so results do not depend on the thread count.
  int parts = 8;
  // The noise recordings take turns under each part (see make_eval_part): the next one takes
  // over at the first word gap after this many seconds, crossfaded over kNoiseCrossfade_s.
  double noise_turn_s = 30;
};

inline constexpr double kNoiseCrossfade_s = 0.02;

// The audio of one evaluation part and its trigger positions.
struct EvalAudio {
  std::vector<float> samples;
  std::vector<TriggerSpan> triggers;
  std::vector<NegativeWord> negatives;
  std::vector<NoiseSpan> noise;  // which recording lies under which stretch
};

// Builds part `part` of the evaluation streams: its share of the trigger clips (every
// parts-th one, shuffled by seed), each after a few negative words, then negative words to
// its share of min_negative_hours, all over noise. The noise recordings take turns: one
// sequence of turns, in which each recording gets its collection's weight shared among the
// collection's clips, is dealt out to the parts like cards (part p plays turns p, p + parts,
// p + 2 parts, ...). The words lie in the first turns of every part, so together they lie
// over the first turns of the sequence, where every recording has its share as soon as
// there are more of those turns than recordings (a recording drawn once per part, as before,
// could miss whole noises). A pure function of its arguments.
EvalAudio make_eval_part(const std::vector<SourceCollection>& positives,
                         const std::vector<SourceCollection>& negatives,
                         const std::vector<SourceCollection>& noise, const EvalStreamConfig& config,
                         int part);

// Runs a fresh detector over `samples` in 1 s pieces and keeps every step's probability.
ScoredStream score_audio(const std::shared_ptr<const Model>& model,
                         const std::vector<float>& samples, std::vector<TriggerSpan> triggers,
                         std::string name);

// Scores a file from disk piece by piece (long recordings never load whole).
ScoredStream score_file(const std::shared_ptr<const Model>& model,
                        const std::filesystem::path& path, std::vector<TriggerSpan> triggers);

// Trigger spans from an Audacity label file (start<TAB>end<TAB>label per line; every label
// is a trigger). Throws earshot::Error naming the file and line on a malformed line.
std::vector<TriggerSpan> read_audacity_labels(const std::filesystem::path& path);

// ---------------------------------------------------------------------------------------------
// Hard negatives: the audio each false accept fired on (eval_false_accept_audio.cpp)
//
// A model's false accepts on material it may train on are the negatives it most needs to
// hear again ("hard negative mining"): saved as clips, they can join the next training
// set (`earshot synth --negatives DIR`).

struct FalseAcceptAudioConfig {
  std::filesystem::path directory;  // where the clips go; empty: none are saved
  // Kept around each detection: the word that set it off ends before the detection (the
  // model fires once it has heard a word's end), so most of the excerpt lies before it.
  double before_s = 1.5;
  double after_s = 0.25;
};

// Sample range [begin, end) of a stream of `stream_samples` samples to keep for a false
// accept at `time_s`: [time_s - before_s, time_s + after_s], cut back so that it holds no
// part of any trigger word (the excerpt is a negative) and lies inside the stream. Empty
// (begin == end) when a trigger word covers the detection time itself.
struct SampleRange {
  std::size_t begin = 0;
  std::size_t end = 0;
};
SampleRange false_accept_excerpt(double time_s, std::size_t stream_samples,
                                 const std::vector<TriggerSpan>& triggers,
                                 const FalseAcceptAudioConfig& config);

// One saved clip: its file name in the directory and the false accept it holds.
struct SavedFalseAccept {
  std::string file;
  std::string condition;
  FalseAccept accept;
};

// Writes a WAV of each false accept of `stream` at `threshold` (detections outside every
// trigger's hit window) into config.directory, named "<prefix>_<milliseconds>ms.wav";
// `samples` is the audio the stream's probabilities were computed from. Returns what it
// wrote, in time order. Throws earshot::Error if a file cannot be written.
std::vector<SavedFalseAccept> save_false_accept_audio(const ScoredStream& stream,
                                                      std::span<const float> samples,
                                                      const std::string& condition,
                                                      const std::string& prefix, float threshold,
                                                      const DetectionTiming& timing,
                                                      const FalseAcceptAudioConfig& config);

// The same for a stream scored from a file, reading the file again piece by piece.
std::vector<SavedFalseAccept> save_false_accept_audio(const ScoredStream& stream,
                                                      const std::filesystem::path& recording,
                                                      const std::string& condition,
                                                      const std::string& prefix, float threshold,
                                                      const DetectionTiming& timing,
                                                      const FalseAcceptAudioConfig& config);

// Writes config.directory/manifest.tsv: file, condition, stream, time_s, peak_probability,
// fired_on ("-" for none), noise ("-" for none); the "file" column lets `earshot synth`
// read the directory as a clip collection.
void write_false_accept_manifest(const FalseAcceptAudioConfig& config,
                                 const std::vector<SavedFalseAccept>& saved);

// ---------------------------------------------------------------------------------------------
// Whole evaluations (eval_run.cpp)

struct ConditionResult;

// Scores mixtures of `positives` into negative speech and noise at each SNR of `snrs_db`.
// Deterministic for a seed whatever `threads` is. `post` sets the detector's
// post-processing (its threshold is the "default threshold" point of each result). With
// `save_audio.directory` set, the false accepts at that threshold are also saved as clips
// (save_false_accept_audio) and listed in each result's saved_false_accepts.
std::vector<ConditionResult> evaluate_mixtures(
    const std::shared_ptr<const Model>& model, const std::vector<SourceCollection>& positives,
    const std::vector<SourceCollection>& negatives, const std::vector<SourceCollection>& noise,
    const std::vector<double>& snrs_db, EvalStreamConfig config, const DetectorConfig& post,
    int threads, const FalseAcceptAudioConfig& save_audio = {});

// Scores long recordings, each with an Audacity label file of its trigger words beside it
// (same name, .txt). A recording without labels holds no trigger word. Throws
// earshot::Error if the directory holds no audio file. `save_audio` as for mixtures.
ConditionResult evaluate_recordings(const std::shared_ptr<const Model>& model,
                                    const std::filesystem::path& directory,
                                    const DetectorConfig& post, int threads,
                                    const FalseAcceptAudioConfig& save_audio = {});

// ---------------------------------------------------------------------------------------------
// Reports (eval_report.cpp)

// The results of one condition (an SNR, or a set of labelled recordings).
struct ConditionResult {
  std::string name;  // "snr_10db", "recordings"
  double snr_db = 0;
  bool has_snr = false;
  std::size_t streams = 0;
  double audio_hours = 0;
  std::vector<OperatingPoint> curve;
  OperatingPoint at_default_threshold;
  std::vector<FalseAccept> false_accepts;  // at the default threshold, loudest first
  // Misses per base voice of the trigger words and per noise recording under them: at the
  // default threshold, and at the threshold that meets kHeadlineFaPerHour on this condition.
  float threshold_at_headline_fa = 0;
  std::vector<GroupMisses> by_voice_at_default;
  std::vector<GroupMisses> by_voice_at_headline_fa;
  std::vector<GroupMisses> by_noise_at_default;
  std::vector<GroupMisses> by_noise_at_headline_fa;
  // The false accepts at the threshold that meets kHeadlineFaPerHour, per word fired on.
  std::vector<WordFalseAccepts> false_accepts_by_word_at_headline_fa;
  // Detection latency at the same two thresholds.
  DetectionLatency latency_at_default;
  DetectionLatency latency_at_headline_fa;
  std::vector<SavedFalseAccept> saved_false_accepts;  // clips written, when asked for
};

// The headline operating point, at which the breakdowns by voice and noise and the false
// accepts per word are reported.
inline constexpr double kHeadlineFaPerHour = 0.5;

// The miss rates at these FA/h are the headline figures.
inline constexpr double kReportedFaPerHour[] = {0.1, 0.5, 1.0};

nlohmann::json summary_json(const std::vector<ConditionResult>& results,
                            const nlohmann::json& context);
// The operating curve: threshold, triggers, misses, miss_rate, false_accepts,
// negative_hours, fa_per_hour.
std::string curve_csv(const ConditionResult& result);
// DET plot: miss rate (%) against FA/h on a log axis, one curve per condition.
std::string det_curve_svg(const std::vector<ConditionResult>& results);
// The headline figures of one condition, formatted for tables: name, trigger words, audio
// hours, the miss rate at each kReportedFaPerHour, and "threshold: miss, FA/h" at the
// default threshold. summary_table_header() names them.
std::vector<std::string> summary_cells(const ConditionResult& result);
std::vector<std::string> summary_table_header();
// The one-screen table printed on stdout.
std::string summary_table(const std::vector<ConditionResult>& results);

// Calibration: `model` with its default threshold set to `threshold`, and `evaluation`
// (e.g. the summary) recorded under "evaluation" in its provenance.
Model with_calibration(const Model& model, float threshold, const nlohmann::json& evaluation);

// A model card in Markdown: what the model is, how it was trained (its provenance), and
// the evaluation results with the conditions they were measured in.
std::string model_card_markdown(const Model& model, const std::string& model_name,
                                const std::vector<ConditionResult>& results,
                                const nlohmann::json& context);

// Every condition's false accepts at the default threshold, one per line: condition, stream,
// time_s, peak_probability, fired_on ("-" for none), noise (tab-separated, with a header).
std::string false_accepts_tsv(const std::vector<ConditionResult>& results);

// Writes summary.json, curve_<name>.csv for each condition, false_accepts.tsv and
// det_curve.svg into `out_dir`.
void write_eval_report(const std::filesystem::path& out_dir,
                       const std::vector<ConditionResult>& results, const nlohmann::json& context);

}  // namespace earshot
