// Conv1D over time (train_layers.hpp). Both passes are one matrix product each: the k-frame
// windows are contiguous columns of the input, read in place through a strided Map.
#include <fmt/format.h>

#include "earshot/error.hpp"
#include "earshot/train_layers.hpp"

namespace earshot::train {
namespace {

// Column j = the window of output j: kernel * input_dim values starting at frame j * stride.
template <typename T>
Eigen::Map<const Matrix<T>, 0, Eigen::OuterStride<>> windows(const Conv1dShape& shape,
                                                             const Matrix<T>& input, Index steps) {
  return {input.data(), static_cast<Index>(shape.kernel) * shape.input_dim, steps,
          Eigen::OuterStride<>(static_cast<Index>(shape.stride) * shape.input_dim)};
}

}  // namespace

template <typename T>
void conv1d_forward(const Conv1dShape& shape, const Conv1dParams<T>& params, const Matrix<T>& input,
                    Matrix<T>& output) {
  if (input.rows() != shape.input_dim) {
    throw Error(fmt::format("conv1d_forward: input has {} rows, the layer takes {}", input.rows(),
                            shape.input_dim));
  }
  const Index steps = shape.num_outputs(input.cols());
  output.resize(shape.filters, steps);
  if (steps == 0) return;
  output.noalias() = params.weight * windows(shape, input, steps);
  output.colwise() += params.bias;
}

template <typename T>
void conv1d_backward(const Conv1dShape& shape, const Matrix<T>& input, const Matrix<T>& d_output,
                     Conv1dParams<T>& grad) {
  if (d_output.cols() == 0) return;
  grad.weight.noalias() += d_output * windows(shape, input, d_output.cols()).transpose();
  grad.bias += d_output.rowwise().sum();
}

#define EARSHOT_INSTANTIATE(T)                                                                  \
  template void conv1d_forward<T>(const Conv1dShape&, const Conv1dParams<T>&, const Matrix<T>&, \
                                  Matrix<T>&);                                                  \
  template void conv1d_backward<T>(const Conv1dShape&, const Matrix<T>&, const Matrix<T>&,      \
                                   Conv1dParams<T>&);
EARSHOT_INSTANTIATE(float)
EARSHOT_INSTANTIATE(double)
#undef EARSHOT_INSTANTIATE

}  // namespace earshot::train
