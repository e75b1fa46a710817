// Vocal tract length perturbation for training (after Jaitly & Hinton 2013): each clip's
// spectrum is stretched or squeezed along the frequency axis by a factor drawn per clip, as if
// a speaker with a shorter or longer vocal tract had said it. TTS voices say a word the same
// way every time, so the trainer sees a dozen fixed spectral templates of the word; warping
// them by a fresh factor every epoch makes a continuum of speakers out of each. Training only;
// inference never warps.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <span>
#include <vector>

namespace earshot::train {

struct FrequencyWarp {
  double max_deviation = 0;  // factor drawn uniformly from [1 - this, 1 + this]; 0 = off

  bool enabled() const { return max_deviation > 0; }
  // Throws earshot::Error unless 0 <= max_deviation <= kMaxFrequencyWarpDeviation.
  void validate() const;
};

// Beyond this a warp turns a man's voice into a child's and moves whole phonemes.
inline constexpr double kMaxFrequencyWarpDeviation = 0.3;

// The factor for one clip: uniform in [1 - d, 1 + d], from `seed` alone.
double draw_warp_factor(const FrequencyWarp& warp, std::uint64_t seed);

// How a warped frame is read from the raw one: warped[i] = (1 - weight[i]) * raw[lower[i]] +
// weight[i] * raw[lower[i] + 1] (weight 0 where lower[i] is the last feature).
struct WarpMap {
  std::vector<Eigen::Index> lower;
  std::vector<double> weight;
};

// The map for `factor` over features centred at `centres_hz` (increasing; front end's
// feature_centres_hz()): content at f Hz moves to factor * f Hz, so the feature at c reads
// the raw spectrum at c / factor, interpolated linearly between the two nearest centres and
// held at the first or last feature beyond them.
WarpMap make_warp_map(std::span<const double> centres_hz, double factor);

// Warps every frame (column) of `features` (feature_dim x frames, raw log energies: the
// interpolation is of log values) in place. features.rows() must equal the map's size.
template <typename Scalar>
void warp_features(Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>& features,
                   const WarpMap& map);

}  // namespace earshot::train
