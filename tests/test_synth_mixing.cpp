// Specification of levels and mixing: speech level on its loudest 32 ms frame, and words
// mixed in at the requested SNR (checked on the mix against the background alone).
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "earshot/synth.hpp"
#include "test_synth_fixtures.hpp"

namespace {

using earshot::amplitude_to_db;
using earshot::mix_at_snr;
using earshot::peak_frame_rms;
using earshot::rms;
using earshot::testing::noise;
using earshot::testing::tone_word;

// The SNR as a listener of the finished mix would measure it: the mix minus the background
// is the word; its loudest frame against the background's RMS over the word's span.
double measured_snr_db(const std::vector<float>& mix, const std::vector<float>& background,
                       std::size_t start, std::size_t length) {
  std::vector<float> word(length);
  for (std::size_t i = 0; i < length; ++i)
    word[i] = mix[start + i] - background[start + i];
  const double background_level = rms(std::span(background).subspan(start, length));
  return amplitude_to_db(peak_frame_rms(word) / background_level);
}

TEST_CASE("a steady tone's loudest-frame level equals its RMS", "[mixing]") {
  const auto tone = earshot::testing::make_sine(500.0, 1.0, earshot::kSampleRate, 0.5f);
  CHECK(peak_frame_rms(tone) == Approx(0.5 / std::sqrt(2.0)).epsilon(0.01));
}

TEST_CASE("loudest-frame level ignores the silence around a short word", "[mixing]") {
  // 0.1 s of tone inside 2 s of silence: plain RMS drops by sqrt(20), the frame level does not.
  std::vector<float> padded(32000, 0.0f);
  const auto tone = earshot::testing::make_sine(500.0, 0.1, earshot::kSampleRate, 0.5f);
  std::copy(tone.begin(), tone.end(), padded.begin() + 16000);
  CHECK(peak_frame_rms(padded) == Approx(peak_frame_rms(tone)).epsilon(0.02));
  CHECK(rms(padded) < peak_frame_rms(padded) / 4);
}

TEST_CASE("loudest-frame level finds a burst in the last partial frame", "[mixing]") {
  std::vector<float> samples(1000, 0.0f);
  for (std::size_t i = 900; i < 1000; ++i)
    samples[i] = 1.0f;
  CHECK(peak_frame_rms(samples) == Approx(std::sqrt(100.0 / 512.0)));
}

TEST_CASE("a word is mixed at the requested SNR within 0.5 dB", "[mixing]") {
  const std::vector<float> background = noise(10.0, 5, 0.05f);
  const std::vector<float> word = tone_word(700.0, 0.6);
  for (const double snr_db : {-5.0, 0.0, 7.5, 20.0}) {
    std::vector<float> mix = background;
    mix_at_snr(mix, background, word, 40000, snr_db);
    CHECK(measured_snr_db(mix, background, 40000, word.size()) == Approx(snr_db).margin(0.5));
  }
}

TEST_CASE("mixing leaves the background outside the word's span untouched", "[mixing]") {
  const std::vector<float> background = noise(2.0, 6);
  const std::vector<float> word = tone_word(700.0, 0.25);
  std::vector<float> mix = background;
  mix_at_snr(mix, background, word, 8000, 10.0);
  CHECK(std::equal(mix.begin(), mix.begin() + 8000, background.begin()));
  CHECK(std::equal(mix.begin() + 8000 + static_cast<std::ptrdiff_t>(word.size()), mix.end(),
                   background.begin() + 8000 + static_cast<std::ptrdiff_t>(word.size())));
}

TEST_CASE("over digital silence a word is scaled against the level floor, not infinitely",
          "[mixing]") {
  const std::vector<float> silence(16000, 0.0f);
  const std::vector<float> word = tone_word(700.0, 0.25);
  std::vector<float> mix = silence;
  const double gain = mix_at_snr(mix, silence, word, 0, 20.0);
  CHECK(std::isfinite(gain));
  CHECK(peak_frame_rms(mix) == Approx(earshot::kMinBackgroundRms * 10.0).epsilon(0.01));
}

TEST_CASE("a word that does not fit is an error, not a write past the end", "[mixing]") {
  const std::vector<float> background(1000, 0.1f);
  std::vector<float> mix = background;
  const std::vector<float> word(200, 0.5f);
  CHECK_THROWS_AS(mix_at_snr(mix, background, word, 900, 0.0), earshot::Error);
}

}  // namespace
