// The streaming spectrogram front end: 16 kHz mono audio in, feature frames out.
//
// Kaldi-style contract: the caller pushes samples in any chunk sizes and pulls finished
// frames; there are no threads inside. Each frame is the log power of one Hann-windowed
// FFT of `window` samples, taken every `hop` samples, reduced to mel bands (default) or
// kept as linear FFT bins. Frames depend only on the samples, never on how they were
// chunked: feeding 1, 7, 160 or 16000 samples at a time gives bit-identical frames.
//
// Frame count: frame i covers samples [i*hop, i*hop + window). A stream of n samples
// yields num_frames(n) = n < window ? 0 : 1 + (n - window) / hop frames. There is no
// padding at either end, so streaming never has to revise a frame it already emitted.
// A hop longer than the window is allowed: the samples between frames are skipped.
//
// One frame, exactly:
//   x[t]   = kFrontEndInputScale * sample[i*hop + t] * hann[t],  t < window, 0 up to fft_size
//   hann[t] = 0.5 - 0.5 cos(2 pi t / window)   (periodic Hann, as torch.stft and librosa use,
//             so Python tooling can reproduce the features)
//   P[k]   = |FFT(x)[k]|^2,  k = 0..fft_size/2
//   mel:    value[m] = ln(max(sum_k w_m[k] P[k], power_floor)), w_m the m-th triangle of
//           height 1 on the HTK mel scale (mel = 2595 log10(1 + hz/700)); the num_mel_bands + 2
//           triangle corners are equally spaced in mel from mel_low_hz to mel_high_hz and
//           w_m[k] is linear in the mel of bin k's frequency (k * sample_rate / fft_size).
//   linear: value[k] = ln(max(P[k], power_floor)).
// With compression kPcen the ln() above is replaced by per-channel energy normalisation
// (PCEN, Wang et al. 2017, "Trainable frontend for robust and far-field keyword spotting"),
// applied to each band's (or bin's) energy E = max(energy, power_floor):
//   M[t]   = (1 - s) M[t-1] + s E[t],  M[first frame] = E[first frame],
//            s = 1 - exp(-hop_s / pcen_time_constant_s)   (a one-pole smoother of E)
//   value  = (E / (pcen_epsilon + M)^pcen_gain + pcen_bias)^pcen_root - pcen_bias^pcen_root
// Dividing by the recent average energy is an automatic gain control per channel: a steady
// hum or fan settles to a constant whatever its level, while a word's onset stands out.
// M is the one piece of state that spans frames; it follows the frames in order, so
// chunking still cannot change a frame.
#pragma once

#include <cstddef>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string>
#include <vector>

namespace earshot {

// Samples are float in [-1, 1]; the front end works in 16-bit integer units (as Kaldi does)
// so log energies have the familiar range: a full-scale 1 kHz tone in a 25 ms window gives
// a log power of about 30, and the default power_floor only ever bites on digital silence.
inline constexpr float kFrontEndInputScale = 32768.0f;

enum class SpectrumScale {
  kMel,     // log energies of triangular mel filters (num_mel_bands values)
  kLinear,  // log power of FFT bins 0..fft_size/2 (fft_size/2 + 1 values)
};

// How each band's energy is compressed into a feature value (formulas above).
enum class Compression {
  kLog,   // ln(energy): level changes shift every value alike
  kPcen,  // per-channel energy normalisation: level and stationary noise are divided out
};

// Everything that defines the features. A model file carries this struct, so a model is
// never run with a front end other than the one it was trained with.
struct FrontEndConfig {
  int sample_rate = 16000;
  int window_samples = 400;  // 25 ms
  int hop_samples = 160;     // 10 ms
  int fft_size = 512;        // >= window_samples, even
  SpectrumScale scale = SpectrumScale::kMel;
  int num_mel_bands = 40;
  float mel_low_hz = 20.0f;
  float mel_high_hz = 8000.0f;
  // Power floor before the log, so silence gives log(floor) rather than -inf.
  float power_floor = 1e-10f;
  Compression compression = Compression::kLog;
  // PCEN only (the defaults are the paper's): the smoother's time constant, the gain exponent
  // (how fully the average energy is divided out), the bias and root of the final
  // compression, and a floor under the average so digital silence divides by a finite value.
  float pcen_time_constant_s = 0.4f;
  float pcen_gain = 0.98f;
  float pcen_bias = 2.0f;
  float pcen_root = 0.5f;
  float pcen_epsilon = 1e-6f;

