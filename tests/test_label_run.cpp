// Specification of `earshot label` as a library call (include/earshot/label_run.hpp and
// label_batch.hpp): where output goes, input order, failures that leave the rest labelled.
#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "audio_helpers.hpp"
#include "earshot/audio_io.hpp"
#include "earshot/error.hpp"
#include "earshot/label_batch.hpp"
#include "earshot/label_run.hpp"
#include "test_label_fixtures.hpp"

namespace {

namespace fs = std::filesystem;
using earshot::DetectorConfig;
using earshot::LabelFormat;
using earshot::LabelRequest;
using namespace earshot::testing;

DetectorConfig test_config() {
  DetectorConfig config;
  config.threshold = 0.5f;
  config.min_steps_above = 2;
  return config;
}

struct Run {
  earshot::LabelRunSummary summary;
  std::string out;
  std::string err;
};

Run run(const LabelRequest& request) {
  std::ostringstream out;
  std::ostringstream err;
  Run result;
  result.summary = earshot::run_labelling(band_energy_model(), test_config(), request, out, err);
  result.out = out.str();
  result.err = err.str();
  return result;
}

using earshot::testing::lines_of;
using earshot::testing::read_text;

// A clip with a burst at `burst_s` (0.4 s long): one detection under test_config().
fs::path write_burst(const fs::path& path, double burst_s, double duration_s = 3.0) {
  fs::create_directories(path.parent_path());
  earshot::write_audio(path, tone_burst(duration_s, burst_s, burst_s + 0.4));
  return path;
}

TEST_CASE("one file's detections go to the output stream, as the detector found them") {
  const fs::path dir = fresh_test_directory(EARSHOT_TEST_TMP);
  const fs::path clip = write_burst(dir / "clip.wav", 1.0);
  LabelRequest request;
  request.inputs = {clip};
  request.format = LabelFormat::kJson;
  const Run result = run(request);

  earshot::Detector detector(band_energy_model(), test_config());
  std::vector<earshot::Detection> expected;
  detector.accept_waveform(earshot::read_audio(clip), expected);
  REQUIRE(expected.size() == 1);
  CHECK(result.out == earshot::format_detections(LabelFormat::kJson, clip.string(), expected));
  CHECK(result.err.empty());
  CHECK(result.summary.inputs == 1);
  CHECK(result.summary.failed == 0);
  CHECK(result.summary.detections == 1);
}

TEST_CASE("reading in 1000- or 16000-sample blocks gives the whole-buffer detections") {
  const fs::path dir = fresh_test_directory(EARSHOT_TEST_TMP);
  const fs::path clip = write_burst(dir / "clip.wav", 1.3, 4.0);
  earshot::Detector detector(band_energy_model(), test_config());
  std::vector<earshot::Detection> whole;
  std::vector<earshot::StepProbability> whole_steps;
  detector.accept_waveform(earshot::read_audio(clip), whole, &whole_steps);
  for (const std::size_t block : {1000, 16000}) {
    earshot::LabelFileOptions options;
    options.block_samples = block;
    options.keep_steps = true;
    const earshot::FileLabels labels = earshot::label_file(detector, clip, options);
    CHECK(labels.detections == whole);
    CHECK(labels.steps == whole_steps);
    CHECK(labels.duration_s == 4.0);
  }
}

TEST_CASE("several files come out in input order whatever the thread count") {
  const fs::path dir = fresh_test_directory(EARSHOT_TEST_TMP);
  LabelRequest request;
  request.format = LabelFormat::kCsv;
  // Longer files first, so with 4 threads the later ones finish first.
  for (int i = 0; i < 6; ++i) {
    request.inputs.push_back(
        write_burst(dir / fmt::format("clip{}.wav", i), 0.5 + 0.1 * i, 6.0 - 0.5 * i));
  }
  request.threads = 1;
  const Run one_thread = run(request);
  request.threads = 4;
  const Run four_threads = run(request);
  CHECK(four_threads.out == one_thread.out);
  const std::vector<std::string> lines = lines_of(one_thread.out);
  REQUIRE(lines.size() == 7);
  CHECK(lines[0] == "file,keyword,time_s,start_s,end_s,score");
  for (int i = 0; i < 6; ++i) {
    CHECK(lines[static_cast<std::size_t>(i) + 1].rfind(
              request.inputs[static_cast<std::size_t>(i)].string() + ",activate,", 0) == 0);
  }
}

TEST_CASE("with an output directory each input gets a label file mirroring its subpath") {
  const fs::path dir = fresh_test_directory(EARSHOT_TEST_TMP);
  write_burst(dir / "in" / "a.wav", 1.0);
  write_burst(dir / "in" / "day2" / "b.flac", 1.5);
  LabelRequest request;
  request.inputs = {dir / "in"};
  request.out_dir = dir / "labels";
  const Run result = run(request);
  CHECK(result.out.empty());
  CHECK(result.summary.failed == 0);
  const std::vector<std::string> a = lines_of(read_text(dir / "labels" / "a.txt"));
  const std::vector<std::string> b = lines_of(read_text(dir / "labels" / "day2" / "b.txt"));
  REQUIRE(a.size() == 1);
  REQUIRE(b.size() == 1);
  CHECK(a[0].find("\tactivate") != std::string::npos);
}

TEST_CASE("every csv label file has its own header, even with no detections") {
  const fs::path dir = fresh_test_directory(EARSHOT_TEST_TMP);
  fs::create_directories(dir / "in");
  earshot::write_audio(dir / "in" / "quiet.wav", std::vector<float>(16000, 0.0f));
  LabelRequest request;
  request.inputs = {dir / "in"};
  request.out_dir = dir / "labels";
  request.format = LabelFormat::kCsv;
  run(request);
  CHECK(read_text(dir / "labels" / "quiet.csv") == "file,keyword,time_s,start_s,end_s,score\n");
}

TEST_CASE("a bad file among good ones is reported with its reason, the rest are labelled") {
  const fs::path dir = fresh_test_directory(EARSHOT_TEST_TMP);
  write_burst(dir / "in" / "a.wav", 1.0);
  std::ofstream(dir / "in" / "broken.wav") << "this is not audio";
  write_burst(dir / "in" / "c.wav", 1.0);
  LabelRequest request;
  request.inputs = {dir / "in", dir / "missing.wav"};
  request.out_dir = dir / "labels";
  request.threads = 2;
  const Run result = run(request);
  CHECK(result.summary.inputs == 4);
  CHECK(result.summary.failed == 2);
  CHECK(fs::exists(dir / "labels" / "a.txt"));
  CHECK(fs::exists(dir / "labels" / "c.txt"));
  CHECK_FALSE(fs::exists(dir / "labels" / "broken.txt"));
  CHECK_THAT(result.err, Catch::Contains("broken.wav") && Catch::Contains("not an audio file"));
  CHECK_THAT(result.err, Catch::Contains("missing.wav") && Catch::Contains("does not exist"));
  CHECK_THAT(result.err, Catch::Contains("2 of 4 inputs failed"));
}

TEST_CASE("an output that cannot be written counts as a failed input") {
  const fs::path dir = fresh_test_directory(EARSHOT_TEST_TMP);
  const fs::path clip = write_burst(dir / "clip.wav", 1.0);
  std::ofstream(dir / "labels") << "a file where the directory should be";
  LabelRequest request;
  request.inputs = {clip};
  request.out_dir = dir / "labels";
  const Run result = run(request);
  CHECK(result.summary.failed == 1);
  CHECK_THAT(result.err, Catch::Contains("labels"));
}

TEST_CASE("audacity labels of several inputs need an output directory") {
  const fs::path dir = fresh_test_directory(EARSHOT_TEST_TMP);
  LabelRequest request;
  request.inputs = {write_burst(dir / "a.wav", 1.0), write_burst(dir / "b.wav", 1.0)};
  REQUIRE(earshot::label_request_problem(request).has_value());
  CHECK_THAT(*earshot::label_request_problem(request), Catch::Contains("--out"));
  CHECK_THROWS_AS(run(request), earshot::Error);
  request.format = LabelFormat::kJson;
  CHECK_FALSE(earshot::label_request_problem(request).has_value());
}

TEST_CASE("probabilities of one file: a csv row per output step") {
  const fs::path dir = fresh_test_directory(EARSHOT_TEST_TMP);
  const fs::path clip = write_burst(dir / "clip.wav", 1.0, 2.0);
  LabelRequest request;
  request.inputs = {clip};
  request.probs = dir / "probs.csv";
  run(request);
  const std::vector<std::string> lines = lines_of(read_text(dir / "probs.csv"));
  // 2 s: 198 frames, 1 + (198 - 3) / 2 = 98 steps of 20 ms.
  REQUIRE(lines.size() == 1 + 98);
  CHECK(lines[0] == "time_s,probability");
  CHECK(lines[1].rfind("0.000000,0.00", 0) == 0);
  CHECK(lines[98].rfind("1.940000,", 0) == 0);
}

TEST_CASE("probabilities and plots of several inputs go to a directory, one per input") {
  const fs::path dir = fresh_test_directory(EARSHOT_TEST_TMP);
  write_burst(dir / "in" / "a.wav", 1.0);
  write_burst(dir / "in" / "sub" / "b.wav", 1.0);
  LabelRequest request;
  request.inputs = {dir / "in"};
  request.format = LabelFormat::kJson;
  request.probs = dir / "probs";
  request.plot = dir / "plots";
  const Run result = run(request);
  CHECK(result.summary.failed == 0);
  CHECK(fs::exists(dir / "probs" / "a.probs.csv"));
  CHECK(fs::exists(dir / "probs" / "sub" / "b.probs.csv"));
  CHECK(read_text(dir / "plots" / "sub" / "b.svg").rfind("<svg", 0) == 0);
}

TEST_CASE("a plot of one file names it and shows its detection") {
  const fs::path dir = fresh_test_directory(EARSHOT_TEST_TMP);
  const fs::path clip = write_burst(dir / "clip.wav", 1.0);
  LabelRequest request;
  request.inputs = {clip};
  request.plot = dir / "clip.svg";
  run(request);
  const std::string svg = read_text(dir / "clip.svg");
  CHECK_THAT(svg, Catch::Contains("clip.wav: 1 detection at threshold 0.50"));
  CHECK_THAT(svg, Catch::Contains("activate 1.00 @ 1.02 s"));
}

TEST_CASE("the progress bar is drawn only when asked, and erased before errors and at the end") {
  const fs::path dir = fresh_test_directory(EARSHOT_TEST_TMP);
  LabelRequest request;
  request.inputs = {write_burst(dir / "a.wav", 1.0), dir / "missing.wav",
                    write_burst(dir / "b.wav", 1.0)};
  request.format = LabelFormat::kJson;
  const std::string quiet = run(request).err;
  CHECK(quiet.find('\r') == std::string::npos);
  request.progress_bar = true;
  const std::string err = run(request).err;
  CHECK_THAT(err, Catch::Contains("100%  2/2 files"));
  const std::string erase = "\r\033[K";
  CHECK(err.rfind(erase) != std::string::npos);
  // What is left on the terminal line after the last erase is the summary alone.
  CHECK(err.substr(err.rfind(erase) + erase.size()) == "earshot label: 1 of 3 inputs failed\n");
}

}  // namespace
