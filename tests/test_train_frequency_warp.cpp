// Specification of training's frequency warp (include/earshot/train_frequency_warp.hpp).
#include <Eigen/Core>
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "earshot/error.hpp"
#include "earshot/frontend.hpp"
#include "earshot/train_frequency_warp.hpp"

namespace {

using earshot::train::draw_warp_factor;
using earshot::train::FrequencyWarp;
using earshot::train::make_warp_map;
using earshot::train::warp_features;

earshot::FrontEndConfig linear_config() {
  earshot::FrontEndConfig config;
  config.scale = earshot::SpectrumScale::kLinear;
  return config;
}

// Every frame of `frames` columns is the same column `frame`.
Eigen::MatrixXf repeated(const Eigen::VectorXf& frame, Eigen::Index frames) {
  return frame.replicate(1, frames);
}

Eigen::Index peak(const Eigen::VectorXf& frame) {
  Eigen::Index at = 0;
  frame.maxCoeff(&at);
  return at;
}

}  // namespace

TEST_CASE("a factor of 1 leaves every frame as it was", "[augment]") {
  const std::vector<double> centres = earshot::feature_centres_hz({});
  const Eigen::MatrixXf raw = Eigen::MatrixXf::Random(40, 30);
  Eigen::MatrixXf features = raw;
  warp_features(features, make_warp_map(centres, 1.0));
  CHECK(features == raw);
}

TEST_CASE("a factor above 1 moves spectral content up by that factor, below 1 down", "[augment]") {
  // Linear features are 31.25 Hz apart: a peak at 1000 Hz (bin 32) goes to 1250 Hz (bin 40)
  // at factor 1.25 and to 800 Hz (bin 25.6, between bins 25 and 26) at factor 0.8.
  const std::vector<double> centres = earshot::feature_centres_hz(linear_config());
  Eigen::VectorXf frame = Eigen::VectorXf::Zero(257);
  frame(32) = 10;
  Eigen::MatrixXf up = repeated(frame, 4), down = repeated(frame, 4);
  warp_features(up, make_warp_map(centres, 1.25));
  warp_features(down, make_warp_map(centres, 0.8));
  for (Eigen::Index f = 0; f < 4; ++f) {
    CHECK(peak(up.col(f)) == 40);
    CHECK(up(40, f) == 10);
    CHECK((down.col(f).array() > 0).count() == 2);
    CHECK(down(25, f) + down(26, f) > 0);
    CHECK(down(32, f) == 0);
  }
}

TEST_CASE("a warped feature is the raw spectrum at its centre over the factor, interpolated",
          "[augment]") {
  // Raw linear feature k holds its own frequency, so the warped one must hold centre / factor.
  const std::vector<double> centres = earshot::feature_centres_hz(linear_config());
  Eigen::VectorXf frame(257);
  for (Eigen::Index k = 0; k < 257; ++k)
    frame(k) = static_cast<float>(centres[k]);
  const double factor = 1.13;
  Eigen::MatrixXf features = repeated(frame, 2);
  warp_features(features, make_warp_map(centres, factor));
  for (Eigen::Index k = 0; k < 257; ++k) {
    INFO("feature " << k);
    CHECK(features(k, 1) == Approx(centres[k] / factor).margin(1e-3));
  }
}

TEST_CASE("past the first or last feature the warp holds that feature's value", "[augment]") {
  const std::vector<double> centres = earshot::feature_centres_hz({});
  Eigen::VectorXf frame = Eigen::VectorXf::LinSpaced(40, 1, 40);
  Eigen::MatrixXf squeezed = repeated(frame, 1), stretched = repeated(frame, 1);
  warp_features(squeezed, make_warp_map(centres, 0.8));   // the top reads above 8 kHz
  warp_features(stretched, make_warp_map(centres, 1.2));  // the bottom reads below the first
  for (Eigen::Index m = 0; m < 40; ++m) {
    INFO("feature " << m);
    if (centres[m] / 0.8 >= centres[39]) {
      CHECK(squeezed(m, 0) == 40);
    } else {
      CHECK(squeezed(m, 0) < 40);
    }
    if (centres[m] / 1.2 <= centres[0]) {
      CHECK(stretched(m, 0) == 1);
    } else {
      CHECK(stretched(m, 0) > 1);
    }
  }
  CHECK(squeezed(39, 0) == 40);
  CHECK(stretched(0, 0) == 1);
  // Monotonic input stays monotonic: interpolation never overshoots.
  for (Eigen::Index m = 1; m < 40; ++m) {
    CHECK(squeezed(m, 0) >= squeezed(m - 1, 0));
    CHECK(stretched(m, 0) >= stretched(m - 1, 0));
  }
}

TEST_CASE("warp factors are uniform within the deviation, the same for the same seed",
          "[augment]") {
  const FrequencyWarp warp{0.1};
  double lowest = 2, highest = 0;
  for (std::uint64_t seed = 1; seed <= 500; ++seed) {
    const double factor = draw_warp_factor(warp, seed);
    REQUIRE(factor >= 0.9);
    REQUIRE(factor <= 1.1);
    lowest = std::min(lowest, factor), highest = std::max(highest, factor);
    CHECK(draw_warp_factor(warp, seed) == factor);
  }
  CHECK(lowest < 0.91);
  CHECK(highest > 1.09);
  CHECK(draw_warp_factor(warp, 1) != draw_warp_factor(warp, 2));
  CHECK(draw_warp_factor(FrequencyWarp{}, 7) == 1.0);
}

TEST_CASE("a warp of the wrong size or out of range is refused", "[augment]") {
  CHECK_THROWS_AS(FrequencyWarp{-0.1}.validate(), earshot::Error);
  CHECK_THROWS_AS(FrequencyWarp{0.31}.validate(), earshot::Error);
  CHECK_THROWS_AS(FrequencyWarp{std::numeric_limits<double>::quiet_NaN()}.validate(),
                  earshot::Error);
  CHECK_NOTHROW(FrequencyWarp{0.3}.validate());
  CHECK_FALSE(FrequencyWarp{}.enabled());
  Eigen::MatrixXf features = Eigen::MatrixXf::Zero(20, 3);
  CHECK_THROWS_AS(warp_features(features, make_warp_map(earshot::feature_centres_hz({}), 1.1)),
                  earshot::Error);
}
