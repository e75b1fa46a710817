// Test support for audio: signals with known properties, files written behind the library's
// back (with libsndfile directly, or byte by byte), and simple measurements.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace earshot::testing {

// `amplitude * sin(2 pi f t)`, `duration_s` long at `sample_rate` samples per second.
std::vector<float> make_sine(double frequency_hz, double duration_s, int sample_rate,
                             float amplitude = 0.5f);

// Writes interleaved float frames with libsndfile itself, in any libsndfile `format`
// (e.g. SF_FORMAT_WAV | SF_FORMAT_PCM_16), so tests do not rely on the code under test.
void write_audio_with_sndfile(const std::filesystem::path& path, std::span<const float> interleaved,
                              int channels, int sample_rate, int format);

std::vector<unsigned char> read_file_bytes(const std::filesystem::path& path);
// The whole file as text, or "" when it cannot be read (tests then check what they expected).
std::string read_text(const std::filesystem::path& path);
// `text` split at its newlines (a last line without one still counts).
std::vector<std::string> lines_of(const std::string& text);
void write_file_bytes(const std::filesystem::path& path, std::span<const unsigned char> bytes);

// Frequency of a steady tone from the spacing of its upward zero crossings.
double zero_crossing_frequency_hz(std::span<const float> samples, int sample_rate);

// An empty directory `root/<current Catch2 test name>`, so test cases that run in parallel
// processes never share files.
std::filesystem::path fresh_test_directory(const std::filesystem::path& root);

}  // namespace earshot::testing
