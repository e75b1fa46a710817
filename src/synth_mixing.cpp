// Signal levels and mixing a word into a background at a chosen signal-to-noise ratio.
#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "earshot/error.hpp"
#include "earshot/synth.hpp"

namespace earshot {

double db_to_amplitude(double db) {
  return std::pow(10.0, db / 20.0);
}

double amplitude_to_db(double amplitude) {
  return 20.0 * std::log10(amplitude);
}

double rms(std::span<const float> samples) {
  if (samples.empty()) return 0.0;
  double energy = 0.0;
  for (const float x : samples)
    energy += static_cast<double>(x) * x;
  return std::sqrt(energy / static_cast<double>(samples.size()));
}

double peak_abs(std::span<const float> samples) {
  double peak = 0.0;
  for (const float x : samples)
    peak = std::max(peak, static_cast<double>(std::fabs(x)));
  return peak;
}

double peak_frame_rms(std::span<const float> samples) {
  if (samples.size() <= kLevelFrameSamples) return rms(samples);
  constexpr std::size_t hop = kLevelFrameSamples / 2;
  const std::size_t last_start = samples.size() - kLevelFrameSamples;
  double loudest = 0.0;
  for (std::size_t start = 0;; start += hop) {
    const std::size_t frame_start = std::min(start, last_start);
    loudest = std::max(loudest, rms(samples.subspan(frame_start, kLevelFrameSamples)));
    if (frame_start == last_start) break;
  }
  return loudest;
}

double mix_at_snr(std::span<float> mix, std::span<const float> background,
                  std::span<const float> word, std::size_t start, double snr_db) {
  if (start + word.size() > mix.size() || start + word.size() > background.size()) {
    throw Error(fmt::format("mix_at_snr: a {}-sample word at sample {} does not fit in {} samples",
                            word.size(), start, std::min(mix.size(), background.size())));
  }
  const double word_level = peak_frame_rms(word);
  if (!(word_level > 0)) return 0.0;  // nothing audible to add
  const double background_level =
      std::max(rms(background.subspan(start, word.size())), kMinBackgroundRms);
  const double gain = background_level * db_to_amplitude(snr_db) / word_level;
  for (std::size_t i = 0; i < word.size(); ++i) {
    mix[start + i] += static_cast<float>(gain * word[i]);
  }
  return gain;
}

}  // namespace earshot
