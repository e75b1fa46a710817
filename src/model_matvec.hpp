// y = A x for the streaming step's matrices (model_stream.cpp): the product that is most of
// the live path's time. See model_matvec.cpp for why it is not Eigen's.
#pragma once

#include <Eigen/Core>

namespace earshot::detail {

// y (rows values) = matrix (rows x cols, column-major) times x (cols values).
void matrix_vector_product(const float* matrix, Eigen::Index rows, Eigen::Index cols,
                           const float* x, float* y);

inline void matrix_vector_product(const Eigen::MatrixXf& matrix,
                                  const Eigen::Ref<const Eigen::VectorXf>& x, Eigen::VectorXf& y) {
  eigen_assert(x.size() == matrix.cols() && y.size() == matrix.rows());
  matrix_vector_product(matrix.data(), matrix.rows(), matrix.cols(), x.data(), y.data());
}

}  // namespace earshot::detail
