// Specification of training's local tempo warp (include/earshot/train_time_warp.hpp).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "earshot/error.hpp"
#include "earshot/train_time_warp.hpp"

namespace {

using earshot::train::TimeWarp;
using earshot::train::TimeWarpedClip;
using earshot::train::warp_clip_time;

constexpr int kStride = 4;  // frames per output step, as in the shipped network

// One feature per frame holding the frame's own index: after the warp each frame holds the
// raw position it reads, so the clip shows the warp itself.
std::vector<float> ramp(int frames) {
  std::vector<float> features(static_cast<std::size_t>(frames));
  for (int t = 0; t < frames; ++t)
    features[static_cast<std::size_t>(t)] = static_cast<float>(t);
  return features;
}

std::vector<float> no_labels(int frames) {
  return std::vector<float>(static_cast<std::size_t>(frames / kStride), 0.0f);
}

TimeWarpedClip warped(const std::vector<float>& features, int feature_dim,
                      const std::vector<float>& labels, double deviation, std::uint64_t seed) {
  TimeWarpedClip out;
  warp_clip_time(features, feature_dim, labels, kStride, TimeWarp{deviation}, seed, out);
  return out;
}

}  // namespace

TEST_CASE("no deviation leaves a clip's features and labels as they are", "[time_warp]") {
  const std::vector<float> features = ramp(201);
  std::vector<float> labels = no_labels(201);
  labels[20] = 1.0f;
  const TimeWarpedClip out = warped(features, 1, labels, 0.0, 7);
  CHECK(out.features == features);
  CHECK(out.labels == labels);
}

TEST_CASE("a warped clip keeps its length, its first and last frame, and time's order",
          "[time_warp]") {
  const std::vector<float> features = ramp(201);
  const TimeWarpedClip out = warped(features, 1, no_labels(201), 0.3, 7);
  REQUIRE(out.features.size() == features.size());
  CHECK(out.features.front() == 0.0f);
  CHECK(out.features.back() == 200.0f);
  CHECK(std::is_sorted(out.features.begin(), out.features.end()));
  CHECK(out.features != features);
}

TEST_CASE("every stretch between anchors lasts 1 - 2d to 1 + 2d times as long as it did",
          "[time_warp]") {
  const double d = 0.3;
  const TimeWarpedClip out = warped(ramp(201), 1, no_labels(201), d, 11);
  // A stretch that now lasts s times as long is read at 1/s raw frames per frame.
  float slowest = std::numeric_limits<float>::max(), fastest = 0;
  for (std::size_t t = 1; t < out.features.size(); ++t) {
    const float rate = out.features[t] - out.features[t - 1];
    slowest = std::min(slowest, rate);
    fastest = std::max(fastest, rate);
  }
  CHECK(slowest >= 1 / (1 + 2 * d) - 1e-4);
  CHECK(fastest <= 1 / (1 - 2 * d) + 1e-4);
  CHECK(fastest - slowest > 0.2);  // the tempo does change along the clip
}

TEST_CASE("anchors never pass each other, even one just before the clip's end", "[time_warp]") {
  // 183 frames: the last anchor sits at frame 180, two frames before the end, and may move
  // up to 9 frames at the largest deviation.
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    const TimeWarpedClip out = warped(ramp(183), 1, no_labels(183), 0.45, seed);
    INFO("seed " << seed);
    CHECK(std::is_sorted(out.features.begin(), out.features.end()));
    CHECK(out.features.back() == 182.0f);
  }
}

TEST_CASE("a word's labels move with the word", "[time_warp]") {
  // Feature 0 marks a "word" over frames [100, 140); feature 1 is the ramp. The labels are 1
  // for the 12 output steps after the word's end.
  const int frames = 401;
  std::vector<float> features(static_cast<std::size_t>(frames) * 2);
  for (int t = 0; t < frames; ++t) {
    features[static_cast<std::size_t>(t) * 2] = (t >= 100 && t < 140) ? 1.0f : 0.0f;
    features[static_cast<std::size_t>(t) * 2 + 1] = static_cast<float>(t);
  }
  std::vector<float> labels = no_labels(frames);
  for (int k = 140 / kStride; k < 140 / kStride + 12; ++k)
    labels[static_cast<std::size_t>(k)] = 1.0f;

  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    const TimeWarpedClip out = warped(features, 2, labels, 0.3, seed);
    int word_end = 0;  // first warped frame after the word
    for (int t = 0; t < frames; ++t)
      if (out.features[static_cast<std::size_t>(t) * 2] > 0.5f) word_end = t + 1;
    const auto first_label = std::find(out.labels.begin(), out.labels.end(), 1.0f);
    REQUIRE(first_label != out.labels.end());
    const auto label_frame = static_cast<int>(first_label - out.labels.begin()) * kStride;
    INFO("seed " << seed << ": word ends at frame " << word_end << ", labels start at "
                 << label_frame);
    CHECK(std::abs(label_frame - word_end) <= kStride);
    CHECK(std::count(out.labels.begin(), out.labels.end(), 1.0f) >= 7);  // 12 steps, +-40 %
  }
}

TEST_CASE("the warp is drawn from the seed alone", "[time_warp]") {
  const std::vector<float> features = ramp(201);
  const auto a = warped(features, 1, no_labels(201), 0.3, 5);
  CHECK(warped(features, 1, no_labels(201), 0.3, 5).features == a.features);
  CHECK(warped(features, 1, no_labels(201), 0.3, 6).features != a.features);
}

TEST_CASE("a tempo deviation outside [0, 0.45] is refused", "[time_warp]") {
  CHECK_NOTHROW(TimeWarp{0.0}.validate());
  CHECK_NOTHROW(TimeWarp{0.45}.validate());
  CHECK_THROWS_AS(TimeWarp{0.5}.validate(), earshot::Error);
  CHECK_THROWS_AS(TimeWarp{-0.1}.validate(), earshot::Error);
  CHECK_THROWS_AS(TimeWarp{std::nan("")}.validate(), earshot::Error);
}
