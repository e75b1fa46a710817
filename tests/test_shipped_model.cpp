// The shipped default model, as the README's main command runs it: `earshot label` with
// models/activate.earshot must find every "activate" in the bundled example recording, at
// the positions it was spoken, and stay silent on the bundled recording of other words.
// A guard against shipping a model (or a front-end change) that breaks the first thing a
// user tries.
#include <fmt/core.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "audio_helpers.hpp"
#include "command_helpers.hpp"
#include "earshot/eval.hpp"

namespace {

namespace fs = std::filesystem;

const fs::path kModels = fs::path(EARSHOT_SOURCE_DIR) / "models";

using earshot::kHitToleranceAfter_s;  // the field's hit window: [start, end + this]
using earshot::TriggerSpan;

// When `earshot label --format json` fired, for each detection in one recording.
std::vector<double> detection_times_s(const fs::path& recording) {
  const fs::path dir = earshot::testing::fresh_test_directory(EARSHOT_TEST_TMP);
  const auto result = earshot::testing::run_earshot(
      fmt::format("label --model '{}' --format json '{}'", (kModels / "activate.earshot").string(),
                  recording.string()),
      dir / "output.txt");
  INFO(result.output);
  REQUIRE(result.exit_code == 0);
  std::istringstream lines(result.output);
  std::vector<double> times_s;
  for (std::string line; std::getline(lines, line);) {
    const auto detection = nlohmann::json::parse(line);
    CHECK(detection["keyword"] == "activate");
    times_s.push_back(detection["time_s"].get<double>());
  }
  return times_s;
}

}  // namespace

TEST_CASE("the shipped model finds each activate in the bundled example, where it was spoken",
          "[shipped]") {
  const std::vector<TriggerSpan> truth =
      earshot::read_audacity_labels(kModels / "examples" / "activate_example.txt");
  REQUIRE(truth.size() == 3);
  const std::vector<double> fired_s =
      detection_times_s(kModels / "examples" / "activate_example.wav");
  REQUIRE(fired_s.size() == truth.size());
  for (std::size_t i = 0; i < truth.size(); ++i) {
    INFO("word " << i << ": spoken " << truth[i].start_s << "-" << truth[i].end_s
                 << " s, detected at " << fired_s[i] << " s");
    CHECK(fired_s[i] >= truth[i].start_s);
    CHECK(fired_s[i] <= truth[i].end_s + kHitToleranceAfter_s);
  }
}

TEST_CASE("the shipped model stays silent on the bundled recording of other words", "[shipped]") {
  CHECK(detection_times_s(kModels / "examples" / "negative_example.wav").empty());
}
