// The streaming spectrogram front end (contract and exact formulas in frontend.hpp).
//
// What happens to one frame is compute_frame(): window, FFT, power, filterbank, then log or
// PCEN (compress()). Everything that depends only on the config (window, FFT plan, mel
// triangles) is built once in the constructor; the stream state is a sample buffer, two
// counters and, for PCEN, each channel's smoothed energy.
#include "earshot/frontend.hpp"

#include <fmt/format.h>
#include <kissfft/kiss_fftr.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <numbers>
#include <string>

#include "earshot/error.hpp"

namespace earshot {
namespace {

// Large enough for any speech analysis window (4 s at 16 kHz), small enough that a corrupt
// model file cannot ask for gigabytes.
constexpr int kMaxFftSize = 65536;

double hz_to_mel(double hz) {
  return 2595.0 * std::log10(1.0 + hz / 700.0);
}
double mel_to_hz(double mel) {
  return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0);
}

// Written so that NaN fails every comparison and is rejected.
void validate_pcen(const FrontEndConfig& c) {
  if (c.compression != Compression::kPcen) return;
  const auto refuse = [](const char* name, float value, const char* range) {
    throw Error(
        fmt::format("front-end config: {} must be {} for PCEN, got {}", name, range, value));
  };
  if (!(c.pcen_time_constant_s > 0.0f && std::isfinite(c.pcen_time_constant_s)))
    refuse("pcen_time_constant_s", c.pcen_time_constant_s, "finite and > 0");
  if (!(c.pcen_gain >= 0.0f && c.pcen_gain <= 1.0f)) refuse("pcen_gain", c.pcen_gain, "in [0, 1]");
  if (!(c.pcen_bias > 0.0f && std::isfinite(c.pcen_bias)))
    refuse("pcen_bias", c.pcen_bias, "finite and > 0");
  if (!(c.pcen_root > 0.0f && c.pcen_root <= 1.0f)) refuse("pcen_root", c.pcen_root, "in (0, 1]");
  if (!(c.pcen_epsilon > 0.0f && std::isfinite(c.pcen_epsilon)))
    refuse("pcen_epsilon", c.pcen_epsilon, "finite and > 0");
}

// The checks that need no filterbank.
void validate_shape(const FrontEndConfig& c) {
  if (c.sample_rate <= 0) {
    throw Error(fmt::format("front-end config: sample_rate must be > 0, got {}", c.sample_rate));
  }
  if (c.fft_size < 2 || c.fft_size > kMaxFftSize || c.fft_size % 2 != 0) {
    throw Error(fmt::format("front-end config: fft_size must be even and in [2, {}], got {}",
                            kMaxFftSize, c.fft_size));
  }
  if (c.window_samples < 1 || c.window_samples > c.fft_size) {
    throw Error(
        fmt::format("front-end config: window_samples must be in [1, fft_size = {}], got {}",
                    c.fft_size, c.window_samples));
  }
  if (c.hop_samples < 1) {
    throw Error(fmt::format("front-end config: hop_samples must be >= 1, got {}", c.hop_samples));
  }
  if (!std::isfinite(c.power_floor) || c.power_floor <= 0.0f) {
    throw Error(fmt::format(
        "front-end config: power_floor must be finite and > 0 (it keeps log() finite), got {}",
        c.power_floor));
  }
  validate_pcen(c);
  if (c.scale != SpectrumScale::kMel) return;
  if (c.num_mel_bands < 1) {
    throw Error(
        fmt::format("front-end config: num_mel_bands must be >= 1, got {}", c.num_mel_bands));
  }
  const double nyquist_hz = c.sample_rate / 2.0;
  // Written so that NaN fails every comparison and is rejected.
  if (!(c.mel_low_hz >= 0.0f && c.mel_low_hz < c.mel_high_hz && c.mel_high_hz <= nyquist_hz)) {
    throw Error(fmt::format(
        "front-end config: need 0 <= mel_low_hz < mel_high_hz <= sample_rate/2 = {} Hz, "
        "got mel_low_hz {} and mel_high_hz {}",
        nyquist_hz, c.mel_low_hz, c.mel_high_hz));
  }
}

// One triangle, stored sparsely: weights[j] applies to FFT bin first_bin + j.
struct MelFilter {
  int first_bin = 0;
  std::vector<float> weights;
};

// The num_mel_bands + 2 triangle corners, equally spaced in mel: corner i is at
// low_mel + i * mel_step, and band m spans corners m .. m + 2, peaking at m + 1.
struct MelCorners {
  double low_mel;
  double mel_step;
};
MelCorners mel_corners(const FrontEndConfig& c) {
  const double low_mel = hz_to_mel(c.mel_low_hz);
  return {low_mel, (hz_to_mel(c.mel_high_hz) - low_mel) / (c.num_mel_bands + 1)};
}

// Triangles of height 1, linear in mel between corners equally spaced in mel.
// Throws if a triangle covers no FFT bin (it would be a constant feature).
std::vector<MelFilter> make_mel_filters(const FrontEndConfig& c) {
  const auto [low_mel, mel_step] = mel_corners(c);
  const int num_bins = c.fft_size / 2 + 1;
  const double bin_hz = static_cast<double>(c.sample_rate) / c.fft_size;
  std::vector<MelFilter> filters(c.num_mel_bands);
  for (int m = 0; m < c.num_mel_bands; ++m) {
    const double left_mel = low_mel + m * mel_step;
    const double centre_mel = left_mel + mel_step;
    const double right_mel = centre_mel + mel_step;
    MelFilter& filter = filters[m];
    for (int k = 0; k < num_bins; ++k) {
      const double mel = hz_to_mel(k * bin_hz);
      if (mel <= left_mel || mel >= right_mel) continue;
      const double weight =
          mel <= centre_mel ? (mel - left_mel) / mel_step : (right_mel - mel) / mel_step;
      if (filter.weights.empty()) filter.first_bin = k;
      filter.weights.push_back(static_cast<float>(weight));
    }
    if (filter.weights.empty()) {
      throw Error(fmt::format(
          "front-end config: mel band {} ({:.1f}-{:.1f} Hz) covers no FFT bin (bins are {:.2f} "
          "Hz apart at fft_size {}): lower num_mel_bands (now {}) or raise fft_size",
          m, mel_to_hz(left_mel), mel_to_hz(right_mel), bin_hz, c.fft_size, c.num_mel_bands));
    }
  }
  return filters;
}

// Periodic Hann window with the input scale folded in (exact: the scale is a power of two).
std::vector<float> make_scaled_window(int window_samples) {
  std::vector<float> window(window_samples);
  for (int t = 0; t < window_samples; ++t) {
    const double hann = 0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * t / window_samples);
    window[t] = static_cast<float>(hann) * kFrontEndInputScale;
  }
  return window;
}

