// Specification of the augmentation effects: speed perturbation, biquad filters, random EQ,
// band-limiting, mu-law, synthetic rooms and FFT convolution.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "earshot/synth.hpp"
#include "test_synth_fixtures.hpp"

namespace {

using earshot::Biquad;
using earshot::kSampleRate;
using earshot::rms;
using earshot::SynthRng;
using earshot::testing::make_sine;
using earshot::testing::zero_crossing_frequency_hz;

// Gain (dB) a filter gives a steady tone, measured after the filter has settled.
double tone_gain_db(const std::vector<Biquad>& filters, double frequency_hz) {
  std::vector<float> tone = make_sine(frequency_hz, 1.0, kSampleRate, 0.5f);
  const double before = rms(std::span(tone).subspan(8000));
  earshot::apply_filters(tone, filters);
  return earshot::amplitude_to_db(rms(std::span(tone).subspan(8000)) / before);
}

double tone_gain_db(const Biquad& filter, double frequency_hz) {
  return tone_gain_db(std::vector<Biquad>{filter}, frequency_hz);
}

TEST_CASE("speed 1.25 shortens a clip by 1.25 and raises its pitch by 1.25", "[augment]") {
  const auto tone = make_sine(400.0, 1.0, kSampleRate);
  const auto faster = earshot::change_speed(tone, 1.25);
  CHECK(static_cast<double>(faster.size()) == Approx(16000 / 1.25).margin(16));
  const auto middle = std::span(faster).subspan(1000, faster.size() - 2000);
  CHECK(zero_crossing_frequency_hz(middle, kSampleRate) == Approx(500.0).epsilon(0.01));
}

TEST_CASE("speed 0.8 lengthens a clip and lowers its pitch", "[augment]") {
  const auto tone = make_sine(400.0, 1.0, kSampleRate);
  const auto slower = earshot::change_speed(tone, 0.8);
  CHECK(static_cast<double>(slower.size()) == Approx(16000 / 0.8).margin(16));
  const auto middle = std::span(slower).subspan(1000, slower.size() - 2000);
  CHECK(zero_crossing_frequency_hz(middle, kSampleRate) == Approx(320.0).epsilon(0.01));
}

TEST_CASE("speed 1 returns the clip unchanged", "[augment]") {
  const auto tone = make_sine(400.0, 0.5, kSampleRate);
  CHECK(earshot::change_speed(tone, 1.0) == tone);
}

TEST_CASE("a non-positive speed is rejected", "[augment]") {
  const auto tone = make_sine(400.0, 0.5, kSampleRate);
  CHECK_THROWS_AS(earshot::change_speed(tone, 0.0), earshot::Error);
}

TEST_CASE("a 1 kHz low-pass passes 100 Hz, is -3 dB at 1 kHz and cuts 6 kHz", "[augment]") {
  const Biquad low_pass = Biquad::low_pass(1000.0, 0.7071, kSampleRate);
  CHECK(tone_gain_db(low_pass, 100.0) == Approx(0.0).margin(0.1));
  CHECK(tone_gain_db(low_pass, 1000.0) == Approx(-3.0).margin(0.2));
  CHECK(tone_gain_db(low_pass, 6000.0) < -25.0);
}

TEST_CASE("a 1 kHz high-pass cuts 100 Hz and passes 6 kHz", "[augment]") {
  const Biquad high_pass = Biquad::high_pass(1000.0, 0.7071, kSampleRate);
  CHECK(tone_gain_db(high_pass, 100.0) < -35.0);
  CHECK(tone_gain_db(high_pass, 6000.0) == Approx(0.0).margin(0.3));
}

TEST_CASE("a +6 dB peaking filter boosts its centre by 6 dB and leaves far bands alone",
          "[augment]") {
  const Biquad peak = Biquad::peaking(2000.0, 1.0, 6.0, kSampleRate);
  CHECK(tone_gain_db(peak, 2000.0) == Approx(6.0).margin(0.1));
  CHECK(tone_gain_db(peak, 100.0) == Approx(0.0).margin(0.2));
}

TEST_CASE("random EQ draws 1 to 3 bands within the gain limit", "[augment]") {
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    SynthRng rng(seed);
    const auto bands = earshot::draw_random_eq(rng, 8.0);
    REQUIRE(bands.size() >= 1);
    REQUIRE(bands.size() <= 3);
    // No single tone can be boosted or cut by more than the bands' limits combined.
    REQUIRE(std::abs(tone_gain_db(bands, 1000.0)) <= 8.0 * 3 + 0.5);
  }
}

