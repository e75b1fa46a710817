// Specification of the streaming spectrogram front end (include/earshot/frontend.hpp).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <earshot/audio_io.hpp>
#include <earshot/error.hpp>
#include <earshot/frontend.hpp>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <numbers>
#include <random>
#include <span>
#include <vector>

#include "allocation_helpers.hpp"
#include "frontend_stream_helpers.hpp"

namespace {

using Catch::Matchers::Contains;
using earshot::FrontEnd;
using earshot::FrontEndConfig;
using earshot::SpectrumScale;
using earshot::testing::bit_identical;
using earshot::testing::stream_in_chunks;

using earshot::kSampleRate;

// Seeded uniform noise (peak 0.1) plus two tones whose levels change over time, so frames differ.
std::vector<float> noise_and_tones(double seconds, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  const auto n = static_cast<std::size_t>(seconds * kSampleRate);
  std::vector<float> samples(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double uniform = static_cast<double>(rng() >> 11) * 0x1.0p-53;
    const double t = static_cast<double>(i) / kSampleRate;
    const double tones =
        0.3 * std::sin(2 * std::numbers::pi * 440.0 * t) * (0.5 + 0.5 * t / seconds) +
        0.2 * std::sin(2 * std::numbers::pi * 2500.0 * t);
    samples[i] = static_cast<float>(0.1 * (2.0 * uniform - 1.0) + tones);
  }
  return samples;
}

std::vector<float> tone(double hz, double seconds, double amplitude = 0.5) {
  std::vector<float> samples(static_cast<std::size_t>(seconds * kSampleRate));
  for (std::size_t i = 0; i < samples.size(); ++i) {
    samples[i] = static_cast<float>(
        amplitude * std::sin(2 * std::numbers::pi * hz * static_cast<double>(i) / kSampleRate));
  }
  return samples;
}

std::size_t argmax(std::span<const float> values) {
  return static_cast<std::size_t>(std::max_element(values.begin(), values.end()) - values.begin());
}

// The band whose HTK-mel centre is nearest `hz`, from the formula in the header.
std::size_t nearest_mel_band(double hz, const FrontEndConfig& config) {
  const auto mel = [](double f) { return 2595.0 * std::log10(1.0 + f / 700.0); };
  const double low = mel(config.mel_low_hz);
  const double step = (mel(config.mel_high_hz) - low) / (config.num_mel_bands + 1);
  const double band = (mel(hz) - low) / step - 1.0;  // band m is centred at low + (m+1) step
  return static_cast<std::size_t>(std::lround(band));
}

// The header's formula for one frame's power spectrum, by a direct DFT in double precision.
std::vector<double> reference_power(std::span<const float> frame_samples, const FrontEndConfig& c) {
  const double two_pi = 2 * std::numbers::pi;
  std::vector<double> power(c.fft_size / 2 + 1);
  for (std::size_t k = 0; k < power.size(); ++k) {
    double re = 0.0;
    double im = 0.0;
    for (int t = 0; t < c.window_samples; ++t) {
      const double hann = 0.5 - 0.5 * std::cos(two_pi * t / c.window_samples);
      const double x = 32768.0 * frame_samples[t] * hann;
      re += x * std::cos(two_pi * static_cast<double>(k) * t / c.fft_size);
      im -= x * std::sin(two_pi * static_cast<double>(k) * t / c.fft_size);
    }
    power[k] = re * re + im * im;
  }
  return power;
}

// The header's mel formula: triangle m rises from corner m to corner m+1 and falls to m+2.
std::vector<double> reference_mel(const std::vector<double>& power, const FrontEndConfig& c) {
  const auto mel = [](double f) { return 2595.0 * std::log10(1.0 + f / 700.0); };
  const double low = mel(c.mel_low_hz);
  const double step = (mel(c.mel_high_hz) - low) / (c.num_mel_bands + 1);
  std::vector<double> bands(c.num_mel_bands);
  for (int m = 0; m < c.num_mel_bands; ++m) {
    double energy = 0.0;
    for (std::size_t k = 0; k < power.size(); ++k) {
      const double position =
          (mel(static_cast<double>(k) * c.sample_rate / c.fft_size) - low) / step - m;
      energy += power[k] * std::max(0.0, 1.0 - std::abs(position - 1.0));
    }
    bands[m] = std::log(std::max(energy, static_cast<double>(c.power_floor)));
  }
  return bands;
}

FrontEndConfig linear_config() {
  FrontEndConfig config;
  config.scale = SpectrumScale::kLinear;
  return config;
}

}  // namespace

