// Specification of datasets on disk: same seed, same bytes; shards that add up to the full
// run; output independent of the thread count; merging that refuses incomplete sets.
#include <fmt/core.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "audio_helpers.hpp"
#include "earshot/dataset.hpp"
#include "earshot/synth.hpp"
#include "test_synth_fixtures.hpp"

namespace {

namespace fs = std::filesystem;
using Catch::Contains;
using earshot::DatasetRun;
using earshot::Shard;
using earshot::testing::read_file_bytes;

constexpr std::size_t kClips = 7;

struct Fixture {
  fs::path root;
  earshot::Synthesizer synthesizer;
};

Fixture make_fixture() {
  const fs::path root =
      earshot::testing::fresh_test_directory(fs::path(EARSHOT_TEST_TMP) / "synth_dataset");
  earshot::SynthConfig config;  // every effect on: all of it must be deterministic
  config.duration_s = 3.0;
  config.bandlimit_prob = 0.5;
  return {root, earshot::testing::make_synthesizer(earshot::testing::write_sources(root / "raw"),
                                                   config)};
}

earshot::DatasetSummary run(const Fixture& fixture, const std::string& name, std::uint64_t seed,
                            const std::string& shard = "0/1", int threads = 2) {
  DatasetRun dataset_run;
  dataset_run.out_dir = fixture.root / name;
  dataset_run.clip_count = kClips;
  dataset_run.seed = seed;
  dataset_run.shard = Shard::parse(shard);
  dataset_run.threads = threads;
  return earshot::synthesize_dataset(fixture.synthesizer, dataset_run);
}

// Every file of the dataset (clips and manifest), byte for byte.
void require_same_dataset(const fs::path& a, const fs::path& b) {
  REQUIRE(read_file_bytes(a / "manifest.jsonl") == read_file_bytes(b / "manifest.jsonl"));
  for (std::size_t index = 0; index < kClips; ++index) {
    const std::string clip = fmt::format("clips/{:06d}.wav", index);
    INFO(clip);
    REQUIRE(read_file_bytes(a / clip) == read_file_bytes(b / clip));
  }
}

TEST_CASE("a run writes one clip file per index and a manifest sorted by index",
          "[synth][dataset]") {
  const Fixture fixture = make_fixture();
  const auto summary = run(fixture, "out", 1);
  CHECK(summary.clips == kClips);
  CHECK(summary.audio_s == Approx(kClips * 3.0));
  const auto records = earshot::read_manifest(fixture.root / "out");
  REQUIRE(records.size() == kClips);
  for (std::size_t i = 0; i < kClips; ++i) {
    CHECK(records[i].index == i);
    CHECK(earshot::read_audio(fixture.root / "out" / records[i].file).size() == 48000);
  }
}

TEST_CASE("the same seed gives identical bytes of every clip and the manifest",
          "[synth][dataset]") {
  const Fixture fixture = make_fixture();
  run(fixture, "first", 21);
  run(fixture, "second", 21);
  require_same_dataset(fixture.root / "first", fixture.root / "second");
}

TEST_CASE("another seed gives other clips", "[synth][dataset]") {
  const Fixture fixture = make_fixture();
  run(fixture, "first", 21);
  run(fixture, "other", 22);
  CHECK(read_file_bytes(fixture.root / "first/clips/000000.wav") !=
        read_file_bytes(fixture.root / "other/clips/000000.wav"));
}

TEST_CASE("shards 0/2 and 1/2, merged, equal the full run byte for byte", "[synth][dataset]") {
  const Fixture fixture = make_fixture();
  run(fixture, "full", 5);
  const auto first = run(fixture, "sharded", 5, "0/2");
  const auto second = run(fixture, "sharded", 5, "1/2");
  CHECK(first.clips == 4);   // clips 0, 2, 4, 6
  CHECK(second.clips == 3);  // clips 1, 3, 5
  CHECK(first.manifest.filename() == "manifest.shard-0-of-2.jsonl");
  CHECK(earshot::merge_manifest_shards(fixture.root / "sharded") == kClips);
  require_same_dataset(fixture.root / "full", fixture.root / "sharded");
}

TEST_CASE("one thread and three threads write the same bytes", "[synth][dataset]") {
  const Fixture fixture = make_fixture();
  run(fixture, "one", 9, "0/1", 1);
  run(fixture, "three", 9, "0/1", 3);
  require_same_dataset(fixture.root / "one", fixture.root / "three");
}

TEST_CASE("merging with a shard missing names the missing shard", "[synth][dataset]") {
  const Fixture fixture = make_fixture();
  run(fixture, "sharded", 5, "0/3");
  run(fixture, "sharded", 5, "2/3");
  CHECK_THROWS_WITH(earshot::merge_manifest_shards(fixture.root / "sharded"), Contains("1/3"));
  CHECK_FALSE(fs::exists(fixture.root / "sharded/manifest.jsonl"));
}

TEST_CASE("merging parts of different shard counts is refused", "[synth][dataset]") {
  const Fixture fixture = make_fixture();
  run(fixture, "mixed", 5, "0/2");
  run(fixture, "mixed", 5, "1/3");
  CHECK_THROWS_WITH(earshot::merge_manifest_shards(fixture.root / "mixed"),
                    Contains("2") && Contains("3") && Contains("stale"));
}

TEST_CASE("merging a directory without parts says so", "[synth][dataset]") {
  const Fixture fixture = make_fixture();
  CHECK_THROWS_WITH(earshot::merge_manifest_shards(fixture.root), Contains("no manifest.shard"));
}

TEST_CASE("shard specs parse as i/N with 0 <= i < N", "[synth][dataset]") {
  const Shard shard = Shard::parse("3/8");
  CHECK(shard.index == 3);
  CHECK(shard.count == 8);
  CHECK(shard.clip_indices(20) == std::vector<std::size_t>{3, 11, 19});
  CHECK(Shard::parse("0/1").manifest_name() == "manifest.jsonl");
  CHECK_THROWS_AS(Shard::parse("8/8"), earshot::Error);
  CHECK_THROWS_AS(Shard::parse("1/0"), earshot::Error);
  CHECK_THROWS_AS(Shard::parse("3"), earshot::Error);
  CHECK_THROWS_AS(Shard::parse("a/b"), earshot::Error);
  CHECK_THROWS_AS(Shard::parse("-1/4"), earshot::Error);
}

TEST_CASE("the provenance text is written next to the clips", "[synth][dataset]") {
  const Fixture fixture = make_fixture();
  DatasetRun dataset_run;
  dataset_run.out_dir = fixture.root / "out";
  dataset_run.clip_count = 1;
  dataset_run.provenance_json = R"({"seed": 3})";
  earshot::synthesize_dataset(fixture.synthesizer, dataset_run);
  std::ifstream in(fixture.root / "out/synth_config.json");
  CHECK(nlohmann::json::parse(in)["seed"] == 3);
}

TEST_CASE("progress is reported, ending at done == total", "[synth][dataset]") {
  const Fixture fixture = make_fixture();
  DatasetRun dataset_run;
  dataset_run.out_dir = fixture.root / "out";
  dataset_run.clip_count = kClips;
  std::size_t last_done = 0;
  std::size_t last_total = 0;
  dataset_run.progress = [&](std::size_t done, std::size_t total) {
    last_done = done;
    last_total = total;
  };
  earshot::synthesize_dataset(fixture.synthesizer, dataset_run);
  CHECK(last_done == kClips);
  CHECK(last_total == kClips);
}

}  // namespace
