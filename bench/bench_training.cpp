// Training throughput: seconds of training audio processed per wall-clock second.
//
// Each iteration is one optimisation step on a mini-batch of 16 clips of 10 s (40 mel
// features, 5 % positive labels, dropout 0.2): forward, backpropagation through time,
// gradient clipping and Adam, as train_model does. The thread count is the second argument.
// Counter:
//   clip_s_per_s   clip seconds per wall-clock second (an epoch over 10 hours of clips takes
//                  36000 / clip_s_per_s seconds)
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <earshot/train_network.hpp>
#include <earshot/train_optimizer.hpp>
#include <random>
#include <string>
#include <vector>

#include "model_sizes.hpp"

namespace {

constexpr int kBatchClips = 16;
constexpr int kClipFrames = 998;  // 10 s at a 10 ms hop with a 25 ms window
constexpr double kClipSeconds = 10.0;
constexpr int kFeatures = 40;

using earshot::bench::model_sizes;
using earshot::bench::ModelSize;

double uniform01(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

void BM_TrainingStep(benchmark::State& state, const ModelSize& size) {
  const int threads = static_cast<int>(state.range(0));
  earshot::ModelShape shape;
  shape.feature_dim = kFeatures;
  shape.conv_filters = size.filters;
  shape.conv_kernel = size.kernel;
  shape.conv_stride = size.stride;
  shape.gru_sizes = size.gru;
  const std::size_t steps = shape.num_outputs(kClipFrames);

  std::mt19937_64 rng(1);
  std::vector<std::vector<float>> features(kBatchClips), labels(kBatchClips);
  std::vector<earshot::train::ClipExample> batch;
  for (int c = 0; c < kBatchClips; ++c) {
    features[c].resize(static_cast<std::size_t>(kClipFrames) * kFeatures);
    for (float& v : features[c])
      v = static_cast<float>(8.0 * uniform01(rng) - 4.0);
    labels[c].resize(steps);
    for (float& y : labels[c])
      y = uniform01(rng) < 0.05 ? 1.0f : 0.0f;
    batch.push_back({features[c], labels[c], static_cast<std::uint64_t>(c)});
  }

  earshot::train::TrainingNetwork<float> network(shape, std::vector<float>(kFeatures, 0.0f),
                                                 std::vector<float>(kFeatures, 2.0f), threads);
  Eigen::VectorXf parameters = earshot::train::initial_parameters<float>(network.layout(), 1);
  Eigen::VectorXf gradient;
  earshot::train::AdamOptimizer adam(parameters.size());
  earshot::train::BatchNormMoments moments;
  earshot::train::GradientOptions options;
  options.loss_weights.positive_weight = 5.0;
  options.dropout = 0.2;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    const double loss = network.loss_and_gradient(parameters, batch, options, gradient, moments);
    benchmark::DoNotOptimize(loss);
    earshot::train::clip_gradient_norm(gradient, 5.0);
    adam.step(parameters, gradient, 1e-4);
  }
  const double wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  state.counters["clip_s_per_s"] =
      kBatchClips * kClipSeconds * static_cast<double>(state.iterations()) / wall_s;
}

const bool registered = [] {
  for (const ModelSize& size : model_sizes()) {
    benchmark::RegisterBenchmark((std::string("BM_TrainingStep/") + size.name).c_str(),
                                 BM_TrainingStep, size)
        ->ArgName("threads")
        ->Arg(1)
        ->Arg(2)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
  return true;
}();

}  // namespace