TEST_CASE("streaming in chunks of 1, 7, 160 or 16000 samples gives bit-identical frames",
          "[frontend]") {
  const std::vector<float> audio = noise_and_tones(3.0, 42);
  for (const FrontEndConfig& config : {FrontEndConfig{}, linear_config()}) {
    const std::vector<float> at_once = earshot::compute_features(audio, config);
    REQUIRE(at_once.size() == earshot::num_frames(48000, config) * config.feature_dim());
    for (std::size_t chunk_samples : {1, 7, 160, 16000}) {
      INFO("chunk " << chunk_samples << " samples, dim " << config.feature_dim());
      CHECK(bit_identical(stream_in_chunks(audio, chunk_samples, config), at_once));
    }
  }
}

TEST_CASE("frames wait in the stream until popped, in order", "[frontend]") {
  const std::vector<float> audio = noise_and_tones(1.0, 7);
  FrontEnd front_end;
  for (std::size_t start = 0; start < audio.size(); start += 1000) {
    front_end.accept_waveform(std::span(audio).subspan(start, 1000));
  }
  REQUIRE(front_end.frames_ready() == 98);  // 1 + (16000 - 400) / 160
  std::vector<float> popped(98 * 40);
  for (std::size_t i = 0; i < 98; ++i) {
    REQUIRE(front_end.pop_frame(std::span(popped).subspan(i * 40, 40)));
  }
  CHECK(front_end.frames_ready() == 0);
  CHECK(bit_identical(popped, earshot::compute_features(audio)));
}

TEST_CASE("frame i is the frame of samples from i*hop up to i*hop + window alone", "[frontend]") {
  const std::vector<float> audio = noise_and_tones(0.5, 3);
  const std::vector<float> all = earshot::compute_features(audio);
  for (std::size_t i : {0, 1, 17, 46}) {
    const std::vector<float> alone =
        earshot::compute_features(std::span(audio).subspan(i * 160, 400));
    INFO("frame " << i);
    REQUIRE(alone.size() == 40);
    CHECK(std::memcmp(alone.data(), all.data() + i * 40, 40 * sizeof(float)) == 0);
  }
}

TEST_CASE("once warm, pushing 10 ms chunks and popping their frames allocates nothing",
          "[frontend]") {
  const std::vector<float> audio = noise_and_tones(2.0, 13);
  FrontEnd front_end;
  std::vector<float> frame(40);
  auto push_and_pop = [&](std::size_t first_sample, std::size_t last_sample) {
    for (std::size_t start = first_sample; start < last_sample; start += 160) {
      front_end.accept_waveform(std::span(audio).subspan(start, 160));
      while (front_end.pop_frame(frame)) {
      }
    }
  };
  push_and_pop(0, 16000);  // warm-up: the sample buffer grows to its working size
  const long before = earshot::testing::heap_allocations();
  push_and_pop(16000, 32000);
  const long allocations = earshot::testing::heap_allocations() - before;
  CHECK(allocations == 0);
}

// The counter the test above relies on must see allocations, or that test proves nothing.
TEST_CASE("the heap allocation counter sees operator new", "[frontend]") {
  const long before = earshot::testing::heap_allocations();
  const auto owned = std::make_unique<std::vector<float>>(16);  // the vector and its buffer
  CHECK(earshot::testing::heap_allocations() - before >= 2);
}

TEST_CASE("a hop longer than the window skips the samples between frames", "[frontend]") {
  FrontEndConfig config;
  config.hop_samples = 700;  // window 400: samples 400..699 of each hop belong to no frame
  const std::vector<float> audio = noise_and_tones(1.0, 11);
  const std::vector<float> at_once = earshot::compute_features(audio, config);
  REQUIRE(at_once.size() == (1 + (16000 - 400) / 700) * 40);
  for (std::size_t chunk_samples : {1, 7, 160, 16000}) {
    INFO("chunk " << chunk_samples << " samples");
    CHECK(bit_identical(stream_in_chunks(audio, chunk_samples, config), at_once));
  }
  const std::vector<float> frame_3 =
      earshot::compute_features(std::span(audio).subspan(3 * 700, 400), config);
  CHECK(std::memcmp(frame_3.data(), at_once.data() + 3 * 40, 40 * sizeof(float)) == 0);
}

