// Audio files in and out: libsndfile for containers and codecs, libsoxr for the rate.
#include "earshot/audio_io.hpp"

#include <fmt/core.h>
#include <sndfile.h>
#include <soxr.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>

namespace earshot {
namespace {

namespace fs = std::filesystem;

constexpr sf_count_t kFramesPerFileRead = 8192;

std::string quoted(const fs::path& path) {
  return "'" + path.string() + "'";
}

std::string lowercase_extension(const fs::path& path) {
  std::string extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return extension;
}

// libsndfile reports why sf_open failed through a process-wide variable, so an open and the
// reading of its error must not interleave with another thread's.
std::mutex& sndfile_open_mutex() {
  static std::mutex mutex;
  return mutex;
}

struct SndfileCloser {
  void operator()(SNDFILE* file) const { sf_close(file); }
};
using SndfileHandle = std::unique_ptr<SNDFILE, SndfileCloser>;

// What a RIFF WAV header says, read by hand because libsndfile silently trims a data chunk
// that runs past the end of the file (a truncated recording would look complete) and
// reports a zero sample rate only as "SF_INFO struct incomplete".
struct WavHeader {
  int channels = 0;
  std::int64_t sample_rate_hz = 0;
  int block_align_bytes = 0;
  std::optional<std::uint64_t> data_bytes;
};

std::uint32_t little_endian(const unsigned char* bytes, int count) {
  std::uint32_t value = 0;
  for (int i = count - 1; i >= 0; --i)
    value = (value << 8) | bytes[i];
  return value;
}

std::optional<WavHeader> read_wav_header(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::array<unsigned char, 12> riff{};
  if (!file.read(reinterpret_cast<char*>(riff.data()), riff.size())) return std::nullopt;
  if (std::string(riff.begin(), riff.begin() + 4) != "RIFF" ||
      std::string(riff.begin() + 8, riff.end()) != "WAVE") {
    return std::nullopt;
  }
  WavHeader header;
  bool have_format = false;
  std::array<unsigned char, 8> chunk{};
  while (file.read(reinterpret_cast<char*>(chunk.data()), chunk.size())) {
    const std::string id(chunk.begin(), chunk.begin() + 4);
    const std::uint32_t size = little_endian(chunk.data() + 4, 4);
    if (id == "data") {
      header.data_bytes = size;
      break;
    }
    std::streamoff skip = size + (size & 1u);  // chunks are padded to even sizes
    if (id == "fmt " && size >= 16) {
      std::array<unsigned char, 16> format{};
      if (!file.read(reinterpret_cast<char*>(format.data()), format.size())) break;
      header.channels = static_cast<int>(little_endian(format.data() + 2, 2));
      header.sample_rate_hz = little_endian(format.data() + 4, 4);
      header.block_align_bytes = static_cast<int>(little_endian(format.data() + 12, 2));
      have_format = true;
      skip -= 16;
    }
    file.seekg(skip, std::ios::cur);
  }
  if (!have_format) return std::nullopt;
  return header;
}

// Frames a WAV header promises, where the encoding makes that exact: fixed-size frames, and
// a data size that is not a streaming writer's placeholder (0 or 0xFFFFFFFF).
std::optional<std::uint64_t> wav_promised_frames(const fs::path& path, const SF_INFO& info) {
  const int major = info.format & SF_FORMAT_TYPEMASK;
  if (major != SF_FORMAT_WAV && major != SF_FORMAT_WAVEX) return std::nullopt;
  switch (info.format & SF_FORMAT_SUBMASK) {
    case SF_FORMAT_PCM_U8:
    case SF_FORMAT_PCM_16:
    case SF_FORMAT_PCM_24:
    case SF_FORMAT_PCM_32:
    case SF_FORMAT_FLOAT:
    case SF_FORMAT_DOUBLE:
    case SF_FORMAT_ULAW:
    case SF_FORMAT_ALAW:
      break;
    default:
      return std::nullopt;
  }
  const std::optional<WavHeader> header = read_wav_header(path);
  if (!header || !header->data_bytes || header->block_align_bytes <= 0) return std::nullopt;
  const std::uint64_t data_bytes = *header->data_bytes;
  if (data_bytes == 0 || data_bytes == 0xFFFFFFFFu) return std::nullopt;
  return data_bytes / static_cast<std::uint64_t>(header->block_align_bytes);
}

// Containers whose header frame count is exact, so a short read means missing data rather
// than an estimate (MP3 and Ogg lengths can be estimates).
bool header_frame_count_is_exact(const SF_INFO& info) {
  switch (info.format & SF_FORMAT_TYPEMASK) {
    case SF_FORMAT_WAV:
    case SF_FORMAT_WAVEX:
    case SF_FORMAT_AIFF:
    case SF_FORMAT_AU:
    case SF_FORMAT_W64:
    case SF_FORMAT_CAF:
    case SF_FORMAT_RF64:
    case SF_FORMAT_FLAC:
      return true;
    default:
      return false;
  }
}

[[noreturn]] void throw_truncated(const fs::path& path, std::uint64_t promised_frames,
                                  std::uint64_t held_frames) {
  throw Error(fmt::format("audio file {} is truncated: header promises {} frames, file holds {}",
                          quoted(path), promised_frames, held_frames));
}

// Why libsndfile refused a file, in words a user can act on.
std::string open_failure_reason(const fs::path& path, const char* sndfile_message) {
  if (const std::optional<WavHeader> header = read_wav_header(path)) {
    if (header->channels == 0) return "its header claims 0 channels";
    if (header->sample_rate_hz <= 0) {
      return fmt::format("its header claims a sample rate of {} Hz, which is unsupported",
                         header->sample_rate_hz);
    }
  }
  return fmt::format("not an audio file libsndfile can read ({})", sndfile_message);
}

void require_regular_file(const fs::path& path) {
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (status.type() == fs::file_type::not_found) {
    throw Error(fmt::format("audio file {} does not exist", quoted(path)));
  }
  if (status.type() == fs::file_type::directory) {
    throw Error(fmt::format("{} is a directory, not an audio file", quoted(path)));
  }
  if (error) {
    throw Error(fmt::format("cannot open audio file {}: {}", quoted(path), error.message()));
  }
}

SndfileHandle open_for_reading(const fs::path& path, SF_INFO& info) {
  require_regular_file(path);
  info = SF_INFO{};
  std::string sndfile_message;
  SndfileHandle file;
  {
    std::lock_guard lock(sndfile_open_mutex());
    file.reset(sf_open(path.c_str(), SFM_READ, &info));
    if (!file) sndfile_message = sf_strerror(nullptr);
  }
  if (!file) {
    throw Error(fmt::format("cannot read audio file {}: {}", quoted(path),
                            open_failure_reason(path, sndfile_message.c_str())));
  }
  return file;
}

void validate_opened_file(const fs::path& path, const SF_INFO& info) {
  if (info.channels <= 0) {
    throw Error(fmt::format("audio file {} has {} channels", quoted(path), info.channels));
  }
  if (info.samplerate <= 0) {
    throw Error(fmt::format("audio file {} has an unsupported sample rate of {} Hz", quoted(path),
                            info.samplerate));
  }
  if (const auto promised = wav_promised_frames(path, info);
      promised && *promised > static_cast<std::uint64_t>(info.frames)) {
    throw_truncated(path, *promised, static_cast<std::uint64_t>(info.frames));
  }
  if (info.frames <= 0) {
    throw Error(fmt::format("audio file {} holds no samples", quoted(path)));
  }
}

// Averages the channels of `frames` interleaved frames into `mono` (resized to fit).
void downmix(std::span<const float> interleaved, int channels, std::vector<float>& mono) {
  const std::size_t frames = interleaved.size() / static_cast<std::size_t>(channels);
  mono.resize(frames);
  if (channels == 1) {
    std::copy(interleaved.begin(), interleaved.end(), mono.begin());
    return;
  }
  const float scale = 1.0f / static_cast<float>(channels);
  for (std::size_t frame = 0; frame < frames; ++frame) {
    const float* first = interleaved.data() + frame * static_cast<std::size_t>(channels);
    float sum = 0.0f;
    for (int channel = 0; channel < channels; ++channel)
      sum += first[channel];
    mono[frame] = sum * scale;
  }
}

int write_format_for(const fs::path& path) {
  const std::string extension = lowercase_extension(path);
  if (extension == ".wav") return SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  if (extension == ".flac") return SF_FORMAT_FLAC | SF_FORMAT_PCM_16;
  throw Error(fmt::format("cannot write audio file {}: unknown extension '{}' (use .wav or .flac)",
                          quoted(path), extension));
}

// A name next to the final one (same directory, so the rename cannot cross file systems)
// that no other writer in this or another process will pick.
fs::path temporary_sibling(const fs::path& path) {
  static std::atomic<std::uint64_t> counter{0};
  const std::string name = fmt::format(".{}.partial-{}-{}", path.filename().string(),
                                       static_cast<long>(::getpid()), counter.fetch_add(1));
  return path.parent_path() / name;
}

void write_pcm16(const fs::path& temporary, const fs::path& final_path, int format,
                 std::span<const float> samples, int sample_rate) {
  SF_INFO info{};
  info.samplerate = sample_rate;
  info.channels = 1;
  info.format = format;
  SndfileHandle file;
  std::string sndfile_message;
  {
    std::lock_guard lock(sndfile_open_mutex());
    file.reset(sf_open(temporary.c_str(), SFM_WRITE, &info));
    if (!file) sndfile_message = sf_strerror(nullptr);
  }
  if (!file) {
    throw Error(fmt::format("cannot create audio file {} (as {}): {}", quoted(final_path),
                            quoted(temporary), sndfile_message));
  }
  // Saturate out-of-range samples instead of letting them wrap around to the opposite sign.
  sf_command(file.get(), SFC_SET_CLIPPING, nullptr, SF_TRUE);
  const auto frames = static_cast<sf_count_t>(samples.size());
  const sf_count_t written = sf_writef_float(file.get(), samples.data(), frames);
  if (written != frames) {
    throw Error(fmt::format("writing audio file {} failed after {} of {} samples (disk full?): {}",
                            quoted(final_path), written, frames, sf_strerror(file.get())));
  }
  // Closing writes the final header (and, for FLAC, the last encoded block).
  if (const int error = sf_close(file.release()); error != SF_ERR_NO_ERROR) {
    throw Error(fmt::format("finishing audio file {} failed (disk full?): {}", quoted(final_path),
                            sf_error_number(error)));
  }
}

void require_finite(const fs::path& path, std::span<const float> samples) {
  const auto bad = std::find_if(samples.begin(), samples.end(),
                                [](float sample) { return !std::isfinite(sample); });
  if (bad != samples.end()) {
    throw Error(fmt::format("cannot write audio file {}: sample {} is not a finite number",
                            quoted(path), bad - samples.begin()));
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Resampler

struct Resampler::Impl {
  soxr_t soxr = nullptr;
  ~Impl() { soxr_delete(soxr); }
};

Resampler::Resampler(double input_rate, double output_rate)
    : impl_(std::make_unique<Impl>()), input_rate_(input_rate), output_rate_(output_rate) {
  if (!(input_rate > 0.0) || !(output_rate > 0.0) || !std::isfinite(input_rate) ||
      !std::isfinite(output_rate)) {
    throw Error(fmt::format("cannot resample from {} Hz to {} Hz: rates must be positive",
                            input_rate, output_rate));
  }
  const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
  soxr_error_t error = nullptr;
  impl_->soxr = soxr_create(input_rate, output_rate, 1, &error, &io, &quality, nullptr);
  if (error != nullptr) {
    throw Error(
        fmt::format("cannot resample from {} Hz to {} Hz: {}", input_rate, output_rate, error));
  }
}

Resampler::~Resampler() = default;
Resampler::Resampler(Resampler&&) noexcept = default;
Resampler& Resampler::operator=(Resampler&&) noexcept = default;

void Resampler::process(std::span<const float> input, std::vector<float>& output) {
  // An empty span may carry a null pointer, which soxr would take as end of input.
  std::size_t consumed = 0;
  while (consumed < input.size()) {
    const std::size_t remaining = input.size() - consumed;
    const auto room = static_cast<std::size_t>(
                          std::ceil(static_cast<double>(remaining) * output_rate_ / input_rate_)) +
                      64;
    const std::size_t start = output.size();
    output.resize(start + room);
    std::size_t used = 0;
    std::size_t produced = 0;
    const soxr_error_t error = soxr_process(impl_->soxr, input.data() + consumed, remaining, &used,
                                            output.data() + start, room, &produced);
    output.resize(start + produced);
    if (error != nullptr) throw Error(fmt::format("resampling failed: {}", error));
    consumed += used;
  }
}

void Resampler::flush(std::vector<float>& output) {
  constexpr std::size_t kFlushRoom = 4096;
  for (;;) {
    const std::size_t start = output.size();
    output.resize(start + kFlushRoom);
    std::size_t produced = 0;
    const soxr_error_t error = soxr_process(impl_->soxr, nullptr, 0, nullptr, output.data() + start,
                                            kFlushRoom, &produced);
    output.resize(start + produced);
    if (error != nullptr) throw Error(fmt::format("resampling failed: {}", error));
    if (produced == 0) break;
  }
  // Ready for a new stream with the same rates.
  soxr_clear(impl_->soxr);
}

// ---------------------------------------------------------------------------------------------
// AudioFileReader

struct AudioFileReader::Impl {
  fs::path path;
  SF_INFO info{};
  SndfileHandle file;
  std::optional<Resampler> resampler;  // only when the file is not at kSampleRate
  std::uint64_t frames_read = 0;
  bool file_exhausted = false;
  std::vector<float> interleaved;  // one read's frames, as the file holds them
  std::vector<float> mono;         // the same frames, channels averaged
  std::vector<float> pending;      // converted samples; those before pending_start are handed out
  std::size_t pending_start = 0;

  std::size_t pending_available() const { return pending.size() - pending_start; }

  // Reads the next piece of the file and appends it, converted, to `pending`. Handed-out
  // samples are dropped here, once per piece, rather than on every small read.
  void convert_next_piece() {
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(pending_start));
    pending_start = 0;
    interleaved.resize(static_cast<std::size_t>(kFramesPerFileRead * info.channels));
    const sf_count_t got = sf_readf_float(file.get(), interleaved.data(), kFramesPerFileRead);
    frames_read += static_cast<std::uint64_t>(std::max<sf_count_t>(got, 0));
    if (got < kFramesPerFileRead) finish_reading();
    interleaved.resize(static_cast<std::size_t>(std::max<sf_count_t>(got, 0) * info.channels));
    downmix(interleaved, info.channels, mono);
    if (resampler) {
      resampler->process(mono, pending);
      if (file_exhausted) resampler->flush(pending);
    } else {
      pending.insert(pending.end(), mono.begin(), mono.end());
    }
  }

  // A short read ends the file; it is an error if the header promised more.
  void finish_reading() {
    file_exhausted = true;
    const auto promised = static_cast<std::uint64_t>(info.frames);
    if (header_frame_count_is_exact(info) && frames_read < promised) {
      throw_truncated(path, promised, frames_read);
    }
    if (const int error = sf_error(file.get()); error != SF_ERR_NO_ERROR) {
      throw Error(fmt::format("reading audio file {} failed after {} frames: {}", quoted(path),
                              frames_read, sf_error_number(error)));
    }
  }
};

AudioFileReader::AudioFileReader(const fs::path& path) : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  impl_->file = open_for_reading(path, impl_->info);
  validate_opened_file(path, impl_->info);
  if (impl_->info.samplerate != kSampleRate)
    impl_->resampler.emplace(impl_->info.samplerate, kSampleRate);
}

AudioFileReader::~AudioFileReader() = default;
AudioFileReader::AudioFileReader(AudioFileReader&&) noexcept = default;
AudioFileReader& AudioFileReader::operator=(AudioFileReader&&) noexcept = default;

std::size_t AudioFileReader::read(std::vector<float>& output, std::size_t max_samples) {
  if (max_samples == 0) {
    throw Error(fmt::format("reading audio file {}: asked for 0 samples", quoted(impl_->path)));
  }
  while (impl_->pending_available() < max_samples && !impl_->file_exhausted) {
    impl_->convert_next_piece();
  }
  const std::size_t count = std::min(max_samples, impl_->pending_available());
  const auto taken = impl_->pending.begin() + static_cast<std::ptrdiff_t>(impl_->pending_start);
  output.insert(output.end(), taken, taken + static_cast<std::ptrdiff_t>(count));
  impl_->pending_start += count;
  return count;
}

int AudioFileReader::file_sample_rate() const {
  return impl_->info.samplerate;
}
int AudioFileReader::file_channels() const {
  return impl_->info.channels;
}
double AudioFileReader::duration_s() const {
  return static_cast<double>(impl_->info.frames) / impl_->info.samplerate;
}
const fs::path& AudioFileReader::path() const {
  return impl_->path;
}

// ---------------------------------------------------------------------------------------------
// Whole files

std::vector<float> read_audio(const fs::path& path) {
  AudioFileReader reader(path);
  std::vector<float> samples;
  samples.reserve(static_cast<std::size_t>(std::ceil(reader.duration_s() * kSampleRate)) + 64);
  constexpr std::size_t kSamplesPerRead = 1 << 16;
  while (reader.read(samples, kSamplesPerRead) > 0) {
  }
  return samples;
}

void write_audio(const fs::path& path, std::span<const float> samples, int sample_rate) {
  const int format = write_format_for(path);
  if (sample_rate <= 0) {
    throw Error(fmt::format("cannot write audio file {}: sample rate {} Hz is not positive",
                            quoted(path), sample_rate));
  }
  require_finite(path, samples);
  const fs::path directory = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  std::error_code status_error;
  if (!fs::is_directory(directory, status_error)) {
    throw Error(fmt::format("cannot write audio file {}: directory {} does not exist", quoted(path),
                            quoted(directory)));
  }
  const fs::path temporary = temporary_sibling(path);
  try {
    write_pcm16(temporary, path, format, samples, sample_rate);
    fs::rename(temporary, path);
  } catch (const fs::filesystem_error& error) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw Error(fmt::format("cannot write audio file {}: {}", quoted(path), error.what()));
  } catch (...) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw;
  }
}

bool has_audio_extension(const fs::path& path) {
  static constexpr std::array<std::string_view, 11> kExtensions = {
      ".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aiff", ".aif", ".au", ".caf", ".w64"};
  const std::string extension = lowercase_extension(path);
  return std::find(kExtensions.begin(), kExtensions.end(), extension) != kExtensions.end();
}

}  // namespace earshot
