// Cost of running the model per second of audio, as a multiple of real time, for the lecture's
// reference sizes and smaller ones.
//
// Sizes are named c<filters>k<kernel>s<stride>_g<gru sizes>, all on 40 mel features. At stride
// s there are 100 / s output steps per audio second, each consuming s frames.
//   BM_ModelStream   ModelStream::push, one frame at a time (the live path's model part)
//   BM_ModelForward  Model::forward over a 10 s clip (offline labelling, validation)
//   BM_LivePath      FrontEnd + ModelStream fed 10 ms chunks of audio: the whole live path
//                    apart from the detector (the target is >= 1000x real time on one core);
//                    "_ensemble<n>": that size as an ensemble of n networks
// Counters (rates print with a "/s" suffix: "x_real_time=2k/s" means 2000x real time):
//   x_real_time        audio seconds per CPU second
//   cpu_s_per_audio_s  CPU seconds per audio second
#include <benchmark/benchmark.h>

#include <cstdint>
#include <earshot/frontend.hpp>
#include <earshot/model.hpp>
#include <earshot/train_network.hpp>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "model_sizes.hpp"

namespace {

constexpr int kFramesPerSecond = 100;  // 10 ms hop
constexpr int kClipSeconds = 10;

using earshot::bench::model_sizes;
using earshot::bench::ModelSize;

std::vector<float> uniform_values(std::size_t count, std::uint64_t seed, double scale) {
  std::mt19937_64 rng(seed);
  std::vector<float> values(count);
  for (float& v : values) {
    v = static_cast<float>(scale * (2.0 * static_cast<double>(rng() >> 11) * 0x1.0p-53 - 1.0));
  }
  return values;
}

// A model of `members` networks with freshly initialised weights (the cost does not depend
// on the values).
std::shared_ptr<const earshot::Model> make_model(const ModelSize& size, int members = 1) {
  earshot::ModelMetadata metadata;
  metadata.shape.feature_dim = metadata.frontend.feature_dim();
  metadata.shape.conv_filters = size.filters;
  metadata.shape.conv_kernel = size.kernel;
  metadata.shape.conv_stride = size.stride;
  metadata.shape.gru_sizes = size.gru;
  metadata.feature_mean.assign(metadata.shape.feature_dim, -5.0f);
  metadata.feature_std.assign(metadata.shape.feature_dim, 3.0f);
  const earshot::train::NetworkLayout layout(metadata.shape);
  earshot::train::BatchNormRunningStats running;
  running.reset(size.filters);
  const earshot::Model single = earshot::train::export_model(
      layout, earshot::train::initial_parameters<float>(layout, 1), running, metadata);
  return std::make_shared<const earshot::Model>(
      metadata, std::vector<earshot::ModelWeights>(static_cast<std::size_t>(members),
                                                   single.members().front()));
}

void set_real_time_counters(benchmark::State& state, double audio_seconds_per_iteration) {
  const double audio_seconds =
      audio_seconds_per_iteration * static_cast<double>(state.iterations());
  state.counters["x_real_time"] = benchmark::Counter(audio_seconds, benchmark::Counter::kIsRate);
  state.counters["cpu_s_per_audio_s"] =
      benchmark::Counter(audio_seconds, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// Each iteration pushes one second of frames (features in the range log-mel values take).
void BM_ModelStream(benchmark::State& state, const ModelSize& size) {
  const auto model = make_model(size);
  const int dim = model->feature_dim();
  const auto frames =
      uniform_values(static_cast<std::size_t>(kClipSeconds * kFramesPerSecond * dim), 2, 8.0);
  earshot::ModelStream stream(model);
  std::size_t offset = 0;
  for (auto _ : state) {
    for (int f = 0; f < kFramesPerSecond; ++f) {
      const auto probability = stream.push(std::span(frames).subspan(offset, dim));
      benchmark::DoNotOptimize(probability);
      offset = (offset + dim) % frames.size();
    }
  }
  set_real_time_counters(state, 1.0);
}

void BM_ModelForward(benchmark::State& state, const ModelSize& size) {
  const auto model = make_model(size);
  const std::size_t num_frames = kClipSeconds * kFramesPerSecond;
  const auto frames = uniform_values(num_frames * model->feature_dim(), 3, 8.0);
  for (auto _ : state) {
    const auto probabilities = model->forward(frames, num_frames);
    benchmark::DoNotOptimize(probabilities.data());
  }
  set_real_time_counters(state, kClipSeconds);
}

// Each iteration streams 10 s of noise in 10 ms chunks through the front end and the model.
void BM_LivePath(benchmark::State& state, const ModelSize& size, int members) {
  const auto model = make_model(size, members);
  const earshot::FrontEndConfig config = model->metadata().frontend;
  const auto audio =
      uniform_values(static_cast<std::size_t>(kClipSeconds * config.sample_rate), 4, 0.5);
  earshot::FrontEnd front_end(config);
  earshot::ModelStream stream(model);
  std::vector<float> frame(static_cast<std::size_t>(model->feature_dim()));
  const auto chunk = static_cast<std::size_t>(config.hop_samples);
  for (auto _ : state) {
    for (std::size_t start = 0; start + chunk <= audio.size(); start += chunk) {
      front_end.accept_waveform(std::span(audio).subspan(start, chunk));
      while (front_end.pop_frame(frame)) {
        const auto probability = stream.push(frame);
        benchmark::DoNotOptimize(probability);
      }
    }
  }
  set_real_time_counters(state, kClipSeconds);
}

const bool registered = [] {
  for (const ModelSize& size : model_sizes()) {
    benchmark::RegisterBenchmark((std::string("BM_ModelStream/") + size.name).c_str(),
                                 BM_ModelStream, size)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark((std::string("BM_ModelForward/") + size.name).c_str(),
                                 BM_ModelForward, size)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark((std::string("BM_LivePath/") + size.name).c_str(), BM_LivePath,
                                 size, 1)
        ->Unit(benchmark::kMillisecond);
  }
  // The shipped network as a pair (the next candidate), and the sixth model's network as the
  // pair it shipped as and with a third member.
  const ModelSize& shipped = model_sizes()[2];  // c64k5s4_g96x2
  const ModelSize& sixth = model_sizes()[3];    // c64k5s4_g64x2
  for (const auto& [size, members] : {std::pair{&shipped, 2}, {&sixth, 2}, {&sixth, 3}}) {
    benchmark::RegisterBenchmark(
        (std::string("BM_LivePath/") + size->name + "_ensemble" + std::to_string(members)).c_str(),
        BM_LivePath, *size, members)
        ->Unit(benchmark::kMillisecond);
  }
  return true;
}();

}  // namespace
