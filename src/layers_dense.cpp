// Dense(1) output layer and the weighted binary cross-entropy on its logits
// (train_layers.hpp).
#include <fmt/format.h>

#include <cmath>

#include "earshot/error.hpp"
#include "earshot/train_layers.hpp"

namespace earshot::train {
namespace {

// log(1 + exp(x)) without overflow for large |x|.
double softplus(double x) {
  return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x)));
}

double sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}

}  // namespace

template <typename T>
void dense_forward(const DenseParams<T>& params, const Matrix<T>& input, Vector<T>& logits) {
  logits.noalias() = input.transpose() * params.weight;
  logits.array() += params.bias(0);
}

template <typename T>
void dense_backward(const DenseParams<T>& params, const Matrix<T>& input, const Vector<T>& d_logits,
                    DenseParams<T>& grad, Matrix<T>* d_input) {
  grad.weight.noalias() += input * d_logits;
  grad.bias(0) += d_logits.sum();
  if (d_input != nullptr) d_input->noalias() = params.weight * d_logits.transpose();
}

double step_loss(double logit, double label, const StepLossWeights& weights, double& d_logit) {
  const double positive = weights.positive_weight * label;
  const double negative = 1.0 - label;
  const double gamma = weights.focal_gamma;
  const double p = sigmoid(logit);
  // -log(p) = softplus(-logit), -log(1 - p) = softplus(logit).
  const double minus_log_p = softplus(-logit);
  const double minus_log_not_p = softplus(logit);
  if (gamma == 0.0) {  // plain cross-entropy, kept exact (no pow) for the default
    d_logit = positive * (p - 1.0) + negative * p;
    return positive * minus_log_p + negative * minus_log_not_p;
  }
  // d/dz (1 - p)^g = -g p (1 - p)^g and d/dz p^g = g p^g (1 - p); d/dz -log p = p - 1 and
  // d/dz -log(1 - p) = p.
  const double miss_weight = std::pow(1.0 - p, gamma);  // of a label-1 step
  const double alarm_weight = std::pow(p, gamma);       // of a label-0 step
  d_logit = positive * miss_weight * (-gamma * p * minus_log_p + (p - 1.0)) +
            negative * alarm_weight * (gamma * (1.0 - p) * minus_log_not_p + p);
  return positive * miss_weight * minus_log_p + negative * alarm_weight * minus_log_not_p;
}

template <typename T>
double weighted_bce(const Vector<T>& logits, std::span<const float> labels,
                    const StepLossWeights& weights, double scale, Vector<T>& d_logits) {
  if (labels.size() != static_cast<std::size_t>(logits.size())) {
    throw Error(
        fmt::format("weighted_bce: {} labels for {} output steps", labels.size(), logits.size()));
  }
  d_logits.resize(logits.size());
  double loss = 0;
  for (Index t = 0; t < logits.size(); ++t) {
    double d_logit = 0;
    loss += step_loss(static_cast<double>(logits(t)),
                      static_cast<double>(labels[static_cast<std::size_t>(t)]), weights, d_logit);
    d_logits(t) = static_cast<T>(scale * d_logit);
  }
  return scale * loss;
}

#define EARSHOT_INSTANTIATE(T)                                                               \
  template void dense_forward<T>(const DenseParams<T>&, const Matrix<T>&, Vector<T>&);       \
  template void dense_backward<T>(const DenseParams<T>&, const Matrix<T>&, const Vector<T>&, \
                                  DenseParams<T>&, Matrix<T>*);                              \
  template double weighted_bce<T>(const Vector<T>&, std::span<const float>,                  \
                                  const StepLossWeights&, double, Vector<T>&);
EARSHOT_INSTANTIATE(float)
EARSHOT_INSTANTIATE(double)
#undef EARSHOT_INSTANTIATE

}  // namespace earshot::train