TEST_CASE("a pure tone peaks in the mel band whose centre is nearest its frequency", "[frontend]") {
  const FrontEndConfig config;
  for (double hz : {1000.0, 3000.0}) {
    const std::vector<float> features = earshot::compute_features(tone(hz, 0.5), config);
    const std::size_t expected_band = nearest_mel_band(hz, config);
    INFO(hz << " Hz, expected band " << expected_band);
    REQUIRE(features.size() == 48 * 40);
    for (std::size_t frame = 0; frame < 48; ++frame) {
      CHECK(argmax(std::span(features).subspan(frame * 40, 40)) == expected_band);
    }
  }
}

TEST_CASE("a pure tone peaks in the linear bin of its frequency", "[frontend]") {
  const FrontEndConfig config = linear_config();
  // 16000 Hz / 512 bins = 31.25 Hz per bin: 1000 Hz is bin 32, 3000 Hz bin 96.
  for (auto [hz, bin] : {std::pair{1000.0, 32}, std::pair{3000.0, 96}}) {
    const std::vector<float> features = earshot::compute_features(tone(hz, 0.5), config);
    INFO(hz << " Hz");
    REQUIRE(features.size() == 48 * 257);
    for (std::size_t frame = 0; frame < 48; ++frame) {
      CHECK(argmax(std::span(features).subspan(frame * 257, 257)) == static_cast<std::size_t>(bin));
    }
  }
}

TEST_CASE("a linear frame is ln|DFT|^2 of the scaled, periodic-Hann-windowed samples",
          "[frontend]") {
  const FrontEndConfig config = linear_config();
  const std::vector<float> audio = noise_and_tones(0.05, 21);
  const std::vector<float> frame = earshot::compute_features(std::span(audio).first(400), config);
  const std::vector<double> power = reference_power(audio, config);
  REQUIRE(frame.size() == 257);
  for (std::size_t k = 0; k < 257; ++k) {
    INFO("bin " << k);
    CHECK(frame[k] == Approx(std::log(power[k])).margin(1e-3));
  }
}

TEST_CASE("a mel frame is the log energy of HTK-mel triangles of height 1", "[frontend]") {
  const FrontEndConfig config;
  const std::vector<float> audio = noise_and_tones(0.05, 22);
  const std::vector<float> frame = earshot::compute_features(std::span(audio).first(400), config);
  const std::vector<double> bands = reference_mel(reference_power(audio, config), config);
  REQUIRE(frame.size() == 40);
  for (std::size_t m = 0; m < 40; ++m) {
    INFO("band " << m);
    CHECK(frame[m] == Approx(bands[m]).margin(1e-4));
  }
}

TEST_CASE("a full-scale tone has a log power near 30 in 16-bit units", "[frontend]") {
  // Amplitude 32768 times the window sum 200, halved for a real tone: |X| = 3.28e6, ln|X|^2 = 30.0.
  const std::vector<float> features =
      earshot::compute_features(tone(1000.0, 0.1, 1.0), linear_config());
  CHECK(features[32] == Approx(30.0).margin(0.05));
}

TEST_CASE("silence gives exactly log(power_floor) in every value", "[frontend]") {
  const std::vector<float> silence(16000, 0.0f);
  for (const FrontEndConfig& config : {FrontEndConfig{}, linear_config()}) {
    const std::vector<float> features = earshot::compute_features(silence, config);
    REQUIRE(features.size() == 98 * static_cast<std::size_t>(config.feature_dim()));
    const float floor_log = std::log(config.power_floor);  // about -23.03
    CHECK(std::isfinite(floor_log));
    CHECK(std::all_of(features.begin(), features.end(), [&](float v) { return v == floor_log; }));
  }
}

