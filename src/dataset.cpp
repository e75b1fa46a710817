// Manifest (de)serialisation and label computation for synthesized datasets.
#include "earshot/dataset.hpp"

#include <fmt/core.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "earshot/error.hpp"

namespace earshot {

namespace {

const char* kind_name(WordKind kind) {
  return kind == WordKind::kTrigger ? "trigger" : "negative";
}

WordKind parse_kind(const std::string& name) {
  if (name == "trigger") return WordKind::kTrigger;
  if (name == "negative") return WordKind::kNegative;
  throw Error(fmt::format("unknown word kind '{}' (expected 'trigger' or 'negative')", name));
}

// Optional fields keep their defaults when absent, so older manifests stay readable.
template <typename T>
void read_optional(const nlohmann::json& j, const char* key, T& value) {
  if (const auto it = j.find(key); it != j.end() && !it->is_null()) it->get_to(value);
}

}  // namespace

void to_json(nlohmann::json& j, const InsertedWord& word) {
  j = nlohmann::json{{"kind", kind_name(word.kind)}, {"source", word.source},
                     {"voice", word.voice},          {"start_s", word.start_s},
                     {"end_s", word.end_s},          {"snr_db", word.snr_db}};
}

void from_json(const nlohmann::json& j, InsertedWord& word) {
  word.kind = parse_kind(j.at("kind").get<std::string>());
  j.at("start_s").get_to(word.start_s);
  j.at("end_s").get_to(word.end_s);
  read_optional(j, "source", word.source);
  read_optional(j, "voice", word.voice);
  read_optional(j, "snr_db", word.snr_db);
}

void to_json(nlohmann::json& j, const ClipRecord& clip) {
  j = nlohmann::json{{"index", clip.index},
                     {"file", clip.file},
                     {"duration_s", clip.duration_s},
                     {"seed", clip.seed},
                     {"backgrounds", clip.backgrounds},
                     {"words", clip.words},
                     {"failed_placements", clip.failed_placements}};
}

void from_json(const nlohmann::json& j, ClipRecord& clip) {
  j.at("file").get_to(clip.file);
  j.at("duration_s").get_to(clip.duration_s);
  j.at("words").get_to(clip.words);
  read_optional(j, "index", clip.index);
  read_optional(j, "seed", clip.seed);
  read_optional(j, "backgrounds", clip.backgrounds);
  read_optional(j, "failed_placements", clip.failed_placements);
}

std::vector<ClipRecord> read_manifest(const std::filesystem::path& dataset_dir) {
  const std::filesystem::path path = dataset_dir / "manifest.jsonl";
  std::ifstream in(path);
  if (!in) {
    throw Error(
        fmt::format("cannot open manifest '{}': no such file or not readable "
                    "(run `earshot synth --merge {}` after a sharded run)",
                    path.string(), dataset_dir.string()));
  }
  std::vector<ClipRecord> clips;
  std::string line;
  std::size_t line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      clips.push_back(nlohmann::json::parse(line).get<ClipRecord>());
    } catch (const nlohmann::json::exception& e) {
      throw Error(fmt::format("manifest '{}' line {}: {}", path.string(), line_number, e.what()));
    } catch (const Error& e) {
      throw Error(fmt::format("manifest '{}' line {}: {}", path.string(), line_number, e.what()));
    }
  }
  if (in.bad()) throw Error(fmt::format("read error in manifest '{}'", path.string()));
  return clips;
}

std::vector<float> make_labels(const std::vector<InsertedWord>& words, std::size_t num_steps,
                               double step_s, double label_window_s) {
  if (!(step_s > 0)) throw Error(fmt::format("make_labels: step_s must be > 0, got {}", step_s));
  if (!(label_window_s >= 0)) {
    throw Error(fmt::format("make_labels: label_window_s must be >= 0, got {}", label_window_s));
  }
  std::vector<float> labels(num_steps, 0.0f);
  for (const InsertedWord& word : words) {
    if (word.kind != WordKind::kTrigger) continue;
    const double window_end_s = word.end_s + label_window_s;
    // Start one step early and test each step with the exact comparison of the contract, so
    // rounding in the division can never move a boundary.
    const double first = std::floor(word.end_s / step_s) - 1.0;
    std::size_t k = first > 0 ? static_cast<std::size_t>(first) : 0;
    for (; k < num_steps; ++k) {
      const double t = static_cast<double>(k) * step_s;
      if (t > window_end_s) break;
      if (t > word.end_s) labels[k] = 1.0f;
    }
  }
  return labels;
}

}  // namespace earshot
