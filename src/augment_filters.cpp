// Biquad filters (audio-EQ cookbook designs): the building block of EQ and band-limiting.
#include <cmath>
#include <numbers>

#include "earshot/synth.hpp"

namespace earshot {

namespace {

// Shared by the cookbook designs: normalises by a0 so the filter loop needs no division.
Biquad normalised(double b0, double b1, double b2, double a0, double a1, double a2) {
  return Biquad{b0 / a0, b1 / a0, b2 / a0, a1 / a0, a2 / a0};
}

double angular_frequency(double frequency_hz, double sample_rate_hz) {
  return 2.0 * std::numbers::pi * frequency_hz / sample_rate_hz;
}

}  // namespace

Biquad Biquad::low_pass(double cutoff_hz, double q, double sample_rate_hz) {
  const double w0 = angular_frequency(cutoff_hz, sample_rate_hz);
  const double alpha = std::sin(w0) / (2.0 * q);
  const double cos_w0 = std::cos(w0);
  return normalised((1 - cos_w0) / 2, 1 - cos_w0, (1 - cos_w0) / 2, 1 + alpha, -2 * cos_w0,
                    1 - alpha);
}

Biquad Biquad::high_pass(double cutoff_hz, double q, double sample_rate_hz) {
  const double w0 = angular_frequency(cutoff_hz, sample_rate_hz);
  const double alpha = std::sin(w0) / (2.0 * q);
  const double cos_w0 = std::cos(w0);
  return normalised((1 + cos_w0) / 2, -(1 + cos_w0), (1 + cos_w0) / 2, 1 + alpha, -2 * cos_w0,
                    1 - alpha);
}

Biquad Biquad::peaking(double centre_hz, double q, double gain_db, double sample_rate_hz) {
  const double w0 = angular_frequency(centre_hz, sample_rate_hz);
  const double alpha = std::sin(w0) / (2.0 * q);
  const double cos_w0 = std::cos(w0);
  const double a = std::pow(10.0, gain_db / 40.0);
  return normalised(1 + alpha * a, -2 * cos_w0, 1 - alpha * a, 1 + alpha / a, -2 * cos_w0,
                    1 - alpha / a);
}

void apply_biquad(std::span<float> samples, const Biquad& filter) {
  // Transposed direct form II, state in double: stable for the low cut-offs used here.
  double s1 = 0.0;
  double s2 = 0.0;
  for (float& sample : samples) {
    const double x = sample;
    const double y = filter.b0 * x + s1;
    s1 = filter.b1 * x - filter.a1 * y + s2;
    s2 = filter.b2 * x - filter.a2 * y;
    sample = static_cast<float>(y);
  }
}

void apply_filters(std::span<float> samples, std::span<const Biquad> filters) {
  for (const Biquad& filter : filters)
    apply_biquad(samples, filter);
}

}  // namespace earshot
