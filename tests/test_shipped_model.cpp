// The shipped default model, as the README's main command runs it: `earshot label` with
// models/activate.earshot must find every "activate" in the bundled example recording, at
// the positions it was spoken, and stay silent on the bundled recording of other words.
// A guard against shipping a model (or a front-end change) that breaks the first thing a
// user tries.
#include <fmt/core.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "audio_helpers.hpp"
#include "command_helpers.hpp"

namespace {

namespace fs = std::filesystem;

const fs::path kModels = fs::path(EARSHOT_SOURCE_DIR) / "models";

// A detection is a hit when it fires within [word start, word end + 0.5 s]: the field's rule
// (../shared/docs/evaluation.md), which `earshot eval` applies too.
constexpr double kHitWindowAfterEnd_s = 0.5;

struct Word {
  double start_s = 0;
  double end_s = 0;
};

struct Detection {
  double time_s = 0;  // when it fired
  double end_s = 0;   // its estimate of the word's end
};

// The true positions: an Audacity label track, "start<TAB>end<TAB>keyword" per line.
std::vector<Word> read_truth(const fs::path& path) {
  std::ifstream in(path);
  std::vector<Word> words;
  Word word;
  std::string keyword;
  while (in >> word.start_s >> word.end_s >> keyword)
    words.push_back(word);
  return words;
}

// The detections `earshot label --format csv` prints for one recording.
std::vector<Detection> label(const fs::path& recording) {
  const fs::path dir = earshot::testing::fresh_test_directory(EARSHOT_TEST_TMP);
  const auto result = earshot::testing::run_earshot(
      fmt::format("label --model '{}' --format csv '{}'", (kModels / "activate.earshot").string(),
                  recording.string()),
      dir / "output.txt");
  INFO(result.output);
  REQUIRE(result.exit_code == 0);
  std::istringstream lines(result.output);
  std::string line;
  std::getline(lines, line);
  REQUIRE(line == "file,keyword,time_s,start_s,end_s,score");
  std::vector<Detection> detections;
  while (std::getline(lines, line)) {
    // file,keyword,time_s,start_s,end_s,score: the file name has no comma here.
    std::vector<std::string> fields;
    std::istringstream cells(line);
    for (std::string cell; std::getline(cells, cell, ',');)
      fields.push_back(cell);
    REQUIRE(fields.size() == 6);
    CHECK(fields[1] == "activate");
    detections.push_back({std::stod(fields[2]), std::stod(fields[4])});
  }
  return detections;
}

}  // namespace

TEST_CASE("the shipped model finds each activate in the bundled example, where it was spoken",
          "[shipped]") {
  const std::vector<Word> truth = read_truth(kModels / "examples" / "activate_example.txt");
  REQUIRE(truth.size() == 3);
  const std::vector<Detection> detections = label(kModels / "examples" / "activate_example.wav");
  REQUIRE(detections.size() == truth.size());
  for (std::size_t i = 0; i < truth.size(); ++i) {
    INFO("word " << i << ": spoken " << truth[i].start_s << "-" << truth[i].end_s
                 << " s, detected at " << detections[i].time_s << " s");
    CHECK(detections[i].time_s >= truth[i].start_s);
    CHECK(detections[i].time_s <= truth[i].end_s + kHitWindowAfterEnd_s);
  }
}

TEST_CASE("the shipped model stays silent on the bundled recording of other words", "[shipped]") {
  CHECK(label(kModels / "examples" / "negative_example.wav").empty());
}
