// Synthetic rooms: exponentially decaying noise impulse responses and FFT convolution.
#include <fmt/core.h>
#include <kissfft/kiss_fftr.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "earshot/audio_io.hpp"
#include "earshot/error.hpp"
#include "earshot/synth.hpp"

namespace earshot {

namespace {

constexpr double kDecay60Db = 6.907755278982137;  // ln(1000): amplitude falls 60 dB
constexpr double kMaxPreDelayS = 0.01;
constexpr double kMaxTailS = 1.0;  // beyond this a tail only costs time

struct FftrDeleter {
  void operator()(kiss_fftr_state* state) const { kiss_fftr_free(state); }
};
using FftrPlan = std::unique_ptr<kiss_fftr_state, FftrDeleter>;

FftrPlan make_plan(int size, bool inverse) {
  FftrPlan plan(kiss_fftr_alloc(size, inverse ? 1 : 0, nullptr, nullptr));
  if (!plan) throw Error(fmt::format("convolve: cannot allocate a {}-point FFT", size));
  return plan;
}

std::size_t next_power_of_two(std::size_t n) {
  std::size_t size = 2;
  while (size < n)
    size *= 2;
  return size;
}

std::vector<kiss_fft_cpx> spectrum(const FftrPlan& plan, std::span<const float> signal,
                                   std::size_t fft_size) {
  std::vector<kiss_fft_scalar> padded(fft_size, 0.0f);
  std::copy(signal.begin(), signal.end(), padded.begin());
  std::vector<kiss_fft_cpx> bins(fft_size / 2 + 1);
  kiss_fftr(plan.get(), padded.data(), bins.data());
  return bins;
}

}  // namespace

std::vector<float> make_room_impulse_response(double rt60_s, double direct_to_reverb_db,
                                              SynthRng& rng) {
  if (!(rt60_s > 0)) throw Error(fmt::format("reverb: RT60 must be > 0 s, got {}", rt60_s));
  const auto pre_delay = static_cast<std::size_t>(rng.uniform(0.001, kMaxPreDelayS) * kSampleRate);
  const auto tail_length = static_cast<std::size_t>(std::min(rt60_s, kMaxTailS) * kSampleRate);
  std::vector<float> response(1 + pre_delay + tail_length, 0.0f);
  response[0] = 1.0f;
  const double decay_per_sample = kDecay60Db / (rt60_s * kSampleRate);
  double tail_energy = 0.0;
  for (std::size_t n = 0; n < tail_length; ++n) {
    const double value = rng.normal() * std::exp(-decay_per_sample * static_cast<double>(n));
    response[1 + pre_delay + n] = static_cast<float>(value);
    tail_energy += value * value;
  }
  // Scale the tail so the direct path (energy 1) stands direct_to_reverb_db above it.
  if (!(tail_energy > 0)) return response;
  const double tail_gain = std::sqrt(std::pow(10.0, -direct_to_reverb_db / 10.0) / tail_energy);
  for (std::size_t n = 1 + pre_delay; n < response.size(); ++n) {
    response[n] = static_cast<float>(response[n] * tail_gain);
  }
  return response;
}

std::vector<float> convolve(std::span<const float> signal, std::span<const float> response) {
  if (signal.empty() || response.empty()) return {};
  const std::size_t output_length = signal.size() + response.size() - 1;
  const std::size_t fft_size = next_power_of_two(output_length);
  const FftrPlan forward = make_plan(static_cast<int>(fft_size), false);
  const FftrPlan inverse = make_plan(static_cast<int>(fft_size), true);

  std::vector<kiss_fft_cpx> product = spectrum(forward, signal, fft_size);
  const std::vector<kiss_fft_cpx> response_bins = spectrum(forward, response, fft_size);
  for (std::size_t k = 0; k < product.size(); ++k) {
    const kiss_fft_cpx a = product[k];
    const kiss_fft_cpx b = response_bins[k];
    product[k].r = a.r * b.r - a.i * b.i;
    product[k].i = a.r * b.i + a.i * b.r;
  }
  std::vector<kiss_fft_scalar> time(fft_size);
  kiss_fftri(inverse.get(), product.data(), time.data());
  // KissFFT's inverse is unnormalised: it returns fft_size times the signal.
  const float scale = 1.0f / static_cast<float>(fft_size);
  std::vector<float> output(output_length);
  for (std::size_t i = 0; i < output_length; ++i)
    output[i] = time[i] * scale;
  return output;
}

}  // namespace earshot
