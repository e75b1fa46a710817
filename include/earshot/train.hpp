// Training a trigger-word model from synthesized datasets (dataset.hpp), in C++:
// backpropagation through time with Adam over mini-batches of clips (train_network.hpp).
//
// The pieces, in the order `earshot train` uses them:
//   load_training_clips   manifests + audio -> features through the model's own front end,
//                         computed once and kept in memory (~16 kB per second of audio at
//                         40 features per 10 ms frame)
//   split_clips           training / validation by any predicate on the clip (its record says
//                         which voices spoke: split by voice to measure generalisation)
//   train_model           epochs of shuffled mini-batches; validation after each epoch with
//                         the exported inference Model; early stopping, checkpoints, CSV log
//
// Labels come from make_labels() with the model's output step (conv_stride * hop_s) and
// label_window_s. Feature mean/std are computed on the training clips and stored in the model.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "earshot/dataset.hpp"
#include "earshot/frontend.hpp"
#include "earshot/model.hpp"
#include "earshot/train_augment.hpp"
#include "earshot/train_distill.hpp"
#include "earshot/train_frequency_warp.hpp"
#include "earshot/train_layers.hpp"
#include "earshot/train_time_warp.hpp"

namespace earshot {

// ---- Data ----------------------------------------------------------------------------------

// One clip ready for training: where it came from, what is in it, and its features.
struct TrainingClip {
  std::filesystem::path dataset_dir;
  ClipRecord record;
  std::vector<float> features;  // row-major, num_frames x feature_dim
  std::size_t num_frames = 0;
};

struct LoadedClips {
  std::vector<TrainingClip> clips;  // in dataset order, then manifest order
  // One line per clip that was skipped (unreadable or empty audio), naming file and reason.
  std::vector<std::string> skipped;
};

// Reads every dataset directory's manifest and clips and computes their features with
// `frontend`, on up to `threads` threads (results do not depend on the thread count).
// Throws earshot::Error if a manifest is missing or malformed; skips (and reports) clips
// whose audio cannot be read.
LoadedClips load_training_clips(const std::vector<std::filesystem::path>& dataset_dirs,
                                const FrontEndConfig& frontend, int threads);

struct ClipSplit {
  std::vector<TrainingClip> training;
  std::vector<TrainingClip> validation;
};

using ClipPredicate = std::function<bool(const TrainingClip&)>;

// Clips for which `is_validation` is true go to validation, the rest to training; order kept.
ClipSplit split_clips(std::vector<TrainingClip> clips, const ClipPredicate& is_validation);

// True for about `fraction` of clips, chosen by a hash of (seed, dataset directory, clip
// index): the same clip lands on the same side however the clips are ordered or added to.
ClipPredicate random_fraction(double fraction, std::uint64_t seed);

struct FeatureStatistics {
  std::vector<float> mean;
  std::vector<float> std;  // floored at 1e-3 so constant features do not blow up
};

// Per-dimension mean and standard deviation over every frame of `clips`.
FeatureStatistics feature_statistics(const std::vector<TrainingClip>& clips, int feature_dim);

// ---- Validation metrics --------------------------------------------------------------------

// How trigger words and detections are matched. A word's acceptance window is
// [end_s - slack_s, end_s + label_window_s + slack_s]: its label window plus slack.
struct DetectionRules {
  double threshold = 0.5;
  double label_window_s = 0.5;
  double slack_s = 0.2;
};

struct DetectionMetrics {
  std::size_t trigger_words = 0;
  std::size_t missed_words = 0;  // no output >= threshold inside the word's window
  std::size_t false_alarms = 0;  // rising edges across the threshold outside every window
  double audio_s = 0;

  double miss_rate() const;              // missed_words / trigger_words (0 without words)
  double false_alarms_per_hour() const;  // per hour of audio scored
  void add(const DetectionMetrics& other);
};

// Scores one clip's outputs; output step k stands for time k * step_s.
DetectionMetrics score_detections(std::span<const float> probabilities, double step_s,
                                  const std::vector<InsertedWord>& words, double duration_s,
                                  const DetectionRules& rules);

// ---- Training ------------------------------------------------------------------------------

struct TrainingOptions {
  FrontEndConfig frontend;  // the front end the clips' features came from
  ModelShape shape;         // shape.feature_dim must equal frontend.feature_dim()
  std::vector<std::string> keywords = {"activate"};
  double label_window_s = 0.5;

  int epochs = 30;
  int batch_size = 16;  // clips per mini-batch
  double learning_rate = 1e-3;
  double warmup_epochs = 1.0;  // linear warmup, then cosine decay over the remaining epochs
  double final_learning_rate_fraction = 0.05;
  double positive_weight = 5.0;  // cross-entropy weight of label-1 steps (they are rare)
  double focal_gamma = 0.0;      // focal loss exponent (train_layers.hpp), 0: plain
  double dropout = 0.2;
  train::FeatureMasking feature_masking;  // SpecAugment-style masks (train_augment.hpp)
  train::FrequencyWarp frequency_warp;    // per-clip spectrum warp (train_frequency_warp.hpp)
  train::TimeWarp time_warp;              // per-clip local tempo warp (train_time_warp.hpp)
  train::Distillation distillation;       // a teacher's probabilities in the targets (off: none)
  double gradient_clip_norm = 5.0;        // global L2 norm; <= 0 disables clipping
  double weight_average_decay = 0.0;      // validate and save an average of the weights (0: off)
  double batch_norm_momentum = 0.1;
  int patience = 8;  // stop after this many epochs without a better validation loss (0: never)
  std::uint64_t seed = 1;
  int threads = 2;

  // Validation metrics (DetectionRules with label_window_s above); the threshold also becomes
  // the model's default threshold.
  double detection_threshold = 0.5;
  double detection_slack_s = 0.2;

  std::filesystem::path checkpoint_path;  // the best model so far is saved here ("" = none)
  std::filesystem::path log_path;         // CSV, one row per epoch ("" = none)
  nlohmann::json provenance = nlohmann::json::object();  // copied into every saved model

  // Throws earshot::Error naming the first option that is out of range.
  void validate() const;
  train::StepLossWeights loss_weights() const { return {positive_weight, focal_gamma}; }
};

struct EpochResult {
  int epoch = 0;               // 1-based
  double train_loss = 0;       // mean over the epoch's batches, training mode (dropout on)
  double validation_loss = 0;  // inference mode; NaN without validation clips
  double validation_miss_rate = 0;
  double validation_false_alarms_per_hour = 0;
  double learning_rate = 0;  // at the epoch's last step
  double seconds = 0;        // wall time of the epoch including validation
  bool improved = false;     // best so far by validation loss (training loss without validation)
};

struct TrainingResult {
  Model model;  // from the best epoch, with provenance
  std::vector<EpochResult> history;
  int best_epoch = 0;
};

// Trains from scratch. Deterministic for a given seed: clip order, dropout masks and
// initial weights depend on the seed alone, and gradients do not depend on thread timing or
// count. `on_epoch` (if set) is called after every epoch, e.g. to print progress.
// Throws earshot::Error on bad options or when no training clip yields an output step.
TrainingResult train_model(const std::vector<TrainingClip>& training,
                           const std::vector<TrainingClip>& validation,
                           const TrainingOptions& options,
                           const std::function<void(const EpochResult&)>& on_epoch = {});

}  // namespace earshot
