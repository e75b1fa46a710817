// Audio in and out of files, converted at the edge to Earshot's internal format:
// 16 kHz mono float32 in [-1, 1].
//
// Reading accepts anything libsndfile reads (WAV, FLAC, OGG/Vorbis, Opus, MP3, ...) at any
// sample rate and channel count: channels are averaged, and the rate is converted with
// libsoxr. Every failure throws earshot::Error naming the file and the reason.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>
#include <vector>

#include "earshot/error.hpp"

namespace earshot {

inline constexpr int kSampleRate = 16000;  // Earshot's internal rate, samples per second

// Converts a stream of mono float audio from one rate to another with libsoxr
// (high quality). Works in pieces of any size; `flush()` returns the tail held back by the
// filter. Used at the edges only: file reading and live capture at the device's rate.
class Resampler {
 public:
  Resampler(double input_rate, double output_rate);
  ~Resampler();
  Resampler(Resampler&&) noexcept;
  Resampler& operator=(Resampler&&) noexcept;

  // Appends the resampled form of `input` to `output`.
  void process(std::span<const float> input, std::vector<float>& output);
  // Ends the stream: appends the remaining output to `output`. The next `process` call
  // starts a new stream.
  void flush(std::vector<float>& output);

  double input_rate() const { return input_rate_; }
  double output_rate() const { return output_rate_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  double input_rate_;
  double output_rate_;
};

// Reads an audio file piece by piece as 16 kHz mono float, so hour-long files never
// have to fit in memory. Throws earshot::Error on open if the file is missing, is a
// directory, is not audio, has zero channels or a rate <= 0, or holds no samples. A file
// holding fewer frames than its header promises is reported as truncated: on open where the
// header can be checked directly (WAV), otherwise on the read that comes up short.
class AudioFileReader {
 public:
  explicit AudioFileReader(const std::filesystem::path& path);
  ~AudioFileReader();
  AudioFileReader(AudioFileReader&&) noexcept;
  AudioFileReader& operator=(AudioFileReader&&) noexcept;

  // Appends up to `max_samples` (> 0, at 16 kHz) to `output`; returns how many were
  // appended. Fewer than `max_samples` only at the end of the file; 0 once it is over.
  std::size_t read(std::vector<float>& output, std::size_t max_samples);

  int file_sample_rate() const;
  int file_channels() const;
  // Length of the file in seconds, from its header.
  double duration_s() const;
  const std::filesystem::path& path() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Reads a whole file as 16 kHz mono float (convenience over AudioFileReader).
std::vector<float> read_audio(const std::filesystem::path& path);

// Writes mono float samples as 16-bit PCM. The container follows the extension:
// .wav (RIFF WAV) or .flac. Throws earshot::Error (e.g. disk full, unknown extension)
// and never leaves a partial file behind under the final name.
void write_audio(const std::filesystem::path& path, std::span<const float> samples,
                 int sample_rate = kSampleRate);

// True if the path has an extension libsndfile is expected to read (for directory walks).
bool has_audio_extension(const std::filesystem::path& path);

}  // namespace earshot