TEST_CASE("the telephone channel cuts 100 Hz and 6 kHz and passes 1 kHz", "[augment]") {
  const earshot::BandLimit telephone{true, 8000};
  auto measure = [&](double frequency_hz) {
    std::vector<float> tone = make_sine(frequency_hz, 1.0, kSampleRate, 0.5f);
    earshot::apply_band_limit(tone, telephone);
    return earshot::amplitude_to_db(rms(std::span(tone).subspan(8000)) / (0.5 / std::sqrt(2.0)));
  };
  CHECK(measure(1000.0) == Approx(0.0).margin(1.0));
  CHECK(measure(100.0) < -30.0);
  CHECK(measure(6000.0) < -30.0);
}

TEST_CASE("mu-law keeps a signal within 8-bit companding error of itself", "[augment]") {
  std::vector<float> tone = make_sine(440.0, 0.25, kSampleRate, 0.5f);
  const std::vector<float> original = tone;
  earshot::apply_mu_law(tone);
  double error_energy = 0;
  for (std::size_t i = 0; i < tone.size(); ++i) {
    error_energy += (tone[i] - original[i]) * static_cast<double>(tone[i] - original[i]);
  }
  const double snr_db =
      earshot::amplitude_to_db(rms(original) / std::sqrt(error_energy / tone.size()));
  CHECK(snr_db > 30.0);  // G.711 gives about 38 dB on a full-scale tone
  CHECK(snr_db < 50.0);  // and it did quantise
}

TEST_CASE("FFT convolution equals direct convolution", "[augment]") {
  const std::vector<float> signal = earshot::testing::noise(0.05, 8);
  const std::vector<float> response = earshot::testing::noise(0.01, 9);
  const std::vector<float> fast = earshot::convolve(signal, response);
  REQUIRE(fast.size() == signal.size() + response.size() - 1);
  for (std::size_t n = 0; n < fast.size(); n += 37) {
    double direct = 0;
    for (std::size_t k = 0; k < response.size(); ++k) {
      if (n >= k && n - k < signal.size())
        direct += static_cast<double>(signal[n - k]) * response[k];
    }
    REQUIRE(fast[n] == Approx(direct).margin(1e-5));
  }
}

TEST_CASE("a room response starts with the direct path and decays 60 dB in RT60", "[augment]") {
  SynthRng rng(10);
  const double rt60_s = 0.4;
  const auto response = earshot::make_room_impulse_response(rt60_s, 0.0, rng);
  CHECK(response[0] == 1.0f);
  // Energy in 50 ms windows at 0.05 s and 0.25 s: 0.2 s apart is 30 dB of decay for 0.4 s RT60.
  const auto window_energy_db = [&](double start_s) {
    const auto start = static_cast<std::size_t>(start_s * kSampleRate);
    return 20 * std::log10(rms(std::span(response).subspan(start, 800)));
  };
  CHECK(window_energy_db(0.05) - window_energy_db(0.25) == Approx(30.0).margin(3.0));
}

TEST_CASE("a room response's tail carries the requested direct-to-reverb ratio", "[augment]") {
  SynthRng rng(11);
  const auto response = earshot::make_room_impulse_response(0.5, 6.0, rng);
  double tail_energy = 0;
  for (std::size_t n = 1; n < response.size(); ++n)
    tail_energy += response[n] * response[n];
  CHECK(10 * std::log10(1.0 / tail_energy) == Approx(6.0).margin(0.01));
}

}  // namespace
