// Specification of the front end's PCEN compression (include/earshot/frontend.hpp): per-channel
// energy normalisation in place of the log, for models that must not care about level or
// steady background noise.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <earshot/audio_io.hpp>
#include <earshot/error.hpp>
#include <earshot/frontend.hpp>
#include <nlohmann/json.hpp>
#include <numbers>
#include <random>
#include <span>
#include <vector>

#include "allocation_helpers.hpp"
#include "frontend_stream_helpers.hpp"

namespace {

using Catch::Matchers::Contains;
using earshot::Compression;
using earshot::FrontEnd;
using earshot::FrontEndConfig;
using earshot::SpectrumScale;
using earshot::testing::bit_identical;
using earshot::testing::stream_in_chunks;

using earshot::kSampleRate;

FrontEndConfig pcen_config(SpectrumScale scale = SpectrumScale::kMel) {
  FrontEndConfig config;
  config.scale = scale;
  config.compression = Compression::kPcen;
  return config;
}

// Seeded white noise of the given peak amplitude.
std::vector<float> white_noise(double seconds, double amplitude, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  std::vector<float> samples(static_cast<std::size_t>(seconds * kSampleRate));
  for (float& sample : samples)
    sample = static_cast<float>(amplitude * uniform(rng));
  return samples;
}

// Adds a tone of `amplitude` at `hz` to samples [first, last).
void add_tone(std::vector<float>& samples, double hz, double amplitude, std::size_t first,
              std::size_t last) {
  for (std::size_t i = first; i < last; ++i) {
    samples[i] += static_cast<float>(
        amplitude * std::sin(2 * std::numbers::pi * hz * static_cast<double>(i) / kSampleRate));
  }
}

// Mean of channel `channel` over frames [first, last) of row-major features.
double channel_mean(const std::vector<float>& features, int dim, std::size_t channel,
                    std::size_t first, std::size_t last) {
  double sum = 0.0;
  for (std::size_t f = first; f < last; ++f)
    sum += features[f * static_cast<std::size_t>(dim) + channel];
  return sum / static_cast<double>(last - first);
}

// Mean over all channels and frames [first, last).
double mean_value(const std::vector<float>& features, int dim, std::size_t first,
                  std::size_t last) {
  double sum = 0.0;
  for (int c = 0; c < dim; ++c)
    sum += channel_mean(features, dim, static_cast<std::size_t>(c), first, last);
  return sum / dim;
}

}  // namespace

TEST_CASE("PCEN frames are the header's recursion over the log front end's energies",
          "[frontend][pcen]") {
  std::vector<float> audio = white_noise(2.0, 0.05, 5);
  add_tone(audio, 1000.0, 0.3, 8000, 16000);
  for (const SpectrumScale scale : {SpectrumScale::kMel, SpectrumScale::kLinear}) {
    const FrontEndConfig pcen = pcen_config(scale);
    FrontEndConfig log = pcen;
    log.compression = Compression::kLog;
    const std::vector<float> energies_log = earshot::compute_features(audio, log);
    const std::vector<float> values = earshot::compute_features(audio, pcen);
    REQUIRE(values.size() == energies_log.size());
    const auto dim = static_cast<std::size_t>(pcen.feature_dim());
    const double s = 1.0 - std::exp(-0.010 / 0.4);
    std::vector<double> average(energies_log.begin(), energies_log.begin() + dim);
    for (double& a : average)
      a = std::exp(a);
    double worst = 0.0;
    for (std::size_t f = 0; f < values.size() / dim; ++f) {
      for (std::size_t c = 0; c < dim; ++c) {
        const double energy = std::exp(static_cast<double>(energies_log[f * dim + c]));
        average[c] = (1 - s) * average[c] + s * energy;
        const double expected =
            std::sqrt(energy / std::pow(1e-6 + average[c], 0.98) + 2.0) - std::sqrt(2.0);
        worst = std::max(worst, std::abs(values[f * dim + c] - expected) / (1.0 + expected));
      }
    }
    INFO("scale " << earshot::scale_name(scale));
    CHECK(worst < 1e-4);
  }
}

