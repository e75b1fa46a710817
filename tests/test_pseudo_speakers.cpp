// synth/make_pseudo_speakers.sh: every clip of a TTS directory becomes K new speakers with
// praat's "Change gender": the pitch moves to the drawn median, the duration by the drawn
// factor, the word stays one trimmed clip, and the manifest keeps the base voice. The input
// here is a buzz at 120 Hz (a sawtooth, voiced like a vowel), so the pitch is easy to measure.
#include <fmt/core.h>
#include <sndfile.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "audio_helpers.hpp"
#include "command_helpers.hpp"

namespace fs = std::filesystem;
using earshot::testing::read_file_bytes;
using earshot::testing::read_text;
using earshot::testing::run_command;

namespace {

constexpr int kRate = 16000;

std::vector<float> read_mono(const fs::path& wav) {
  SF_INFO info{};
  SNDFILE* file = sf_open(wav.c_str(), SFM_READ, &info);
  REQUIRE(file != nullptr);
  std::vector<float> samples(static_cast<std::size_t>(info.frames));
  sf_readf_float(file, samples.data(), info.frames);
  sf_close(file);
  REQUIRE(info.channels == 1);
  REQUIRE(info.samplerate == kRate);
  return samples;
}

// Fundamental frequency of a steady voiced signal: the lag of the autocorrelation's highest
// peak between 60 and 400 Hz, over the middle half of the clip.
double fundamental_hz(const std::vector<float>& samples) {
  const std::size_t begin = samples.size() / 4, end = 3 * samples.size() / 4;
  double best = -1;
  int best_lag = 0;
  for (int lag = kRate / 400; lag <= kRate / 60; ++lag) {
    double sum = 0;
    for (std::size_t i = begin; i + lag < end; ++i)
      sum += samples[i] * samples[i + lag];
    if (sum > best) best = sum, best_lag = lag;
  }
  return static_cast<double>(kRate) / best_lag;
}

// A source directory as make_tts_clips.sh leaves it: two "words" and their manifest.
fs::path make_source(const fs::path& root) {
  const fs::path dir = root / "source";
  fs::create_directories(dir);
  std::vector<float> buzz(static_cast<std::size_t>(0.6 * kRate));
  for (std::size_t i = 0; i < buzz.size(); ++i)
    buzz[i] = 0.4f * static_cast<float>(std::fmod(120.0 * i / kRate, 1.0) * 2 - 1);
  for (const char* name : {"000000_flite_slt_activate.wav", "000001_flite_awb_activate.wav"})
    earshot::testing::write_audio_with_sndfile(dir / name, buzz, 1, kRate,
                                               SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  std::ofstream(dir / "manifest.tsv")
      << "file\ttext\tengine\tvoice\tpitch\tspeed\n"
      << "000000_flite_slt_activate.wav\tactivate\tflite\tflite:slt\t0\t1.0\n"
      // An empty cell (no engine) before the voice must not shift the columns.
      << "000001_flite_awb_activate.wav\tactivate\t\tflite:awb\t0\t1.0\n";
  return dir;
}

earshot::testing::CommandResult convert(const fs::path& from, const fs::path& out,
                                        const std::string& options) {
  return run_command(fmt::format("'{}/synth/make_pseudo_speakers.sh' --from '{}' --out '{}' {}",
                                 EARSHOT_SOURCE_DIR, from.string(), out.string(), options),
                     out.string() + ".log");
}

using Row = std::map<std::string, std::string>;

std::vector<Row> read_manifest(const fs::path& dir) {
  std::istringstream lines(read_text(dir / "manifest.tsv"));
  std::string line, cell;
  std::getline(lines, line);
  std::vector<std::string> header;
  for (std::istringstream cells(line); std::getline(cells, cell, '\t');)
    header.push_back(cell);
  std::vector<Row> rows;
  while (std::getline(lines, line)) {
    Row row;
    std::istringstream cells(line);
    for (const std::string& name : header) {
      std::getline(cells, cell, '\t');
      row[name] = cell;
    }
    rows.push_back(row);
  }
  return rows;
}

}  // namespace

TEST_CASE("each clip becomes K speakers with the drawn pitch and duration", "[synth][tts]") {
  const fs::path root = earshot::testing::fresh_test_directory(EARSHOT_TEST_TMP);
  const fs::path out = root / "converted";
  const auto result =
      convert(make_source(root), out, "--per-clip 3 --seed 5 --pitch-hz 90,250 --jobs 2");
  INFO(result.output);
  REQUIRE(result.exit_code == 0);

  const std::vector<Row> rows = read_manifest(out);
  REQUIRE(rows.size() == 6);
  for (const Row& row : rows) {
    INFO(row.at("file"));
    // The base voice (before the first "+") is the source's, so voice hold-outs still hold.
    CHECK((row.at("voice").starts_with("flite:slt+ps") ||
           row.at("voice").starts_with("flite:awb+ps")));
    CHECK(row.at("text") == "activate");
    const double formant = std::stod(row.at("formant_ratio"));
    CHECK((formant >= 0.84 && formant <= 1.2));

    const std::vector<float> samples = read_mono(out / row.at("file"));
    const double wanted_hz = std::stod(row.at("pitch_hz"));
    CHECK((wanted_hz >= 90 && wanted_hz <= 250));
    CHECK(fundamental_hz(samples) == Approx(wanted_hz).epsilon(0.05));
    const double duration_factor = std::stod(row.at("duration_factor"));
    CHECK(static_cast<double>(samples.size()) / kRate ==
          Approx(0.6 * duration_factor).margin(0.03));
  }
  // Different speakers: the drawn pitches are not all the same.
  CHECK(rows[0].at("pitch_hz") != rows[1].at("pitch_hz"));
}

TEST_CASE("the same seed gives the same bytes, whatever the number of workers", "[synth][tts]") {
  const fs::path root = earshot::testing::fresh_test_directory(EARSHOT_TEST_TMP);
  const fs::path source = make_source(root);
  REQUIRE(convert(source, root / "one", "--per-clip 2 --seed 9 --jobs 1").exit_code == 0);
  REQUIRE(convert(source, root / "two", "--per-clip 2 --seed 9 --jobs 2").exit_code == 0);
  REQUIRE(convert(source, root / "other", "--per-clip 2 --seed 10 --jobs 2").exit_code == 0);

  CHECK(read_text(root / "one" / "manifest.tsv") == read_text(root / "two" / "manifest.tsv"));
  CHECK(read_text(root / "one" / "manifest.tsv") != read_text(root / "other" / "manifest.tsv"));
  for (const Row& row : read_manifest(root / "one")) {
    INFO(row.at("file"));
    CHECK(read_file_bytes(root / "one" / row.at("file")) ==
          read_file_bytes(root / "two" / row.at("file")));
  }
}

TEST_CASE("bad input gets a clear error and keeps earlier clips", "[synth][tts]") {
  const fs::path root = earshot::testing::fresh_test_directory(EARSHOT_TEST_TMP);
  const fs::path source = make_source(root);

  SECTION("a directory without a manifest") {
    const auto result = convert(root / "nowhere", root / "out", "");
    CHECK(result.exit_code != 0);
    CHECK_THAT(result.output, Catch::Contains("has no manifest.tsv"));
  }
  SECTION("an output directory with an earlier run's clips") {
    REQUIRE(convert(source, root / "out", "--per-clip 1").exit_code == 0);
    const std::string manifest = read_text(root / "out" / "manifest.tsv");
    const auto result = convert(source, root / "out", "--per-clip 2");
    CHECK(result.exit_code != 0);
    CHECK_THAT(result.output, Catch::Contains("--force"));
    CHECK(read_text(root / "out" / "manifest.tsv") == manifest);
  }
  SECTION("a clip praat cannot read is named, and the other clips are still converted") {
    std::ofstream(source / "000001_flite_awb_activate.wav") << "not a wav file";
    const auto result = convert(source, root / "out", "--per-clip 2");
    CHECK(result.exit_code != 0);
    CHECK_THAT(result.output, Catch::Contains("000001_flite_awb_activate"));
    const std::vector<Row> rows = read_manifest(root / "out");
    REQUIRE(rows.size() == 2);
    for (const Row& row : rows) {
      CHECK(row.at("voice").starts_with("flite:slt+ps"));
      CHECK(fs::file_size(root / "out" / row.at("file")) > 1000);
    }
  }
  SECTION("a formant range that is not a range") {
    const auto result = convert(source, root / "out", "--formant-ratio 1.2,0.8");
    CHECK(result.exit_code != 0);
    CHECK_THAT(result.output, Catch::Contains("--formant-ratio"));
  }
}