struct KissFftrDeleter {
  void operator()(kiss_fftr_state* plan) const { kiss_fftr_free(plan); }
};
using KissFftrPlan = std::unique_ptr<kiss_fftr_state, KissFftrDeleter>;

KissFftrPlan make_fft_plan(int fft_size) {
  KissFftrPlan plan(kiss_fftr_alloc(fft_size, /*inverse_fft=*/0, nullptr, nullptr));
  if (!plan) throw Error(fmt::format("front end: cannot allocate a {}-point FFT", fft_size));
  return plan;
}

template <typename T>
T json_field(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end()) throw Error(fmt::format("front-end config: missing field '{}'", key));
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    throw Error(fmt::format("front-end config: field '{}' has the wrong type ({}: {})", key,
                            it->type_name(), it->dump()));
  }
}

constexpr std::array<const char*, 9> kJsonFields = {
    "sample_rate",   "window_samples", "hop_samples", "fft_size",   "scale",
    "num_mel_bands", "mel_low_hz",     "mel_high_hz", "power_floor"};
constexpr std::array<const char*, 5> kPcenJsonFields = {"pcen_time_constant_s", "pcen_gain",
                                                        "pcen_bias", "pcen_root", "pcen_epsilon"};

bool is_known_field(const std::string& key) {
  const auto known = [&key](const auto& fields) {
    return std::find(fields.begin(), fields.end(), key) != fields.end();
  };
  return known(kJsonFields) || known(kPcenJsonFields) || key == "compression";
}

// The per-frame weight of the newest energy in PCEN's smoothed average: a one-pole low-pass
// whose impulse response decays by 1/e in pcen_time_constant_s.
float pcen_smoothing(const FrontEndConfig& c) {
  return static_cast<float>(1.0 - std::exp(-c.hop_s() / c.pcen_time_constant_s));
}

}  // namespace

const char* scale_name(SpectrumScale scale) {
  return scale == SpectrumScale::kMel ? "mel" : "linear";
}

