// `earshot label` as a library call: arguments in, label files (or standard output),
// probability CSVs and plots out, every file's failure reported and counted. The command
// in tools/ only parses flags into a LabelRequest.
//
// Where output goes:
//   - no out_dir: every file's detections to `out` in input order (one CSV header on top);
//     audacity lines carry no file name, so that format needs a single input file;
//   - out_dir: one label file per input, OUT/<output_name><extension> (label_inputs.hpp),
//     with directories created as needed.
//   probs and plot name a file when the request is a single file argument, otherwise a
//   directory receiving <output_name>.probs.csv and <output_name>.svg per input.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "earshot/detector.hpp"
#include "earshot/label_format.hpp"

namespace earshot {

struct LabelRequest {
  std::vector<std::filesystem::path> inputs;  // files and directories, as given
  LabelFormat format = LabelFormat::kAudacity;
  std::optional<std::filesystem::path> out_dir;
  std::optional<std::filesystem::path> probs;
  std::optional<std::filesystem::path> plot;
  int threads = 1;
  bool progress_bar = false;  // a one-line bar on `err`, for terminals
  std::size_t block_samples = 16000;
};

// True when the request names exactly one input and it is not a directory.
bool is_single_file_request(const LabelRequest& request);
// Why the request cannot run as given (a usage error), or nothing.
std::optional<std::string> label_request_problem(const LabelRequest& request);

struct LabelRunSummary {
  std::size_t inputs = 0;  // audio files found, plus arguments that could not be read
  std::size_t failed = 0;
  std::size_t detections = 0;
};

// Labels everything the request names. A bad input (missing path, directory without audio,
// unreadable or corrupt file, output that cannot be written) is reported on `err` with the
// reason and counted; the others are still labelled. Throws earshot::Error only for
// problems that stop the whole run (label_request_problem, clashing output names).
LabelRunSummary run_labelling(std::shared_ptr<const Model> model, const DetectorConfig& config,
                              const LabelRequest& request, std::ostream& out, std::ostream& err);

}  // namespace earshot
