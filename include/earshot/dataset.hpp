// A synthesized dataset on disk, and the labels derived from it.
//
// Layout written by `earshot synth` (documented in README):
//   OUT/clips/NNNNNN.wav    16 kHz mono clips, NNNNNN = clip index, zero-padded to 6 digits
//   OUT/manifest.jsonl      one JSON object per clip (ClipRecord below), sorted by index
//
// Labels are never stored: they are computed from where the trigger words were placed by
// make_labels(), the one function both synthesis tests and training use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace earshot {

enum class WordKind { kTrigger, kNegative };

// One word (or phrase) inserted into a background.
struct InsertedWord {
  WordKind kind = WordKind::kTrigger;
  std::string source;  // the raw clip it came from
  std::string voice;   // the voice that spoke it (from the source manifest), "" if unknown
  double start_s = 0;  // position in the clip
  double end_s = 0;
  double snr_db = 0;  // speech level (loudest 32 ms frame) over background level
};

// One line of manifest.jsonl.
struct ClipRecord {
  std::size_t index = 0;
  std::string file;  // relative to the dataset directory, e.g. "clips/000042.wav"
  double duration_s = 0;
  std::uint64_t seed = 0;  // the per-clip seed it was generated from
  std::vector<std::string> backgrounds;
  std::vector<InsertedWord> words;
  int failed_placements = 0;  // words that found no free slot after the bounded tries
};

void to_json(nlohmann::json& j, const InsertedWord& word);
void from_json(const nlohmann::json& j, InsertedWord& word);
void to_json(nlohmann::json& j, const ClipRecord& clip);
void from_json(const nlohmann::json& j, ClipRecord& clip);

// Reads OUT/manifest.jsonl. Throws earshot::Error naming the file and line on bad JSON.
std::vector<ClipRecord> read_manifest(const std::filesystem::path& dataset_dir);

// Label vector for a clip: output step k stands for time k * step_s. For each trigger word
// ending at t_end, the steps with t_end < k * step_s <= t_end + label_window_s are 1;
// all others are 0.
std::vector<float> make_labels(const std::vector<InsertedWord>& words, std::size_t num_steps,
                               double step_s, double label_window_s);

}  // namespace earshot
