// Specification of SpecAugment-style feature masking (include/earshot/train_augment.hpp).
#include <Eigen/Core>
#include <catch2/catch.hpp>

#include "earshot/error.hpp"
#include "earshot/train_augment.hpp"

namespace {

using earshot::train::FeatureMasking;
using earshot::train::mask_features;

// 40 bands x 300 frames of ones, so every 0 afterwards is a masked entry.
Eigen::MatrixXf ones() {
  return Eigen::MatrixXf::Ones(40, 300);
}

int zero_rows(const Eigen::MatrixXf& m) {
  return static_cast<int>((m.rowwise().maxCoeff().array() == 0).count());
}

int zero_cols(const Eigen::MatrixXf& m) {
  return static_cast<int>((m.colwise().maxCoeff().array() == 0).count());
}

}  // namespace

TEST_CASE("frequency masks hide whole bands in every frame, no wider than the limit", "[augment]") {
  const auto seed = GENERATE(range(1, 50));
  Eigen::MatrixXf features = ones();
  mask_features(features, {1, 6, 0, 0}, static_cast<std::uint64_t>(seed));
  const int hidden = zero_rows(features);
  CHECK(hidden >= 1);
  CHECK(hidden <= 6);
  // Nothing else was touched: each zero lies in a fully hidden band.
  CHECK((features.array() == 0).count() == hidden * features.cols());
  CHECK(zero_cols(features) == 0);
}

TEST_CASE("time masks hide whole frames, no longer than the limit", "[augment]") {
  const auto seed = GENERATE(range(1, 50));
  Eigen::MatrixXf features = ones();
  mask_features(features, {0, 0, 2, 10}, static_cast<std::uint64_t>(seed));
  const int hidden = zero_cols(features);
  CHECK(hidden >= 1);
  CHECK(hidden <= 20);
  CHECK((features.array() == 0).count() == hidden * features.rows());
}

TEST_CASE("masks over the whole clip length are clipped to it", "[augment]") {
  Eigen::MatrixXf features = Eigen::MatrixXf::Ones(5, 3);
  mask_features(features, {3, 100, 3, 100}, 7);
  CHECK((features.array() == 0).count() >= 5);  // at least one band or frame is gone
}

TEST_CASE("the same seed hides the same entries and another seed others", "[augment]") {
  const FeatureMasking masking{2, 8, 2, 10};
  Eigen::MatrixXf a = ones(), b = ones(), c = ones();
  mask_features(a, masking, 11);
  mask_features(b, masking, 11);
  mask_features(c, masking, 12);
  CHECK(a == b);
  CHECK(a != c);
}

TEST_CASE("no masks leave the features as they were", "[augment]") {
  Eigen::MatrixXf features = ones();
  const FeatureMasking none;
  CHECK_FALSE(none.enabled());
  mask_features(features, none, 3);
  CHECK(features == ones());
}

TEST_CASE("negative mask settings are refused", "[augment]") {
  CHECK_THROWS_AS((FeatureMasking{-1, 4, 0, 0}.validate()), earshot::Error);
  CHECK_THROWS_AS((FeatureMasking{0, 0, 1, -4}.validate()), earshot::Error);
  CHECK_NOTHROW((FeatureMasking{2, 8, 2, 10}.validate()));
}
