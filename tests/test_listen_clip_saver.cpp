// Specification of `earshot listen --save-dir`: the rolling audio history and the clips
// written around each detection.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "audio_helpers.hpp"
#include "earshot/audio_io.hpp"
#include "earshot/error.hpp"
#include "earshot/listen_audio_history.hpp"
#include "earshot/listen_clip_saver.hpp"

using namespace earshot;
using namespace earshot::listen;
using Catch::Matchers::Contains;

namespace {

constexpr int kRate = kSampleRate;

std::vector<float> iota_samples(std::size_t first, std::size_t count) {
  std::vector<float> values(count);
  for (std::size_t i = 0; i < count; ++i)
    values[i] = static_cast<float>(first + i);
  return values;
}

// A slow sine, so a 16-bit WAV round trip can be compared sample by sample.
std::vector<float> slow_sine(std::size_t count) {
  std::vector<float> samples(count);
  for (std::size_t i = 0; i < count; ++i) {
    samples[i] = 0.5f * static_cast<float>(std::sin(static_cast<double>(i) * 0.001));
  }
  return samples;
}

Detection detection_at(double time_s, const std::string& keyword = "activate") {
  Detection detection;
  detection.keyword = keyword;
  detection.time_s = time_s;
  return detection;
}

// Collects what the writer thread reports.
struct Reports {
  std::mutex mutex;
  std::vector<SavedClip> saved;
  std::vector<std::string> errors;

  ClipSaverCallbacks callbacks() {
    return {[this](const SavedClip& clip) {
              std::lock_guard lock(mutex);
              saved.push_back(clip);
            },
            [this](const std::string& message) {
              std::lock_guard lock(mutex);
              errors.push_back(message);
            }};
  }
};

double max_difference(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double largest = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    largest = std::max(largest, double(std::fabs(a[i] - b[i])));
  return largest;
}

}  // namespace

TEST_CASE("the history returns any range it still holds, across the wrap", "[listen]") {
  AudioHistory history(10);
  history.append(iota_samples(0, 7));
  history.append(iota_samples(7, 6));  // 13 appended: holds 3..12
  CHECK(history.end_index() == 13);
  CHECK(history.begin_index() == 3);
  CHECK(history.copy(5, 9) == iota_samples(5, 4));
  CHECK(history.copy(3, 13) == iota_samples(3, 10));
}

TEST_CASE("history ranges are clipped to what is held", "[listen]") {
  AudioHistory history(10);
  history.append(iota_samples(0, 25));  // more than the capacity in one go: holds 15..24
  CHECK(history.begin_index() == 15);
  CHECK(history.copy(0, 18) == iota_samples(15, 3));
  CHECK(history.copy(20, 100) == iota_samples(20, 5));
  CHECK(history.copy(0, 10).empty());
}

TEST_CASE("a clip spans 2 s before to 0.5 s after the detection: 40000 samples at 16 kHz",
          "[listen]") {
  const auto dir = testing::fresh_test_directory(EARSHOT_TEST_TMP);
  const std::vector<float> stream = slow_sine(6 * kRate);
  Reports reports;
  {
    DetectionClipSaver saver({dir}, reports.callbacks());
    saver.append(std::span(stream).first(3 * kRate));
    saver.schedule(detection_at(3.0), std::chrono::system_clock::now());
    saver.append(std::span(stream).subspan(3 * kRate));
    saver.finish();
  }
  REQUIRE(reports.errors.empty());
  REQUIRE(reports.saved.size() == 1);
  const SavedClip& clip = reports.saved.front();
  CHECK(clip.samples == 40000);
  CHECK(clip.path.parent_path() == dir);
  CHECK_THAT(clip.path.filename().string(), Contains("_activate.wav"));
  const std::vector<float> written = read_audio(clip.path);
  const std::vector<float> expected(stream.begin() + 1 * kRate, stream.begin() + 1 * kRate + 40000);
  CHECK(max_difference(written, expected) < 1.0 / 16384);  // 16-bit PCM rounding
}

TEST_CASE("a detection in the first 2 s keeps the audio from the start", "[listen]") {
  const auto dir = testing::fresh_test_directory(EARSHOT_TEST_TMP);
  Reports reports;
  DetectionClipSaver saver({dir}, reports.callbacks());
  saver.schedule(detection_at(0.5), std::chrono::system_clock::now());
  saver.append(slow_sine(3 * kRate));
  saver.finish();
  REQUIRE(reports.saved.size() == 1);
  CHECK(reports.saved.front().samples == 16000);  // 0 .. 1.0 s
}

TEST_CASE("at the end of the stream a pending clip is written with the audio there is",
          "[listen]") {
  const auto dir = testing::fresh_test_directory(EARSHOT_TEST_TMP);
  Reports reports;
  DetectionClipSaver saver({dir}, reports.callbacks());
  saver.append(slow_sine(static_cast<std::size_t>(3.2 * kRate)));
  saver.schedule(detection_at(3.0), std::chrono::system_clock::now());
  saver.finish();
  REQUIRE(reports.saved.size() == 1);
  CHECK(reports.saved.front().samples == 35200);  // 1.0 s .. 3.2 s
}

TEST_CASE("a failed write is reported and the next clip is saved as usual", "[listen]") {
  const auto dir = testing::fresh_test_directory(EARSHOT_TEST_TMP);
  Reports reports;
  DetectionClipSaver saver({dir}, reports.callbacks());
  std::filesystem::remove_all(dir);  // as good as a full disk for write_audio
  saver.append(slow_sine(3 * kRate));
  saver.schedule(detection_at(2.0), std::chrono::system_clock::now());
  saver.append(slow_sine(kRate));
  // Let the writer fail on the first clip before the directory comes back.
  for (int i = 0; i < 6000; ++i) {
    {
      std::lock_guard lock(reports.mutex);
      if (!reports.errors.empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::filesystem::create_directories(dir);
  saver.schedule(detection_at(3.5, "second"), std::chrono::system_clock::now());
  saver.append(slow_sine(kRate));
  saver.finish();
  REQUIRE(reports.errors.size() == 1);
  CHECK_THAT(reports.errors.front(), Contains(dir.string()));
  REQUIRE(reports.saved.size() == 1);
  CHECK_THAT(reports.saved.front().path.filename().string(), Contains("_second.wav"));
  CHECK(std::filesystem::exists(reports.saved.front().path));
}

TEST_CASE("keywords cannot steer clip files out of the save directory", "[listen]") {
  const auto dir = testing::fresh_test_directory(EARSHOT_TEST_TMP);
  Reports reports;
  DetectionClipSaver saver({dir}, reports.callbacks());
  saver.append(slow_sine(kRate));
  saver.schedule(detection_at(0.2, "../../etc/x"), std::chrono::system_clock::now());
  saver.finish();
  REQUIRE(reports.saved.size() == 1);
  CHECK(reports.saved.front().path.parent_path() == dir);
  CHECK_THAT(reports.saved.front().path.filename().string(), Contains("_______etc_x.wav"));
}

TEST_CASE("a save directory that cannot exist is refused at the start", "[listen]") {
  const auto dir = testing::fresh_test_directory(EARSHOT_TEST_TMP);
  const auto file = dir / "a-file";
  std::ofstream(file).put('x');
  Reports reports;
  CHECK_THROWS_WITH(DetectionClipSaver({file / "clips"}, reports.callbacks()),
                    Contains("--save-dir") && Contains("a-file"));
}
