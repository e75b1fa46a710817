// Local tempo perturbation for training: each clip's time axis is bent through anchors a
// syllable apart, each moved by a random amount, so every stretch of speech is spoken a little
// faster or slower than its neighbours. A TTS voice times the sounds of a word the same way
// every time, and a uniform speed change keeps those proportions; people and other
// synthesisers do not, and a network that has only seen a dozen fixed timings does not answer
// theirs. The labels move with the features, so a word's label still follows its (moved) end.
// Training only; inference never warps.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace earshot::train {

struct TimeWarp {
  // Each anchor moves by up to this share d of the anchor spacing (uniform), so a stretch
  // between two anchors lasts between 1 - 2d and 1 + 2d times as long as it did; 0 = off.
  double max_tempo_deviation = 0;

  bool enabled() const { return max_tempo_deviation > 0; }
  // Throws earshot::Error unless 0 <= max_tempo_deviation <= kMaxTimeWarpDeviation.
  void validate() const;
};

// Anchors every 20 frames (200 ms at the 10 ms hop): about one syllable.
inline constexpr int kTimeWarpAnchorFrames = 20;
// Below half the spacing neighbouring anchors can never pass each other.
inline constexpr double kMaxTimeWarpDeviation = 0.45;

// A clip after the warp: features row-major (frames x feature_dim, the input's frame count)
// and one label per output step (the input's count).
struct TimeWarpedClip {
  std::vector<float> features;
  std::vector<float> labels;
};

// Warps one clip, drawing the anchors' moves from `seed` alone. Warped frame t reads the raw
// features at an earlier or later position (linear interpolation between the two frames
// around it); output step k takes the label of the step nearest to where its first frame
// reads. The first and last frames stay where they are. `out`'s buffers are reused.
void warp_clip_time(std::span<const float> features, int feature_dim, std::span<const float> labels,
                    int output_stride, const TimeWarp& warp, std::uint64_t seed,
                    TimeWarpedClip& out);

}  // namespace earshot::train
