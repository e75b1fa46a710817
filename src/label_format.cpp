// Label file formats (label_format.hpp).
#include "earshot/label_format.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "earshot/error.hpp"

namespace earshot {
namespace {

// Audacity reads a label line as tab-separated fields: a tab or line break inside the
// keyword would split it.
std::string single_line(std::string_view text) {
  std::string line(text);
  for (char& c : line) {
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  }
  return line;
}

// A JSON string literal; bytes that are not UTF-8 (possible in file names) become U+FFFD
// rather than failing the whole file.
std::string json_string(std::string_view text) {
  return nlohmann::json(std::string(text))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void append_audacity(std::string& out, const Detection& d) {
  out += fmt::format("{:.6f}\t{:.6f}\t{}\n", d.start_s, d.end_s, single_line(d.keyword));
}

void append_json(std::string& out, std::string_view file, const Detection& d) {
  out += fmt::format(
      "{{\"file\":{},\"keyword\":{},\"time_s\":{:.6f},\"start_s\":{:.6f},\"end_s\":{:.6f},"
      "\"score\":{:.6f}}}\n",
      json_string(file), json_string(d.keyword), d.time_s, d.start_s, d.end_s, d.score);
}

void append_csv(std::string& out, std::string_view file, const Detection& d) {
  out += fmt::format("{},{},{:.6f},{:.6f},{:.6f},{:.6f}\n", csv_field(file), csv_field(d.keyword),
                     d.time_s, d.start_s, d.end_s, d.score);
}

}  // namespace

LabelFormat parse_label_format(std::string_view name) {
  if (name == "audacity") return LabelFormat::kAudacity;
  if (name == "json") return LabelFormat::kJson;
  if (name == "csv") return LabelFormat::kCsv;
  throw Error(fmt::format("unknown label format '{}': use audacity, json or csv", name));
}

std::string_view label_format_name(LabelFormat format) {
  switch (format) {
    case LabelFormat::kAudacity:
      return "audacity";
    case LabelFormat::kJson:
      return "json";
    case LabelFormat::kCsv:
      return "csv";
  }
  return "audacity";
}

std::string_view label_file_extension(LabelFormat format) {
  switch (format) {
    case LabelFormat::kAudacity:
      return ".txt";
    case LabelFormat::kJson:
      return ".jsonl";
    case LabelFormat::kCsv:
      return ".csv";
  }
  return ".txt";
}

std::string label_header(LabelFormat format) {
  return format == LabelFormat::kCsv ? "file,keyword,time_s,start_s,end_s,score\n" : "";
}

std::string format_detections(LabelFormat format, std::string_view file,
                              std::span<const Detection> detections) {
  std::string out;
  for (const Detection& detection : detections) {
    switch (format) {
      case LabelFormat::kAudacity:
        append_audacity(out, detection);
        break;
      case LabelFormat::kJson:
        append_json(out, file, detection);
        break;
      case LabelFormat::kCsv:
        append_csv(out, file, detection);
        break;
    }
  }
  return out;
}

std::string format_step_probabilities(std::span<const StepProbability> steps) {
  std::string out = "time_s,probability\n";
  for (const StepProbability& step : steps) {
    out += fmt::format("{:.6f},{:.6f}\n", step.time_s, step.probability);
  }
  return out;
}

std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string quoted = "\"";
  for (const char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

}  // namespace earshot
