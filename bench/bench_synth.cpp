// Cost of synthesizing training clips, as clip-seconds made per second (target >= 50x real
// time on the 2-core machine, for the whole `earshot synth` run including WAV writing).
//
// Sources are made in memory (tone "words", noise backgrounds) so no TTS is needed. Counters
// (Google Benchmark prints rates with a "/s" suffix: "x_real_time=400/s" means 400 clip-
// seconds per second):
//   x_real_time   clip-seconds per CPU second (single clip) or per wall second (dataset runs)
#include <benchmark/benchmark.h>
#include <fmt/core.h>

#include <cmath>
#include <filesystem>
#include <numbers>
#include <vector>

#include "earshot/audio_io.hpp"
#include "earshot/synth.hpp"

namespace {

namespace fs = std::filesystem;
using earshot::kSampleRate;
using earshot::SourceClip;
using earshot::SourceCollection;
using earshot::SynthConfig;

std::vector<float> tone(double frequency_hz, double duration_s) {
  std::vector<float> samples(static_cast<std::size_t>(duration_s * kSampleRate));
  for (std::size_t i = 0; i < samples.size(); ++i) {
    samples[i] = static_cast<float>(0.3 * std::sin(2.0 * std::numbers::pi * frequency_hz *
                                                   static_cast<double>(i) / kSampleRate));
  }
  return samples;
}

std::vector<float> noise(double duration_s, std::uint64_t seed) {
  earshot::SynthRng rng(seed);
  std::vector<float> samples(static_cast<std::size_t>(duration_s * kSampleRate));
  for (float& sample : samples)
    sample = static_cast<float>(0.1 * rng.normal());
  return samples;
}

// Words of 0.5-1.0 s (TTS clips of one word are about this long), backgrounds of 60 s.
std::vector<SourceCollection> words(const char* name, double base_hz) {
  SourceCollection collection{name, 1.0, {}};
  for (int i = 0; i < 8; ++i) {
    collection.clips.push_back(
        {fmt::format("{}{}.wav", name, i), "", tone(base_hz + 40.0 * i, 0.5 + 0.07 * i)});
  }
  return {collection};
}

earshot::Synthesizer make_synthesizer(const SynthConfig& config) {
  SourceCollection backgrounds{"noise", 1.0, {}};
  for (std::uint64_t i = 0; i < 3; ++i) {
    backgrounds.clips.push_back({fmt::format("noise{}.wav", i), "", noise(60.0, i)});
  }
  return earshot::Synthesizer(config, words("trigger", 300.0), words("negative", 900.0),
                              {backgrounds});
}

SynthConfig all_effects() {
  SynthConfig config;
  config.eq_prob = 1.0;
  config.reverb_prob = 1.0;
  config.bandlimit_prob = 1.0;
  return config;
}

void report_rate(benchmark::State& state, double clip_seconds) {
  state.counters["x_real_time"] = benchmark::Counter(clip_seconds, benchmark::Counter::kIsRate);
}

// One 10 s clip in memory with the default effect probabilities.
void BM_SynthesizeClipDefault(benchmark::State& state) {
  const auto synthesizer = make_synthesizer(SynthConfig{});
  std::size_t index = 0;
  for (auto _ : state)
    benchmark::DoNotOptimize(synthesizer.synthesize(1, index++));
  report_rate(state, static_cast<double>(index) * 10.0);
}
BENCHMARK(BM_SynthesizeClipDefault)->Unit(benchmark::kMillisecond);

// The worst case: every word reverberated and equalised, every clip band-limited.
void BM_SynthesizeClipAllEffects(benchmark::State& state) {
  const auto synthesizer = make_synthesizer(all_effects());
  std::size_t index = 0;
  for (auto _ : state)
    benchmark::DoNotOptimize(synthesizer.synthesize(1, index++));
  report_rate(state, static_cast<double>(index) * 10.0);
}
BENCHMARK(BM_SynthesizeClipAllEffects)->Unit(benchmark::kMillisecond);

// What `earshot synth` does: 40 clips written to disk as WAV, with 1 or 2 threads.
void BM_SynthesizeDatasetToDisk(benchmark::State& state) {
  const auto synthesizer = make_synthesizer(SynthConfig{});
  const fs::path out = fs::temp_directory_path() / "earshot_bench_synth";
  earshot::DatasetRun run;
  run.out_dir = out;
  run.clip_count = 40;
  run.threads = static_cast<int>(state.range(0));
  double clip_seconds = 0;
  for (auto _ : state) {
    clip_seconds += earshot::synthesize_dataset(synthesizer, run).audio_s;
    ++run.seed;
  }
  report_rate(state, clip_seconds);
  fs::remove_all(out);
}
BENCHMARK(BM_SynthesizeDatasetToDisk)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
