// `earshot train`: train a trigger-word model on synthesized datasets and write the model file.
#include <fmt/chrono.h>
#include <fmt/core.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "command.hpp"
#include "earshot/model_file.hpp"
#include "earshot/train.hpp"

namespace earshot::cli::train_command {
namespace {

struct TrainFlags {
  std::vector<std::string> data_dirs;
  std::string out;
  std::string keyword = "activate";
  std::string log;
  std::string teacher;
  double validation_fraction = 0.1;
  TrainingOptions training;
};

void add_flags(CLI::App& command, TrainFlags& flags) {
  TrainingOptions& t = flags.training;
  command
      .add_option("--data", flags.data_dirs,
                  "dataset directory (manifest.jsonl + clips/); repeat for more")
      ->required();
  command.add_option("--out", flags.out, "model file to write (also the best-so-far checkpoint)")
      ->required();
  command.add_option("--keyword", flags.keyword, "the trigger word's name")->capture_default_str();
  command.add_option("--epochs", t.epochs, "maximum epochs")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  command.add_option("--batch", t.batch_size, "clips per mini-batch")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  command.add_option("--lr", t.learning_rate, "peak learning rate (Adam)")->capture_default_str();
  command.add_option("--warmup-epochs", t.warmup_epochs, "linear warmup, then cosine decay")
      ->capture_default_str();
  command
      .add_option("--frontend", t.frontend.scale,
                  "spectrum the model reads: mel (log mel energies) or linear (log FFT power)")
      ->transform(CLI::CheckedTransformer(std::map<std::string, SpectrumScale>{
          {scale_name(SpectrumScale::kMel), SpectrumScale::kMel},
          {scale_name(SpectrumScale::kLinear), SpectrumScale::kLinear}}))
      ->default_str("mel");
  command
      .add_option("--compression", t.frontend.compression,
                  "how band energies become features: log, or pcen (per-channel energy "
                  "normalisation: divides out level and steady noise)")
      ->transform(CLI::CheckedTransformer(std::map<std::string, Compression>{
          {compression_name(Compression::kLog), Compression::kLog},
          {compression_name(Compression::kPcen), Compression::kPcen}}))
      ->default_str("log");
  command.add_option("--mel-bands", t.frontend.num_mel_bands, "mel bands (mel front end only)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  command.add_option("--conv-filters", t.shape.conv_filters, "Conv1D filters")
      ->capture_default_str();
  command.add_option("--conv-kernel", t.shape.conv_kernel, "Conv1D kernel in frames")
      ->capture_default_str();
  command
      .add_option("--conv-stride", t.shape.conv_stride,
                  "Conv1D stride in frames (output step = stride x hop)")
      ->capture_default_str();
  command.add_option("--gru", t.shape.gru_sizes, "GRU layer sizes, comma-separated")
      ->delimiter(',')
      ->capture_default_str();
  command
      .add_option("--label-window-s", t.label_window_s,
                  "seconds labelled 1 after each trigger word")
      ->capture_default_str();
  command.add_option("--pos-weight", t.positive_weight, "cross-entropy weight of positive steps")
      ->capture_default_str();
  command
      .add_option("--focal-gamma", t.focal_gamma,
                  "focal loss: each step's cross-entropy times (1 - p_right)^this, so confident "
                  "mistakes count most (0: plain cross-entropy)")
      ->check(CLI::Range(0.0, train::kMaxFocalGamma))
      ->capture_default_str();
  command.add_option("--dropout", t.dropout, "dropout probability between layers")
      ->capture_default_str();
  command
      .add_option("--freq-masks", t.feature_masking.frequency_masks,
                  "SpecAugment: bands of the input spectrum hidden per clip")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  command
      .add_option("--freq-mask-width", t.feature_masking.max_frequency_mask_bins,
                  "SpecAugment: widest band, in features (mel bands or FFT bins)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  command
      .add_option("--time-masks", t.feature_masking.time_masks,
                  "SpecAugment: spans of frames hidden per clip")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  command
      .add_option("--time-mask-frames", t.feature_masking.max_time_mask_frames,
                  "SpecAugment: longest span, in 10 ms frames")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  command
      .add_option("--freq-warp", t.frequency_warp.max_deviation,
                  "vocal tract length perturbation: each clip's spectrum stretched by a factor "
                  "drawn from [1 - this, 1 + this] every epoch (0: off)")
      ->check(CLI::Range(0.0, train::kMaxFrequencyWarpDeviation))
      ->capture_default_str();
  command
      .add_option("--time-warp", t.time_warp.max_tempo_deviation,
                  "local tempo perturbation: anchors every 200 ms moved by up to this share of "
                  "their spacing, features and labels together, every epoch (0: off)")
      ->check(CLI::Range(0.0, train::kMaxTimeWarpDeviation))
      ->capture_default_str();
  command
      .add_option("--teacher", flags.teacher,
                  "distillation: a trained model (e.g. an ensemble) whose probabilities on the "
                  "training clips join the labels as targets; it must use this front end and "
                  "convolution kernel and stride")
      ->check(CLI::ExistingFile);
  command
      .add_option("--teacher-weight", t.distillation.teacher_weight,
                  "distillation: share of the teacher's probability in each step's target")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  command.add_option("--clip-norm", t.gradient_clip_norm, "global gradient-norm limit (0: none)")
      ->capture_default_str();
  command
      .add_option("--weight-average", t.weight_average_decay,
                  "validate and save an exponential moving average of the weights over the "
                  "optimiser's steps with this decay, e.g. 0.999 (0: the last step's weights)")
      ->check(CLI::Range(0.0, 0.9999999))
      ->capture_default_str();
  command
      .add_option("--patience", t.patience,
                  "stop after this many epochs without a better validation loss (0: never)")
      ->capture_default_str();
  command
      .add_option("--threshold", t.detection_threshold,
                  "threshold for validation metrics and the model's default")
      ->capture_default_str();
  command
      .add_option("--val-fraction", flags.validation_fraction,
                  "share of clips held out for validation")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  command
      .add_option("--seed", t.seed, "seed for initial weights, clip order, dropout and the split")
      ->capture_default_str();
  command.add_option("--log", flags.log, "CSV training log, one row per epoch");
  command.add_option("--threads", t.threads, "threads for features, gradients and validation")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

// Every effective setting, as a command that would repeat this run.
std::string command_line(const TrainFlags& flags) {
  const TrainingOptions& t = flags.training;
  std::string line = "earshot train";
  for (const auto& dir : flags.data_dirs)
    line += fmt::format(" --data {}", dir);
  line += fmt::format(
      " --out {} --keyword {} --epochs {} --batch {} --lr {} --warmup-epochs {} --frontend {} "
      "--compression {} --mel-bands {} --conv-filters {} "
      "--conv-kernel {} --conv-stride {} --gru {} --label-window-s {} --pos-weight {} "
      "--focal-gamma {} --dropout {} "
      "--freq-masks {} --freq-mask-width {} --time-masks {} --time-mask-frames {} --freq-warp {} "
      "--time-warp {} "
      "--clip-norm {} --weight-average {} "
      "--patience {} --threshold {} --val-fraction {} --seed {} --threads {}",
      flags.out, flags.keyword, t.epochs, t.batch_size, t.learning_rate, t.warmup_epochs,
      scale_name(t.frontend.scale), compression_name(t.frontend.compression),
      t.frontend.num_mel_bands, t.shape.conv_filters, t.shape.conv_kernel, t.shape.conv_stride,
      fmt::join(t.shape.gru_sizes, ","), t.label_window_s, t.positive_weight, t.focal_gamma,
      t.dropout, t.feature_masking.frequency_masks, t.feature_masking.max_frequency_mask_bins,
      t.feature_masking.time_masks, t.feature_masking.max_time_mask_frames,
      t.frequency_warp.max_deviation, t.time_warp.max_tempo_deviation, t.gradient_clip_norm,
      t.weight_average_decay, t.patience, t.detection_threshold, flags.validation_fraction, t.seed,
      t.threads);
  if (!flags.teacher.empty())
    line += fmt::format(" --teacher {} --teacher-weight {}", flags.teacher,
                        t.distillation.teacher_weight);
  if (!flags.log.empty()) line += fmt::format(" --log {}", flags.log);
  return line;
}

// Mean duration of the trigger words in `clips` (0 when there are none): the detector
// estimates a word's start from its end with it.
double mean_trigger_duration_s(const std::vector<TrainingClip>& clips) {
  double total_s = 0;
  std::size_t count = 0;
  for (const auto& clip : clips) {
    for (const auto& word : clip.record.words) {
      if (word.kind != WordKind::kTrigger) continue;
      total_s += word.end_s - word.start_s;
      ++count;
    }
  }
  return count == 0 ? 0.0 : total_s / static_cast<double>(count);
}

double total_audio_s(const std::vector<TrainingClip>& clips) {
  double seconds = 0;
  for (const auto& clip : clips)
    seconds += clip.record.duration_s;
  return seconds;
}

// "val loss 0.1234  miss 12.5%  FA/h 3.20", or a note when there is no validation set.
std::string validation_text(const EpochResult& r) {
  if (std::isnan(r.validation_loss)) return "no validation clips";
  return fmt::format("val loss {:.4f}  miss {:.1f}%  FA/h {:.2f}", r.validation_loss,
                     100 * r.validation_miss_rate, r.validation_false_alarms_per_hour);
}

void print_epoch(const EpochResult& r, int epochs, const std::string& out) {
  fmt::print("epoch {}/{}  loss {:.4f}  {}  lr {:.2e}  {:.1f} s{}\n", r.epoch, epochs, r.train_loss,
             validation_text(r), r.learning_rate, r.seconds,
             r.improved ? fmt::format("  (best, saved to {})", out) : "");
  std::fflush(stdout);
}

int run_train(TrainFlags& flags) {
  TrainingOptions& options = flags.training;
  options.keywords = {flags.keyword};
  options.shape.feature_dim = options.frontend.feature_dim();
  options.checkpoint_path = flags.out;
  options.log_path = flags.log;
  if (!flags.teacher.empty())
    options.distillation.teacher = std::make_shared<const Model>(load_model(flags.teacher));
  options.validate();

  const auto start = std::chrono::steady_clock::now();
  const std::vector<std::filesystem::path> dirs(flags.data_dirs.begin(), flags.data_dirs.end());
  LoadedClips loaded = load_training_clips(dirs, options.frontend, options.threads);
  for (const auto& problem : loaded.skipped)
    fmt::print(stderr, "earshot train: {}\n", problem);
  const double load_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print("loaded {} clips ({:.2f} h of audio) from {} dataset(s) in {:.1f} s; skipped {}\n",
             loaded.clips.size(), total_audio_s(loaded.clips) / 3600, dirs.size(), load_s,
             loaded.skipped.size());

  ClipSplit split = split_clips(std::move(loaded.clips),
                                random_fraction(flags.validation_fraction, options.seed));
  fmt::print("training on {} clips, validating on {}; {} parameters, output step {:.0f} ms\n",
             split.training.size(), split.validation.size(), options.shape.num_parameters(),
             1000 * output_step_s(options.shape, options.frontend));

  nlohmann::json data = nlohmann::json::array();
  for (const auto& dir : flags.data_dirs)
    data.push_back(dir);
  options.provenance = {
      {"command_line", command_line(flags)},
      {"date", fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::time(nullptr)))},
      {"earshot_version", EARSHOT_VERSION},
      {"data", data},
      {"training_audio_s", total_audio_s(split.training)},
      {"validation_audio_s", total_audio_s(split.validation)},
      {"skipped_clips", loaded.skipped.size()}};
  if (const double duration_s = mean_trigger_duration_s(split.training); duration_s > 0)
    options.provenance["mean_trigger_duration_s"] = duration_s;
  if (options.distillation.enabled()) {
    const Model& teacher = *options.distillation.teacher;
    options.provenance["teacher"] = {{"file", flags.teacher},
                                     {"weight", options.distillation.teacher_weight},
                                     {"networks", teacher.members().size()},
                                     {"provenance", teacher.metadata().provenance}};
    fmt::print("distilling from {} ({} network(s)), teacher weight {}\n", flags.teacher,
               teacher.members().size(), options.distillation.teacher_weight);
  }

  const TrainingResult result =
      train_model(split.training, split.validation, options,
                  [&](const EpochResult& r) { print_epoch(r, options.epochs, flags.out); });
  save_model(flags.out, result.model);
  const EpochResult& best = result.history.at(static_cast<std::size_t>(result.best_epoch - 1));
  fmt::print("wrote {} (best epoch {}: {})\n", flags.out, best.epoch, validation_text(best));
  if (!loaded.skipped.empty()) {
    fmt::print(stderr, "earshot train: {} clip(s) could not be read and were left out\n",
               loaded.skipped.size());
    return kPartialFailure;
  }
  return kSuccess;
}

const CommandRegistration registration{
    "train", "Train a trigger-word model (Conv1D + GRU) on synthesized datasets",
    [](CLI::App& command) -> std::function<int()> {
      auto flags = std::make_shared<TrainFlags>();
      add_flags(command, *flags);
      return [flags] { return run_train(*flags); };
    }};

}  // namespace
}  // namespace earshot::cli::train_command
