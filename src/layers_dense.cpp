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

template <typename T>
double weighted_bce(const Vector<T>& logits, std::span<const float> labels, double positive_weight,
                    double scale, Vector<T>& d_logits) {
  if (labels.size() != static_cast<std::size_t>(logits.size())) {
    throw Error(
        fmt::format("weighted_bce: {} labels for {} output steps", labels.size(), logits.size()));
  }
  d_logits.resize(logits.size());
  double loss = 0;
  for (Index t = 0; t < logits.size(); ++t) {
    const double logit = static_cast<double>(logits(t));
    const double positive = positive_weight * labels[static_cast<std::size_t>(t)];
    const double negative = 1.0 - labels[static_cast<std::size_t>(t)];
    // -log(p) = softplus(-logit), -log(1 - p) = softplus(logit).
    loss += positive * softplus(-logit) + negative * softplus(logit);
    const double p = sigmoid(logit);
    d_logits(t) = static_cast<T>(scale * (positive * (p - 1.0) + negative * p));
  }
  return scale * loss;
}

#define EARSHOT_INSTANTIATE(T)                                                               \
  template void dense_forward<T>(const DenseParams<T>&, const Matrix<T>&, Vector<T>&);       \
  template void dense_backward<T>(const DenseParams<T>&, const Matrix<T>&, const Vector<T>&, \
                                  DenseParams<T>&, Matrix<T>*);                              \
  template double weighted_bce<T>(const Vector<T>&, std::span<const float>, double, double,  \
                                  Vector<T>&);
EARSHOT_INSTANTIATE(float)
EARSHOT_INSTANTIATE(double)
#undef EARSHOT_INSTANTIATE

}  // namespace earshot::train
