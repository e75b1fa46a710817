// The batch runner's threads (include/earshot/label_batch.hpp): outcomes in input order
// whatever finishes first, callbacks on the calling thread only, a clean stop when delivery
// fails. Runs under TSan too (the file name says "concurrency").
#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "audio_helpers.hpp"
#include "earshot/audio_io.hpp"
#include "earshot/error.hpp"
#include "earshot/label_batch.hpp"
#include "test_label_fixtures.hpp"

namespace {

namespace fs = std::filesystem;
using namespace earshot::testing;

earshot::DetectorConfig test_config() {
  earshot::DetectorConfig config;
  config.threshold = 0.5f;
  config.min_steps_above = 2;
  return config;
}

// File i lasts 4 - 0.5 i seconds with its burst at 0.5 + 0.1 i s, so later files finish
// first and each file's detection tells which file it came from.
std::vector<fs::path> write_files(const fs::path& dir, int count) {
  std::vector<fs::path> files;
  for (int i = 0; i < count; ++i) {
    files.push_back(dir / fmt::format("clip{}.wav", i));
    const double burst_s = 0.5 + 0.1 * i;
    earshot::write_audio(files.back(), tone_burst(4.0 - 0.5 * i, burst_s, burst_s + 0.4));
  }
  return files;
}

TEST_CASE("outcomes arrive in input order on the calling thread, whatever the thread count") {
  const fs::path dir = fresh_test_directory(EARSHOT_TEST_TMP);
  std::vector<fs::path> files = write_files(dir, 6);
  std::ofstream(dir / "bad.wav") << "not audio";
  files.insert(files.begin() + 3, dir / "bad.wav");
  const auto model = band_energy_model();
  const std::thread::id caller = std::this_thread::get_id();

  std::vector<std::vector<earshot::Detection>> by_thread_count;
  for (const int threads : {1, 3, 8}) {
    std::vector<std::size_t> order;
    std::vector<earshot::Detection> detections;
    bool callbacks_on_caller = true;
    earshot::BatchCallbacks callbacks;
    callbacks.deliver = [&](std::size_t index, earshot::LabelOutcome& outcome) {
      callbacks_on_caller = callbacks_on_caller && std::this_thread::get_id() == caller;
      order.push_back(index);
      if (index == 3) {
        CHECK_FALSE(outcome.labels.has_value());
        CHECK_THAT(outcome.error, Catch::Contains("bad.wav"));
        return;
      }
      REQUIRE(outcome.labels.has_value());
      REQUIRE(outcome.labels->detections.size() == 1);
      detections.push_back(outcome.labels->detections.front());
    };
    callbacks.progress = [&](double fraction) {
      callbacks_on_caller = callbacks_on_caller && std::this_thread::get_id() == caller;
      CHECK(fraction >= 0.0);
      CHECK(fraction <= 1.0);
    };
    earshot::label_files(model, test_config(), files, {}, threads, callbacks);
    CHECK(order == std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6});
    CHECK(callbacks_on_caller);
    by_thread_count.push_back(detections);
  }
  CHECK(by_thread_count[1] == by_thread_count[0]);
  CHECK(by_thread_count[2] == by_thread_count[0]);
  // Bursts 0.1 s apart from file to file: the detections are in file order.
  for (std::size_t i = 1; i < by_thread_count[0].size(); ++i) {
    CHECK(by_thread_count[0][i].time_s > by_thread_count[0][i - 1].time_s);
  }
}

TEST_CASE("a failing deliver stops the batch and its exception reaches the caller") {
  const fs::path dir = fresh_test_directory(EARSHOT_TEST_TMP);
  const std::vector<fs::path> files = write_files(dir, 5);
  earshot::BatchCallbacks callbacks;
  std::size_t delivered = 0;
  callbacks.deliver = [&](std::size_t, earshot::LabelOutcome&) {
    if (++delivered == 2) throw earshot::Error("disk full");
  };
  CHECK_THROWS_WITH(
      earshot::label_files(band_energy_model(), test_config(), files, {}, 2, callbacks),
      "disk full");
  CHECK(delivered == 2);
}

TEST_CASE("an invalid detector config fails before any thread starts") {
  const fs::path dir = fresh_test_directory(EARSHOT_TEST_TMP);
  const std::vector<fs::path> files = write_files(dir, 2);
  earshot::DetectorConfig bad = test_config();
  bad.threshold = 2.0f;
  bool delivered = false;
  earshot::BatchCallbacks callbacks;
  callbacks.deliver = [&](std::size_t, earshot::LabelOutcome&) { delivered = true; };
  CHECK_THROWS_WITH(earshot::label_files(band_energy_model(), bad, files, {}, 2, callbacks),
                    Catch::Contains("threshold"));
  CHECK_FALSE(delivered);
}

}  // namespace
