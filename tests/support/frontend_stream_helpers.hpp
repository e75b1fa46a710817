// Test support for comparing a front end's streamed frames with its whole-buffer frames.
#pragma once

#include <algorithm>
#include <cstring>
#include <span>
#include <vector>

#include "earshot/frontend.hpp"

namespace earshot::testing {

// Pushes `samples` in chunks of `chunk_samples`, popping every ready frame after each push;
// returns the frames row-major.
inline std::vector<float> stream_in_chunks(std::span<const float> samples,
                                           std::size_t chunk_samples,
                                           const FrontEndConfig& config) {
  FrontEnd front_end(config);
  const auto dim = static_cast<std::size_t>(front_end.feature_dim());
  std::vector<float> features;
  std::vector<float> frame(dim);
  for (std::size_t start = 0; start < samples.size(); start += chunk_samples) {
    front_end.accept_waveform(
        samples.subspan(start, std::min(chunk_samples, samples.size() - start)));
    while (front_end.pop_frame(frame))
      features.insert(features.end(), frame.begin(), frame.end());
  }
  return features;
}

inline bool bit_identical(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace earshot::testing
