#include "earshot/train_augment.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <random>

#include "earshot/error.hpp"

namespace earshot::train {
namespace {

// Uniform integer in [low, high], independent of the standard library's distributions.
Eigen::Index uniform_index(std::mt19937_64& rng, Eigen::Index low, Eigen::Index high) {
  const double unit = static_cast<double>(rng() >> 11) * 0x1.0p-53;
  return low + std::min(high - low,
                        static_cast<Eigen::Index>(unit * static_cast<double>(high - low + 1)));
}

// Picks `count` spans of 1..max_width positions within [0, size) and calls hide(first, width).
template <typename Hide>
void hide_spans(std::mt19937_64& rng, int count, int max_width, Eigen::Index size, Hide hide) {
  if (size == 0 || max_width <= 0) return;
  for (int m = 0; m < count; ++m) {
    const Eigen::Index width = std::min<Eigen::Index>(uniform_index(rng, 1, max_width), size);
    const Eigen::Index first = uniform_index(rng, 0, size - width);
    hide(first, width);
  }
}

}  // namespace

void FeatureMasking::validate() const {
  if (frequency_masks < 0 || max_frequency_mask_bins < 0 || time_masks < 0 ||
      max_time_mask_frames < 0) {
    throw Error(fmt::format(
        "feature masking: counts and widths must be >= 0, got {} frequency mask(s) of up to {} "
        "and {} time mask(s) of up to {}",
        frequency_masks, max_frequency_mask_bins, time_masks, max_time_mask_frames));
  }
}

template <typename Scalar>
void mask_features(Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>& features,
                   const FeatureMasking& masking, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  hide_spans(
      rng, masking.frequency_masks, masking.max_frequency_mask_bins, features.rows(),
      [&](Eigen::Index first, Eigen::Index width) { features.middleRows(first, width).setZero(); });
  hide_spans(
      rng, masking.time_masks, masking.max_time_mask_frames, features.cols(),
      [&](Eigen::Index first, Eigen::Index width) { features.middleCols(first, width).setZero(); });
}

template void mask_features(Eigen::MatrixXf&, const FeatureMasking&, std::uint64_t);
template void mask_features(Eigen::MatrixXd&, const FeatureMasking&, std::uint64_t);

}  // namespace earshot::train
