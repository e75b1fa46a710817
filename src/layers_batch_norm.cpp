// BatchNorm (train_layers.hpp): per-channel normalisation with statistics over a whole batch,
// split into passes so clips can be processed in parallel and summed in a fixed order.
#include <cmath>

#include "earshot/train_layers.hpp"

namespace earshot::train {

void BatchNormMoments::reset(int channels) {
  sum = Eigen::VectorXd::Zero(channels);
  sum_squares = Eigen::VectorXd::Zero(channels);
  count = 0;
}

template <typename T>
void BatchNormMoments::add(const Matrix<T>& values) {
  const Eigen::MatrixXd as_double = values.template cast<double>();
  sum += as_double.rowwise().sum();
  sum_squares += as_double.cwiseAbs2().rowwise().sum();
  count += static_cast<double>(values.cols());
}

void BatchNormMoments::add(const BatchNormMoments& other) {
  sum += other.sum;
  sum_squares += other.sum_squares;
  count += other.count;
}

void BatchNormRunningStats::reset(int channels) {
  mean = Eigen::VectorXd::Zero(channels);
  variance = Eigen::VectorXd::Ones(channels);
}

void BatchNormRunningStats::update(const BatchNormMoments& batch, double momentum) {
  if (batch.count < 2) return;
  const Eigen::VectorXd batch_mean = batch.sum / batch.count;
  const Eigen::VectorXd biased =
      (batch.sum_squares / batch.count - batch_mean.cwiseAbs2()).cwiseMax(0.0);
  const Eigen::VectorXd unbiased = biased * (batch.count / (batch.count - 1));
  mean += momentum * (batch_mean - mean);
  variance += momentum * (unbiased - variance);
}

template <typename T>
BatchNormStats<T> batch_norm_stats(const BatchNormMoments& moments, double epsilon) {
  const Eigen::VectorXd mean = moments.sum / moments.count;
  const Eigen::VectorXd variance =
      (moments.sum_squares / moments.count - mean.cwiseAbs2()).cwiseMax(0.0);
  return {mean.cast<T>(), (variance.array() + epsilon).rsqrt().matrix().cast<T>()};
}

template <typename T>
BatchNormStats<T> batch_norm_stats(const BatchNormRunningStats& running, double epsilon) {
  return {running.mean.cast<T>(), (running.variance.array() + epsilon).rsqrt().matrix().cast<T>()};
}

template <typename T>
void batch_norm_forward(const BatchNormParams<T>& params, const BatchNormStats<T>& stats,
                        const Matrix<T>& input, Matrix<T>& normalized, Matrix<T>& output) {
  normalized = (input.colwise() - stats.mean).array().colwise() * stats.inv_std.array();
  output = (normalized.array().colwise() * params.gamma.array()).colwise() + params.beta.array();
}

template <typename T>
void batch_norm_param_grads(const Matrix<T>& normalized, const Matrix<T>& d_output,
                            BatchNormParams<T>& grad) {
  grad.gamma += d_output.cwiseProduct(normalized).rowwise().sum();
  grad.beta += d_output.rowwise().sum();
}

template <typename T>
void batch_norm_backward(const BatchNormParams<T>& params, const BatchNormStats<T>& stats,
                         const BatchNormParams<T>& batch_grad, double batch_count,
                         const Matrix<T>& normalized, const Matrix<T>& d_output,
                         Matrix<T>& d_input) {
  const T inv_count = static_cast<T>(1.0 / batch_count);
  const Vector<T> mean_d_beta = batch_grad.beta * inv_count;
  const Vector<T> mean_d_gamma = batch_grad.gamma * inv_count;
  const Vector<T> scale = params.gamma.cwiseProduct(stats.inv_std);
  d_input = ((d_output.colwise() - mean_d_beta).array() -
             normalized.array().colwise() * mean_d_gamma.array())
                .colwise() *
            scale.array();
}

#define EARSHOT_INSTANTIATE(T)                                                              \
  template void BatchNormMoments::add<T>(const Matrix<T>&);                                 \
  template BatchNormStats<T> batch_norm_stats<T>(const BatchNormMoments&, double);          \
  template BatchNormStats<T> batch_norm_stats<T>(const BatchNormRunningStats&, double);     \
  template void batch_norm_forward<T>(const BatchNormParams<T>&, const BatchNormStats<T>&,  \
                                      const Matrix<T>&, Matrix<T>&, Matrix<T>&);            \
  template void batch_norm_param_grads<T>(const Matrix<T>&, const Matrix<T>&,               \
                                          BatchNormParams<T>&);                             \
  template void batch_norm_backward<T>(const BatchNormParams<T>&, const BatchNormStats<T>&, \
                                       const BatchNormParams<T>&, double, const Matrix<T>&, \
                                       const Matrix<T>&, Matrix<T>&);
EARSHOT_INSTANTIATE(float)
EARSHOT_INSTANTIATE(double)
#undef EARSHOT_INSTANTIATE

}  // namespace earshot::train
