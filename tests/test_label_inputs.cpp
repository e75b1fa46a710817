// Specification of input discovery and output naming for `earshot label`
// (include/earshot/label_inputs.hpp).
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <vector>

#include "audio_helpers.hpp"
#include "earshot/error.hpp"
#include "earshot/label_inputs.hpp"

namespace {

namespace fs = std::filesystem;
using earshot::LabelInput;

void touch(const fs::path& path) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << "x";
}

std::vector<fs::path> paths_of(const std::vector<LabelInput>& inputs) {
  std::vector<fs::path> paths;
  for (const LabelInput& input : inputs)
    paths.push_back(input.path);
  return paths;
}

TEST_CASE("a directory is walked recursively for audio files, sorted, others skipped") {
  const fs::path root = earshot::testing::fresh_test_directory(EARSHOT_TEST_TMP);
  touch(root / "b.wav");
  touch(root / "a.FLAC");
  touch(root / "sub" / "c.mp3");
  touch(root / "notes.txt");
  touch(root / "sub" / "labels.csv");
  const std::vector<fs::path> args = {root};
  const std::vector<LabelInput> inputs = earshot::collect_label_inputs(args);
  CHECK(paths_of(inputs) ==
        std::vector<fs::path>{root / "a.FLAC", root / "b.wav", root / "sub" / "c.mp3"});
  CHECK(inputs[2].output_name == fs::path("sub") / "c");
}

TEST_CASE("inputs keep argument order, and a file argument is taken whatever its extension") {
  const fs::path root = earshot::testing::fresh_test_directory(EARSHOT_TEST_TMP);
  touch(root / "z.wav");
  touch(root / "dir" / "a.wav");
  touch(root / "recording.raw");
  const std::vector<fs::path> args = {root / "z.wav", root / "dir", root / "recording.raw"};
  const std::vector<LabelInput> inputs = earshot::collect_label_inputs(args);
  CHECK(paths_of(inputs) ==
        std::vector<fs::path>{root / "z.wav", root / "dir" / "a.wav", root / "recording.raw"});
  CHECK(inputs[0].output_name == "z");
  CHECK(inputs[1].output_name == "a");
  CHECK(inputs[2].output_name == "recording");
}

TEST_CASE("a missing input or a directory without audio is an error naming it") {
  const fs::path root = earshot::testing::fresh_test_directory(EARSHOT_TEST_TMP);
  touch(root / "empty" / "readme.txt");
  const std::vector<fs::path> missing = {root / "nope.wav"};
  CHECK_THROWS_WITH(earshot::collect_label_inputs(missing),
                    Catch::Contains("nope.wav") && Catch::Contains("does not exist"));
  const std::vector<fs::path> empty = {root / "empty"};
  CHECK_THROWS_WITH(earshot::collect_label_inputs(empty),
                    Catch::Contains("empty") && Catch::Contains("no audio files"));
}

TEST_CASE("clashing output names keep their audio extension") {
  std::vector<LabelInput> inputs = {
      {"d/x.wav", "x"}, {"d/x.flac", "x"}, {"d/y.wav", "y"}, {"d/s/x.wav", "s/x"}};
  earshot::assign_output_names(inputs);
  CHECK(inputs[0].output_name == "x.wav");
  CHECK(inputs[1].output_name == "x.flac");
  CHECK(inputs[2].output_name == "y");
  CHECK(inputs[3].output_name == fs::path("s") / "x");
}

TEST_CASE("two inputs that would still write the same output are an error naming both") {
  std::vector<LabelInput> inputs = {{"a/x.wav", "x"}, {"b/x.wav", "x"}};
  CHECK_THROWS_WITH(earshot::assign_output_names(inputs),
                    Catch::Contains("a/x.wav") && Catch::Contains("b/x.wav"));
}

TEST_CASE("the default model is models/activate.earshot in the source tree, if there") {
  const fs::path expected = fs::path(EARSHOT_SOURCE_DIR) / "models" / "activate.earshot";
  if (fs::exists(expected)) {
    CHECK(earshot::find_default_model() == expected);
  } else {
    CHECK_THROWS_WITH(earshot::find_default_model(),
                      Catch::Contains("activate.earshot") && Catch::Contains("--model"));
  }
}

}  // namespace
