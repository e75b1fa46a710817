// The streaming detector: audio in, trigger-word events out.
//
// One code path for live and offline use: the daemon (`earshot listen`) and the label tool
// (`earshot label`) both push 16 kHz mono samples into a Detector. It runs the front end and
// the model stream, then post-processes the per-step probabilities (EventPostProcessor):
//   1. smoothing: mean of the last `smoothing_steps` probabilities (1 = none; fewer at the
//      stream start, where there are fewer);
//   2. threshold: a step is "above" when the smoothed probability >= threshold;
//   3. minimum run: an event fires on the `min_steps_above`-th consecutive step above;
//   4. refractory period: a run that reaches its minimum length less than `refractory_s`
//      after the last event's step is suppressed whole (it is the same word ringing on).
// Events never depend on how the audio was chunked: feeding a file in any chunk sizes gives
// identical events and probabilities.
//
// Times. Output step j stands for audio time j * output_step_s (its nominal time, as the
// labels use it) and can be computed once the sample completing its last frame has arrived,
// at j * output_step_s + receptive_field_s. An event reports:
//   time_s  when the firing step became available (when the detector had the evidence);
//   end_s   the estimated end of the word. Training labels are 1 for steps in
//           (t_end, t_end + label_window_s], so the first step above threshold, j0, has
//           t_end in [(j0 - 1) step, j0 step): the estimate is the middle, j0 step - step / 2,
//           moved back by the (smoothing_steps - 1) / 2 steps a moving mean lags behind;
//   start_s end_s minus the typical word duration: the model's provenance field
//           "mean_trigger_duration_s" when present, else kDefaultWordDuration_s;
//   score   the peak smoothed probability of the run up to the firing step.
// Both span ends are clamped at 0.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "earshot/frontend.hpp"
#include "earshot/model.hpp"

namespace earshot {

// Word duration assumed for start_s when the model does not say.
inline constexpr double kDefaultWordDuration_s = 0.6;

struct DetectorConfig {
  float threshold = 0.5f;
  int smoothing_steps = 1;
  int min_steps_above = 2;
  double refractory_s = 1.0;

  // Threshold from a sensitivity in [0, 1], linear on each side of the default:
  // 0.5 gives `default_threshold`, 1 the most sensitive (0.001), 0 the least (0.999).
  // Throws earshot::Error if sensitivity is outside [0, 1] or the default outside (0, 1).
  static float threshold_for_sensitivity(float sensitivity, float default_threshold);
  // Defaults with the model's default threshold.
  static DetectorConfig for_model(const Model& model);
  // Throws earshot::Error naming the setting unless: 0 < threshold < 1, smoothing_steps >= 1,
  // min_steps_above >= 1, refractory_s finite and >= 0.
  void validate() const;
};

// One spoken trigger word, as the detector saw it. Times are seconds from the stream start.
struct Detection {
  std::string keyword;
  double time_s = 0;   // when the detector fired: the audio time at which it had enough evidence
  double start_s = 0;  // estimated span of the word
  double end_s = 0;
  float score = 0;  // peak smoothed probability of the run, up to when it fired

  bool operator==(const Detection&) const = default;
};

// The probability of one output step, for inspection and plots.
struct StepProbability {
  double time_s = 0;      // nominal time of the output step (step index * output_step_s)
  float probability = 0;  // the model's output
  float smoothed = 0;     // after smoothing: what the threshold is compared with

  bool operator==(const StepProbability&) const = default;
};

// A run of steps above threshold that fired, in output-step units.
struct FiredRun {
  std::uint64_t first_step = 0;  // first step of the run above threshold
  std::uint64_t fire_step = 0;   // the step it fired on: first_step + min_steps_above - 1
  float peak_smoothed = 0;       // highest smoothed probability in [first_step, fire_step]

  bool operator==(const FiredRun&) const = default;
};

// Steps 1-4 of the file comment, on probabilities alone, so they can be tested and reused
// without a model. Steps are numbered 0, 1, 2, ... in the order pushed. Never allocates
// after construction.
class EventPostProcessor {
 public:
  // Throws earshot::Error if config.validate() does or output_step_s is not positive.
  EventPostProcessor(const DetectorConfig& config, double output_step_s);

  // Takes the next step's probability; returns the run that fires on this step, if any.
  std::optional<FiredRun> push(float probability);
  // The smoothed probability of the step pushed last (0 before any).
  float last_smoothed() const { return last_smoothed_; }
  std::uint64_t steps_pushed() const { return steps_pushed_; }
  // The least number of steps between two events' fire steps.
  std::uint64_t refractory_steps() const { return refractory_steps_; }
  void reset();

 private:
  float smooth(float probability);

  DetectorConfig config_;
  std::uint64_t refractory_steps_ = 0;
  std::vector<float> recent_;  // ring of the last smoothing_steps probabilities
  std::uint64_t steps_pushed_ = 0;
  float last_smoothed_ = 0;
  std::uint64_t run_length_ = 0;
  float run_peak_ = 0;
  std::optional<std::uint64_t> last_fire_step_;
};

class Detector {
 public:
  // Throws earshot::Error if there is no model or the config is invalid.
  Detector(std::shared_ptr<const Model> model, DetectorConfig config);
  ~Detector();
  Detector(Detector&&) noexcept;
  Detector& operator=(Detector&&) noexcept;

  // Pushes samples; appends any events completed by them to `events`, and, when `steps`
  // is not null, every new output step's probability. Allocation-free in steady state
  // when the output vectors have capacity (and the keyword fits the string's inline
  // buffer). Throws earshot::Error, consuming nothing, on a NaN or infinite sample.
  void accept_waveform(std::span<const float> samples, std::vector<Detection>& events,
                       std::vector<StepProbability>* steps = nullptr);
  // Forgets the stream (front end, model state, post-processing).
  void reset();

  const Model& model() const;
  const DetectorConfig& config() const;
  // Seconds of audio consumed so far.
  double audio_s() const;
  // The word duration used for start_s (see the file comment).
  double word_duration_s() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace earshot