SpectrumScale parse_scale(const std::string& name) {
  for (const SpectrumScale scale : {SpectrumScale::kMel, SpectrumScale::kLinear}) {
    if (name == scale_name(scale)) return scale;
  }
  throw Error(fmt::format("spectrum scale must be \"mel\" or \"linear\", got \"{}\"", name));
}

const char* compression_name(Compression compression) {
  return compression == Compression::kLog ? "log" : "pcen";
}

Compression parse_compression(const std::string& name) {
  for (const Compression compression : {Compression::kLog, Compression::kPcen}) {
    if (name == compression_name(compression)) return compression;
  }
  throw Error(fmt::format("compression must be \"log\" or \"pcen\", got \"{}\"", name));
}

int FrontEndConfig::feature_dim() const {
  return scale == SpectrumScale::kMel ? num_mel_bands : fft_size / 2 + 1;
}

void FrontEndConfig::validate() const {
  validate_shape(*this);
  if (scale == SpectrumScale::kMel) make_mel_filters(*this);
}

std::vector<double> feature_centres_hz(const FrontEndConfig& config) {
  config.validate();
  std::vector<double> centres(static_cast<std::size_t>(config.feature_dim()));
  if (config.scale == SpectrumScale::kLinear) {
    const double bin_hz = static_cast<double>(config.sample_rate) / config.fft_size;
    for (std::size_t k = 0; k < centres.size(); ++k)
      centres[k] = static_cast<double>(k) * bin_hz;
    return centres;
  }
  const auto [low_mel, mel_step] = mel_corners(config);  // band m peaks at corner m + 1
  for (std::size_t m = 0; m < centres.size(); ++m)
    centres[m] = mel_to_hz(low_mel + static_cast<double>(m + 1) * mel_step);
  return centres;
}

void to_json(nlohmann::json& j, const FrontEndConfig& config) {
  j = nlohmann::json{{"sample_rate", config.sample_rate}, {"window_samples", config.window_samples},
                     {"hop_samples", config.hop_samples}, {"fft_size", config.fft_size},
                     {"scale", scale_name(config.scale)}, {"num_mel_bands", config.num_mel_bands},
                     {"mel_low_hz", config.mel_low_hz},   {"mel_high_hz", config.mel_high_hz},
                     {"power_floor", config.power_floor}};
  if (config.compression != Compression::kPcen) return;
  j["compression"] = compression_name(config.compression);
  j["pcen_time_constant_s"] = config.pcen_time_constant_s;
  j["pcen_gain"] = config.pcen_gain;
  j["pcen_bias"] = config.pcen_bias;
  j["pcen_root"] = config.pcen_root;
  j["pcen_epsilon"] = config.pcen_epsilon;
}

void from_json(const nlohmann::json& j, FrontEndConfig& config) {
  if (!j.is_object()) {
    throw Error(fmt::format("front-end config: expected a JSON object, got {}", j.type_name()));
  }
  for (const auto& [key, value] : j.items()) {
    if (!is_known_field(key)) {
      throw Error(fmt::format("front-end config: unknown field '{}' (known: {}, compression, {})",
                              key, fmt::join(kJsonFields, ", "), fmt::join(kPcenJsonFields, ", ")));
    }
  }
  FrontEndConfig parsed;
  parsed.sample_rate = json_field<int>(j, "sample_rate");
  parsed.window_samples = json_field<int>(j, "window_samples");
  parsed.hop_samples = json_field<int>(j, "hop_samples");
  parsed.fft_size = json_field<int>(j, "fft_size");
  try {
    parsed.scale = parse_scale(json_field<std::string>(j, "scale"));
  } catch (const Error& e) {
    throw Error(fmt::format("front-end config: field 'scale': {}", e.what()));
  }
  parsed.num_mel_bands = json_field<int>(j, "num_mel_bands");
  parsed.mel_low_hz = json_field<float>(j, "mel_low_hz");
  parsed.mel_high_hz = json_field<float>(j, "mel_high_hz");
  parsed.power_floor = json_field<float>(j, "power_floor");
  if (j.contains("compression")) {
    try {
      parsed.compression = parse_compression(json_field<std::string>(j, "compression"));
    } catch (const Error& e) {
      throw Error(fmt::format("front-end config: field 'compression': {}", e.what()));
    }
  }
  if (parsed.compression == Compression::kPcen) {
    parsed.pcen_time_constant_s = json_field<float>(j, "pcen_time_constant_s");
    parsed.pcen_gain = json_field<float>(j, "pcen_gain");
    parsed.pcen_bias = json_field<float>(j, "pcen_bias");
    parsed.pcen_root = json_field<float>(j, "pcen_root");
    parsed.pcen_epsilon = json_field<float>(j, "pcen_epsilon");
  } else {
    for (const char* key : kPcenJsonFields) {
      if (j.contains(key)) {
        throw Error(fmt::format(
            "front-end config: field '{}' belongs to PCEN but the compression is log", key));
      }
    }
  }
  parsed.validate();
  config = parsed;
}

