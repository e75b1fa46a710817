// Band-limited channels: telephone lines and dull microphones.
#include <algorithm>
#include <cmath>

#include "earshot/audio_io.hpp"
#include "earshot/synth.hpp"

namespace earshot {

namespace {

constexpr double kButterworthQ = 0.7071067811865476;
constexpr double kTelephoneLowHz = 300.0;
constexpr double kTelephoneHighHz = 3400.0;
constexpr double kMuLaw = 255.0;
constexpr double kMuLawSteps = 127.0;  // 8 bits: sign + 7-bit magnitude

// Two cascaded second-order sections: a 24 dB/octave slope, steep enough to sound like a
// real band edge.
void apply_twice(std::span<float> samples, const Biquad& filter) {
  apply_biquad(samples, filter);
  apply_biquad(samples, filter);
}

}  // namespace

BandLimit draw_band_limit(SynthRng& rng) {
  BandLimit band_limit;
  band_limit.telephone = rng.chance(0.5);
  band_limit.low_pass_hz = rng.uniform(3000.0, 7000.0);
  return band_limit;
}

void apply_mu_law(std::span<float> samples) {
  const double peak = peak_abs(samples);
  if (!(peak > 0)) return;
  for (float& sample : samples) {
    const double x = sample / peak;
    const double compressed =
        std::copysign(std::log1p(kMuLaw * std::fabs(x)) / std::log1p(kMuLaw), x);
    const double quantised = std::round(compressed * kMuLawSteps) / kMuLawSteps;
    const double expanded =
        std::copysign((std::pow(1.0 + kMuLaw, std::fabs(quantised)) - 1.0) / kMuLaw, quantised);
    sample = static_cast<float>(expanded * peak);
  }
}

void apply_band_limit(std::span<float> samples, const BandLimit& band_limit) {
  if (band_limit.telephone) {
    apply_twice(samples, Biquad::high_pass(kTelephoneLowHz, kButterworthQ, kSampleRate));
    apply_twice(samples, Biquad::low_pass(kTelephoneHighHz, kButterworthQ, kSampleRate));
    apply_mu_law(samples);
  } else {
    apply_twice(samples, Biquad::low_pass(band_limit.low_pass_hz, kButterworthQ, kSampleRate));
  }
}

}  // namespace earshot
