// The training loop (train.hpp): epochs of shuffled mini-batches, validation with the exported
// inference model, early stopping, checkpoints and the CSV log.
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <numeric>
#include <optional>
#include <random>
#include <utility>

#include "earshot/error.hpp"
#include "earshot/model_file.hpp"
#include "earshot/train.hpp"
#include "earshot/train_network.hpp"
#include "earshot/train_optimizer.hpp"
#include "train_parallel.hpp"

namespace earshot {
namespace {

// A clip with its labels for this model's output step.
struct LabeledClip {
  const TrainingClip* clip;
  std::vector<float> labels;
};

std::vector<LabeledClip> label_clips(const std::vector<TrainingClip>& clips,
                                     const TrainingOptions& options, double step_s) {
  const auto dim = static_cast<std::size_t>(options.shape.feature_dim);
  std::vector<LabeledClip> labeled;
  for (const TrainingClip& clip : clips) {
    if (clip.features.size() != clip.num_frames * dim) {
      throw Error(fmt::format("training clip '{}' has {} feature values, expected {} frames x {}",
                              clip.record.file, clip.features.size(), clip.num_frames, dim));
    }
    const std::size_t steps = options.shape.num_outputs(clip.num_frames);
    if (steps == 0) continue;  // too short for one convolution window
    labeled.push_back(
        {&clip, make_labels(clip.record.words, steps, step_s, options.label_window_s)});
  }
  return labeled;
}

// Each clip's time warp is drawn from its per-epoch seed mixed with this.
constexpr std::uint64_t kTimeWarpStream = 0x7457;

struct ValidationScore {
  double loss = std::numeric_limits<double>::quiet_NaN();
  DetectionMetrics metrics;
};

// The training loss (without augmentation) of probabilities as the inference model gives
// them, and the detection metrics.
ValidationScore validate(const Model& model, const std::vector<LabeledClip>& clips,
                         const TrainingOptions& options) {
  ValidationScore score;
  if (clips.empty()) return score;
  std::vector<double> losses(clips.size());
  std::vector<DetectionMetrics> metrics(clips.size());
  const DetectionRules rules{options.detection_threshold, options.label_window_s,
                             options.detection_slack_s};
  train::parallel_for(options.threads, clips.size(), [&](std::size_t c) {
    const TrainingClip& clip = *clips[c].clip;
    const std::vector<float> p = model.forward(clip.features, clip.num_frames);
    for (std::size_t k = 0; k < p.size(); ++k) {
      const double q = std::clamp(static_cast<double>(p[k]), 1e-7, 1.0 - 1e-7);
      double unused_derivative = 0;
      losses[c] += train::step_loss(std::log(q / (1.0 - q)), clips[c].labels[k],
                                    options.loss_weights(), unused_derivative);
    }
    metrics[c] = score_detections(p, model.output_step_s(), clip.record.words,
                                  clip.record.duration_s, rules);
  });
  double total_loss = 0;
  double total_steps = 0;
  for (std::size_t c = 0; c < clips.size(); ++c) {
    total_loss += losses[c];
    total_steps += static_cast<double>(clips[c].labels.size());
    score.metrics.add(metrics[c]);
  }
  score.loss = total_loss / total_steps;
  return score;
}

class CsvLog {
 public:
  explicit CsvLog(const std::filesystem::path& path) {
    if (path.empty()) return;
    out_.open(path, std::ios::trunc);
    if (!out_) throw Error(fmt::format("cannot write training log '{}'", path.string()));
    out_ << "epoch,train_loss,val_loss,val_miss_rate,val_false_alarms_per_hour,learning_rate,"
            "seconds\n";
  }
  void write(const EpochResult& r) {
    if (!out_.is_open()) return;
    out_ << fmt::format("{},{:.6f},{:.6f},{:.6f},{:.4f},{:.6g},{:.3f}\n", r.epoch, r.train_loss,
                        r.validation_loss, r.validation_miss_rate,
                        r.validation_false_alarms_per_hour, r.learning_rate, r.seconds);
    out_.flush();
  }

