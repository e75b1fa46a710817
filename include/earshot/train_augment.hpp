// SpecAugment-style feature masking for training (Park et al. 2019): hiding random bands of
// the spectrum and short spans of frames, so the model cannot lean on the few spectral
// details that tell one synthetic voice from another. Training only; inference never masks.
#pragma once

#include <Eigen/Core>
#include <cstdint>

namespace earshot::train {

struct FeatureMasking {
  int frequency_masks = 0;          // bands hidden per clip
  int max_frequency_mask_bins = 0;  // each 1..this many adjacent features wide
  int time_masks = 0;               // spans hidden per clip
  int max_time_mask_frames = 0;     // each 1..this many frames long

  bool enabled() const {
    return (frequency_masks > 0 && max_frequency_mask_bins > 0) ||
           (time_masks > 0 && max_time_mask_frames > 0);
  }
  // Throws earshot::Error naming the setting if any is negative.
  void validate() const;
};

// Sets the masked entries of `features` (feature_dim x frames, already normalised, so 0 is
// the training mean) to 0. The masks depend on `seed` alone; masks wider than the matrix
// are clipped to it. For float and double matrices.
template <typename Scalar>
void mask_features(Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>& features,
                   const FeatureMasking& masking, std::uint64_t seed);

}  // namespace earshot::train
