// Specification of source loading: recursive sorted walks, voices from manifest.tsv, bad
// clips skipped with a reason, and clear errors for sources that give nothing usable.
#include <catch2/catch.hpp>
#include <fstream>
#include <map>

#include "audio_helpers.hpp"
#include "earshot/synth.hpp"
#include "test_synth_fixtures.hpp"

namespace {

namespace fs = std::filesystem;
using Catch::Contains;
using earshot::SourceLimits;
using earshot::SourceSpec;
using earshot::write_audio;
using earshot::testing::tone_word;

fs::path scratch() {
  return earshot::testing::fresh_test_directory(fs::path(EARSHOT_TEST_TMP) / "synth_sources");
}

earshot::LoadedSources load(const fs::path& path, double max_duration_s = 0) {
  const SourceSpec spec{path, 1.0};
  SourceLimits limits;
  limits.max_duration_s = max_duration_s;
  return earshot::load_sources(std::span(&spec, 1), limits, 2);
}

std::string skipped_reason(const earshot::LoadedSources& loaded, const std::string& file) {
  for (const auto& skipped : loaded.skipped) {
    if (skipped.path.ends_with(file)) return skipped.reason;
  }
  return "";
}

TEST_CASE("a directory is walked recursively in sorted order", "[synth][sources]") {
  const fs::path dir = scratch();
  fs::create_directories(dir / "b");
  write_audio(dir / "b/z.wav", tone_word(400, 0.3));
  write_audio(dir / "a.flac", tone_word(500, 0.3));
  write_audio(dir / "c.wav", tone_word(600, 0.3));
  std::ofstream(dir / "notes.txt") << "not audio";
  const auto loaded = load(dir);
  REQUIRE(loaded.collections.size() == 1);
  const auto& clips = loaded.collections[0].clips;
  REQUIRE(clips.size() == 3);
  CHECK(clips[0].name.ends_with("a.flac"));
  CHECK(clips[1].name.ends_with("b/z.wav"));
  CHECK(clips[2].name.ends_with("c.wav"));
  CHECK(loaded.skipped.empty());
}

TEST_CASE("voices come from manifest.tsv at any level of the tree", "[synth][sources]") {
  const fs::path dir = scratch();
  fs::create_directories(dir / "clips");
  write_audio(dir / "clips/one.wav", tone_word(400, 0.3));
  write_audio(dir / "clips/two.wav", tone_word(500, 0.3));
  std::ofstream(dir / "manifest.tsv") << "file\tvoice\nclips/one.wav\tflite:slt\n";
  std::ofstream(dir / "clips/manifest.tsv") << "speaker\tfile\nmarta\ttwo.wav\n";
  const auto loaded = load(dir);
  const auto& clips = loaded.collections[0].clips;
  CHECK(clips[0].voice == "flite:slt");
  CHECK(clips[1].voice == "marta");
}

TEST_CASE("a manifest.tsv without a file column is an error naming it", "[synth][sources]") {
  const fs::path dir = scratch();
  write_audio(dir / "one.wav", tone_word(400, 0.3));
  std::ofstream(dir / "manifest.tsv") << "name\tvoice\none.wav\tflite\n";
  CHECK_THROWS_WITH(load(dir), Contains("manifest.tsv") && Contains("'file'"));
}

TEST_CASE("a manifest.tsv without a voice column leaves voices empty", "[synth][sources]") {
  const fs::path dir = scratch();
  write_audio(dir / "rain.wav", tone_word(400, 0.3));
  std::ofstream(dir / "manifest.tsv") << "file\tlicence\nrain.wav\tCC0\n";
  CHECK(load(dir).collections[0].clips[0].voice.empty());
}

TEST_CASE("an unreadable clip is skipped with the reader's reason, the rest load",
          "[synth][sources]") {
  const fs::path dir = scratch();
  write_audio(dir / "good.wav", tone_word(400, 0.3));
  std::ofstream(dir / "broken.wav") << "RIFF this is not a wave file";
  const auto loaded = load(dir);
  CHECK(loaded.collections[0].clips.size() == 1);
  CHECK_FALSE(skipped_reason(loaded, "broken.wav").empty());
}

TEST_CASE("a silent clip is skipped as silent", "[synth][sources]") {
  const fs::path dir = scratch();
  write_audio(dir / "good.wav", tone_word(400, 0.3));
  write_audio(dir / "silent.wav", std::vector<float>(8000, 0.0f));
  const auto loaded = load(dir);
  CHECK(loaded.collections[0].clips.size() == 1);
  CHECK_THAT(skipped_reason(loaded, "silent.wav"), Contains("silent"));
}

TEST_CASE("a clip longer than the clips being made is skipped with both lengths",
          "[synth][sources]") {
  const fs::path dir = scratch();
  write_audio(dir / "good.wav", tone_word(400, 0.3));
  write_audio(dir / "long.wav", tone_word(400, 2.5));
  const auto loaded = load(dir, 2.0);
  CHECK(loaded.collections[0].clips.size() == 1);
  CHECK_THAT(skipped_reason(loaded, "long.wav"), Contains("2.50 s") && Contains("2.00 s"));
}

TEST_CASE("a directory without audio files is an error naming it", "[synth][sources]") {
  const fs::path dir = scratch();
  std::ofstream(dir / "readme.txt") << "nothing here";
  CHECK_THROWS_WITH(load(dir), Contains(dir.string()) && Contains("no audio files"));
}

TEST_CASE("a missing source path is an error naming it", "[synth][sources]") {
  CHECK_THROWS_WITH(load(scratch() / "nowhere"), Contains("nowhere") && Contains("not exist"));
}

TEST_CASE("a source whose every clip is skipped is an error with an example reason",
          "[synth][sources]") {
  const fs::path dir = scratch();
  write_audio(dir / "silent.wav", std::vector<float>(8000, 0.0f));
  CHECK_THROWS_WITH(load(dir), Contains("no usable clip") && Contains("silent"));
}

TEST_CASE("a single file is a source of one clip", "[synth][sources]") {
  const fs::path dir = scratch();
  write_audio(dir / "one.wav", tone_word(400, 0.3));
  CHECK(load(dir / "one.wav").collections[0].clips.size() == 1);
}

TEST_CASE("a source argument may carry a weight after a colon", "[synth][sources]") {
  const SourceSpec weighted = SourceSpec::parse("recordings/mine:4");
  CHECK(weighted.path == "recordings/mine");
  CHECK(weighted.weight == 4.0);
  CHECK(SourceSpec::parse("plain/dir").weight == 1.0);
  CHECK_THROWS_AS(SourceSpec::parse("dir:0"), earshot::Error);
}

TEST_CASE("an existing path with a colon is taken as written", "[synth][sources]") {
  const fs::path dir = scratch() / "take:2";
  fs::create_directories(dir);
  const SourceSpec spec = SourceSpec::parse(dir.string());
  CHECK(spec.path == dir);
  CHECK(spec.weight == 1.0);
}

TEST_CASE("collections are drawn in proportion to their weights, not their sizes",
          "[synth][sources]") {
  // A big collection of 9 clips at weight 1 and a small one of 1 clip at weight 3.
  std::vector<earshot::SourceCollection> collections(2);
  collections[0].weight = 1;
  collections[0].clips.resize(9, earshot::SourceClip{"big", "", {}});
  collections[1].weight = 3;
  collections[1].clips.resize(1, earshot::SourceClip{"small", "", {}});
  earshot::SynthRng rng(1);
  int small = 0;
  constexpr int kDraws = 20000;
  for (int i = 0; i < kDraws; ++i)
    small += earshot::pick_clip(collections, rng).name == "small";
  CHECK(static_cast<double>(small) / kDraws == Approx(0.75).margin(0.02));
}

}  // namespace

