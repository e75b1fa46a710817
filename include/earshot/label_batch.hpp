// Labelling audio files with a Detector: one file streamed from disk, or many files on many
// threads sharing one immutable Model, results handed back in input order.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "earshot/detector.hpp"
#include "earshot/label_plot.hpp"

namespace earshot {

struct LabelFileOptions {
  // Samples read and pushed at a time: memory stays flat whatever the file's length.
  std::size_t block_samples = 16000;
  bool keep_steps = false;     // fill FileLabels::steps (for --probs and --plot)
  bool keep_envelope = false;  // fill FileLabels::envelope (for --plot)
};

struct FileLabels {
  std::vector<Detection> detections;
  std::vector<StepProbability> steps;
  std::optional<WaveformEnvelope> envelope;
  double duration_s = 0;  // audio actually read
};

// Streams `path` through `detector` (reset first) in blocks. `progress`, if set, is called
// after each block with the fraction of the file done (by its header's duration). Throws
// earshot::Error naming the file if it cannot be read or holds a NaN/infinite sample.
FileLabels label_file(Detector& detector, const std::filesystem::path& path,
                      const LabelFileOptions& options,
                      const std::function<void(double)>& progress = {});

// What became of one file of a batch: its labels, or why there are none.
struct LabelOutcome {
  std::optional<FileLabels> labels;
  std::string error;  // set when labels is empty
};

struct BatchCallbacks {
  // Called on the calling thread for every file, in input order (never in completion
  // order), as soon as it and all files before it are done.
  std::function<void(std::size_t index, LabelOutcome& outcome)> deliver;
  // Called on the calling thread now and then with (fraction of the batch done), counting
  // the part of files in progress. Optional.
  std::function<void(double)> progress;
};

// Labels `files` on `threads` worker threads (at most one per file; < 1 means 1), each with
// its own Detector over the shared `model`. A file that fails is delivered with its error;
// the rest go on. An exception thrown by `deliver` stops the workers after their current
// file and is rethrown.
void label_files(std::shared_ptr<const Model> model, const DetectorConfig& config,
                 std::span<const std::filesystem::path> files, const LabelFileOptions& options,
                 int threads, const BatchCallbacks& callbacks);

}  // namespace earshot