std::size_t num_frames(std::size_t num_samples, const FrontEndConfig& config) {
  if (config.window_samples < 1 || config.hop_samples < 1) {
    throw Error(
        fmt::format("num_frames: window_samples ({}) and hop_samples ({}) must both be >= 1",
                    config.window_samples, config.hop_samples));
  }
  const auto window = static_cast<std::size_t>(config.window_samples);
  const auto hop = static_cast<std::size_t>(config.hop_samples);
  return num_samples < window ? 0 : 1 + (num_samples - window) / hop;
}

struct FrontEnd::Impl {
  // Fixed by the config.
  FrontEndConfig config;
  std::vector<float> scaled_window;
  std::vector<MelFilter> mel_filters;
  KissFftrPlan fft_plan;
  // Per-frame scratch, sized once.
  std::vector<float> fft_input;  // zeros beyond window_samples stay zero forever
  std::vector<kiss_fft_cpx> spectrum;
  std::vector<float> power;
  std::vector<float> energy;  // per channel, before compression
  // PCEN's smoothed energy per channel; empty until the stream's first frame.
  std::vector<float> pcen_average;
  float pcen_smoothing_weight = 0.0f;
  float pcen_bias_root = 0.0f;  // pcen_bias^pcen_root, subtracted so silence maps near 0
  // The stream: samples [buffer_begin, samples_seen) are in `samples`.
  std::vector<float> samples;
  std::uint64_t buffer_begin = 0;
  std::uint64_t samples_seen = 0;
  std::uint64_t frames_popped = 0;

  explicit Impl(const FrontEndConfig& c)
      : config(c),
        scaled_window(make_scaled_window(c.window_samples)),
        mel_filters(c.scale == SpectrumScale::kMel ? make_mel_filters(c)
                                                   : std::vector<MelFilter>{}),
        fft_plan(make_fft_plan(c.fft_size)),
        fft_input(c.fft_size, 0.0f),
        spectrum(c.fft_size / 2 + 1),
        power(c.fft_size / 2 + 1),
        energy(static_cast<std::size_t>(c.feature_dim())),
        pcen_smoothing_weight(pcen_smoothing(c)),
        pcen_bias_root(std::pow(c.pcen_bias, c.pcen_root)) {
    pcen_average.reserve(energy.size());
  }

  std::uint64_t next_frame_start() const { return frames_popped * config.hop_samples; }

  void append(std::span<const float> chunk);
  void compute_frame(const float* frame_samples, std::span<float> out);
  void compress(std::span<float> out);
  void compress_pcen(std::span<float> out);
};

void FrontEnd::Impl::append(std::span<const float> chunk) {
  const std::uint64_t keep_from = next_frame_start();
  if (keep_from >= samples_seen) {
    // Every buffered sample is behind the next frame. With hop > window the head of the chunk
    // may fall in the gap before the next frame too: skip it rather than store it.
    samples.clear();
    const auto skip =
        static_cast<std::size_t>(std::min<std::uint64_t>(keep_from - samples_seen, chunk.size()));
    chunk = chunk.subspan(skip);
    samples_seen += skip;
    buffer_begin = samples_seen;
  } else if (samples.size() + chunk.size() > samples.capacity()) {
    // Compact only when the buffer would otherwise grow: amortised O(1), and allocation-free
    // once the capacity covers the pending samples plus the largest chunk.
    const auto consumed = static_cast<std::ptrdiff_t>(keep_from - buffer_begin);
    samples.erase(samples.begin(), samples.begin() + consumed);
    buffer_begin = keep_from;
  }
  samples.insert(samples.end(), chunk.begin(), chunk.end());
  samples_seen += chunk.size();
}

