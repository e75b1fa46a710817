#include "earshot/train_frequency_warp.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <random>

#include "earshot/error.hpp"

namespace earshot::train {

void FrequencyWarp::validate() const {
  // Written so that NaN fails the comparison and is refused.
  if (!(max_deviation >= 0 && max_deviation <= kMaxFrequencyWarpDeviation)) {
    throw Error(fmt::format("frequency warp: the largest deviation must be in [0, {}], got {}",
                            kMaxFrequencyWarpDeviation, max_deviation));
  }
}

double draw_warp_factor(const FrequencyWarp& warp, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  const double unit = static_cast<double>(rng() >> 11) * 0x1.0p-53;  // [0, 1)
  return 1.0 + warp.max_deviation * (2.0 * unit - 1.0);
}

WarpMap make_warp_map(std::span<const double> centres_hz, double factor) {
  const auto size = static_cast<Eigen::Index>(centres_hz.size());
  WarpMap map;
  map.lower.resize(centres_hz.size());
  map.weight.resize(centres_hz.size());
  for (Eigen::Index i = 0; i < size; ++i) {
    const double source_hz = centres_hz[i] / factor;
    // First centre above the source frequency; the source lies between it and the one before.
    const auto above = std::upper_bound(centres_hz.begin(), centres_hz.end(), source_hz);
    const Eigen::Index upper = above - centres_hz.begin();
    if (upper == 0) {
      map.lower[i] = 0, map.weight[i] = 0;  // below the first feature: hold it
    } else if (upper == size) {
      map.lower[i] = size - 1, map.weight[i] = 0;  // above the last: hold it
    } else {
      map.lower[i] = upper - 1;
      map.weight[i] =
          (source_hz - centres_hz[upper - 1]) / (centres_hz[upper] - centres_hz[upper - 1]);
    }
  }
  return map;
}

template <typename Scalar>
void warp_features(Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>& features,
                   const WarpMap& map) {
  const auto size = static_cast<Eigen::Index>(map.lower.size());
  if (features.rows() != size) {
    throw Error(fmt::format("frequency warp: a map of {} features for frames of {}", size,
                            features.rows()));
  }
  const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> raw = features;
  for (Eigen::Index i = 0; i < size; ++i) {
    const Eigen::Index low = map.lower[i];
    const auto weight = static_cast<Scalar>(map.weight[i]);
    if (weight == 0) {
      features.row(i) = raw.row(low);
    } else {
      features.row(i) = (1 - weight) * raw.row(low) + weight * raw.row(low + 1);
    }
  }
}

template void warp_features(Eigen::MatrixXf&, const WarpMap&);
template void warp_features(Eigen::MatrixXd&, const WarpMap&);

}  // namespace earshot::train
