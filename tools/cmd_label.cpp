// `earshot label`: run the detector over audio files and write what it found.
#include <fmt/core.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>

#include "command.hpp"
#include "detector_flags.hpp"
#include "earshot/label_inputs.hpp"
#include "earshot/label_run.hpp"
#include "earshot/model_file.hpp"

namespace earshot::cli::label_command {
namespace {

struct LabelOptions {
  std::string model;
  std::string format = "audacity";
  std::string out;
  DetectorFlags detector;
  std::string probs;
  std::string plot;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::string> inputs;
};

void add_flags(CLI::App& command, LabelOptions& options) {
  command.add_option("--model", options.model,
                     "model file (default: models/activate.earshot in the source tree or here)");
  command.add_option("--format", options.format, "label format")
      ->check(CLI::IsMember({"audacity", "json", "csv"}))
      ->capture_default_str();
  command.add_option("--out", options.out,
                     "write one label file per input here (name.txt/.jsonl/.csv, mirroring "
                     "subdirectories) instead of standard output");
  options.detector.add_to(command);
  command.add_option("--probs", options.probs,
                     "per-step probabilities as CSV (time_s,probability): a file for one input "
                     "file, else a directory of <name>.probs.csv");
  command.add_option("--plot", options.plot,
                     "SVG plot of waveform, probability, threshold and detections: a file for "
                     "one input file, else a directory of <name>.svg");
  command.add_option("--threads", options.threads, "files labelled in parallel")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  command.add_option("inputs", options.inputs, "audio files and directories (walked recursively)")
      ->required();
}

LabelRequest label_request(const LabelOptions& options) {
  LabelRequest request;
  request.inputs.assign(options.inputs.begin(), options.inputs.end());
  request.format = parse_label_format(options.format);
  if (!options.out.empty()) request.out_dir = options.out;
  if (!options.probs.empty()) request.probs = options.probs;
  if (!options.plot.empty()) request.plot = options.plot;
  request.threads = options.threads;
  request.progress_bar = isatty(fileno(stderr)) != 0;
  return request;
}

int run(const LabelOptions& options) {
  const LabelRequest request = label_request(options);
  if (const std::optional<std::string> problem = label_request_problem(request)) {
    fmt::print(stderr, "earshot label: {}\n", *problem);
    return kUsage;
  }
  const std::filesystem::path model_path =
      options.model.empty() ? find_default_model() : std::filesystem::path(options.model);
  auto model = std::make_shared<const Model>(load_model(model_path));
  const DetectorConfig config = options.detector.resolve(*model);
  const LabelRunSummary summary = run_labelling(model, config, request, std::cout, std::cerr);
  if (summary.failed == 0) return kSuccess;
  return summary.failed == summary.inputs ? kFailure : kPartialFailure;
}

const CommandRegistration registration{
    "label", "Detect the trigger word in audio files: Audacity labels, JSON lines or CSV",
    [](CLI::App& command) {
      auto options = std::make_shared<LabelOptions>();
      add_flags(command, *options);
      return [options] { return run(*options); };
    }};

}  // namespace
}  // namespace earshot::cli::label_command
