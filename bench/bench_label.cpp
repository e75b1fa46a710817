// Cost of labelling audio end to end (front end + model + detector post-processing), as a
// multiple of real time and as CPU seconds per hour of audio.
//
//   BM_DetectorOneThread/<shape>   one Detector over 60 s of audio in memory, fed in 1 s
//                                  blocks (as `earshot label` reads files). Shapes: 0 = the
//                                  ModelShape defaults, 1 = the lecture's reference size
//                                  (Conv1D 196 x 15, GRU 128 x 2), for scale.
//   BM_DetectorThreads/threads:N   N threads, each its own Detector over one shared Model:
//                                  how the per-file parallelism of `earshot label` scales.
//   BM_LabelFiles/<threads>        the batch runner on 8 WAV files of 30 s on disk: file
//                                  decoding, threads and ordered delivery included.
//
// Counters (Google Benchmark prints rates with a "/s" suffix: "x_real_time=800/s" means 800
// times real time):
//   x_real_time               audio seconds labelled per second: of CPU time for
//                             BM_DetectorOneThread, of wall-clock time for the multi-threaded
//                             runs (all threads' audio together)
//   cpu_s_per_audio_hour      the inverse, in seconds per audio hour (wall-clock seconds for
//                             the multi-threaded runs)
// Peak memory of the command on a long file is measured outside this program (report).
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <numbers>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "earshot/audio_io.hpp"
#include "earshot/detector.hpp"
#include "earshot/label_batch.hpp"
#include "earshot/model.hpp"
#include "random_model.hpp"

namespace {

constexpr int kSampleRate = 16000;
constexpr double kAudioSeconds = 60.0;
constexpr std::size_t kBlockSamples = 16000;
constexpr double kSecondsPerHour = 3600.0;

using earshot::testing::random_model;
using earshot::testing::symmetric_uniform;

earshot::ModelShape shape_for(std::int64_t which) {
  earshot::ModelShape shape;
  if (which == 1) {
    shape.conv_filters = 196;
    shape.conv_kernel = 15;
    shape.gru_sizes = {128, 128};
  }
  return shape;
}

// Noise with a tone that comes and goes, so the features are not constant.
std::vector<float> test_audio(double seconds) {
  std::mt19937_64 rng(2);
  std::vector<float> samples(static_cast<std::size_t>(seconds * kSampleRate));
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const double t = static_cast<double>(i) / kSampleRate;
    const double tone =
        std::fmod(t, 3.0) < 0.5 ? 0.2 * std::sin(2 * std::numbers::pi * 1000 * t) : 0;
    samples[i] = static_cast<float>(0.05 * symmetric_uniform(rng) + tone);
  }
  return samples;
}

void label_in_blocks(earshot::Detector& detector, std::span<const float> audio,
                     std::vector<earshot::Detection>& events) {
  detector.reset();
  events.clear();
  for (std::size_t start = 0; start < audio.size(); start += kBlockSamples) {
    detector.accept_waveform(audio.subspan(start, std::min(kBlockSamples, audio.size() - start)),
                             events);
  }
  benchmark::DoNotOptimize(events.data());
}

void set_counters(benchmark::State& state, double audio_s_per_iteration) {
  const double audio_s = audio_s_per_iteration * static_cast<double>(state.iterations());
  state.counters["x_real_time"] = benchmark::Counter(audio_s, benchmark::Counter::kIsRate);
  state.counters["cpu_s_per_audio_hour"] = benchmark::Counter(
      audio_s / kSecondsPerHour, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_DetectorOneThread(benchmark::State& state) {
  const auto model = random_model(1, shape_for(state.range(0)));
  const std::vector<float> audio = test_audio(kAudioSeconds);
  earshot::Detector detector(model, earshot::DetectorConfig::for_model(*model));
  std::vector<earshot::Detection> events;
  for (auto _ : state)
    label_in_blocks(detector, audio, events);
  set_counters(state, kAudioSeconds);
  state.SetLabel(state.range(0) == 0 ? "ModelShape defaults" : "reference size");
}
BENCHMARK(BM_DetectorOneThread)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// 1, 2, 4, ... up to the machine's cores (and the cores themselves if not a power of two).
std::vector<int> thread_counts() {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<int> counts;
  for (int threads = 1; threads < cores; threads *= 2)
    counts.push_back(threads);
  counts.push_back(cores);
  return counts;
}

// Every thread labels the same audio with its own Detector; the Model is shared.
void BM_DetectorThreads(benchmark::State& state) {
  static const auto model = random_model(1, shape_for(0));
  static const std::vector<float> audio = test_audio(kAudioSeconds);
  earshot::Detector detector(model, earshot::DetectorConfig::for_model(*model));
  std::vector<earshot::Detection> events;
  for (auto _ : state)
    label_in_blocks(detector, audio, events);
  set_counters(state, kAudioSeconds);
}
BENCHMARK(BM_DetectorThreads)
    ->Apply([](benchmark::internal::Benchmark* b) {
      for (const int threads : thread_counts())
        b->Threads(threads);
    })
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

constexpr int kBatchFiles = 8;
constexpr double kBatchFileSeconds = 30.0;

std::vector<std::filesystem::path> batch_files() {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "earshot_bench_label";
  std::filesystem::create_directories(dir);
  const std::vector<float> audio = test_audio(kBatchFileSeconds);
  std::vector<std::filesystem::path> files;
  for (int i = 0; i < kBatchFiles; ++i) {
    files.push_back(dir / ("clip" + std::to_string(i) + ".wav"));
    earshot::write_audio(files.back(), audio);
  }
  return files;
}

void BM_LabelFiles(benchmark::State& state) {
  static const std::vector<std::filesystem::path> files = batch_files();
  const auto model = random_model(1, shape_for(0));
  const auto threads = static_cast<int>(state.range(0));
  earshot::BatchCallbacks callbacks;
  std::size_t detections = 0;
  callbacks.deliver = [&](std::size_t, earshot::LabelOutcome& outcome) {
    if (outcome.labels) detections += outcome.labels->detections.size();
  };
  for (auto _ : state) {
    earshot::label_files(model, earshot::DetectorConfig::for_model(*model), files, {}, threads,
                         callbacks);
  }
  benchmark::DoNotOptimize(detections);
  set_counters(state, kBatchFiles * kBatchFileSeconds);
}
BENCHMARK(BM_LabelFiles)
    ->Apply([](benchmark::internal::Benchmark* b) {
      for (const int threads : thread_counts())
        b->Arg(threads);
    })
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
