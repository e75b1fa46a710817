// ReLU and inverted dropout (train_layers.hpp).
#include <random>

#include "earshot/train_layers.hpp"

namespace earshot::train {

template <typename T>
void relu_forward(Matrix<T>& values) {
  values = values.cwiseMax(T(0));
}

template <typename T>
void relu_backward(const Matrix<T>& output, Matrix<T>& d_values) {
  d_values = (output.array() > T(0)).select(d_values, T(0));
}

template <typename T>
void make_dropout_mask(double drop_probability, Index rows, Index cols, std::uint64_t seed,
                       Matrix<T>& mask) {
  mask.resize(rows, cols);
  if (drop_probability <= 0.0) {
    mask.setOnes();
    return;
  }
  const T keep_scale = static_cast<T>(1.0 / (1.0 - drop_probability));
  std::mt19937_64 rng(seed);
  for (Index i = 0; i < mask.size(); ++i) {
    // Uniform in [0, 1) from the top 53 bits: the same on every standard library.
    const double uniform = static_cast<double>(rng() >> 11) * 0x1.0p-53;
    mask.data()[i] = uniform < drop_probability ? T(0) : keep_scale;
  }
}

#define EARSHOT_INSTANTIATE(T)                                  \
  template void relu_forward<T>(Matrix<T>&);                    \
  template void relu_backward<T>(const Matrix<T>&, Matrix<T>&); \
  template void make_dropout_mask<T>(double, Index, Index, std::uint64_t, Matrix<T>&);
EARSHOT_INSTANTIATE(float)
EARSHOT_INSTANTIATE(double)
#undef EARSHOT_INSTANTIATE

}  // namespace earshot::train
