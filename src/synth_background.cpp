// Backgrounds: random excerpts of noise recordings, several layered per clip.
#include <algorithm>

#include "earshot/synth.hpp"

namespace earshot {

namespace {

// Every layer is brought to this RMS (-26 dBFS) before its relative gain; the final output
// level is set later, so this only keeps the numbers in a familiar range.
constexpr double kLayerRms = 0.05;

}  // namespace

const SourceClip& pick_clip(std::span<const SourceCollection> collections, SynthRng& rng) {
  double total_weight = 0.0;
  for (const SourceCollection& collection : collections)
    total_weight += collection.weight;
  const double target = rng.uniform() * total_weight;
  double cumulative = 0.0;
  const SourceCollection* chosen = &collections.back();
  for (const SourceCollection& collection : collections) {
    cumulative += collection.weight;
    if (target < cumulative) {
      chosen = &collection;
      break;
    }
  }
  return chosen->clips[rng.index(chosen->clips.size())];
}

std::vector<float> background_excerpt(const SourceClip& clip, std::size_t length, SynthRng& rng) {
  const std::vector<float>& source = clip.samples;
  std::vector<float> excerpt(length, 0.0f);
  if (source.empty()) return excerpt;
  if (source.size() >= length) {
    const std::size_t offset = rng.index(source.size() - length + 1);
    std::copy_n(source.begin() + static_cast<std::ptrdiff_t>(offset), length, excerpt.begin());
    return excerpt;
  }
  // Shorter than the clip: loop it, starting anywhere, so short noises still fill a clip.
  std::size_t position = rng.index(source.size());
  for (float& sample : excerpt) {
    sample = source[position];
    if (++position == source.size()) position = 0;
  }
  return excerpt;
}

std::vector<float> Synthesizer::make_background(SynthRng& rng,
                                                std::vector<std::string>& names) const {
  const std::size_t length = config_.samples_per_clip();
  std::vector<float> mix(length, 0.0f);
  const int layer_count = rng.integer(1, config_.background_mix_max);
  for (int layer = 0; layer < layer_count; ++layer) {
    const SourceClip& clip = pick_clip(backgrounds_, rng);
    const std::vector<float> excerpt = background_excerpt(clip, length, rng);
    const double relative_db =
        layer == 0 ? 0.0
                   : rng.uniform(config_.background_gain_db_min, config_.background_gain_db_max);
    const double level = rms(excerpt);
    names.push_back(clip.name);
    if (!(level > 0)) continue;  // a silent stretch adds nothing
    const double gain = kLayerRms * db_to_amplitude(relative_db) / level;
    for (std::size_t i = 0; i < length; ++i)
      mix[i] += static_cast<float>(gain * excerpt[i]);
  }
  return mix;
}

}  // namespace earshot