 private:
  std::ofstream out_;
};

nlohmann::json epoch_json(const EpochResult& r) {
  const auto finite_or_null = [](double v) {
    return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
  };
  return {{"epoch", r.epoch},
          {"train_loss", r.train_loss},
          {"validation_loss", finite_or_null(r.validation_loss)},
          {"validation_miss_rate", r.validation_miss_rate},
          {"validation_false_alarms_per_hour", r.validation_false_alarms_per_hour}};
}

// Everything the trainer knows besides the weights, in the model's metadata.
ModelMetadata make_metadata(const TrainingOptions& options, const FeatureStatistics& stats,
                            nlohmann::json provenance) {
  ModelMetadata metadata;
  metadata.keywords = options.keywords;
  metadata.frontend = options.frontend;
  metadata.shape = options.shape;
  metadata.feature_mean = stats.mean;
  metadata.feature_std = stats.std;
  metadata.label_window_s = options.label_window_s;
  metadata.default_threshold = static_cast<float>(options.detection_threshold);
  metadata.provenance = std::move(provenance);
  return metadata;
}

// Clip order for one epoch: Fisher-Yates with a generator seeded by (seed, epoch).
void shuffle_order(std::vector<std::size_t>& order, std::uint64_t seed, int epoch) {
  std::mt19937_64 rng(train::mix_seed(seed, static_cast<std::uint64_t>(epoch)));
  for (std::size_t i = order.size(); i > 1; --i) {
    const auto j = static_cast<std::size_t>(static_cast<double>(rng() >> 11) * 0x1.0p-53 *
                                            static_cast<double>(i));
    std::swap(order[i - 1], order[j]);
  }
}

void require(bool ok, const std::string& message) {
  if (!ok) throw Error("training options: " + message);
}

}  // namespace

void TrainingOptions::validate() const {
  frontend.validate();
  shape.validate();
  require(shape.feature_dim == frontend.feature_dim(),
          fmt::format("the model takes {} features per frame but the front end makes {}",
                      shape.feature_dim, frontend.feature_dim()));
  require(!keywords.empty(), "at least one keyword is needed");
  require(label_window_s > 0, fmt::format("label window must be > 0 s, got {}", label_window_s));
  require(epochs >= 1, fmt::format("epochs must be >= 1, got {}", epochs));
  require(batch_size >= 1, fmt::format("batch size must be >= 1, got {}", batch_size));
  require(learning_rate > 0, fmt::format("learning rate must be > 0, got {}", learning_rate));
  require(warmup_epochs >= 0, fmt::format("warmup epochs must be >= 0, got {}", warmup_epochs));
  require(final_learning_rate_fraction >= 0 && final_learning_rate_fraction <= 1,
          "final learning rate fraction must be in [0, 1]");
  require(positive_weight > 0, fmt::format("positive weight must be > 0, got {}", positive_weight));
  require(
      focal_gamma >= 0 && focal_gamma <= train::kMaxFocalGamma,
      fmt::format("focal gamma must be in [0, {}], got {}", train::kMaxFocalGamma, focal_gamma));
  require(dropout >= 0 && dropout < 1, fmt::format("dropout must be in [0, 1), got {}", dropout));
  feature_masking.validate();
  frequency_warp.validate();
  time_warp.validate();
  distillation.validate(frontend, shape);
  require(weight_average_decay >= 0 && weight_average_decay < 1,
          fmt::format("weight average decay must be in [0, 1), got {}", weight_average_decay));
  require(batch_norm_momentum > 0 && batch_norm_momentum <= 1,
          "batch norm momentum must be in (0, 1]");
  require(patience >= 0, fmt::format("patience must be >= 0, got {}", patience));
  require(threads >= 1, fmt::format("threads must be >= 1, got {}", threads));
  require(detection_threshold > 0 && detection_threshold < 1,
          fmt::format("detection threshold must be in (0, 1), got {}", detection_threshold));
  require(detection_slack_s >= 0, "detection slack must be >= 0 s");
  const auto parent = checkpoint_path.parent_path();
  require(checkpoint_path.empty() || parent.empty() || std::filesystem::is_directory(parent),
          fmt::format("the directory of '{}' does not exist", checkpoint_path.string()));
}

TrainingResult train_model(const std::vector<TrainingClip>& training,
                           const std::vector<TrainingClip>& validation,
                           const TrainingOptions& options,
                           const std::function<void(const EpochResult&)>& on_epoch) {
  options.validate();
  const double step_s = output_step_s(options.shape, options.frontend);
  std::vector<LabeledClip> train_clips = label_clips(training, options, step_s);
  const std::vector<LabeledClip> validation_clips = label_clips(validation, options, step_s);
  if (training.empty())
    throw Error("no training clips: nothing was loaded, or all went to validation");
  if (train_clips.empty()) {
    throw Error(fmt::format("no training clip is long enough for one output step ({} frames)",
                            options.shape.conv_kernel));
  }
  if (options.distillation.enabled()) {
    // Validation keeps the true labels: it measures the student against the words, not the
    // teacher.
    train::parallel_for(options.threads, train_clips.size(), [&](std::size_t c) {
      const TrainingClip& clip = *train_clips[c].clip;
      train::blend_teacher_targets(options.distillation, clip.features, clip.num_frames,
                                   train_clips[c].labels);
    });
  }
  const FeatureStatistics stats = feature_statistics(training, options.shape.feature_dim);

  train::TrainingNetwork<float> network(options.shape, stats.mean, stats.std, options.threads);
  Eigen::VectorXf parameters = train::initial_parameters<float>(network.layout(), options.seed);
  Eigen::VectorXf gradient;
  train::AdamOptimizer adam(parameters.size());
  train::WeightAverage weight_average(options.weight_average_decay);
  train::BatchNormRunningStats running;
  running.reset(options.shape.conv_filters);
  train::BatchNormMoments moments;

  const auto batch_size = static_cast<std::size_t>(options.batch_size);
  const auto batches_per_epoch =
      static_cast<std::int64_t>((train_clips.size() + batch_size - 1) / batch_size);
  const train::LearningRateSchedule schedule{
      options.learning_rate,
      static_cast<std::int64_t>(std::llround(options.warmup_epochs * batches_per_epoch)),
      batches_per_epoch * options.epochs, options.final_learning_rate_fraction};

  CsvLog log(options.log_path);
  std::vector<std::size_t> order(train_clips.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::vector<train::ClipExample> batch;
  std::vector<train::TimeWarpedClip> time_warped(batch_size);  // the batch's warped copies
  std::optional<Model> best_model;
  std::vector<EpochResult> history;
  int best_epoch = 0;
  double best_loss = std::numeric_limits<double>::infinity();
  std::int64_t step = 0;
  const train::GradientOptions gradient_options{options.loss_weights(), options.dropout,
                                                options.feature_masking, options.frequency_warp,
                                                feature_centres_hz(options.frontend)};

  for (int epoch = 1; epoch <= options.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    shuffle_order(order, options.seed, epoch);
    double loss_sum = 0;
    for (std::size_t first = 0; first < order.size(); first += batch_size) {
      batch.clear();
      for (std::size_t i = first; i < std::min(first + batch_size, order.size()); ++i) {
        const LabeledClip& labeled = train_clips[order[i]];
        const std::uint64_t dropout_seed = train::mix_seed(
            train::mix_seed(options.seed, 0x64726f70ull + static_cast<std::uint64_t>(epoch)),
            order[i]);
        if (options.time_warp.enabled()) {
          // Features and labels are warped together, so this happens here, not in the network.
          train::TimeWarpedClip& warped = time_warped[i - first];
          train::warp_clip_time(labeled.clip->features, options.shape.feature_dim, labeled.labels,
                                options.shape.conv_stride, options.time_warp,
                                dropout_seed ^ kTimeWarpStream, warped);
          batch.push_back({warped.features, warped.labels, dropout_seed});
        } else {
          batch.push_back({labeled.clip->features, labeled.labels, dropout_seed});
        }
      }
      const double loss =
          network.loss_and_gradient(parameters, batch, gradient_options, gradient, moments);
      if (!std::isfinite(loss)) {
        throw Error(
            fmt::format("training diverged in epoch {} (loss {}): lower the learning "
                        "rate (now {})",
                        epoch, loss, options.learning_rate));
      }
      loss_sum += loss;
      train::clip_gradient_norm(gradient, options.gradient_clip_norm);
      adam.step(parameters, gradient, schedule.at(step++));
      weight_average.update(parameters);
      running.update(moments, options.batch_norm_momentum);
    }

    EpochResult epoch_result;
    epoch_result.epoch = epoch;
    epoch_result.train_loss = loss_sum / static_cast<double>(batches_per_epoch);
    epoch_result.learning_rate = schedule.at(step - 1);
    const Eigen::VectorXf& weights = weight_average.averaged(parameters);
    Model model = train::export_model(network.layout(), weights, running,
                                      make_metadata(options, stats, options.provenance));
    const ValidationScore score = validate(model, validation_clips, options);
    epoch_result.validation_loss = score.loss;
    epoch_result.validation_miss_rate = score.metrics.miss_rate();
    epoch_result.validation_false_alarms_per_hour = score.metrics.false_alarms_per_hour();
    const double criterion =
        validation_clips.empty() ? epoch_result.train_loss : epoch_result.validation_loss;
    epoch_result.improved = criterion < best_loss;
    if (epoch_result.improved) {
      best_loss = criterion;
      best_epoch = epoch;
      nlohmann::json provenance = options.provenance;
      provenance["training"] = {{"best_epoch", epoch_json(epoch_result)},
                                {"training_clips", train_clips.size()},
                                {"validation_clips", validation_clips.size()},
                                {"parameters", options.shape.num_parameters()}};
      best_model.emplace(train::export_model(network.layout(), weights, running,
                                             make_metadata(options, stats, provenance)));
      if (!options.checkpoint_path.empty()) save_model(options.checkpoint_path, *best_model);
    }
    epoch_result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    log.write(epoch_result);
    history.push_back(epoch_result);
    if (on_epoch) on_epoch(epoch_result);
    if (options.patience > 0 && epoch - best_epoch >= options.patience) break;
  }
  if (!best_model) {
    throw Error("training produced no usable model: the loss was never finite");
  }
  return {std::move(*best_model), std::move(history), best_epoch};
}

}  // namespace earshot
