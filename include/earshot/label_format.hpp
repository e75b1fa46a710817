// The label files `earshot label` writes: detections as text, one format per consumer.
//
//   audacity  "start<TAB>end<TAB>keyword", times with 6 decimals: an Audacity label track
//             (File > Import > Labels) marking each word's estimated span.
//   json      JSON lines, one object per detection with the keys, in this order,
//             "file", "keyword", "time_s", "start_s", "end_s", "score".
//   csv       the same fields under the header row "file,keyword,time_s,start_s,end_s,score";
//             a field holding a comma, a quote or a line break is quoted (RFC 4180).
// Numbers are written with 6 decimals in every format, so output is stable byte for byte.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "earshot/detector.hpp"

namespace earshot {

enum class LabelFormat { kAudacity, kJson, kCsv };

// "audacity", "json" or "csv". Throws earshot::Error naming the accepted names otherwise.
LabelFormat parse_label_format(std::string_view name);
std::string_view label_format_name(LabelFormat format);
// The extension of one label file: ".txt", ".jsonl" or ".csv".
std::string_view label_file_extension(LabelFormat format);

// Text that starts a label file or stream, before any file's detections: the CSV header
// row, nothing for the other formats.
std::string label_header(LabelFormat format);
// The detections of one audio file, `file` being the name written into json and csv rows
// (audacity lines carry no file name).
std::string format_detections(LabelFormat format, std::string_view file,
                              std::span<const Detection> detections);

// Per-step probabilities as CSV: the header "time_s,probability" and one row per step.
std::string format_step_probabilities(std::span<const StepProbability> steps);

// One CSV field, quoted if it needs to be.
std::string csv_field(std::string_view text);

}  // namespace earshot
