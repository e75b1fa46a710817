// Models and audio with known behaviour for the detector and label tests, made in the test.
//
// band_energy_model(): a hand-made network whose output follows the log energy of the mel
// band holding kToneHz: about 0.003 in silence and 0.997 while the tone sounds, with the
// switch at a log band energy of kSwitchLogEnergy. So a tone burst is a "trigger word" whose
// detection times can be predicted from the front end and model geometry alone.
//
// random_model() (tests/support/random_model.hpp): seeded random weights, for probabilities
// that wander without structure (chunking invariance, cost).
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <numbers>
#include <random>
#include <vector>

#include "earshot/frontend.hpp"
#include "earshot/model.hpp"
#include "random_model.hpp"

namespace earshot::testing {

inline constexpr double kToneHz = 1000.0;
inline constexpr float kSwitchLogEnergy = 20.0f;

// `amplitude` sine at `hz` from start_s to end_s inside `duration_s` of silence.
inline std::vector<float> tone_burst(double duration_s, double start_s, double end_s,
                                     double hz = kToneHz, double amplitude = 0.3) {
  std::vector<float> samples(static_cast<std::size_t>(duration_s * 16000), 0.0f);
  const auto first = static_cast<std::size_t>(start_s * 16000);
  const auto last = std::min(samples.size(), static_cast<std::size_t>(end_s * 16000));
  for (std::size_t i = first; i < last; ++i) {
    samples[i] = static_cast<float>(
        amplitude * std::sin(2 * std::numbers::pi * hz * static_cast<double>(i) / 16000));
  }
  return samples;
}

// The mel band whose triangle peaks nearest `hz` under the default front end.
inline int band_of(double hz, const FrontEndConfig& frontend = {}) {
  const std::vector<float> samples = tone_burst(0.1, 0.0, 0.1, hz);
  const std::vector<float> features = compute_features(samples, frontend);
  const auto dim = static_cast<std::size_t>(frontend.feature_dim());
  const auto loudest = std::max_element(features.begin(), features.begin() + dim);
  return static_cast<int>(loudest - features.begin());
}

// Kernel 3, stride 2, one GRU unit: conv = relu(band energy - switch) of the window's newest
// frame; the GRU's update gate is shut (bias -30), so h = tanh(4 conv - 2) follows the input
// step by step; p = sigmoid(6 h).
inline std::shared_ptr<const Model> band_energy_model(nlohmann::json provenance = {}) {
  ModelShape shape;
  shape.conv_filters = 1;
  shape.conv_kernel = 3;
  shape.conv_stride = 2;
  shape.gru_sizes = {1};
  ModelMetadata metadata = plain_metadata(shape);
  if (!provenance.is_null()) metadata.provenance = std::move(provenance);

  ModelWeights weights;
  weights.conv_weights = Eigen::MatrixXf::Zero(1, shape.conv_kernel * shape.feature_dim);
  weights.conv_weights(0, (shape.conv_kernel - 1) * shape.feature_dim + band_of(kToneHz)) = 1.0f;
  weights.conv_bias = Eigen::VectorXf::Constant(1, -kSwitchLogEnergy);
  GruWeights gru;
  gru.input_weights = Eigen::MatrixXf::Zero(3, 1);
  gru.input_weights(2, 0) = 4.0f;
  gru.hidden_weights = Eigen::MatrixXf::Zero(3, 1);
  gru.input_bias = Eigen::VectorXf::Zero(3);
  gru.input_bias(1) = -30.0f;
  gru.input_bias(2) = -2.0f;
  gru.hidden_bias = Eigen::VectorXf::Zero(3);
  weights.gru.push_back(gru);
  weights.dense_weights = Eigen::VectorXf::Constant(1, 6.0f);
  weights.dense_bias = 0.0f;
  return std::make_shared<const Model>(std::move(metadata), std::move(weights));
}

}  // namespace earshot::testing
