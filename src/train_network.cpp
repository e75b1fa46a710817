// The training network (train_network.hpp): layout, initialisation, the three passes of a
// mini-batch, inference-mode prediction and export to the inference Model.
#include "earshot/train_network.hpp"

#include <fmt/format.h>

#include <cmath>
#include <random>
#include <utility>

#include "earshot/error.hpp"
#include "train_parallel.hpp"

namespace earshot::train {

// Everything one clip needs during a batch; reused from batch to batch.
template <typename T>
struct TrainingNetwork<T>::Workspace {
  Matrix<T> input;                      // normalised features, feature_dim x frames
  Matrix<T> conv_output;                // filters x steps, before BatchNorm
  Matrix<T> normalized;                 // BatchNorm's x-hat
  Matrix<T> activation;                 // ReLU(BatchNorm(conv)), before dropout
  std::vector<Matrix<T>> masks;         // dropout mask of layer_inputs[i]
  std::vector<Matrix<T>> layer_inputs;  // input of GRU i, and of the dense layer at the end
  std::vector<GruCache<T>> gru;
  Vector<T> logits;
  Vector<T> d_logits;
  Matrix<T> d_layer;  // dLoss/d(the current layer's input), flowing down
  Matrix<T> d_gru_output;
  Matrix<T> d_conv_output;
  Vector<T> gradient;  // this clip's share of the batch gradient
  BatchNormMoments moments;
  double loss = 0;
};

namespace {

// Fills `values` with uniform numbers in [-limit, limit).
template <typename T, typename Values>
void fill_uniform(Values&& values, double limit, std::mt19937_64& rng) {
  for (Index i = 0; i < values.size(); ++i) {
    const double uniform = static_cast<double>(rng() >> 11) * 0x1.0p-53;
    values.data()[i] = static_cast<T>(limit * (2.0 * uniform - 1.0));
  }
}

// Read-only views of parameters the caller owns as a const vector: the layers take views of
// mutable data, and nothing writes through these.
template <typename T>
NetworkParams<T> const_view(const NetworkLayout& layout, const Vector<T>& parameters) {
  return layout.view(const_cast<T*>(parameters.data()));
}

}  // namespace

NetworkLayout::NetworkLayout(const ModelShape& model_shape) : shape(model_shape) {
  shape.validate();
  conv = {shape.feature_dim, shape.conv_filters, shape.conv_kernel, shape.conv_stride};
  batch_norm = {shape.conv_filters, 1e-3};
  int input_size = shape.conv_filters;
  for (const int hidden : shape.gru_sizes) {
    gru.push_back({input_size, hidden});
    input_size = hidden;
  }
  dense = {input_size};
}

Index NetworkLayout::num_parameters() const {
  Index count = conv.num_parameters() + batch_norm.num_parameters() + dense.num_parameters();
  for (const GruShape& layer : gru)
    count += layer.num_parameters();
  return count;
}

std::uint64_t mix_seed(std::uint64_t a, std::uint64_t b) {
  std::uint64_t z = a + 0x9e3779b97f4a7c15ull * (b + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

template <typename T>
Vector<T> initial_parameters(const NetworkLayout& layout, std::uint64_t seed) {
  Vector<T> parameters = Vector<T>::Zero(layout.num_parameters());
  NetworkParams<T> params = layout.view(parameters.data());
  std::mt19937_64 rng(seed);
  const double conv_fan_in = static_cast<double>(layout.conv.kernel) * layout.conv.input_dim;
  fill_uniform<T>(params.conv.weight, std::sqrt(6.0 / conv_fan_in), rng);
  params.batch_norm.gamma.setOnes();
  for (std::size_t i = 0; i < params.gru.size(); ++i) {
    const double limit = 1.0 / std::sqrt(static_cast<double>(layout.gru[i].hidden_size));
    fill_uniform<T>(params.gru[i].input_weights, limit, rng);
    fill_uniform<T>(params.gru[i].hidden_weights, limit, rng);
  }
  fill_uniform<T>(params.dense.weight, std::sqrt(6.0 / (layout.dense.input_size + 1.0)), rng);
  return parameters;
}

template <typename T>
TrainingNetwork<T>::TrainingNetwork(const ModelShape& shape, std::vector<float> feature_mean,
                                    std::vector<float> feature_std, int threads)
    : layout_(shape), threads_(std::max(threads, 1)) {
  const auto dim = static_cast<std::size_t>(shape.feature_dim);
  if (feature_mean.size() != dim || feature_std.size() != dim) {
    throw Error(
        fmt::format("TrainingNetwork: normalisation has {} means and {} deviations for {} "
                    "features",
                    feature_mean.size(), feature_std.size(), dim));
  }
  feature_mean_ = Eigen::Map<const Eigen::VectorXf>(feature_mean.data(), shape.feature_dim);
  feature_inv_std_ =
      Eigen::Map<const Eigen::VectorXf>(feature_std.data(), shape.feature_dim).cwiseInverse();
}

template <typename T>
TrainingNetwork<T>::~TrainingNetwork() = default;
template <typename T>
TrainingNetwork<T>::TrainingNetwork(TrainingNetwork&&) noexcept = default;
template <typename T>
TrainingNetwork<T>& TrainingNetwork<T>::operator=(TrainingNetwork&&) noexcept = default;

// Pass 1: warp, normalise, mask, convolve, and collect the clip's BatchNorm moments.
template <typename T>
void TrainingNetwork<T>::forward_convolution(const NetworkParams<T>& params,
                                             const ClipExample& clip,
                                             const GradientOptions& options,
                                             Workspace& work) const {
  const Index dim = layout_.shape.feature_dim;
  if (clip.features.size() % static_cast<std::size_t>(dim) != 0) {
    throw Error(fmt::format("training clip has {} feature values, not a multiple of {}",
                            clip.features.size(), dim));
  }
  const auto frames = static_cast<Index>(clip.features.size()) / dim;
  work.input = Eigen::Map<const Eigen::MatrixXf>(clip.features.data(), dim, frames).cast<T>();
  // Each augmentation has its own seed stream, apart from the dropout sites' mix_seed(seed, site).
  if (options.warp.enabled()) {
    const double factor = draw_warp_factor(options.warp, mix_seed(clip.dropout_seed, ~1ull));
    warp_features(work.input, make_warp_map(options.feature_centres_hz, factor));
  }
  work.input = ((work.input.colwise() - feature_mean_.cast<T>()).array().colwise() *
                feature_inv_std_.cast<T>().array())
                   .matrix();
  if (options.masking.enabled())
    mask_features(work.input, options.masking, mix_seed(clip.dropout_seed, ~0ull));
  conv1d_forward(layout_.conv, params.conv, work.input, work.conv_output);
  if (static_cast<std::size_t>(work.conv_output.cols()) != clip.labels.size()) {
    throw Error(fmt::format("training clip has {} labels for {} output steps", clip.labels.size(),
                            work.conv_output.cols()));
  }
  work.moments.reset(layout_.conv.filters);
  work.moments.add(work.conv_output);
}

// Pass 2: everything above the convolution, forward and backward, for one clip. Leaves the
// clip's gradient for every layer but the convolution in work.gradient, and
// dLoss/d(BatchNorm output) in work.d_layer.
template <typename T>
void TrainingNetwork<T>::forward_backward_recurrent(const NetworkParams<T>& params,
                                                    const BatchNormStats<T>& stats,
                                                    const ClipExample& clip,
                                                    const GradientOptions& options,
                                                    double loss_scale, Workspace& work) const {
  const std::size_t num_gru = layout_.gru.size();
  work.masks.resize(num_gru + 1);
  work.layer_inputs.resize(num_gru + 1);
  work.gru.resize(num_gru);

  batch_norm_forward(params.batch_norm, stats, work.conv_output, work.normalized, work.activation);
  relu_forward(work.activation);
  const auto drop = [&](std::size_t site, const Matrix<T>& values) {
    make_dropout_mask(options.dropout, values.rows(), values.cols(),
                      mix_seed(clip.dropout_seed, site), work.masks[site]);
    work.layer_inputs[site] = values.cwiseProduct(work.masks[site]);
  };
  drop(0, work.activation);
  for (std::size_t i = 0; i < num_gru; ++i) {
    gru_forward(layout_.gru[i], params.gru[i], work.layer_inputs[i], work.gru[i]);
    drop(i + 1, work.gru[i].hidden);
  }
  dense_forward(params.dense, work.layer_inputs[num_gru], work.logits);
  work.loss =
      weighted_bce(work.logits, clip.labels, options.loss_weights, loss_scale, work.d_logits);

  NetworkParams<T> grad = layout_.view(work.gradient.data());
  dense_backward(params.dense, work.layer_inputs[num_gru], work.d_logits, grad.dense,
                 &work.d_layer);
  for (std::size_t i = num_gru; i-- > 0;) {
    work.d_gru_output = work.d_layer.cwiseProduct(work.masks[i + 1]);
    gru_backward(layout_.gru[i], params.gru[i], work.layer_inputs[i], work.gru[i],
                 work.d_gru_output, grad.gru[i], &work.d_layer);
  }
  work.d_layer = work.d_layer.cwiseProduct(work.masks[0]);
  relu_backward(work.activation, work.d_layer);
  batch_norm_param_grads(work.normalized, work.d_layer, grad.batch_norm);
}

// Pass 3: through BatchNorm (which needs the batch totals) into the convolution's weights.
template <typename T>
void TrainingNetwork<T>::backward_convolution(const NetworkParams<T>& params,
                                              const BatchNormStats<T>& stats,
                                              const BatchNormParams<T>& batch_norm_totals,
                                              double batch_steps, Workspace& work) const {
  batch_norm_backward(params.batch_norm, stats, batch_norm_totals, batch_steps, work.normalized,
                      work.d_layer, work.d_conv_output);
  NetworkParams<T> grad = layout_.view(work.gradient.data());
  conv1d_backward(layout_.conv, work.input, work.d_conv_output, grad.conv);
}

template <typename T>
double TrainingNetwork<T>::loss_and_gradient(const Vector<T>& parameters,
                                             std::span<const ClipExample> batch,
                                             const GradientOptions& options, Vector<T>& gradient,
                                             BatchNormMoments& batch_moments) {
  if (parameters.size() != layout_.num_parameters()) {
    throw Error(fmt::format("loss_and_gradient: {} parameters given, the network has {}",
                            parameters.size(), layout_.num_parameters()));
  }
  while (workspaces_.size() < batch.size())
    workspaces_.push_back(std::make_unique<Workspace>());
  const NetworkParams<T> params = const_view(layout_, parameters);
  const Index num_parameters = layout_.num_parameters();

  parallel_for(threads_, batch.size(), [&](std::size_t c) {
    workspaces_[c]->gradient.setZero(num_parameters);
    forward_convolution(params, batch[c], options, *workspaces_[c]);
  });
  batch_moments.reset(layout_.conv.filters);
  for (std::size_t c = 0; c < batch.size(); ++c)
    batch_moments.add(workspaces_[c]->moments);
  gradient.setZero(num_parameters);
  if (batch_moments.count == 0) return 0.0;

  const BatchNormStats<T> stats = batch_norm_stats<T>(batch_moments, layout_.batch_norm.epsilon);
  const double loss_scale = 1.0 / batch_moments.count;
  parallel_for(threads_, batch.size(), [&](std::size_t c) {
    if (workspaces_[c]->conv_output.cols() == 0) return;
    forward_backward_recurrent(params, stats, batch[c], options, loss_scale, *workspaces_[c]);
  });

  const Index bn_offset = layout_.batch_norm_offset();
  const Index bn_size = layout_.batch_norm.num_parameters();
  Vector<T> batch_norm_totals = Vector<T>::Zero(bn_size);
  for (std::size_t c = 0; c < batch.size(); ++c) {
    batch_norm_totals += workspaces_[c]->gradient.segment(bn_offset, bn_size);
  }
  const BatchNormParams<T> totals = layout_.batch_norm.view(batch_norm_totals.data());
  parallel_for(threads_, batch.size(), [&](std::size_t c) {
    if (workspaces_[c]->conv_output.cols() == 0) return;
    backward_convolution(params, stats, totals, batch_moments.count, *workspaces_[c]);
  });

  double loss = 0;
  for (std::size_t c = 0; c < batch.size(); ++c) {
    if (workspaces_[c]->conv_output.cols() == 0) continue;
    gradient += workspaces_[c]->gradient;
    loss += workspaces_[c]->loss;
  }
  return loss;
}

template <typename T>
Vector<T> TrainingNetwork<T>::predict(const Vector<T>& parameters,
                                      const BatchNormRunningStats& running,
                                      std::span<const float> features) const {
  const NetworkParams<T> params = const_view(layout_, parameters);
  Workspace work;
  const auto steps = static_cast<std::size_t>(
      layout_.conv.num_outputs(static_cast<Index>(features.size()) / layout_.shape.feature_dim));
  const std::vector<float> no_labels(steps, 0.0f);
  forward_convolution(params, {features, no_labels, 0}, GradientOptions{}, work);
  const BatchNormStats<T> stats = batch_norm_stats<T>(running, layout_.batch_norm.epsilon);
  batch_norm_forward(params.batch_norm, stats, work.conv_output, work.normalized, work.activation);
  relu_forward(work.activation);
  work.gru.resize(layout_.gru.size());
  const Matrix<T>* layer_input = &work.activation;
  for (std::size_t i = 0; i < layout_.gru.size(); ++i) {
    gru_forward(layout_.gru[i], params.gru[i], *layer_input, work.gru[i]);
    layer_input = &work.gru[i].hidden;
  }
  dense_forward(params.dense, *layer_input, work.logits);
  return work.logits.array().logistic().matrix();
}

template <typename T>
Model export_model(const NetworkLayout& layout, const Vector<T>& parameters,
                   const BatchNormRunningStats& running, ModelMetadata metadata) {
  if (!(metadata.shape == layout.shape)) {
    throw Error("export_model: the metadata's shape differs from the trained network's");
  }
  const NetworkParams<T> params = const_view(layout, parameters);
  const Eigen::VectorXd scale = params.batch_norm.gamma.template cast<double>().cwiseProduct(
      (running.variance.array() + layout.batch_norm.epsilon).rsqrt().matrix());
  ModelWeights weights;
  weights.conv_weights =
      (scale.asDiagonal() * params.conv.weight.template cast<double>()).template cast<float>();
  weights.conv_bias =
      ((params.conv.bias.template cast<double>() - running.mean).cwiseProduct(scale) +
       params.batch_norm.beta.template cast<double>())
          .template cast<float>();
  for (const GruParams<T>& gru : params.gru) {
    weights.gru.push_back(
        {gru.input_weights.template cast<float>(), gru.hidden_weights.template cast<float>(),
         gru.input_bias.template cast<float>(), gru.hidden_bias.template cast<float>()});
  }
  weights.dense_weights = params.dense.weight.template cast<float>();
  weights.dense_bias = static_cast<float>(params.dense.bias(0));
  return Model(std::move(metadata), std::move(weights));
}

template class TrainingNetwork<float>;
template class TrainingNetwork<double>;
template Vector<float> initial_parameters<float>(const NetworkLayout&, std::uint64_t);
template Vector<double> initial_parameters<double>(const NetworkLayout&, std::uint64_t);
template Model export_model<float>(const NetworkLayout&, const Vector<float>&,
                                   const BatchNormRunningStats&, ModelMetadata);
template Model export_model<double>(const NetworkLayout&, const Vector<double>&,
                                    const BatchNormRunningStats&, ModelMetadata);

}  // namespace earshot::train
