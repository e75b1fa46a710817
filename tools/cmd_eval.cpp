// `earshot eval`: the field's accuracy protocol (miss rate against false accepts per hour).
#include <fmt/core.h>

#include <cstdio>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "command.hpp"
#include "detector_flags.hpp"
#include "earshot/eval.hpp"
#include "earshot/label_inputs.hpp"
#include "earshot/model_file.hpp"
#include "earshot/text_file.hpp"

namespace earshot::cli::eval_command {
namespace {

struct EvalOptions {
  std::string model;
  std::vector<std::string> positives, negatives, noise;
  std::string recordings;
  std::vector<double> snrs_db;
  std::uint64_t seed = 1;
  double negative_hours = 0.25;
  std::string out;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  DetectorFlags detector;
  double calibrate_fa_per_hour = 0;
  std::string calibrated_model;
  std::string model_card;
  std::string save_false_accepts;
};

void add_flags(CLI::App& command, EvalOptions& options) {
  command.add_option("--model", options.model,
                     "model file (default: models/activate.earshot in the source tree or here)");
  command.add_option("--positives", options.positives,
                     "trigger-word clips (directories or files; repeatable)");
  command.add_option("--negatives", options.negatives,
                     "negative speech clips the triggers are mixed among (repeatable)");
  command.add_option("--noise", options.noise,
                     "background noise recordings (repeatable, DIR or DIR:WEIGHT); they take "
                     "turns of about 30 s, each by its weight");
  command.add_option("--snr", options.snrs_db,
                     "signal-to-noise ratios in dB, loudest 32 ms frame of each word over the "
                     "noise (default 10; repeat for several)");
  command
      .add_option("--negative-hours", options.negative_hours,
                  "hours of negative-only audio per SNR besides the trigger trials")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  command.add_option("--recordings", options.recordings,
                     "also score long recordings in DIR, each with an Audacity label file of "
                     "its trigger words beside it (same name, .txt)");
  command.add_option("--seed", options.seed, "seed for the mixtures")->capture_default_str();
  command
      .add_option("--out", options.out,
                  "report directory: summary.json, curve_*.csv, "
                  "det_curve.svg")
      ->required();
  command.add_option("--threads", options.threads)
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  options.detector.add_to(command);
  auto* calibrate = command.add_option(
      "--calibrate", options.calibrate_fa_per_hour,
      "pick the default threshold that meets this many false accepts per hour on the first "
      "condition (e.g. 0.5), and write the model with it to --calibrated-model");
  calibrate->check(CLI::PositiveNumber);
  command
      .add_option("--calibrated-model", options.calibrated_model,
                  "where to write the calibrated model (may be the --model file itself)")
      ->needs(calibrate);
  calibrate->needs("--calibrated-model");
  command.add_option("--model-card", options.model_card,
                     "write a Markdown model card (training provenance + these results)");
  command.add_option("--save-false-accepts", options.save_false_accepts,
                     "write the audio of every false accept at the threshold (1.5 s before the "
                     "detection to 0.25 s after, no trigger word inside) as WAV clips, with a "
                     "manifest.tsv, to DIR (new or empty): hard negatives for `earshot synth "
                     "--negatives DIR`");
}

// The clips directory must be new or empty, so that it holds this run's clips alone.
bool prepare_clip_directory(const std::filesystem::path& directory) {
  std::error_code error;
  if (std::filesystem::exists(directory, error) && !std::filesystem::is_empty(directory, error)) {
    fmt::print(stderr,
               "earshot eval: --save-false-accepts '{}' is not empty (give a new directory)\n",
               directory.string());
    return false;
  }
  std::filesystem::create_directories(directory, error);
  if (error) {
    fmt::print(stderr, "earshot eval: cannot create '{}': {}\n", directory.string(),
               error.message());
    return false;
  }
  return true;
}

std::vector<SourceCollection> load_clips(const std::vector<std::string>& paths, int threads) {
  std::vector<SourceSpec> specs;
  for (const std::string& path : paths)
    specs.push_back(SourceSpec::parse(path));
  LoadedSources loaded = load_sources(specs, SourceLimits{}, threads);
  for (const SkippedSource& skipped : loaded.skipped) {
    fmt::print(stderr, "earshot eval: skipped '{}': {}\n", skipped.path, skipped.reason);
  }
  return std::move(loaded.collections);
}

int run(EvalOptions options) {
  const bool mixtures = !options.positives.empty();
  if (!mixtures && options.recordings.empty()) {
    fmt::print(stderr,
               "earshot eval: give --positives/--negatives/--noise, --recordings, or both\n");
    return kUsage;
  }
  if (mixtures && (options.negatives.empty() || options.noise.empty())) {
    fmt::print(stderr, "earshot eval: --positives needs --negatives and --noise too\n");
    return kUsage;
  }
  if (options.snrs_db.empty()) options.snrs_db = {10.0};
  FalseAcceptAudioConfig save_audio;
  save_audio.directory = options.save_false_accepts;
  if (!save_audio.directory.empty() && !prepare_clip_directory(save_audio.directory)) return kUsage;
  const std::filesystem::path model_path =
      options.model.empty() ? find_default_model() : std::filesystem::path(options.model);
  auto model = std::make_shared<const Model>(load_model(model_path));
  const DetectorConfig post = options.detector.resolve(*model);

  std::vector<ConditionResult> results;
  if (mixtures) {
    EvalStreamConfig config;
    config.seed = options.seed;
    config.min_negative_hours = options.negative_hours;
    results = evaluate_mixtures(model, load_clips(options.positives, options.threads),
                                load_clips(options.negatives, options.threads),
                                load_clips(options.noise, options.threads), options.snrs_db, config,
                                post, options.threads, save_audio);
  }
  if (!options.recordings.empty()) {
    results.push_back(
        evaluate_recordings(model, options.recordings, post, options.threads, save_audio));
  }

  const nlohmann::json context = {{"model", model_path.string()},
                                  {"keyword", model->metadata().keywords},
                                  {"seed", options.seed},
                                  {"positives", options.positives},
                                  {"negatives", options.negatives},
                                  {"noise", options.noise},
                                  {"recordings", options.recordings},
                                  {"negative_hours_per_snr", options.negative_hours},
                                  {"hit_window", "[word start, word end + 0.5 s]"},
                                  {"min_steps_above", post.min_steps_above},
                                  {"smoothing_steps", post.smoothing_steps},
                                  {"refractory_s", post.refractory_s}};
  write_eval_report(options.out, results, context);
  fmt::print("{}", summary_table(results));
  fmt::print("report written to {}\n", options.out);
  if (!save_audio.directory.empty()) {
    std::vector<SavedFalseAccept> saved;
    for (const ConditionResult& result : results)
      saved.insert(saved.end(), result.saved_false_accepts.begin(),
                   result.saved_false_accepts.end());
    write_false_accept_manifest(save_audio, saved);
    fmt::print("{} false-accept clips (threshold {:.4f}) written to {}\n", saved.size(),
               post.threshold, save_audio.directory.string());
  }

  std::shared_ptr<const Model> final_model = model;
  std::string final_name = model_path.filename().string();
  if (!options.calibrated_model.empty()) {
    const float threshold =
        threshold_for_fa_per_hour(results.front().curve, options.calibrate_fa_per_hour);
    nlohmann::json evaluation = summary_json(results, context);
    evaluation["calibration"] = {{"target_fa_per_hour", options.calibrate_fa_per_hour},
                                 {"condition", results.front().name},
                                 {"threshold", threshold}};
    final_model = std::make_shared<const Model>(with_calibration(*model, threshold, evaluation));
    save_model(options.calibrated_model, *final_model);
    final_name = std::filesystem::path(options.calibrated_model).filename().string();
    fmt::print("calibrated threshold {:.4f} (target {:g} FA/h on {}) written to {}\n", threshold,
               options.calibrate_fa_per_hour, results.front().name, options.calibrated_model);
  }
  if (!options.model_card.empty()) {
    write_text_file(options.model_card,
                    model_card_markdown(*final_model, final_name, results, context));
  }
  return kSuccess;
}

const CommandRegistration registration{
    "eval", "Measure accuracy: miss rate at 0.1/0.5/1 false accepts per hour, DET curve",
    [](CLI::App& command) {
      auto options = std::make_shared<EvalOptions>();
      add_flags(command, *options);
      return [options] { return run(*options); };
    }};

}  // namespace
}  // namespace earshot::cli::eval_command
