// The streaming step's matrix-vector product. The binary targets baseline x86-64 (SSE2) so
// that it runs on any x86-64 machine, but the products were over half of the live path's time
// (perf on `earshot label`): on a CPU with AVX2 they run in a loop compiled for it, chosen at
// each call by a CPU feature check (a load and a test), and the shipped two-network model
// labels 1.4 times faster. Elsewhere they are Eigen's, as before.
//
// The AVX2 loop is plain C++ on GCC's vector extension rather than Eigen: an Eigen product
// there would call template code shared with the other translation units and compiled for the
// baseline, so it would gain nothing (and a template compiled for AVX2 could be the one the
// linker keeps for everyone). It is chosen by a plain check rather than by the loader (GCC's
// target_clones): TSan's runtime is not up when the loader picks, and every executable
// linking the library crashed on start under TSan.
#include "model_matvec.hpp"

#include <cstring>

namespace earshot::detail {
#if defined(__x86_64__) && defined(__GNUC__)
#define EARSHOT_AVX2_KERNEL 1
#else
#define EARSHOT_AVX2_KERNEL 0
#endif

#if EARSHOT_AVX2_KERNEL
namespace {

using Lanes = float __attribute__((vector_size(32)));  // 8 floats: one AVX2 register
// The same, read straight from a column: it need not start on 32 bytes, and it aliases the
// matrix's floats.
using ColumnLanes = float __attribute__((vector_size(32), aligned(4), may_alias));
constexpr Eigen::Index kLanes = 8;

__attribute__((target("avx2,fma"))) void avx2_product(const float* matrix, Eigen::Index rows,
                                                      Eigen::Index cols, const float* x, float* y) {
  Eigen::Index r = 0;
  // Four blocks of 8 rows at a time: four independent sums keep the adders busy, and each
  // column is read 128 contiguous bytes at a time.
  for (; r + 4 * kLanes <= rows; r += 4 * kLanes) {
    Lanes sum0 = {}, sum1 = {}, sum2 = {}, sum3 = {};
    for (Eigen::Index c = 0; c < cols; ++c) {
      const float* column = matrix + c * rows + r;
      const float xc = x[c];
      sum0 += *reinterpret_cast<const ColumnLanes*>(column) * xc;
      sum1 += *reinterpret_cast<const ColumnLanes*>(column + kLanes) * xc;
      sum2 += *reinterpret_cast<const ColumnLanes*>(column + 2 * kLanes) * xc;
      sum3 += *reinterpret_cast<const ColumnLanes*>(column + 3 * kLanes) * xc;
    }
    std::memcpy(y + r, &sum0, sizeof sum0);
    std::memcpy(y + r + kLanes, &sum1, sizeof sum1);
    std::memcpy(y + r + 2 * kLanes, &sum2, sizeof sum2);
    std::memcpy(y + r + 3 * kLanes, &sum3, sizeof sum3);
  }
  for (; r + kLanes <= rows; r += kLanes) {
    Lanes sum = {};
    for (Eigen::Index c = 0; c < cols; ++c)
      sum += *reinterpret_cast<const ColumnLanes*>(matrix + c * rows + r) * x[c];
    std::memcpy(y + r, &sum, sizeof sum);
  }
  for (; r < rows; ++r) {
    float sum = 0.0f;
    for (Eigen::Index c = 0; c < cols; ++c)
      sum += matrix[c * rows + r] * x[c];
    y[r] = sum;
  }
}

}  // namespace
#endif

void matrix_vector_product(const float* matrix, Eigen::Index rows, Eigen::Index cols,
                           const float* x, float* y) {
#if EARSHOT_AVX2_KERNEL
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    avx2_product(matrix, rows, cols, x, y);
    return;
  }
#endif
  // Without AVX2, Eigen's product: the loop above compiled for SSE2 ran four times slower.
  Eigen::Map<Eigen::VectorXf>(y, rows).noalias() =
      Eigen::Map<const Eigen::MatrixXf>(matrix, rows, cols) *
      Eigen::Map<const Eigen::VectorXf>(x, cols);
}

}  // namespace earshot::detail
