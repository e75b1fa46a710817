// Specification of `earshot synth` as a user meets it: exit codes and messages for bad
// input, sharded runs merged with --merge, and (optionally) real TTS clips from espeak-ng.
#include <fmt/core.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "audio_helpers.hpp"
#include "command_helpers.hpp"
#include "earshot/dataset.hpp"
#include "test_synth_fixtures.hpp"

namespace {

namespace fs = std::filesystem;
using Catch::Contains;
using earshot::testing::read_file_bytes;

// Exit codes from tools/command.hpp.
constexpr int kSuccess = 0;
constexpr int kFailure = 1;
constexpr int kUsage = 2;
constexpr int kPartialFailure = 3;

earshot::testing::CommandResult run_synth(const fs::path& work, const std::string& arguments) {
  return earshot::testing::run_earshot("synth " + arguments, work / "output.log");
}

struct Workspace {
  fs::path root;
  earshot::testing::SourceDirectories sources;

  std::string sources_flags() const {
    return fmt::format("--triggers '{}' --negatives '{}' --backgrounds '{}' --duration-s 3",
                       sources.triggers.string(), sources.negatives.string(),
                       sources.backgrounds.string());
  }
};

Workspace workspace() {
  const fs::path root =
      earshot::testing::fresh_test_directory(fs::path(EARSHOT_TEST_TMP) / "synth_cli");
  return {root, earshot::testing::write_sources(root / "raw")};
}

TEST_CASE("a run writes the clips and the manifest and exits 0", "[synth][cli]") {
  const Workspace ws = workspace();
  const auto result =
      run_synth(ws.root, ws.sources_flags() +
                             fmt::format(" --count 5 --seed 3 --out '{}/out'", ws.root.string()));
  INFO(result.output);
  REQUIRE(result.exit_code == kSuccess);
  CHECK(earshot::read_manifest(ws.root / "out").size() == 5);
  CHECK(fs::exists(ws.root / "out/clips/000004.wav"));
  CHECK_THAT(result.output, Contains("real time"));
}

TEST_CASE("missing required flags are a usage error", "[synth][cli]") {
  const Workspace ws = workspace();
  const auto result = run_synth(ws.root, fmt::format("--count 5 --out '{}/out'", ws.root.string()));
  CHECK(result.exit_code == kUsage);
  CHECK_THAT(result.output, Contains("--triggers"));
}

TEST_CASE("an empty trigger directory fails with a message naming it", "[synth][cli]") {
  const Workspace ws = workspace();
  fs::create_directories(ws.root / "empty");
  const auto result = run_synth(
      ws.root, fmt::format("--triggers '{0}/empty' --backgrounds '{1}' --count 2 --out '{0}/out'",
                           ws.root.string(), ws.sources.backgrounds.string()));
  CHECK(result.exit_code == kFailure);
  CHECK_THAT(result.output, Contains("empty") && Contains("no audio files"));
}

TEST_CASE("no usable trigger clip at all fails with the reason", "[synth][cli]") {
  const Workspace ws = workspace();
  fs::create_directories(ws.root / "silent");
  earshot::write_audio(ws.root / "silent/quiet.wav", std::vector<float>(8000, 0.0f));
  const auto result = run_synth(
      ws.root, fmt::format("--triggers '{0}/silent' --backgrounds '{1}' --count 2 --out '{0}/out'",
                           ws.root.string(), ws.sources.backgrounds.string()));
  CHECK(result.exit_code == kFailure);
  CHECK_THAT(result.output, Contains("no usable clip") && Contains("silent"));
}

TEST_CASE(
    "unreadable, silent and too-long clips are skipped, reported, and the run "
    "finishes with a partial-failure code",
    "[synth][cli]") {
  const Workspace ws = workspace();
  std::ofstream(ws.sources.triggers / "broken.wav") << "not audio at all";
  earshot::write_audio(ws.sources.triggers / "silent.wav", std::vector<float>(8000, 0.0f));
  earshot::write_audio(ws.sources.negatives / "long.wav", earshot::testing::tone_word(300, 4.0));
  const auto result = run_synth(
      ws.root, ws.sources_flags() + fmt::format(" --count 3 --out '{}/out'", ws.root.string()));
  INFO(result.output);
  CHECK(result.exit_code == kPartialFailure);
  CHECK_THAT(result.output, Contains("broken.wav") && Contains("silent.wav") &&
                                Contains("long.wav") && Contains("longer than the 3.00 s"));
  CHECK(earshot::read_manifest(ws.root / "out").size() == 3);
}

TEST_CASE("an invalid setting is reported by name", "[synth][cli]") {
  const Workspace ws = workspace();
  const auto result = run_synth(
      ws.root, ws.sources_flags() + fmt::format(" --count 2 --speed-min 1.5 --speed-max 1.1 "
                                                "--out '{}/out'",
                                                ws.root.string()));
  CHECK(result.exit_code == kFailure);
  CHECK_THAT(result.output, Contains("speed"));
}

TEST_CASE("two shards and --merge give the full run's manifest", "[synth][cli]") {
  const Workspace ws = workspace();
  const std::string common = ws.sources_flags() + " --count 5 --seed 8 --quiet";
  REQUIRE(
      run_synth(ws.root, common + fmt::format(" --out '{}/full'", ws.root.string())).exit_code ==
      kSuccess);
  for (const char* shard : {"0/2", "1/2"}) {
    REQUIRE(run_synth(ws.root, common + fmt::format(" --shard {} --out '{}/sharded'", shard,
                                                    ws.root.string()))
                .exit_code == kSuccess);
  }
  REQUIRE(
      run_synth(ws.root, fmt::format("--merge --out '{}/sharded'", ws.root.string())).exit_code ==
      kSuccess);
  CHECK(read_file_bytes(ws.root / "full/manifest.jsonl") ==
        read_file_bytes(ws.root / "sharded/manifest.jsonl"));
}

TEST_CASE("optional: clips spoken by espeak-ng synthesize like any other", "[synth][cli][tts]") {
  if (std::system("command -v espeak-ng > /dev/null 2>&1") != 0) {
    WARN("espeak-ng is not installed: skipping the TTS round trip");
    return;
  }
  const Workspace ws = workspace();
  fs::create_directories(ws.root / "tts");
  for (const char* voice : {"en-us", "en-gb-scotland"}) {
    const std::string command =
        fmt::format("espeak-ng -v {} -w '{}/tts/{}.wav' activate", voice, ws.root.string(), voice);
    REQUIRE(std::system(command.c_str()) == 0);
  }
  const auto result = run_synth(
      ws.root, fmt::format("--triggers '{0}/tts' --backgrounds '{1}' --count 3 --out '{0}/out'",
                           ws.root.string(), ws.sources.backgrounds.string()));
  INFO(result.output);
  CHECK(result.exit_code == kSuccess);
}

}  // namespace