TEST_CASE("the frame count is 0 below one window, 1 at one window, then 1 more per hop",
          "[frontend]") {
  const FrontEndConfig config;  // window 400, hop 160
  const std::vector<std::pair<std::size_t, std::size_t>> samples_to_frames = {
      {0, 0}, {1, 0}, {399, 0}, {400, 1}, {559, 1}, {560, 2}, {719, 2}, {720, 3}, {16000, 98}};
  for (auto [num_samples, expected_frames] : samples_to_frames) {
    INFO(num_samples << " samples");
    CHECK(earshot::num_frames(num_samples, config) == expected_frames);
    FrontEnd front_end(config);
    front_end.accept_waveform(std::vector<float>(num_samples, 0.25f));
    CHECK(front_end.frames_ready() == expected_frames);
  }
}

TEST_CASE("the stream produces exactly num_frames() frames whatever the chunking", "[frontend]") {
  const std::vector<float> audio = noise_and_tones(0.3, 5);  // 4800 samples
  for (std::size_t chunk_samples : {1, 7, 160, 399, 401}) {
    INFO("chunk " << chunk_samples << " samples");
    const std::size_t produced = stream_in_chunks(audio, chunk_samples, {}).size() / 40;
    CHECK(produced == earshot::num_frames(4800, {}));
    CHECK(produced == 28);
  }
}

TEST_CASE("pop_frame on an empty stream returns false and leaves the frame alone", "[frontend]") {
  FrontEnd front_end;
  front_end.accept_waveform(std::vector<float>(399, 0.5f));
  std::vector<float> frame(40, 7.0f);
  CHECK_FALSE(front_end.pop_frame(frame));
  CHECK(std::all_of(frame.begin(), frame.end(), [](float v) { return v == 7.0f; }));
}

TEST_CASE("pop_frame rejects a frame buffer of the wrong size", "[frontend]") {
  FrontEnd front_end;
  front_end.accept_waveform(std::vector<float>(400, 0.5f));
  std::vector<float> frame(39);
  CHECK_THROWS_WITH(front_end.pop_frame(frame), Contains("exactly 40 values"));
  CHECK(front_end.frames_ready() == 1);
}

TEST_CASE("a NaN or infinite sample is rejected and nothing of its chunk is kept", "[frontend]") {
  const std::vector<float> audio = noise_and_tones(0.1, 9);
  FrontEnd front_end;
  front_end.accept_waveform(std::span(audio).first(800));
  std::vector<float> poisoned(100, 0.1f);
  poisoned[37] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_WITH(front_end.accept_waveform(poisoned), Contains("sample 37"));
  poisoned[37] = std::numeric_limits<float>::infinity();
  CHECK_THROWS_AS(front_end.accept_waveform(poisoned), earshot::Error);
  front_end.accept_waveform(std::span(audio).subspan(800));
  std::vector<float> streamed;
  std::vector<float> frame(40);
  while (front_end.pop_frame(frame))
    streamed.insert(streamed.end(), frame.begin(), frame.end());
  CHECK(bit_identical(streamed, earshot::compute_features(audio)));
}

TEST_CASE("reset forgets samples and frames: the next sample starts a new stream", "[frontend]") {
  const std::vector<float> first = noise_and_tones(0.37, 1);
  const std::vector<float> second = noise_and_tones(0.5, 2);
  FrontEnd front_end;
  front_end.accept_waveform(first);
  std::vector<float> frame(40);
  front_end.pop_frame(frame);
  front_end.reset();
  CHECK(front_end.frames_ready() == 0);
  front_end.accept_waveform(second);
  std::vector<float> after_reset;
  while (front_end.pop_frame(frame))
    after_reset.insert(after_reset.end(), frame.begin(), frame.end());
  CHECK(bit_identical(after_reset, earshot::compute_features(second)));
}

TEST_CASE("a moved front end continues the same stream", "[frontend]") {
  const std::vector<float> audio = noise_and_tones(0.5, 4);
  FrontEnd original;
  original.accept_waveform(std::span(audio).first(3000));
  FrontEnd moved(std::move(original));
  moved.accept_waveform(std::span(audio).subspan(3000));
  std::vector<float> streamed(moved.frames_ready() * 40);
  for (std::size_t i = 0; i < streamed.size(); i += 40)
    moved.pop_frame(std::span(streamed).subspan(i, 40));
  CHECK(bit_identical(streamed, earshot::compute_features(audio)));
}

