// The model sizes the benchmarks compare, named c<filters>k<kernel>s<stride>_g<gru sizes>.
// bench_model measures their inference cost and bench_training their training throughput,
// on the same list so the two can be read side by side.
#pragma once

#include <vector>

namespace earshot::bench {

struct ModelSize {
  const char* name;
  int filters;
  int kernel;
  int stride;
  std::vector<int> gru;
};

inline const std::vector<ModelSize>& model_sizes() {
  static const std::vector<ModelSize> table = {
      {"c196k15s4_g128x2", 196, 15, 4, {128, 128}},  // the lecture's reference
      {"c128k9s4_g96x2", 128, 9, 4, {96, 96}},
      {"c64k5s4_g96x2", 64, 5, 4, {96, 96}},  // the shipped activate model (seventh)
      {"c64k5s4_g64x2", 64, 5, 4, {64, 64}},  // earshot train's default; the sixth model's networks
      {"c32k5s4_g48x2", 32, 5, 4, {48, 48}},
      {"c196k15s8_g128x2", 196, 15, 8, {128, 128}},
      {"c64k8s8_g64x2", 64, 8, 8, {64, 64}},
      {"c32k8s8_g48x2", 32, 8, 8, {48, 48}},
  };
  return table;
}

}  // namespace earshot::bench
