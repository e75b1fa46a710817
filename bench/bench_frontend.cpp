// Cost of the streaming front end per second of audio, as a multiple of real time.
//
// Each iteration streams 10 s of 16 kHz audio through one FrontEnd in 10 ms chunks (as the
// live path does), popping every frame as soon as it is ready. Counters (Google Benchmark
// prints rates with a "/s" suffix: "x_real_time=5k/s" means 5000 times real time):
//   x_real_time        audio seconds processed per CPU second (target for mel: >= 2500)
//   cpu_s_per_audio_s  CPU seconds per audio second (target for mel: < 400us)
#include <benchmark/benchmark.h>

#include <cstdint>
#include <earshot/frontend.hpp>
#include <random>
#include <span>
#include <vector>

namespace {

constexpr int kSampleRate = 16000;
constexpr double kAudioSeconds = 10.0;

std::vector<float> seeded_noise(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<float> samples(static_cast<std::size_t>(kAudioSeconds * kSampleRate));
  for (float& sample : samples) {
    const double uniform = static_cast<double>(rng() >> 11) * 0x1.0p-53;
    sample = static_cast<float>(0.5 * (2.0 * uniform - 1.0));
  }
  return samples;
}

void stream_ten_seconds(benchmark::State& state, earshot::SpectrumScale scale,
                        earshot::Compression compression = earshot::Compression::kLog) {
  earshot::FrontEndConfig config;
  config.scale = scale;
  config.compression = compression;
  const std::vector<float> audio = seeded_noise(1);
  earshot::FrontEnd front_end(config);
  std::vector<float> frame(front_end.feature_dim());
  const auto chunk_samples = static_cast<std::size_t>(config.hop_samples);
  for (auto _ : state) {
    front_end.reset();
    for (std::size_t start = 0; start + chunk_samples <= audio.size(); start += chunk_samples) {
      front_end.accept_waveform(std::span(audio).subspan(start, chunk_samples));
      while (front_end.pop_frame(frame))
        benchmark::DoNotOptimize(frame.data());
    }
    benchmark::ClobberMemory();
  }
  const double audio_seconds = kAudioSeconds * static_cast<double>(state.iterations());
  state.counters["x_real_time"] = benchmark::Counter(audio_seconds, benchmark::Counter::kIsRate);
  state.counters["cpu_s_per_audio_s"] =
      benchmark::Counter(audio_seconds, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_FrontEndMel(benchmark::State& state) {
  stream_ten_seconds(state, earshot::SpectrumScale::kMel);
}
void BM_FrontEndLinear(benchmark::State& state) {
  stream_ten_seconds(state, earshot::SpectrumScale::kLinear);
}
// PCEN in place of the log: two powers per band instead of one log.
void BM_FrontEndMelPcen(benchmark::State& state) {
  stream_ten_seconds(state, earshot::SpectrumScale::kMel, earshot::Compression::kPcen);
}

BENCHMARK(BM_FrontEndMel)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FrontEndLinear)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FrontEndMelPcen)->Unit(benchmark::kMillisecond);

}  // namespace