  // Values per frame: num_mel_bands, or fft_size/2 + 1 for the linear scale.
  int feature_dim() const;
  double hop_s() const { return static_cast<double>(hop_samples) / sample_rate; }
  // Throws earshot::Error naming the parameter unless: sample_rate > 0, 1 <= window_samples
  // <= fft_size, fft_size even and in [2, 65536], hop_samples >= 1, power_floor finite and > 0;
  // for the mel scale also num_mel_bands >= 1, 0 <= mel_low_hz < mel_high_hz <= sample_rate/2
  // and every mel triangle covering at least one FFT bin (else: fewer bands or a larger FFT);
  // for PCEN a time constant > 0, gain in [0, 1], bias > 0, root in (0, 1] and epsilon > 0.
  void validate() const;
  bool operator==(const FrontEndConfig&) const = default;
};

// "mel" or "linear": the names in model files and on the command line.
const char* scale_name(SpectrumScale scale);
// The scale of that name; throws earshot::Error naming the choices otherwise.
SpectrumScale parse_scale(const std::string& name);
// "log" or "pcen": the names in model files and on the command line.
const char* compression_name(Compression compression);
// The compression of that name; throws earshot::Error naming the choices otherwise.
Compression parse_compression(const std::string& name);

// JSON object with one key per field; scale is "mel" or "linear". The "compression" field and
// the pcen_* fields are written only for PCEN, so log front ends keep the exact JSON of model
// files made before PCEN existed.
void to_json(nlohmann::json& j, const FrontEndConfig& config);
// Throws earshot::Error on a missing field, an unknown field (a model made for a newer front
// end must not run on this one), a value of the wrong type, an unknown scale or compression,
// or a config that fails validate(). A missing "compression" means log (files written before
// PCEN); pcen_* fields are required with "pcen" and refused otherwise. `config` is only
// assigned when everything is fine.
void from_json(const nlohmann::json& j, FrontEndConfig& config);

// Number of complete frames in `num_samples` samples (see the formula above).
// Throws earshot::Error if window_samples or hop_samples is below 1.
std::size_t num_frames(std::size_t num_samples, const FrontEndConfig& config);

// One stream's front end. The FFT plan, window and filters are built once here; frames are
// computed lazily by pop_frame from the buffered samples. A moved-from FrontEnd may only be
// destroyed or assigned to.
class FrontEnd {
 public:
  // Throws earshot::Error if config.validate() does.
  explicit FrontEnd(const FrontEndConfig& config = {});
  ~FrontEnd();
  FrontEnd(FrontEnd&&) noexcept;
  FrontEnd& operator=(FrontEnd&&) noexcept;

  // Appends samples to the stream. Allocation-free once the internal buffer has grown to
  // hold the largest chunk pushed so far plus the samples of the frames not yet popped
  // (one window when the caller pops after every push). Throws earshot::Error, appending
  // nothing, if a sample is NaN or infinite: one bad sample would poison every later frame.
  void accept_waveform(std::span<const float> samples);
  // Complete frames not yet popped.
  std::size_t frames_ready() const;
  // Writes the oldest ready frame into `frame` (feature_dim() values) and removes it.
  // Returns false (and leaves `frame` alone) if no frame is ready. Throws earshot::Error
  // if frame.size() != feature_dim().
  bool pop_frame(std::span<float> frame);
  // Forgets all samples and frames: the next sample starts a new stream.
  void reset();

  const FrontEndConfig& config() const;
  int feature_dim() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Where each feature sits in frequency: the peak of each mel triangle, or each FFT bin's
// frequency for the linear scale; increasing, feature_dim() values. Training's frequency warp
// (train_frequency_warp.hpp) moves spectra along this axis. Throws what validate() throws.
std::vector<double> feature_centres_hz(const FrontEndConfig& config);

// Offline convenience: all frames of `samples`, row-major (num_frames x feature_dim).
// Uses the same FrontEnd, so it equals streaming by construction.
std::vector<float> compute_features(std::span<const float> samples,
                                    const FrontEndConfig& config = {});

}  // namespace earshot