namespace {

earshot::SourceClip ramp_clip(std::size_t length) {
  earshot::SourceClip clip{"ramp", "", std::vector<float>(length)};
  for (std::size_t i = 0; i < length; ++i)
    clip.samples[i] = static_cast<float>(i);
  return clip;
}

TEST_CASE("a background excerpt of a longer recording is one contiguous stretch of it",
          "[synth][sources]") {
  earshot::SynthRng rng(5);
  const auto excerpt = earshot::background_excerpt(ramp_clip(1000), 300, rng);
  REQUIRE(excerpt.size() == 300);
  CHECK(excerpt.back() - excerpt.front() == 299.0f);
}

TEST_CASE("a background excerpt of a shorter recording loops it", "[synth][sources]") {
  earshot::SynthRng rng(6);
  const auto excerpt = earshot::background_excerpt(ramp_clip(100), 350, rng);
  REQUIRE(excerpt.size() == 350);
  for (std::size_t i = 0; i + 100 < excerpt.size(); ++i)
    REQUIRE(excerpt[i + 100] == excerpt[i]);
}

TEST_CASE("a background excerpt of an empty recording is silence", "[synth][sources]") {
  earshot::SynthRng rng(7);
  CHECK(earshot::background_excerpt(ramp_clip(0), 50, rng) == std::vector<float>(50, 0.0f));
}

}  // namespace