TEST_CASE("feature_dim is num_mel_bands for mel and fft_size/2 + 1 for linear", "[frontend]") {
  FrontEndConfig config;
  CHECK(config.feature_dim() == 40);
  CHECK(FrontEnd(config).feature_dim() == 40);
  config.scale = SpectrumScale::kLinear;
  CHECK(config.feature_dim() == 257);
  const std::vector<float> features =
      earshot::compute_features(std::vector<float>(400, 0.1f), config);
  CHECK(features.size() == 257);
  config.fft_size = 1024;
  CHECK(config.feature_dim() == 513);
}

TEST_CASE("the default config is valid and hop_s is 10 ms", "[frontend]") {
  CHECK_NOTHROW(FrontEndConfig{}.validate());
  CHECK_NOTHROW(linear_config().validate());
  CHECK(FrontEndConfig{}.hop_s() == Approx(0.010));
}

TEST_CASE("validate rejects inconsistent configs, naming the parameter", "[frontend]") {
  struct Case {
    const char* what;
    void (*break_it)(FrontEndConfig&);
    const char* message;
  };
  const Case cases[] = {
      {"window longer than the FFT", [](FrontEndConfig& c) { c.window_samples = 513; },
       "window_samples"},
      {"empty window", [](FrontEndConfig& c) { c.window_samples = 0; }, "window_samples"},
      {"odd FFT",
       [](FrontEndConfig& c) {
         c.fft_size = 511;
         c.window_samples = 400;
       },
       "fft_size"},
      {"FFT of 0", [](FrontEndConfig& c) { c.fft_size = 0; }, "fft_size"},
      {"hop of 0", [](FrontEndConfig& c) { c.hop_samples = 0; }, "hop_samples"},
      {"sample rate of 0", [](FrontEndConfig& c) { c.sample_rate = 0; }, "sample_rate"},
      {"no mel bands", [](FrontEndConfig& c) { c.num_mel_bands = 0; }, "num_mel_bands"},
      {"negative low edge", [](FrontEndConfig& c) { c.mel_low_hz = -1.0f; }, "mel_low_hz"},
      {"low edge above high",
       [](FrontEndConfig& c) {
         c.mel_low_hz = 5000.0f;
         c.mel_high_hz = 4000.0f;
       },
       "mel_high_hz"},
      {"high edge above Nyquist", [](FrontEndConfig& c) { c.mel_high_hz = 8001.0f; },
       "sample_rate/2"},
      {"NaN high edge",
       [](FrontEndConfig& c) { c.mel_high_hz = std::numeric_limits<float>::quiet_NaN(); },
       "mel_high_hz"},
      {"zero power floor", [](FrontEndConfig& c) { c.power_floor = 0.0f; }, "power_floor"},
  };
  for (const Case& bad : cases) {
    FrontEndConfig config;
    bad.break_it(config);
    INFO(bad.what);
    CHECK_THROWS_WITH(config.validate(), Contains(bad.message));
    CHECK_THROWS_AS(FrontEnd(config), earshot::Error);
  }
}

TEST_CASE("a mel band too narrow to hold an FFT bin is rejected with the fix in the message",
          "[frontend]") {
  FrontEndConfig config;
  config.num_mel_bands = 128;  // the lowest triangles are ~27 Hz wide; bins are 31.25 Hz apart
  CHECK_THROWS_WITH(config.validate(),
                    Contains("lower num_mel_bands") && Contains("raise fft_size"));
  config.fft_size = 2048;  // 7.8 Hz apart: every band holds a bin again
  CHECK_NOTHROW(config.validate());
}

TEST_CASE("mel parameters do not matter for the linear scale", "[frontend]") {
  FrontEndConfig config = linear_config();
  config.num_mel_bands = 0;
  config.mel_high_hz = 1e6f;
  CHECK_NOTHROW(config.validate());
}

