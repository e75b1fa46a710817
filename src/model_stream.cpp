// ModelStream: what happens to one feature frame (the streaming half of model.hpp).
//
// push() normalises the frame into the window ring; every conv_stride frames (once the
// first window is full) step() runs the network once: convolution over the window, each
// GRU layer one step, dense + sigmoid. Every buffer was sized by the constructor.
#include <fmt/format.h>

#include <utility>

#include "earshot/error.hpp"
#include "earshot/model.hpp"
#include "model_kernels.hpp"

namespace earshot {

ModelStream::ModelStream(std::shared_ptr<const Model> model) : model_(std::move(model)) {
  if (!model_) throw Error("ModelStream: no model given");
  const ModelShape& shape = model_->shape();
  window_ =
      Eigen::VectorXf::Zero(2 * static_cast<Eigen::Index>(shape.conv_kernel) * shape.feature_dim);
  conv_out_ = Eigen::VectorXf::Zero(shape.conv_filters);
  for (const int h : shape.gru_sizes) {
    hidden_.push_back(Eigen::VectorXf::Zero(h));
    input_gates_.push_back(Eigen::VectorXf::Zero(3 * h));
    hidden_gates_.push_back(Eigen::VectorXf::Zero(3 * h));
  }
}

std::optional<float> ModelStream::push(std::span<const float> frame) {
  const ModelShape& shape = model_->shape();
  const Eigen::Index dim = shape.feature_dim;
  if (frame.size() != static_cast<std::size_t>(dim)) {
    throw Error(fmt::format("ModelStream::push: frame has {} values, the model needs {}",
                            frame.size(), dim));
  }
  const auto kernel = static_cast<std::uint64_t>(shape.conv_kernel);
  const auto slot = static_cast<Eigen::Index>(frames_pushed_ % kernel);
  auto first = window_.segment(slot * dim, dim);
  first = (Eigen::Map<const Eigen::VectorXf>(frame.data(), dim) - model_->feature_mean())
              .cwiseProduct(model_->feature_inv_std());
  window_.segment((slot + shape.conv_kernel) * dim, dim) = first;
  ++frames_pushed_;

  if (frames_pushed_ < kernel || (frames_pushed_ - kernel) % shape.conv_stride != 0) {
    return std::nullopt;
  }
  ++outputs_emitted_;
  return step();
}

float ModelStream::step() {
  const ModelShape& shape = model_->shape();
  const ModelWeights& weights = model_->weights();
  const Eigen::Index dim = shape.feature_dim;
  // The oldest of the last k frames sits at slot frames_pushed_ % k.
  const auto oldest = static_cast<Eigen::Index>(frames_pushed_ % shape.conv_kernel);
  conv_out_.noalias() =
      weights.conv_weights * window_.segment(oldest * dim, shape.conv_kernel * dim);
  conv_out_ = (conv_out_ + weights.conv_bias).cwiseMax(0.0f);

  const Eigen::VectorXf* layer_input = &conv_out_;
  for (std::size_t i = 0; i < weights.gru.size(); ++i) {
    const GruWeights& gru = weights.gru[i];
    input_gates_[i].noalias() = gru.input_weights * *layer_input;
    input_gates_[i] += gru.input_bias;
    hidden_gates_[i].noalias() = gru.hidden_weights * hidden_[i];
    hidden_gates_[i] += gru.hidden_bias;
    detail::gru_cell_update(input_gates_[i], hidden_gates_[i], hidden_[i]);
    layer_input = &hidden_[i];
  }
  return detail::output_probability(weights.dense_weights.dot(*layer_input) + weights.dense_bias);
}

void ModelStream::reset() {
  window_.setZero();
  for (Eigen::VectorXf& h : hidden_)
    h.setZero();
  frames_pushed_ = 0;
  outputs_emitted_ = 0;
}

}  // namespace earshot