void FrontEnd::Impl::compute_frame(const float* frame_samples, std::span<float> out) {
  const int window_samples = config.window_samples;
  for (int t = 0; t < window_samples; ++t)
    fft_input[t] = frame_samples[t] * scaled_window[t];
  kiss_fftr(fft_plan.get(), fft_input.data(), spectrum.data());
  const std::size_t num_bins = power.size();
  for (std::size_t k = 0; k < num_bins; ++k) {
    power[k] = spectrum[k].r * spectrum[k].r + spectrum[k].i * spectrum[k].i;
  }
  const float floor = config.power_floor;
  if (config.scale == SpectrumScale::kLinear) {
    for (std::size_t k = 0; k < num_bins; ++k)
      energy[k] = std::max(power[k], floor);
  } else {
    for (std::size_t m = 0; m < mel_filters.size(); ++m) {
      const MelFilter& filter = mel_filters[m];
      const float* band_power = power.data() + filter.first_bin;
      float band_energy = 0.0f;
      for (std::size_t j = 0; j < filter.weights.size(); ++j) {
        band_energy += filter.weights[j] * band_power[j];
      }
      energy[m] = std::max(band_energy, floor);
    }
  }
  compress(out);
}

void FrontEnd::Impl::compress(std::span<float> out) {
  if (config.compression == Compression::kPcen) {
    compress_pcen(out);
    return;
  }
  for (std::size_t c = 0; c < energy.size(); ++c)
    out[c] = std::log(energy[c]);
}

void FrontEnd::Impl::compress_pcen(std::span<float> out) {
  // The stream starts settled on its first frame, so its first word is not an onset merely
  // because the average had not caught up yet (reserved in the constructor: no allocation).
  if (pcen_average.empty()) pcen_average.assign(energy.begin(), energy.end());
  const float s = pcen_smoothing_weight;
  for (std::size_t c = 0; c < energy.size(); ++c) {
    pcen_average[c] = (1.0f - s) * pcen_average[c] + s * energy[c];
    const float normalised =
        energy[c] / std::pow(config.pcen_epsilon + pcen_average[c], config.pcen_gain);
    out[c] = std::pow(normalised + config.pcen_bias, config.pcen_root) - pcen_bias_root;
  }
}

FrontEnd::FrontEnd(const FrontEndConfig& config) {
  validate_shape(config);  // the mel filters check their coverage as they are built
  impl_ = std::make_unique<Impl>(config);
}

FrontEnd::~FrontEnd() = default;
FrontEnd::FrontEnd(FrontEnd&&) noexcept = default;
FrontEnd& FrontEnd::operator=(FrontEnd&&) noexcept = default;

void FrontEnd::accept_waveform(std::span<const float> samples) {
  const auto bad = std::find_if(samples.begin(), samples.end(),
                                [](float sample) { return !std::isfinite(sample); });
  if (bad != samples.end()) {
    throw Error(
        fmt::format("front end: sample {} of a {}-sample chunk is {}; the chunk was not appended",
                    bad - samples.begin(), samples.size(), *bad));
  }
  impl_->append(samples);
}

std::size_t FrontEnd::frames_ready() const {
  return num_frames(impl_->samples_seen, impl_->config) - impl_->frames_popped;
}

bool FrontEnd::pop_frame(std::span<float> frame) {
  if (frame.size() != static_cast<std::size_t>(feature_dim())) {
    throw Error(fmt::format("front end: pop_frame needs room for exactly {} values, got {}",
                            feature_dim(), frame.size()));
  }
  if (frames_ready() == 0) return false;
  Impl& s = *impl_;
  const auto offset = static_cast<std::size_t>(s.next_frame_start() - s.buffer_begin);
  s.compute_frame(s.samples.data() + offset, frame);
  ++s.frames_popped;
  return true;
}

void FrontEnd::reset() {
  impl_->samples.clear();
  impl_->pcen_average.clear();
  impl_->buffer_begin = 0;
  impl_->samples_seen = 0;
  impl_->frames_popped = 0;
}

const FrontEndConfig& FrontEnd::config() const {
  return impl_->config;
}

int FrontEnd::feature_dim() const {
  return impl_->config.feature_dim();
}

std::vector<float> compute_features(std::span<const float> samples, const FrontEndConfig& config) {
  FrontEnd front_end(config);
  front_end.accept_waveform(samples);
  const auto dim = static_cast<std::size_t>(front_end.feature_dim());
  std::vector<float> features(front_end.frames_ready() * dim);
  for (std::size_t offset = 0; offset < features.size(); offset += dim) {
    front_end.pop_frame(std::span<float>(features).subspan(offset, dim));
  }
  return features;
}

}  // namespace earshot
