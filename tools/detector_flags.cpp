#include "detector_flags.hpp"

namespace earshot::cli {

void DetectorFlags::add_to(CLI::App& command) {
  auto* threshold_option = command.add_option(
      "--threshold", threshold, "probability threshold in (0, 1) (default: the model's)");
  threshold_option->check(CLI::Range(0.0f, 1.0f));
  command
      .add_option("--sensitivity", sensitivity,
                  "0..1: 0.5 is the model's threshold, higher detects more")
      ->check(CLI::Range(0.0f, 1.0f))
      ->excludes(threshold_option);
  command
      .add_option("--min-steps", detector.min_steps_above,
                  "consecutive output steps above threshold before an event fires")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  command
      .add_option("--smoothing", detector.smoothing_steps,
                  "moving mean over this many output steps (1 = none)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  command
      .add_option("--refractory-s", detector.refractory_s,
                  "no new event within this many seconds of the last")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
}

DetectorConfig DetectorFlags::resolve(const Model& model) const {
  DetectorConfig config = detector;
  const float model_threshold = model.metadata().default_threshold;
  config.threshold = model_threshold;
  if (threshold) config.threshold = *threshold;
  if (sensitivity) {
    config.threshold = DetectorConfig::threshold_for_sensitivity(*sensitivity, model_threshold);
  }
  config.validate();
  return config;
}

}  // namespace earshot::cli
