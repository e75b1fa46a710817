// The streaming step's matrix-vector product, compiled twice. The rest of the binary targets
// baseline x86-64 (SSE2) so that it runs on any x86-64 machine; this one function is also
// compiled for x86-64-v3 (AVX2), and GCC's target_clones lets the loader pick the clone the
// CPU supports. The products were over half of the live path's time (perf on `earshot
// label`); with the wider vectors the shipped two-network model labels 1.4 times faster.
//
// The loop is plain C++ on GCC's vector extension rather than Eigen: an Eigen product here
// would call template code shared with the other translation units, compiled for the
// baseline only, so the clone would gain nothing (and a template compiled for AVX2 could be
// the one the linker keeps for everyone).
#include "model_matvec.hpp"

#include <cstring>

namespace earshot::detail {
namespace {

using Lanes = float __attribute__((vector_size(32)));  // 8 floats: one AVX2 register
// The same, read straight from a column: it need not start on 32 bytes, and it aliases the
// matrix's floats.
using ColumnLanes = float __attribute__((vector_size(32), aligned(4), may_alias));
constexpr Eigen::Index kLanes = 8;

}  // namespace

// Not under TSan: the loader runs the clones' resolver before TSan's runtime is up, and every
// executable linking this crashed on start.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_THREAD__)
__attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
void matrix_vector_product(const float* matrix, Eigen::Index rows, Eigen::Index cols,
                           const float* x, float* y) {
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

}  // namespace earshot::detail
