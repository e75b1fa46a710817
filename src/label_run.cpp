// `earshot label` as a library call (label_run.hpp): gathers the inputs, runs the batch and
// writes every file's outputs as its outcome arrives, in input order.
#include "earshot/label_run.hpp"

#include <fmt/format.h>
#include <fmt/std.h>

#include <chrono>
#include <span>
#include <system_error>

#include "earshot/error.hpp"
#include "earshot/label_batch.hpp"
#include "earshot/label_inputs.hpp"
#include "earshot/label_plot.hpp"
#include "earshot/text_file.hpp"

namespace earshot {
namespace fs = std::filesystem;

bool is_single_file_request(const LabelRequest& request) {
  std::error_code error;
  return request.inputs.size() == 1 && !fs::is_directory(request.inputs.front(), error);
}

std::optional<std::string> label_request_problem(const LabelRequest& request) {
  if (request.inputs.empty()) return "no input files or directories given";
  if (request.block_samples == 0) return "the block size must be at least one sample";
  if (!request.out_dir && request.format == LabelFormat::kAudacity &&
      !is_single_file_request(request)) {
    return "audacity labels carry no file name, so several inputs need --out DIR (one label "
           "file each) or --format json/csv";
  }
  return std::nullopt;
}

namespace {

// A one-line bar redrawn in place; erase() clears it before other text goes to the stream.
class ProgressBar {
 public:
  ProgressBar(std::ostream& err, bool enabled) : err_(err), enabled_(enabled) {}

  void show(double fraction, std::size_t files_done, std::size_t files) {
    if (!enabled_) return;
    // A terminal needs no more than a few redraws a second, however many files finish.
    const auto now = std::chrono::steady_clock::now();
    if (visible_ && files_done < files && now - last_drawn_ < std::chrono::milliseconds(100)) {
      return;
    }
    last_drawn_ = now;
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(fraction * kWidth);
    err_ << fmt::format("\r[{:=<{}}{:<{}}] {:3.0f}%  {}/{} files", "", filled, "", kWidth - filled,
                        fraction * 100, files_done, files)
         << std::flush;
    visible_ = true;
  }
  void erase() {
    if (!visible_) return;
    err_ << "\r\033[K" << std::flush;
    visible_ = false;
  }

 private:
  std::ostream& err_;
  bool enabled_;
  bool visible_ = false;
  std::chrono::steady_clock::time_point last_drawn_;
};

// Every argument's audio files; an argument that yields none is an error of its own.
struct GatheredInputs {
  std::vector<LabelInput> inputs;
  std::vector<std::string> errors;
};

GatheredInputs gather_inputs(const LabelRequest& request) {
  GatheredInputs gathered;
  for (const fs::path& argument : request.inputs) {
    try {
      std::vector<LabelInput> found = collect_label_inputs(std::span(&argument, 1));
      gathered.inputs.insert(gathered.inputs.end(), found.begin(), found.end());
    } catch (const Error& e) {
      gathered.errors.emplace_back(e.what());
    }
  }
  return gathered;
}

// Writes one file's outputs wherever the request sends them.
class OutputWriter {
 public:
  OutputWriter(const LabelRequest& request, const DetectorConfig& config, std::ostream& out)
      : request_(request), config_(config), out_(out), single_(is_single_file_request(request)) {}

  void write(const LabelInput& input, const FileLabels& labels) {
    const std::string file_name = input.path.string();
    const std::string detections = format_detections(request_.format, file_name, labels.detections);
    if (request_.out_dir) {
      write_text_file(output_path(*request_.out_dir, input, label_file_extension(request_.format)),
                      label_header(request_.format) + detections);
    } else {
      out_ << detections << std::flush;
    }
    if (request_.probs) {
      write_text_file(side_output_path(*request_.probs, input, ".probs.csv"),
                      format_step_probabilities(labels.steps));
    }
    if (request_.plot) write_plot(input, labels);
  }

 private:
  static fs::path output_path(const fs::path& dir, const LabelInput& input,
                              std::string_view extension) {
    fs::path path = dir / input.output_name;
    path += extension;
    return path;
  }

  fs::path side_output_path(const fs::path& given, const LabelInput& input,
                            std::string_view extension) const {
    return single_ ? given : output_path(given, input, extension);
  }

  void write_plot(const LabelInput& input, const FileLabels& labels) const {
    DetectionPlot plot;
    plot.title = fmt::format("{}: {} detection{} at threshold {:.2f}", input.path.string(),
                             labels.detections.size(), labels.detections.size() == 1 ? "" : "s",
                             config_.threshold);
    plot.envelope = &*labels.envelope;
    plot.steps = labels.steps;
    plot.detections = labels.detections;
    plot.threshold = config_.threshold;
    plot.show_smoothed = config_.smoothing_steps > 1;
    write_text_file(side_output_path(*request_.plot, input, ".svg"),
                    render_detection_plot_svg(plot));
  }

  const LabelRequest& request_;
  const DetectorConfig& config_;
  std::ostream& out_;
  bool single_;
};

bool needs_output_names(const LabelRequest& request) {
  return request.out_dir || (!is_single_file_request(request) && (request.probs || request.plot));
}

}  // namespace

LabelRunSummary run_labelling(std::shared_ptr<const Model> model, const DetectorConfig& config,
                              const LabelRequest& request, std::ostream& out, std::ostream& err) {
  if (const std::optional<std::string> problem = label_request_problem(request)) {
    throw Error(*problem);
  }
  GatheredInputs gathered = gather_inputs(request);
  if (needs_output_names(request)) assign_output_names(gathered.inputs);

  LabelRunSummary summary;
  summary.inputs = gathered.inputs.size() + gathered.errors.size();
  summary.failed = gathered.errors.size();
  for (const std::string& error : gathered.errors)
    err << "earshot label: " << error << '\n';
  if (!request.out_dir) out << label_header(request.format);

  std::vector<fs::path> files;
  for (const LabelInput& input : gathered.inputs)
    files.push_back(input.path);
  LabelFileOptions options;
  options.block_samples = request.block_samples;
  options.keep_steps = request.probs.has_value() || request.plot.has_value();
  options.keep_envelope = request.plot.has_value();

  ProgressBar bar(err, request.progress_bar);
  OutputWriter writer(request, config, out);
  std::size_t delivered = 0;
  BatchCallbacks callbacks;
  callbacks.deliver = [&](std::size_t index, LabelOutcome& outcome) {
    ++delivered;
    // Only text about to reach the terminal clears the bar, so its 100 ms redraw limit holds
    // while labels go to files.
    if (!request.out_dir) bar.erase();
    std::string error = outcome.error;
    if (outcome.labels) {
      try {
        writer.write(gathered.inputs[index], *outcome.labels);
        summary.detections += outcome.labels->detections.size();
      } catch (const Error& e) {
        error = e.what();
      }
    }
    if (!error.empty()) {
      bar.erase();
      err << "earshot label: " << error << '\n';
      ++summary.failed;
    }
  };
  callbacks.progress = [&](double fraction) { bar.show(fraction, delivered, files.size()); };
  label_files(std::move(model), config, files, options, request.threads, callbacks);
  bar.erase();
  if (summary.failed > 0) {
    err << fmt::format("earshot label: {} of {} inputs failed\n", summary.failed, summary.inputs);
  }
  return summary;
}

}  // namespace earshot
