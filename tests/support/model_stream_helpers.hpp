// Test support for comparing a model's streaming outputs with its batch outputs.
#pragma once

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <span>
#include <vector>

#include "earshot/model.hpp"

namespace earshot::testing {

// Every output `stream` gives for `frames` (row-major, feature_dim values per frame), pushed
// one frame at a time.
inline std::vector<float> stream_all(ModelStream& stream, const std::vector<float>& frames) {
  const auto dim = static_cast<std::size_t>(stream.model().feature_dim());
  std::vector<float> outputs;
  for (std::size_t i = 0; i + dim <= frames.size(); i += dim) {
    if (const auto p = stream.push(std::span(frames).subspan(i, dim))) outputs.push_back(*p);
  }
  return outputs;
}

// The largest |a[i] - b[i]|; the two must have the same length.
inline double max_abs_difference(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::abs(double(a[i]) - b[i]));
  return worst;
}

}  // namespace earshot::testing