TEST_CASE("PCEN streams in chunks of 1, 7, 160 or 16000 samples with bit-identical frames",
          "[frontend][pcen]") {
  std::vector<float> audio = white_noise(3.0, 0.02, 9);
  add_tone(audio, 440.0, 0.4, 16000, 30000);
  for (const FrontEndConfig& config : {pcen_config(), pcen_config(SpectrumScale::kLinear)}) {
    const std::vector<float> at_once = earshot::compute_features(audio, config);
    REQUIRE(at_once.size() == earshot::num_frames(audio.size(), config) * config.feature_dim());
    for (std::size_t chunk_samples : {1, 7, 160, 16000}) {
      INFO("chunk " << chunk_samples << " samples, dim " << config.feature_dim());
      CHECK(bit_identical(stream_in_chunks(audio, chunk_samples, config), at_once));
    }
  }
}

TEST_CASE(
    "under PCEN a steady noise gives nearly the same values 30 dB louder, while under log it "
    "does not",
    "[frontend][pcen]") {
  const std::vector<float> quiet = white_noise(3.0, 0.003, 21);
  std::vector<float> loud = quiet;
  for (float& sample : loud)
    sample *= 31.6227766f;  // +30 dB
  const int dim = 40;
  const std::size_t last_second_begin = 200;  // frames 200..297: the stream has settled
  const std::size_t frames = earshot::num_frames(quiet.size(), FrontEndConfig{});
  const double pcen_quiet =
      mean_value(earshot::compute_features(quiet, pcen_config()), dim, last_second_begin, frames);
  const double pcen_loud =
      mean_value(earshot::compute_features(loud, pcen_config()), dim, last_second_begin, frames);
  const double log_quiet =
      mean_value(earshot::compute_features(quiet), dim, last_second_begin, frames);
  const double log_loud =
      mean_value(earshot::compute_features(loud), dim, last_second_begin, frames);
  CHECK(log_loud - log_quiet == Approx(std::log(1000.0)).margin(0.01));
  // Settled, E / M^0.98 = E^0.02 (noise fluctuations aside): 1000^0.02 = 1.15 times larger,
  // which after the bias and root is a rise of about 13 % (0.41 to 0.46 here).
  CHECK(pcen_loud > pcen_quiet);
  CHECK(pcen_loud - pcen_quiet < 0.15 * pcen_quiet);
}

TEST_CASE("under PCEN a steady background settles low and a sudden tone stands out in its band",
          "[frontend][pcen]") {
  std::vector<float> audio = white_noise(4.0, 0.01, 33);
  add_tone(audio, 1000.0, 0.2, 48000, 52000);  // 3.00-3.25 s, 26 dB above the noise's band level
  const FrontEndConfig config = pcen_config(SpectrumScale::kLinear);
  const int dim = config.feature_dim();
  const std::size_t tone_bin = 32;  // 1000 Hz / (16000 / 512)
  const std::vector<float> values = earshot::compute_features(audio, config);
  const double settled = channel_mean(values, dim, tone_bin, 200, 290);  // 2.0-2.9 s
  const double onset = channel_mean(values, dim, tone_bin, 300, 310);    // 3.0-3.1 s
  CHECK(settled < 0.5);
  CHECK(onset > 5.0 * settled);
}

TEST_CASE("reset restarts PCEN's average: the next stream is a fresh one", "[frontend][pcen]") {
  const std::vector<float> first = white_noise(1.0, 0.3, 1);
  const std::vector<float> second = white_noise(1.0, 0.001, 2);
  FrontEnd front_end(pcen_config());
  front_end.accept_waveform(first);
  std::vector<float> frame(40);
  while (front_end.pop_frame(frame)) {
  }
  front_end.reset();
  front_end.accept_waveform(second);
  std::vector<float> after_reset;
  while (front_end.pop_frame(frame))
    after_reset.insert(after_reset.end(), frame.begin(), frame.end());
  CHECK(bit_identical(after_reset, earshot::compute_features(second, pcen_config())));
}

