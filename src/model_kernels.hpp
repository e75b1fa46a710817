// The per-step arithmetic shared by the batch forward pass and the streaming step, so the
// two can only differ in how the matrix products were summed (equations in model.hpp).
#pragma once

#include <Eigen/Core>
#include <cmath>

namespace earshot::detail {

// Advances `hidden` (H values) by one step. `input_gates` = W_i x + b_i and `hidden_gates`
// = W_h h + b_h, 3H values each in the order [reset; update; candidate]. `hidden_gates` is
// used as scratch and left holding [r; z; n].
template <typename InputGates, typename HiddenGates, typename Hidden>
inline void gru_cell_update(const InputGates& input_gates, HiddenGates&& hidden_gates,
                            Hidden&& hidden) {
  const Eigen::Index h = hidden.size();
  auto reset = hidden_gates.segment(0, h).array();
  auto update = hidden_gates.segment(h, h).array();
  auto candidate = hidden_gates.segment(2 * h, h).array();
  reset = (input_gates.segment(0, h).array() + reset).logistic();
  update = (input_gates.segment(h, h).array() + update).logistic();
  candidate = (input_gates.segment(2 * h, h).array() + reset * candidate).tanh();
  hidden.array() = candidate + update * (hidden.array() - candidate);
}

// The output probability for one step's logit.
inline float output_probability(float logit) {
  return 1.0f / (1.0f + std::exp(-logit));
}

}  // namespace earshot::detail