TEST_CASE("the JSON round trip gives back the same config", "[frontend]") {
  FrontEndConfig config;
  config.sample_rate = 16000;
  config.window_samples = 480;
  config.hop_samples = 120;
  config.fft_size = 1024;
  config.num_mel_bands = 64;
  config.mel_low_hz = 60.3f;
  config.mel_high_hz = 7600.1f;
  config.power_floor = 3.7e-9f;
  for (SpectrumScale scale : {SpectrumScale::kMel, SpectrumScale::kLinear}) {
    config.scale = scale;
    const nlohmann::json j = config;
    CHECK(j.at("scale") == (scale == SpectrumScale::kMel ? "mel" : "linear"));
    CHECK(nlohmann::json::parse(j.dump()).get<FrontEndConfig>() == config);
  }
}

TEST_CASE("from_json rejects missing, unknown and mistyped fields and unknown scales",
          "[frontend]") {
  const nlohmann::json good = FrontEndConfig{};
  auto with = [&](const char* key, nlohmann::json value) {
    nlohmann::json j = good;
    j[key] = std::move(value);
    return j;
  };
  nlohmann::json missing = good;
  missing.erase("hop_samples");
  CHECK_THROWS_WITH(missing.get<FrontEndConfig>(), Contains("missing field 'hop_samples'"));
  CHECK_THROWS_WITH(with("scale", "bark").get<FrontEndConfig>(), Contains("\"bark\""));
  CHECK_THROWS_WITH(with("dither", 1.0).get<FrontEndConfig>(), Contains("unknown field 'dither'"));
  CHECK_THROWS_WITH(with("fft_size", "512").get<FrontEndConfig>(),
                    Contains("'fft_size' has the wrong type"));
  CHECK_THROWS_WITH(with("fft_size", 300).get<FrontEndConfig>(), Contains("window_samples"));
  CHECK_THROWS_AS(nlohmann::json::array().get<FrontEndConfig>(), earshot::Error);
}

TEST_CASE("from_json leaves the target untouched when it throws", "[frontend]") {
  nlohmann::json j = FrontEndConfig{};
  j["hop_samples"] = 0;
  FrontEndConfig target;
  target.hop_samples = 123;
  CHECK_THROWS_AS(earshot::from_json(j, target), earshot::Error);
  CHECK(target.hop_samples == 123);
}

TEST_CASE("num_frames rejects a hop or window below 1 instead of dividing by zero", "[frontend]") {
  FrontEndConfig config;
  config.hop_samples = 0;
  CHECK_THROWS_AS(earshot::num_frames(1000, config), earshot::Error);
}

TEST_CASE("spectrum scale names round-trip and an unknown name is refused", "[frontend]") {
  for (const SpectrumScale scale : {SpectrumScale::kMel, SpectrumScale::kLinear})
    CHECK(earshot::parse_scale(earshot::scale_name(scale)) == scale);
  CHECK(std::string(earshot::scale_name(SpectrumScale::kLinear)) == "linear");
  CHECK_THROWS_WITH(earshot::parse_scale("bark"), Contains("\"mel\" or \"linear\""));
}

TEST_CASE("a tone at a feature's centre frequency peaks in that feature", "[frontend]") {
  for (const FrontEndConfig& config : {FrontEndConfig{}, linear_config()}) {
    const std::vector<double> centres = earshot::feature_centres_hz(config);
    REQUIRE(centres.size() == static_cast<std::size_t>(config.feature_dim()));
    CHECK(std::is_sorted(centres.begin(), centres.end()));
    const auto dim = centres.size();
    for (const std::size_t feature : {dim / 4, dim / 2, 3 * dim / 4}) {
      INFO(scale_name(config.scale)
           << " feature " << feature << " at " << centres[feature] << " Hz");
      const std::vector<float> features =
          earshot::compute_features(tone(centres[feature], 0.1), config);
      CHECK(argmax(std::span(features).first(dim)) == feature);
    }
  }
}

TEST_CASE("linear features sit at multiples of sample_rate / fft_size", "[frontend]") {
  const std::vector<double> centres = earshot::feature_centres_hz(linear_config());
  REQUIRE(centres.size() == 257);
  CHECK(centres[0] == 0.0);
  CHECK(centres[32] == 1000.0);
  CHECK(centres[256] == 8000.0);
}
