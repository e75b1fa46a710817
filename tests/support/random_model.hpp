// Test and benchmark support: models with seeded random weights, for probabilities that
// wander without structure (chunking invariance in the tests, cost in the benchmarks, which
// include this header too; the cost does not depend on the values).
#pragma once

#include <Eigen/Core>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "earshot/model.hpp"

namespace earshot::testing {

// Uniform in [-1, 1) from 53 random bits, independent of the standard library.
inline float symmetric_uniform(std::mt19937_64& rng) {
  return static_cast<float>(static_cast<double>(rng() >> 11) * 0x1.0p-52 - 1.0);
}

inline ModelMetadata plain_metadata(const ModelShape& shape) {
  ModelMetadata metadata;
  metadata.shape = shape;
  metadata.feature_mean.assign(static_cast<std::size_t>(shape.feature_dim), 0.0f);
  metadata.feature_std.assign(static_cast<std::size_t>(shape.feature_dim), 1.0f);
  return metadata;
}

// Weights uniform in +-1/sqrt(fan-in).
inline Eigen::MatrixXf random_matrix(Eigen::Index rows, Eigen::Index cols, std::mt19937_64& rng) {
  const float scale = 1.0f / std::sqrt(static_cast<float>(cols));
  Eigen::MatrixXf m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i)
    m.data()[i] = scale * symmetric_uniform(rng);
  return m;
}

// ModelShape defaults (or `shape`), weights uniform in +-1/sqrt(fan-in), features
// normalised around a typical log-mel level; with `compression` kPcen the model reads PCEN
// features, normalised around their typical level instead.
inline std::shared_ptr<const Model> random_model(std::uint64_t seed, ModelShape shape = {},
                                                 Compression compression = Compression::kLog) {
  std::mt19937_64 rng(seed);
  ModelMetadata metadata = plain_metadata(shape);
  metadata.frontend.compression = compression;
  const bool pcen = compression == Compression::kPcen;
  std::fill(metadata.feature_mean.begin(), metadata.feature_mean.end(), pcen ? 0.5f : -5.0f);
  std::fill(metadata.feature_std.begin(), metadata.feature_std.end(), pcen ? 0.25f : 10.0f);
  ModelWeights weights;
  weights.conv_weights =
      random_matrix(shape.conv_filters, shape.conv_kernel * shape.feature_dim, rng);
  weights.conv_bias = random_matrix(shape.conv_filters, 1, rng);
  Eigen::Index input_size = shape.conv_filters;
  for (const int h : shape.gru_sizes) {
    GruWeights gru;
    gru.input_weights = random_matrix(3 * h, input_size, rng);
    gru.hidden_weights = random_matrix(3 * h, h, rng);
    gru.input_bias = random_matrix(3 * h, 1, rng);
    gru.hidden_bias = random_matrix(3 * h, 1, rng);
    weights.gru.push_back(std::move(gru));
    input_size = h;
  }
  weights.dense_weights = random_matrix(input_size, 1, rng) * 2.0f;
  weights.dense_bias = 0.0f;
  return std::make_shared<const Model>(std::move(metadata), std::move(weights));
}

}  // namespace earshot::testing