TEST_CASE("once warm, PCEN frames allocate nothing", "[frontend][pcen]") {
  const std::vector<float> audio = white_noise(2.0, 0.1, 13);
  FrontEnd front_end(pcen_config());
  std::vector<float> frame(40);
  auto push_and_pop = [&](std::size_t first_sample, std::size_t last_sample) {
    for (std::size_t start = first_sample; start < last_sample; start += 160) {
      front_end.accept_waveform(std::span(audio).subspan(start, 160));
      while (front_end.pop_frame(frame)) {
      }
    }
  };
  push_and_pop(0, 16000);
  const long before = earshot::testing::heap_allocations();
  push_and_pop(16000, 32000);
  CHECK(earshot::testing::heap_allocations() - before == 0);
}

TEST_CASE("digital silence under PCEN gives finite values", "[frontend][pcen]") {
  const std::vector<float> silence(16000, 0.0f);
  const std::vector<float> values = earshot::compute_features(silence, pcen_config());
  REQUIRE(!values.empty());
  CHECK(std::all_of(values.begin(), values.end(), [](float v) { return std::isfinite(v); }));
}

TEST_CASE("validate refuses PCEN parameters out of range, naming them", "[frontend][pcen]") {
  const auto refused = [](auto change, const char* name) {
    FrontEndConfig config = pcen_config();
    change(config);
    INFO(name);
    CHECK_THROWS_WITH(config.validate(), Contains(name));
  };
  refused([](FrontEndConfig& c) { c.pcen_time_constant_s = 0.0f; }, "pcen_time_constant_s");
  refused([](FrontEndConfig& c) { c.pcen_gain = 1.5f; }, "pcen_gain");
  refused([](FrontEndConfig& c) { c.pcen_gain = std::nanf(""); }, "pcen_gain");
  refused([](FrontEndConfig& c) { c.pcen_bias = 0.0f; }, "pcen_bias");
  refused([](FrontEndConfig& c) { c.pcen_root = 0.0f; }, "pcen_root");
  refused([](FrontEndConfig& c) { c.pcen_root = 2.0f; }, "pcen_root");
  refused([](FrontEndConfig& c) { c.pcen_epsilon = -1.0f; }, "pcen_epsilon");
  FrontEndConfig log;  // the PCEN parameters do not matter to a log front end
  log.pcen_gain = 7.0f;
  CHECK_NOTHROW(log.validate());
}

TEST_CASE(
    "PCEN configs round-trip through JSON, and log configs keep the JSON of older model files",
    "[frontend][pcen]") {
  FrontEndConfig pcen = pcen_config();
  pcen.pcen_time_constant_s = 0.2f;
  pcen.pcen_root = 0.25f;
  const nlohmann::json j = pcen;
  CHECK(j.at("compression") == "pcen");
  FrontEndConfig back;
  earshot::from_json(j, back);
  CHECK(back == pcen);

  const nlohmann::json log_json = FrontEndConfig{};
  CHECK_FALSE(log_json.contains("compression"));
  CHECK_FALSE(log_json.contains("pcen_gain"));
  FrontEndConfig from_old_file = pcen;
  earshot::from_json(log_json, from_old_file);
  CHECK(from_old_file.compression == Compression::kLog);
}

TEST_CASE(
    "from_json refuses a PCEN config with a field missing, PCEN fields on a log config and "
    "unknown compressions",
    "[frontend][pcen]") {
  const nlohmann::json pcen = pcen_config();
  FrontEndConfig target;
  nlohmann::json missing = pcen;
  missing.erase("pcen_bias");
  CHECK_THROWS_WITH(earshot::from_json(missing, target), Contains("pcen_bias"));
  nlohmann::json log_with_pcen_field = FrontEndConfig{};
  log_with_pcen_field["pcen_gain"] = 0.98;
  CHECK_THROWS_WITH(earshot::from_json(log_with_pcen_field, target), Contains("pcen_gain"));
  nlohmann::json unknown = pcen;
  unknown["compression"] = "cube-root";
  CHECK_THROWS_WITH(earshot::from_json(unknown, target), Contains("cube-root"));
  CHECK(target == FrontEndConfig{});  // untouched by every refusal
}

TEST_CASE("compression names round-trip and an unknown name is refused", "[frontend][pcen]") {
  for (const Compression c : {Compression::kLog, Compression::kPcen})
    CHECK(earshot::parse_compression(earshot::compression_name(c)) == c);
  CHECK_THROWS_WITH(earshot::parse_compression("pcn"), Contains("\"log\" or \"pcen\""));
}
