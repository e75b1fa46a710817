// Model: validation of metadata against weights, and the batch forward pass.
//
// The batch pass computes each layer for all time steps at once where time does not couple
// them (normalisation, convolution, the GRU input projections, the dense layer: matrix-matrix
// products) and steps through time only for the GRU recurrence.
#include "earshot/model.hpp"

#include <fmt/format.h>

#include <cmath>
#include <string>
#include <utility>

#include "earshot/error.hpp"
#include "model_kernels.hpp"

namespace earshot {
namespace {

void check_dims(const std::string& what, Eigen::Index rows, Eigen::Index cols,
                Eigen::Index want_rows, Eigen::Index want_cols) {
  if (rows != want_rows || cols != want_cols) {
    throw Error(fmt::format("model weights: {} are {} x {} but the model shape needs {} x {}", what,
                            rows, cols, want_rows, want_cols));
  }
}

void check_metadata(const ModelMetadata& metadata) {
  metadata.frontend.validate();
  metadata.shape.validate();
  const ModelShape& shape = metadata.shape;
  if (shape.feature_dim != metadata.frontend.feature_dim()) {
    throw Error(fmt::format(
        "model metadata: shape.feature_dim is {} but the front end produces {} values per frame",
        shape.feature_dim, metadata.frontend.feature_dim()));
  }
  const auto dim = static_cast<std::size_t>(shape.feature_dim);
  if (metadata.feature_mean.size() != dim || metadata.feature_std.size() != dim) {
    throw Error(fmt::format(
        "model metadata: feature normalisation has {} means and {} deviations, need {} each",
        metadata.feature_mean.size(), metadata.feature_std.size(), dim));
  }
  for (std::size_t d = 0; d < dim; ++d) {
    if (!std::isfinite(metadata.feature_mean[d]) || !std::isfinite(metadata.feature_std[d]) ||
        !(metadata.feature_std[d] > 0.0f)) {
      throw Error(fmt::format(
          "model metadata: feature {} has mean {} and std {}: need finite values and std > 0", d,
          metadata.feature_mean[d], metadata.feature_std[d]));
    }
  }
  if (!(metadata.label_window_s >= 0.0) || !std::isfinite(metadata.label_window_s)) {
    throw Error(fmt::format("model metadata: label_window_s must be >= 0, got {}",
                            metadata.label_window_s));
  }
  if (!(metadata.default_threshold > 0.0f && metadata.default_threshold < 1.0f)) {
    throw Error(fmt::format("model metadata: default_threshold must be in (0, 1), got {}",
                            metadata.default_threshold));
  }
}

void check_weights(const ModelShape& shape, const ModelWeights& w) {
  const Eigen::Index filters = shape.conv_filters;
  check_dims("conv weights", w.conv_weights.rows(), w.conv_weights.cols(), filters,
             static_cast<Eigen::Index>(shape.conv_kernel) * shape.feature_dim);
  check_dims("conv bias", w.conv_bias.size(), 1, filters, 1);
  if (w.gru.size() != shape.gru_sizes.size()) {
    throw Error(fmt::format("model weights: {} GRU layers but the model shape has {}", w.gru.size(),
                            shape.gru_sizes.size()));
  }
  Eigen::Index input_size = filters;
  for (std::size_t i = 0; i < w.gru.size(); ++i) {
    const Eigen::Index h = shape.gru_sizes[i];
    const GruWeights& g = w.gru[i];
    const std::string layer = fmt::format("GRU layer {}", i);
    check_dims(layer + " input weights", g.input_weights.rows(), g.input_weights.cols(), 3 * h,
               input_size);
    check_dims(layer + " hidden weights", g.hidden_weights.rows(), g.hidden_weights.cols(), 3 * h,
               h);
    check_dims(layer + " input bias", g.input_bias.size(), 1, 3 * h, 1);
    check_dims(layer + " hidden bias", g.hidden_bias.size(), 1, 3 * h, 1);
    input_size = h;
  }
  check_dims("dense weights", w.dense_weights.size(), 1, input_size, 1);
}

}  // namespace

Model::Model(ModelMetadata metadata, ModelWeights weights)
    : Model(std::move(metadata), std::vector<ModelWeights>{std::move(weights)}) {}

Model::Model(ModelMetadata metadata, std::vector<ModelWeights> members)
    : metadata_(std::move(metadata)), members_(std::move(members)) {
  check_metadata(metadata_);
  if (members_.empty()) throw Error("model weights: a model needs at least one member network");
  for (std::size_t i = 0; i < members_.size(); ++i) {
    try {
      check_weights(metadata_.shape, members_[i]);
    } catch (const Error& e) {
      if (members_.size() == 1) throw;
      throw Error(fmt::format("ensemble member {}: {}", i, e.what()));
    }
  }
  const auto dim = static_cast<Eigen::Index>(metadata_.shape.feature_dim);
  feature_mean_ = Eigen::Map<const Eigen::VectorXf>(metadata_.feature_mean.data(), dim);
  feature_inv_std_ =
      Eigen::Map<const Eigen::VectorXf>(metadata_.feature_std.data(), dim).cwiseInverse();
}

std::size_t Model::num_outputs(std::size_t num_frames) const {
  return metadata_.shape.num_outputs(num_frames);
}

double Model::output_step_s() const {
  return earshot::output_step_s(metadata_.shape, metadata_.frontend);
}

double Model::receptive_field_s() const {
  return earshot::receptive_field_s(metadata_.shape, metadata_.frontend);
}

namespace {

// One member's logits for every output step. `windows` column j holds the k normalised
// frames output j reads.
template <typename Windows>
Eigen::RowVectorXf member_logits(const ModelWeights& weights, const Windows& windows) {
  const Eigen::Index steps = windows.cols();
  Eigen::MatrixXf layer_output = weights.conv_weights * windows;
  layer_output = (layer_output.colwise() + weights.conv_bias).cwiseMax(0.0f);

  for (const GruWeights& gru : weights.gru) {
    const Eigen::Index h = gru.hidden_weights.cols();
    const Eigen::MatrixXf input_gates =
        (gru.input_weights * layer_output).colwise() + gru.input_bias;
    Eigen::MatrixXf hidden_states(h, steps);
    Eigen::VectorXf hidden = Eigen::VectorXf::Zero(h);
    Eigen::VectorXf hidden_gates(3 * h);
    for (Eigen::Index t = 0; t < steps; ++t) {
      hidden_gates.noalias() = gru.hidden_weights * hidden;
      hidden_gates += gru.hidden_bias;
      detail::gru_cell_update(input_gates.col(t), hidden_gates, hidden);
      hidden_states.col(t) = hidden;
    }
    layer_output = std::move(hidden_states);
  }
  Eigen::RowVectorXf logits = weights.dense_weights.transpose() * layer_output;
  return logits.array() + weights.dense_bias;
}

}  // namespace

std::vector<float> Model::forward(std::span<const float> frames, std::size_t num_frames) const {
  const ModelShape& shape = metadata_.shape;
  const auto dim = static_cast<Eigen::Index>(shape.feature_dim);
  if (frames.size() != num_frames * static_cast<std::size_t>(dim)) {
    throw Error(fmt::format("Model::forward: got {} values for {} frames of {} features",
                            frames.size(), num_frames, dim));
  }
  const auto steps = static_cast<Eigen::Index>(num_outputs(num_frames));
  std::vector<float> probabilities(static_cast<std::size_t>(steps));
  if (steps == 0) return probabilities;

  const Eigen::MatrixXf normalised =
      ((Eigen::Map<const Eigen::MatrixXf>(frames.data(), dim, static_cast<Eigen::Index>(num_frames))
            .colwise() -
        feature_mean_)
           .array()
           .colwise() *
       feature_inv_std_.array())
          .matrix();
  // Column j of `windows` is the k frames output j reads: they are contiguous in the
  // column-major frame matrix, and consecutive windows start s frames apart.
  const Eigen::Map<const Eigen::MatrixXf, 0, Eigen::OuterStride<>> windows(
      normalised.data(), shape.conv_kernel * dim, steps,
      Eigen::OuterStride<>(shape.conv_stride * dim));
  for (const ModelWeights& member : members_) {
    const Eigen::RowVectorXf logits = member_logits(member, windows);
    for (Eigen::Index j = 0; j < steps; ++j)
      probabilities[static_cast<std::size_t>(j)] += detail::output_probability(logits[j]);
  }
  for (float& p : probabilities)
    p /= static_cast<float>(members_.size());
  return probabilities;
}

}  // namespace earshot
