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
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

namespace earshot {

enum class SpectrumScale {
  kMel,     // log energies of triangular mel filters (num_mel_bands values)
  kLinear,  // log power of FFT bins 0..fft_size/2 (fft_size/2 + 1 values)
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

  // Values per frame: num_mel_bands, or fft_size/2 + 1 for the linear scale.
  int feature_dim() const;
  double hop_s() const { return static_cast<double>(hop_samples) / sample_rate; }
  // Throws earshot::Error if the parameters are inconsistent (window > fft, ...).
  void validate() const;
  bool operator==(const FrontEndConfig&) const = default;
};

void to_json(nlohmann::json& j, const FrontEndConfig& config);
void from_json(const nlohmann::json& j, FrontEndConfig& config);

// Number of complete frames in `num_samples` samples (see the formula above).
std::size_t num_frames(std::size_t num_samples, const FrontEndConfig& config);

class FrontEnd {
 public:
  explicit FrontEnd(const FrontEndConfig& config = {});
  ~FrontEnd();
  FrontEnd(FrontEnd&&) noexcept;
  FrontEnd& operator=(FrontEnd&&) noexcept;

  // Appends samples to the stream. Allocation-free once the internal buffer has grown to
  // hold the largest chunk pushed so far plus one window.
  void accept_waveform(std::span<const float> samples);
  // Frames computed and not yet popped.
  std::size_t frames_ready() const;
  // Writes the oldest ready frame into `frame` (feature_dim() values) and removes it.
  // Returns false (and leaves `frame` alone) if no frame is ready.
  bool pop_frame(std::span<float> frame);
  // Forgets all samples and frames: the next sample starts a new stream.
  void reset();

  const FrontEndConfig& config() const;
  int feature_dim() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Offline convenience: all frames of `samples`, row-major (num_frames x feature_dim).
// Uses the same FrontEnd, so it equals streaming by construction.
std::vector<float> compute_features(std::span<const float> samples,
                                    const FrontEndConfig& config = {});

}  // namespace earshot
