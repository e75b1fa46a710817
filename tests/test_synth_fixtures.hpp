// Raw material for synthesis tests, made in the test: tone bursts stand in for words and
// seeded Gaussian noise for backgrounds, so no TTS engine or recording is needed.
#pragma once

#include <cmath>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <string>
#include <vector>

#include "audio_helpers.hpp"
#include "earshot/audio_io.hpp"
#include "earshot/synth.hpp"

namespace earshot::testing {

// A "word": a tone with 20 ms fades, so it starts and ends cleanly.
inline std::vector<float> tone_word(double frequency_hz, double duration_s,
                                    float amplitude = 0.3f) {
  std::vector<float> word = make_sine(frequency_hz, duration_s, kSampleRate, amplitude);
  const std::size_t fade = kSampleRate / 50;
  for (std::size_t i = 0; i < fade && i < word.size(); ++i) {
    const auto ramp = static_cast<float>(i) / static_cast<float>(fade);
    word[i] *= ramp;
    word[word.size() - 1 - i] *= ramp;
  }
  return word;
}

inline std::vector<float> noise(double duration_s, std::uint64_t seed, float amplitude = 0.1f) {
  SynthRng rng(seed);
  std::vector<float> samples(static_cast<std::size_t>(duration_s * kSampleRate));
  for (float& sample : samples)
    sample = static_cast<float>(amplitude * rng.normal());
  return samples;
}

struct SourceDirectories {
  std::filesystem::path triggers;
  std::filesystem::path negatives;
  std::filesystem::path backgrounds;
};

// Three trigger tones, two negative tones and two noise backgrounds (one shorter than a clip,
// so looping is exercised), with a voice manifest for the triggers.
inline SourceDirectories write_sources(const std::filesystem::path& root) {
  const SourceDirectories dirs{root / "triggers", root / "negatives", root / "backgrounds"};
  for (const auto& dir : {dirs.triggers, dirs.negatives, dirs.backgrounds}) {
    std::filesystem::create_directories(dir);
  }
  write_audio(dirs.triggers / "t1.wav", tone_word(440.0, 0.6));
  write_audio(dirs.triggers / "t2.wav", tone_word(660.0, 0.8));
  write_audio(dirs.triggers / "t3.wav", tone_word(550.0, 0.5));
  std::ofstream(dirs.triggers / "manifest.tsv") << "file\ttext\tengine\tvoice\tpitch\tspeed\n"
                                                   "t1.wav\tactivate\ttone\ttone:a\t0\t0\n"
                                                   "t2.wav\tactivate\ttone\ttone:b\t0\t0\n";
  write_audio(dirs.negatives / "n1.wav", tone_word(1200.0, 0.4));
  write_audio(dirs.negatives / "n2.wav", tone_word(300.0, 0.7));
  write_audio(dirs.backgrounds / "long.wav", noise(12.0, 1));
  write_audio(dirs.backgrounds / "short.wav", noise(3.0, 2, 0.05f));
  return dirs;
}

inline std::vector<SourceCollection> load_collection(const std::filesystem::path& path,
                                                     double max_duration_s = 0) {
  const SourceSpec spec{path, 1.0};
  SourceLimits limits;
  limits.max_duration_s = max_duration_s;
  return load_sources(std::span(&spec, 1), limits).collections;
}

// A config with every random effect off: words go in as recorded, so levels and positions
// can be checked exactly.
inline SynthConfig plain_config() {
  SynthConfig config;
  config.speed_min = config.speed_max = 1.0;
  config.eq_prob = 0;
  config.reverb_prob = 0;
  config.bandlimit_prob = 0;
  config.clipping_prob = 0;
  return config;
}

inline Synthesizer make_synthesizer(const SourceDirectories& dirs, const SynthConfig& config) {
  return Synthesizer(config, load_collection(dirs.triggers), load_collection(dirs.negatives),
                     load_collection(dirs.backgrounds));
}

}  // namespace earshot::testing
