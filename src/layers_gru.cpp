// GRU layer with backpropagation through time (train_layers.hpp; equations in model.hpp).
//
// Time couples the steps only through W_h h: the input projections and every weight
// gradient are single matrix products over the whole sequence, and the loop over time does
// one matrix-vector product per step in each direction.
#include <fmt/format.h>

#include "earshot/error.hpp"
#include "earshot/train_layers.hpp"

namespace earshot::train {

template <typename T>
void gru_forward(const GruShape& shape, const GruParams<T>& params, const Matrix<T>& input,
                 GruCache<T>& cache) {
  if (input.rows() != shape.input_size) {
    throw Error(fmt::format("gru_forward: input has {} rows, the layer takes {}", input.rows(),
                            shape.input_size));
  }
  const Index h = shape.hidden_size;
  const Index steps = input.cols();
  cache.input_gates.noalias() = params.input_weights * input;
  cache.input_gates.colwise() += params.input_bias;
  cache.hidden.resize(h, steps);
  cache.reset.resize(h, steps);
  cache.update.resize(h, steps);
  cache.candidate.resize(h, steps);
  cache.hidden_candidate.resize(h, steps);
  cache.hidden_gates.resize(3 * h);

  for (Index t = 0; t < steps; ++t) {
    if (t == 0) {
      cache.hidden_gates = params.hidden_bias;
    } else {
      cache.hidden_gates.noalias() = params.hidden_weights * cache.hidden.col(t - 1);
      cache.hidden_gates += params.hidden_bias;
    }
    const auto gates_in = cache.input_gates.col(t);
    auto r = cache.reset.col(t).array();
    auto z = cache.update.col(t).array();
    auto n = cache.candidate.col(t).array();
    r = (gates_in.segment(0, h) + cache.hidden_gates.segment(0, h)).array().logistic();
    z = (gates_in.segment(h, h) + cache.hidden_gates.segment(h, h)).array().logistic();
    cache.hidden_candidate.col(t) = cache.hidden_gates.segment(2 * h, h);
    n = (gates_in.segment(2 * h, h).array() + r * cache.hidden_candidate.col(t).array()).tanh();
    if (t == 0) {
      cache.hidden.col(t).array() = (T(1) - z) * n;
    } else {
      cache.hidden.col(t).array() = n + z * (cache.hidden.col(t - 1).array() - n);
    }
  }
}

template <typename T>
void gru_backward(const GruShape& shape, const GruParams<T>& params, const Matrix<T>& input,
                  GruCache<T>& cache, const Matrix<T>& d_hidden, GruParams<T>& grad,
                  Matrix<T>* d_input) {
  const Index h = shape.hidden_size;
  const Index steps = input.cols();
  // The input-gate pre-activations are no longer needed: reuse their storage for the
  // gradients with respect to them.
  Matrix<T>& d_input_gates = cache.input_gates;
  Matrix<T>& d_hidden_gates = cache.d_hidden_gates;
  d_hidden_gates.resize(3 * h, steps);
  cache.d_state = Vector<T>::Zero(h);

  for (Index t = steps - 1; t >= 0; --t) {
    const auto r = cache.reset.col(t).array();
    const auto z = cache.update.col(t).array();
    const auto n = cache.candidate.col(t).array();
    // d_state arrives holding dLoss/dh_t through h_(t+1); it becomes the whole dLoss/dh_t.
    cache.d_state += d_hidden.col(t);
    const auto dh = cache.d_state.array();
    const auto d_candidate_pre = dh * (T(1) - z) * (T(1) - n * n);
    auto d_in = d_input_gates.col(t);
    d_in.segment(0, h).array() =
        d_candidate_pre * cache.hidden_candidate.col(t).array() * r * (T(1) - r);
    if (t > 0) {
      d_in.segment(h, h).array() = dh * (cache.hidden.col(t - 1).array() - n) * z * (T(1) - z);
    } else {
      d_in.segment(h, h).array() = -dh * n * z * (T(1) - z);
    }
    d_in.segment(2 * h, h).array() = d_candidate_pre;
    auto d_hid = d_hidden_gates.col(t);
    d_hid.segment(0, 2 * h) = d_in.segment(0, 2 * h);
    d_hid.segment(2 * h, h).array() = d_candidate_pre * r;
    cache.d_state.array() *= z;
    cache.d_state.noalias() += params.hidden_weights.transpose() * d_hid;
  }

  grad.input_weights.noalias() += d_input_gates * input.transpose();
  grad.input_bias += d_input_gates.rowwise().sum();
  if (steps > 1) {
    grad.hidden_weights.noalias() +=
        d_hidden_gates.rightCols(steps - 1) * cache.hidden.leftCols(steps - 1).transpose();
  }
  grad.hidden_bias += d_hidden_gates.rowwise().sum();
  if (d_input != nullptr) d_input->noalias() = params.input_weights.transpose() * d_input_gates;
}

#define EARSHOT_INSTANTIATE(T)                                                          \
  template void gru_forward<T>(const GruShape&, const GruParams<T>&, const Matrix<T>&,  \
                               GruCache<T>&);                                           \
  template void gru_backward<T>(const GruShape&, const GruParams<T>&, const Matrix<T>&, \
                                GruCache<T>&, const Matrix<T>&, GruParams<T>&, Matrix<T>*);
EARSHOT_INSTANTIATE(float)
EARSHOT_INSTANTIATE(double)
#undef EARSHOT_INSTANTIATE

}  // namespace earshot::train
