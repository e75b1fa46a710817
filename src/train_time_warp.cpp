#include "earshot/train_time_warp.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "earshot/error.hpp"

namespace earshot::train {

void TimeWarp::validate() const {
  // Written so that NaN fails the comparison and is refused.
  if (!(max_tempo_deviation >= 0 && max_tempo_deviation <= kMaxTimeWarpDeviation)) {
    throw Error(fmt::format("time warp: the largest tempo deviation must be in [0, {}], got {}",
                            kMaxTimeWarpDeviation, max_tempo_deviation));
  }
}

namespace {

// Piecewise-linear map from warped time to raw time through the anchors (raw[i], warped[i]).
class AnchorMap {
 public:
  AnchorMap(int frames, const TimeWarp& warp, std::uint64_t seed) {
    const double last = frames - 1;
    const double shift = warp.max_tempo_deviation * kTimeWarpAnchorFrames;
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> move(-shift, shift);
    for (int i = 0; i * kTimeWarpAnchorFrames < frames - 1; ++i) {
      const double anchor = i * kTimeWarpAnchorFrames;
      // The first anchor stays at 0; none may reach past halfway to the last frame, so that
      // the anchors keep their order whatever the clip's length.
      const double moved = i == 0 ? 0.0 : std::min(anchor + move(rng), (anchor + last) / 2);
      raw_.push_back(anchor);
      warped_.push_back(moved);
    }
    raw_.push_back(last);
    warped_.push_back(last);
  }

  // The raw position warped position `t` (in [0, frames - 1]) reads.
  double operator()(double t) const {
    const auto above = std::lower_bound(warped_.begin(), warped_.end(), t);
    const auto i = static_cast<std::size_t>(std::clamp<std::ptrdiff_t>(
        above - warped_.begin() - 1, 0, static_cast<std::ptrdiff_t>(warped_.size()) - 2));
    const double span = warped_[i + 1] - warped_[i];
    const double w = span > 1e-9 ? (t - warped_[i]) / span : 0.0;
    return std::clamp(raw_[i] + w * (raw_[i + 1] - raw_[i]), 0.0, raw_.back());
  }

 private:
  std::vector<double> raw_, warped_;
};

}  // namespace

void warp_clip_time(std::span<const float> features, int feature_dim, std::span<const float> labels,
                    int output_stride, const TimeWarp& warp, std::uint64_t seed,
                    TimeWarpedClip& out) {
  const auto dim = static_cast<std::size_t>(feature_dim);
  const auto frames = static_cast<int>(features.size() / dim);
  if (!warp.enabled() || frames < 2) {
    out.features.assign(features.begin(), features.end());
    out.labels.assign(labels.begin(), labels.end());
    return;
  }
  // Every value is written below; no need to copy the raw clip first.
  out.features.resize(features.size());
  out.labels.resize(labels.size());
  const AnchorMap raw_position(frames, warp, seed);

  for (int t = 0; t < frames; ++t) {
    const double source = raw_position(t);
    const int lower = static_cast<int>(std::floor(source));
    const int upper = std::min(lower + 1, frames - 1);
    const auto w = static_cast<float>(source - lower);
    for (std::size_t d = 0; d < dim; ++d) {
      out.features[static_cast<std::size_t>(t) * dim + d] =
          (1 - w) * features[static_cast<std::size_t>(lower) * dim + d] +
          w * features[static_cast<std::size_t>(upper) * dim + d];
    }
  }
  for (std::size_t k = 0; k < labels.size(); ++k) {
    const double source = raw_position(static_cast<double>(k) * output_stride);
    const auto step = static_cast<std::size_t>(std::lround(source / output_stride));
    out.labels[k] = labels[std::min(labels.size() - 1, step)];
  }
}

}  // namespace earshot::train
