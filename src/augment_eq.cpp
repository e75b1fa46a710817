// Random peaking EQ: a different microphone, mouth or room colour for every insert.
#include "earshot/audio_io.hpp"
#include "earshot/synth.hpp"

namespace earshot {

std::vector<Biquad> draw_random_eq(SynthRng& rng, double max_gain_db) {
  const int band_count = rng.integer(1, 3);
  std::vector<Biquad> bands;
  bands.reserve(static_cast<std::size_t>(band_count));
  for (int band = 0; band < band_count; ++band) {
    const double centre_hz = rng.log_uniform(80.0, 7000.0);
    const double gain_db = rng.uniform(-max_gain_db, max_gain_db);
    const double q = rng.uniform(0.5, 2.0);
    bands.push_back(Biquad::peaking(centre_hz, q, gain_db, kSampleRate));
  }
  return bands;
}

}  // namespace earshot
