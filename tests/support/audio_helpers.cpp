#include "audio_helpers.hpp"

#include <sndfile.h>

#include <catch2/catch.hpp>
#include <cctype>
#include <cmath>
#include <fstream>
#include <iterator>
#include <numbers>
#include <sstream>
#include <stdexcept>
#include <string>

namespace earshot::testing {

std::vector<float> make_sine(double frequency_hz, double duration_s, int sample_rate,
                             float amplitude) {
  const auto count = static_cast<std::size_t>(std::lround(duration_s * sample_rate));
  std::vector<float> samples(count);
  for (std::size_t i = 0; i < count; ++i) {
    const double t_s = static_cast<double>(i) / sample_rate;
    samples[i] =
        amplitude * static_cast<float>(std::sin(2.0 * std::numbers::pi * frequency_hz * t_s));
  }
  return samples;
}

void write_audio_with_sndfile(const std::filesystem::path& path, std::span<const float> interleaved,
                              int channels, int sample_rate, int format) {
  SF_INFO info{};
  info.samplerate = sample_rate;
  info.channels = channels;
  info.format = format;
  SNDFILE* file = sf_open(path.c_str(), SFM_WRITE, &info);
  if (file == nullptr) {
    throw std::runtime_error("test setup: cannot create " + path.string() + ": " +
                             sf_strerror(nullptr));
  }
  const auto frames =
      static_cast<sf_count_t>(interleaved.size() / static_cast<std::size_t>(channels));
  const sf_count_t written = sf_writef_float(file, interleaved.data(), frames);
  sf_close(file);
  if (written != frames) throw std::runtime_error("test setup: short write to " + path.string());
}

std::vector<unsigned char> read_file_bytes(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error("test setup: cannot read " + path.string());
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);)
    lines.push_back(line);
  return lines;
}

void write_file_bytes(const std::filesystem::path& path, std::span<const unsigned char> bytes) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file.write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
  if (!file) throw std::runtime_error("test setup: cannot write " + path.string());
}

double zero_crossing_frequency_hz(std::span<const float> samples, int sample_rate) {
  // Interpolate each crossing between samples, then average the periods between the first
  // and last crossing.
  double first_crossing = -1.0;
  double last_crossing = -1.0;
  std::size_t crossings = 0;
  for (std::size_t i = 1; i < samples.size(); ++i) {
    if (samples[i - 1] < 0.0f && samples[i] >= 0.0f) {
      const double fraction = samples[i - 1] / (samples[i - 1] - samples[i]);
      const double position = static_cast<double>(i - 1) + fraction;
      if (crossings == 0) first_crossing = position;
      last_crossing = position;
      ++crossings;
    }
  }
  if (crossings < 2) return 0.0;
  const double period_samples =
      (last_crossing - first_crossing) / static_cast<double>(crossings - 1);
  return sample_rate / period_samples;
}

std::filesystem::path fresh_test_directory(const std::filesystem::path& root) {
  std::string name = Catch::getResultCapture().getCurrentTestName();
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  const std::filesystem::path directory = root / name;
  std::filesystem::remove_all(directory);
  std::filesystem::create_directories(directory);
  return directory;
}

}  // namespace earshot::testing
