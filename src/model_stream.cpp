// ModelStream: what happens to one feature frame (the streaming half of model.hpp).
//
// push() normalises the frame into the window ring; every conv_stride frames (once the
// first window is full) step() runs each member network once: convolution over the window,
// each GRU layer one step, dense + sigmoid; and averages their probabilities. Every buffer
// was sized by the constructor.
#include <fmt/format.h>

#include <utility>

#include "earshot/error.hpp"
#include "earshot/model.hpp"
#include "model_kernels.hpp"
#include "model_matvec.hpp"

namespace earshot {

ModelStream::ModelStream(std::shared_ptr<const Model> model) : model_(std::move(model)) {
  if (!model_) throw Error("ModelStream: no model given");
  const ModelShape& shape = model_->shape();
  window_ =
      Eigen::VectorXf::Zero(2 * static_cast<Eigen::Index>(shape.conv_kernel) * shape.feature_dim);
  MemberState fresh;
  fresh.conv_out = Eigen::VectorXf::Zero(shape.conv_filters);
  for (const int h : shape.gru_sizes) {
    fresh.hidden.push_back(Eigen::VectorXf::Zero(h));
    fresh.input_gates.push_back(Eigen::VectorXf::Zero(3 * h));
    fresh.hidden_gates.push_back(Eigen::VectorXf::Zero(3 * h));
  }
  members_.assign(model_->members().size(), fresh);
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
  const Eigen::Index dim = shape.feature_dim;
  // The oldest of the last k frames sits at slot frames_pushed_ % k; every member reads them.
  const auto oldest = static_cast<Eigen::Index>(frames_pushed_ % shape.conv_kernel);
  const auto window = window_.segment(oldest * dim, shape.conv_kernel * dim);
  float sum = 0.0f;
  for (std::size_t m = 0; m < members_.size(); ++m)
    sum += member_step(model_->members()[m], window, members_[m]);
  return sum / static_cast<float>(members_.size());
}

float ModelStream::member_step(const ModelWeights& weights,
                               const Eigen::Ref<const Eigen::VectorXf>& window,
                               MemberState& state) {
  detail::matrix_vector_product(weights.conv_weights, window, state.conv_out);
  state.conv_out = (state.conv_out + weights.conv_bias).cwiseMax(0.0f);

  const Eigen::VectorXf* layer_input = &state.conv_out;
  for (std::size_t i = 0; i < weights.gru.size(); ++i) {
    const GruWeights& gru = weights.gru[i];
    detail::matrix_vector_product(gru.input_weights, *layer_input, state.input_gates[i]);
    state.input_gates[i] += gru.input_bias;
    detail::matrix_vector_product(gru.hidden_weights, state.hidden[i], state.hidden_gates[i]);
    state.hidden_gates[i] += gru.hidden_bias;
    detail::gru_cell_update(state.input_gates[i], state.hidden_gates[i], state.hidden[i]);
    layer_input = &state.hidden[i];
  }
  return detail::output_probability(weights.dense_weights.dot(*layer_input) + weights.dense_bias);
}

void ModelStream::reset() {
  window_.setZero();
  for (MemberState& member : members_) {
    for (Eigen::VectorXf& h : member.hidden)
      h.setZero();
  }
  frames_pushed_ = 0;
  outputs_emitted_ = 0;
}

}  // namespace earshot
