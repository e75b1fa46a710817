// Specification of dataset manifests and labels: the JSON form of a clip record, reading
// OUT/manifest.jsonl, and make_labels (the lecture's "ones right after the word ends").
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>

#include "audio_helpers.hpp"
#include "earshot/dataset.hpp"
#include "earshot/error.hpp"

namespace {

namespace fs = std::filesystem;
using Catch::Contains;
using earshot::ClipRecord;
using earshot::InsertedWord;
using earshot::make_labels;
using earshot::WordKind;

// The lecture's output: 1375 steps per 10 s clip, 50 steps of ones after each trigger.
constexpr std::size_t kLectureSteps = 1375;
constexpr double kLectureStepS = 10.0 / kLectureSteps;
constexpr double kLectureWindowS = 50 * kLectureStepS;

InsertedWord trigger_ending_at(double end_s) {
  return {WordKind::kTrigger, "trigger.wav", "voice", end_s - 0.5, end_s, 10.0};
}

std::vector<std::size_t> ones_at(const std::vector<float>& labels) {
  std::vector<std::size_t> steps;
  for (std::size_t k = 0; k < labels.size(); ++k) {
    if (labels[k] == 1.0f) steps.push_back(k);
  }
  return steps;
}

ClipRecord example_record() {
  ClipRecord clip;
  clip.index = 42;
  clip.file = "clips/000042.wav";
  clip.duration_s = 10.0;
  clip.seed = 18446744073709551557ULL;  // above 2^63: must survive as an unsigned number
  clip.backgrounds = {"noise/rain.flac", "noise/fan.flac"};
  clip.words = {{WordKind::kTrigger, "tts/a.wav", "espeak-ng:en-us+m3", 1.25, 1.875, 7.5},
                {WordKind::kNegative, "neg/b.flac", "", 4.0, 4.5, -2.25}};
  clip.failed_placements = 1;
  return clip;
}

fs::path dataset_with_manifest(const std::string& text) {
  const fs::path dir =
      earshot::testing::fresh_test_directory(fs::path(EARSHOT_TEST_TMP) / "dataset");
  std::ofstream(dir / "manifest.jsonl") << text;
  return dir;
}

TEST_CASE("a clip record survives a JSON round trip field by field", "[dataset]") {
  const ClipRecord original = example_record();
  const auto copy = nlohmann::json::parse(nlohmann::json(original).dump()).get<ClipRecord>();
  CHECK(copy.index == 42);
  CHECK(copy.file == "clips/000042.wav");
  CHECK(copy.duration_s == 10.0);
  CHECK(copy.seed == 18446744073709551557ULL);
  CHECK(copy.backgrounds == original.backgrounds);
  CHECK(copy.failed_placements == 1);
  REQUIRE(copy.words.size() == 2);
  CHECK(copy.words[0].kind == WordKind::kTrigger);
  CHECK(copy.words[0].voice == "espeak-ng:en-us+m3");
  CHECK(copy.words[0].start_s == 1.25);
  CHECK(copy.words[0].end_s == 1.875);
  CHECK(copy.words[0].snr_db == 7.5);
  CHECK(copy.words[1].kind == WordKind::kNegative);
  CHECK(copy.words[1].source == "neg/b.flac");
}

TEST_CASE("word kinds are written as the words trigger and negative", "[dataset]") {
  const nlohmann::json json = example_record();
  CHECK(json["words"][0]["kind"] == "trigger");
  CHECK(json["words"][1]["kind"] == "negative");
}

TEST_CASE("an unknown word kind is an error that names it", "[dataset]") {
  const auto json = nlohmann::json::parse(R"({"kind":"maybe","start_s":1,"end_s":2})");
  CHECK_THROWS_WITH(json.get<InsertedWord>(), Contains("maybe"));
}

TEST_CASE("read_manifest reads every line and skips blank ones", "[dataset]") {
  const std::string line = nlohmann::json(example_record()).dump();
  const fs::path dir = dataset_with_manifest(line + "\n\n" + line + "\n");
  const auto clips = earshot::read_manifest(dir);
  REQUIRE(clips.size() == 2);
  CHECK(clips[1].words.size() == 2);
}

TEST_CASE("read_manifest names the file and line of bad JSON", "[dataset]") {
  const std::string line = nlohmann::json(example_record()).dump();
  const fs::path dir = dataset_with_manifest(line + "\n{\"file\": oops}\n");
  CHECK_THROWS_WITH(earshot::read_manifest(dir), Contains("manifest.jsonl") && Contains("line 2"));
}

TEST_CASE("read_manifest names the field a record lacks", "[dataset]") {
  const fs::path dir = dataset_with_manifest(R"({"file":"clips/000000.wav","words":[]})"
                                             "\n");
  CHECK_THROWS_WITH(earshot::read_manifest(dir), Contains("line 1") && Contains("duration_s"));
}

TEST_CASE("read_manifest on a directory without a manifest says which file is missing",
          "[dataset]") {
  const fs::path dir =
      earshot::testing::fresh_test_directory(fs::path(EARSHOT_TEST_TMP) / "dataset");
  CHECK_THROWS_AS(earshot::read_manifest(dir), earshot::Error);
  CHECK_THROWS_WITH(earshot::read_manifest(dir), Contains("manifest.jsonl"));
}

TEST_CASE("labels: the lecture's sanity checks after a trigger ending at 4251 ms",
          "[dataset][labels]") {
  // Lecture: insert_ones(y, 4251) sets steps 585..634; y[634] == 1 and y[635] == 0.
  const auto labels =
      make_labels({trigger_ending_at(4.251)}, kLectureSteps, kLectureStepS, kLectureWindowS);
  CHECK(labels[584] == 0.0f);
  CHECK(labels[585] == 1.0f);
  CHECK(labels[634] == 1.0f);
  CHECK(labels[635] == 0.0f);
  CHECK(std::accumulate(labels.begin(), labels.end(), 0.0f) == 50.0f);
}

TEST_CASE("labels: a trigger ending at 9700 ms labels only up to the clip's end",
          "[dataset][labels]") {
  // Lecture: y[1333] stays 0 (the word has not ended), steps 1334..1374 are 1.
  const auto labels =
      make_labels({trigger_ending_at(9.7)}, kLectureSteps, kLectureStepS, kLectureWindowS);
  CHECK(labels[1333] == 0.0f);
  CHECK(labels[1334] == 1.0f);
  CHECK(labels[1374] == 1.0f);
  CHECK(ones_at(labels).size() == 41);
}

TEST_CASE("labels: the step at exactly the word's end is 0, the window's last step is 1",
          "[dataset][labels]") {
  // Window (t_end, t_end + window]: with 0.5 s steps, a word ending at 2.0 s and a 1.0 s
  // window labels the steps at 2.5 s and 3.0 s.
  const auto labels = make_labels({trigger_ending_at(2.0)}, 10, 0.5, 1.0);
  CHECK(ones_at(labels) == std::vector<std::size_t>{5, 6});
}

TEST_CASE("labels: negative words never produce ones", "[dataset][labels]") {
  InsertedWord negative = trigger_ending_at(3.0);
  negative.kind = WordKind::kNegative;
  const auto labels = make_labels({negative}, kLectureSteps, kLectureStepS, kLectureWindowS);
  CHECK(ones_at(labels).empty());
}

TEST_CASE("labels: two triggers give two runs of ones", "[dataset][labels]") {
  // Steps of 1/8 s and a 3/8 s window: exact in binary, so no boundary is a rounding call.
  const auto labels =
      make_labels({trigger_ending_at(1.0), trigger_ending_at(6.0)}, 80, 0.125, 0.375);
  CHECK(ones_at(labels) == std::vector<std::size_t>{9, 10, 11, 49, 50, 51});
}

TEST_CASE("labels: a zero step is rejected with a message", "[dataset][labels]") {
  CHECK_THROWS_WITH(make_labels({}, 10, 0.0, 0.5), Contains("step_s"));
}

}  // namespace
