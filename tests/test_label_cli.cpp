// `earshot label` from the outside: the built executable (EARSHOT_BINARY) on files and
// directories, its outputs and its exit codes.
#include <fmt/format.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "audio_helpers.hpp"
#include "earshot/audio_io.hpp"
#include "earshot/model_file.hpp"
#include "test_label_fixtures.hpp"

namespace {

namespace fs = std::filesystem;
using namespace earshot::testing;

// Exit codes of tools/command.hpp.
constexpr int kSuccess = 0;
constexpr int kFailure = 1;
constexpr int kUsage = 2;
constexpr int kPartialFailure = 3;

using earshot::testing::read_text;

struct Result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `earshot label ARGS` in `dir`, standard output and error captured.
Result label(const fs::path& dir, const std::string& args) {
  const std::string command = fmt::format("cd '{}' && '{}' label {} > stdout.txt 2> stderr.txt",
                                          dir.string(), EARSHOT_BINARY, args);
  const int status = std::system(command.c_str());
  Result result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = read_text(dir / "stdout.txt");
  result.err = read_text(dir / "stderr.txt");
  return result;
}

// A scratch directory holding the band-energy model as model.earshot.
fs::path setup() {
  const fs::path dir = fresh_test_directory(EARSHOT_TEST_TMP);
  earshot::save_model(dir / "model.earshot", *band_energy_model());
  return dir;
}

void write_clip_with_burst(const fs::path& path, double burst_s) {
  fs::create_directories(path.parent_path());
  earshot::write_audio(path, tone_burst(3.0, burst_s, burst_s + 0.5));
}

TEST_CASE("one file: audacity labels on standard output and exit code 0") {
  const fs::path dir = setup();
  write_clip_with_burst(dir / "clip.wav", 1.0);
  const Result result = label(dir, "--model model.earshot clip.wav");
  CHECK(result.exit_code == kSuccess);
  CHECK(result.err.empty());
  // The burst starts at 1.0 s; the energy model's word "ends" where its output rises.
  CHECK(result.out == "0.350000\t0.950000\tactivate\n");
}

TEST_CASE("a bad file in a directory: exit code 3, the others labelled, the bad one named") {
  const fs::path dir = setup();
  write_clip_with_burst(dir / "in" / "a.wav", 1.0);
  std::ofstream(dir / "in" / "b.wav") << "RIFF but not really";
  write_clip_with_burst(dir / "in" / "sub" / "c.flac", 2.0);
  const Result result = label(dir, "--model model.earshot --out labels in");
  CHECK(result.exit_code == kPartialFailure);
  CHECK(read_text(dir / "labels" / "a.txt") == "0.350000\t0.950000\tactivate\n");
  CHECK(read_text(dir / "labels" / "sub" / "c.txt") == "1.350000\t1.950000\tactivate\n");
  CHECK_FALSE(fs::exists(dir / "labels" / "b.txt"));
  CHECK_THAT(result.err, Catch::Contains("in/b.wav") && Catch::Contains("1 of 3 inputs failed"));
}

TEST_CASE("when every input is bad the exit code is 1") {
  const fs::path dir = setup();
  std::ofstream(dir / "noise.wav") << "not audio";
  const Result result = label(dir, "--model model.earshot --format json noise.wav missing.wav");
  CHECK(result.exit_code == kFailure);
  CHECK_THAT(result.err, Catch::Contains("noise.wav") && Catch::Contains("missing.wav"));
}

TEST_CASE("a missing model is a failure naming the file") {
  const fs::path dir = setup();
  write_clip_with_burst(dir / "clip.wav", 1.0);
  const Result result = label(dir, "--model nowhere.earshot clip.wav");
  CHECK(result.exit_code == kFailure);
  CHECK_THAT(result.err, Catch::Contains("nowhere.earshot"));
}

TEST_CASE("usage errors exit with code 2") {
  const fs::path dir = setup();
  write_clip_with_burst(dir / "a.wav", 1.0);
  write_clip_with_burst(dir / "b.wav", 1.0);
  const Result both = label(dir, "--model model.earshot --threshold 0.5 --sensitivity 0.5 a.wav");
  CHECK(both.exit_code == kUsage);
  const Result several = label(dir, "--model model.earshot a.wav b.wav");
  CHECK(several.exit_code == kUsage);
  CHECK_THAT(several.err, Catch::Contains("--out"));
  const Result format = label(dir, "--model model.earshot --format xml a.wav");
  CHECK(format.exit_code == kUsage);
  const Result none = label(dir, "--model model.earshot");
  CHECK(none.exit_code == kUsage);
}

TEST_CASE("several inputs as json lines on standard output, in argument order") {
  const fs::path dir = setup();
  write_clip_with_burst(dir / "b.wav", 2.0);
  write_clip_with_burst(dir / "a.wav", 1.0);
  const Result result = label(dir, "--model model.earshot --format json --threads 2 b.wav a.wav");
  CHECK(result.exit_code == kSuccess);
  CHECK(result.out ==
        "{\"file\":\"b.wav\",\"keyword\":\"activate\",\"time_s\":2.025000,\"start_s\":1.350000,"
        "\"end_s\":1.950000,\"score\":0.997527}\n"
        "{\"file\":\"a.wav\",\"keyword\":\"activate\",\"time_s\":1.025000,\"start_s\":0.350000,"
        "\"end_s\":0.950000,\"score\":0.997527}\n");
}

TEST_CASE("sensitivity 0 asks for more evidence than this model ever gives, 0.5 fires") {
  const fs::path dir = setup();
  write_clip_with_burst(dir / "clip.wav", 1.0);
  CHECK(label(dir, "--model model.earshot --sensitivity 0 clip.wav").out.empty());
  CHECK_FALSE(label(dir, "--model model.earshot --sensitivity 0.5 clip.wav").out.empty());
}

TEST_CASE("the probs and plot options write a csv and an svg for one file") {
  const fs::path dir = setup();
  write_clip_with_burst(dir / "clip.wav", 1.0);
  const Result result =
      label(dir, "--model model.earshot --probs out/probs.csv --plot out/clip.svg clip.wav");
  CHECK(result.exit_code == kSuccess);
  CHECK(read_text(dir / "out" / "probs.csv").rfind("time_s,probability\n0.000000,", 0) == 0);
  CHECK(read_text(dir / "out" / "clip.svg").rfind("<svg", 0) == 0);
}

}  // namespace
