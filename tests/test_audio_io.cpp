// Specification of audio file I/O: any file in, 16 kHz mono float out; 16-bit WAV/FLAC out;
// every malformed file a clear earshot::Error naming it.
#include <sndfile.h>
#include <sys/resource.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "audio_helpers.hpp"
#include "earshot/audio_io.hpp"

namespace {

namespace fs = std::filesystem;
using Catch::Contains;
using earshot::testing::fresh_test_directory;
using earshot::testing::make_sine;
using earshot::testing::read_file_bytes;
using earshot::testing::write_audio_with_sndfile;
using earshot::testing::write_file_bytes;
using earshot::testing::zero_crossing_frequency_hz;

constexpr int kWav16 = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
constexpr int kWavFloat = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
// A 16-bit round trip is off by at most one step of 1/32768 plus the 32767-vs-32768 scale.
constexpr float kPcm16Tolerance = 2.0f / 32768.0f;

fs::path scratch() {
  return fresh_test_directory(fs::path(EARSHOT_TEST_TMP) / "audio_io");
}

float max_abs_difference(const std::vector<float>& a, const std::vector<float>& b) {
  float worst = 0.0f;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    worst = std::max(worst, std::abs(a[i] - b[i]));
  }
  return worst;
}

double rms(std::span<const float> samples) {
  double sum = 0.0;
  for (float sample : samples)
    sum += static_cast<double>(sample) * sample;
  return std::sqrt(sum / static_cast<double>(samples.size()));
}

// Offset of a RIFF chunk's 4-byte id, for patching headers byte by byte.
std::size_t riff_chunk_offset(const std::vector<unsigned char>& bytes, const char* id) {
  const auto found = std::search(bytes.begin() + 12, bytes.end(), id, id + 4);
  REQUIRE(found != bytes.end());
  return static_cast<std::size_t>(found - bytes.begin());
}

void put_le16(std::vector<unsigned char>& bytes, std::size_t offset, unsigned value) {
  bytes[offset] = static_cast<unsigned char>(value & 0xFF);
  bytes[offset + 1] = static_cast<unsigned char>((value >> 8) & 0xFF);
}

void put_le32(std::vector<unsigned char>& bytes, std::size_t offset, std::uint32_t value) {
  for (int i = 0; i < 4; ++i)
    bytes[offset + i] = static_cast<unsigned char>(value >> (8 * i));
}

std::vector<fs::path> directory_entries(const fs::path& directory) {
  std::vector<fs::path> entries;
  for (const auto& entry : fs::directory_iterator(directory))
    entries.push_back(entry.path());
  return entries;
}

}  // namespace

// --- Writing and reading back ---------------------------------------------------------------

TEST_CASE("a WAV round trip returns the samples within 16-bit quantisation", "[audio_io]") {
  const fs::path path = scratch() / "tone.wav";
  const auto samples = make_sine(440.0, 0.5, 16000, 0.9f);
  earshot::write_audio(path, samples);
  const auto back = earshot::read_audio(path);
  REQUIRE(back.size() == 8000);
  CHECK(max_abs_difference(back, samples) <= kPcm16Tolerance);
  CHECK(earshot::AudioFileReader(path).file_sample_rate() == 16000);
}

TEST_CASE("a FLAC round trip returns the samples within 16-bit quantisation", "[audio_io]") {
  const fs::path path = scratch() / "tone.flac";
  const auto samples = make_sine(440.0, 0.5, 16000, 0.9f);
  earshot::write_audio(path, samples);
  const auto bytes = read_file_bytes(path);
  REQUIRE(bytes.size() > 4);
  CHECK(std::string(bytes.begin(), bytes.begin() + 4) == "fLaC");
  const auto back = earshot::read_audio(path);
  REQUIRE(back.size() == 8000);
  CHECK(max_abs_difference(back, samples) <= kPcm16Tolerance);
}

TEST_CASE("the written container follows the extension whatever its case", "[audio_io]") {
  const fs::path path = scratch() / "LOUD.FLAC";
  earshot::write_audio(path, make_sine(440.0, 0.1, 16000));
  const auto bytes = read_file_bytes(path);
  CHECK(std::string(bytes.begin(), bytes.begin() + 4) == "fLaC");
}

TEST_CASE("writing at another rate records that rate and reading converts it", "[audio_io]") {
  const fs::path path = scratch() / "rate8k.wav";
  earshot::write_audio(path, make_sine(1000.0, 1.0, 8000), 8000);
  earshot::AudioFileReader reader(path);
  CHECK(reader.file_sample_rate() == 8000);
  CHECK(reader.duration_s() == Approx(1.0));
}

TEST_CASE("samples beyond full scale are clipped, not wrapped around", "[audio_io]") {
  const fs::path path = scratch() / "loud.wav";
  const std::vector<float> samples = {1.5f, -1.5f, 0.5f};
  earshot::write_audio(path, samples);
  const auto back = earshot::read_audio(path);
  REQUIRE(back.size() == 3);
  CHECK(back[0] == Approx(1.0f).margin(kPcm16Tolerance));
  CHECK(back[1] == Approx(-1.0f).margin(kPcm16Tolerance));
  CHECK(back[2] == Approx(0.5f).margin(kPcm16Tolerance));
}

TEST_CASE("writing over an existing file replaces it whole", "[audio_io]") {
  const fs::path path = scratch() / "twice.wav";
  earshot::write_audio(path, std::vector<float>(16000, 0.25f));
  earshot::write_audio(path, std::vector<float>(100, -0.5f));
  const auto back = earshot::read_audio(path);
  REQUIRE(back.size() == 100);
  CHECK(back.front() == Approx(-0.5f).margin(kPcm16Tolerance));
}

TEST_CASE("writing leaves no temporary file behind", "[audio_io]") {
  const fs::path directory = scratch();
  earshot::write_audio(directory / "a.wav", make_sine(440.0, 0.1, 16000));
  earshot::write_audio(directory / "b.flac", make_sine(440.0, 0.1, 16000));
  auto entries = directory_entries(directory);
  std::sort(entries.begin(), entries.end());
  CHECK(entries == std::vector<fs::path>{directory / "a.wav", directory / "b.flac"});
}

// --- Write errors ---------------------------------------------------------------------------

TEST_CASE("writing into a directory that does not exist names the directory", "[audio_io]") {
  const fs::path path = scratch() / "no_such_dir" / "out.wav";
  CHECK_THROWS_AS(earshot::write_audio(path, make_sine(440.0, 0.1, 16000)), earshot::Error);
  CHECK_THROWS_WITH(earshot::write_audio(path, make_sine(440.0, 0.1, 16000)),
                    Contains("out.wav") && Contains("no_such_dir") && Contains("does not exist"));
}

TEST_CASE("writing with an extension other than .wav or .flac is refused", "[audio_io]") {
  const fs::path directory = scratch();
  CHECK_THROWS_WITH(earshot::write_audio(directory / "out.mp3", make_sine(440.0, 0.1, 16000)),
                    Contains("out.mp3") && Contains("unknown extension '.mp3'"));
  CHECK(directory_entries(directory).empty());
}

TEST_CASE("writing a sample that is not a finite number is refused", "[audio_io]") {
  const fs::path directory = scratch();
  std::vector<float> samples(10, 0.1f);
  samples[7] = std::nanf("");
  CHECK_THROWS_WITH(earshot::write_audio(directory / "nan.wav", samples),
                    Contains("nan.wav") && Contains("sample 7 is not a finite number"));
  CHECK(directory_entries(directory).empty());
}

TEST_CASE("writing with a sample rate of zero is refused", "[audio_io]") {
  CHECK_THROWS_WITH(earshot::write_audio(scratch() / "zero.wav", make_sine(440.0, 0.1, 16000), 0),
                    Contains("zero.wav") && Contains("sample rate 0 Hz"));
}

// The file-size limit makes the kernel refuse writes past 4096 bytes, as a full disk would.
TEST_CASE("a write that fails part way leaves no file under the final name", "[audio_io]") {
  const fs::path directory = scratch();
  const fs::path path = directory / "full.wav";
  rlimit original{};
  REQUIRE(getrlimit(RLIMIT_FSIZE, &original) == 0);
  const auto previous_handler = std::signal(SIGXFSZ, SIG_IGN);  // report EFBIG, do not kill
  rlimit limited = original;
  limited.rlim_cur = 4096;
  REQUIRE(setrlimit(RLIMIT_FSIZE, &limited) == 0);
  std::string message;
  try {
    earshot::write_audio(path, make_sine(440.0, 2.0, 16000));  // 64000 bytes of samples
  } catch (const earshot::Error& error) {
    message = error.what();
  }
  setrlimit(RLIMIT_FSIZE, &original);
  std::signal(SIGXFSZ, previous_handler);
  CHECK_THAT(message, Contains("full.wav") && Contains("disk full?"));
  CHECK(directory_entries(directory).empty());
}

// --- Conversion to 16 kHz mono --------------------------------------------------------------

TEST_CASE("a stereo file is read as the average of its two channels", "[audio_io]") {
  const fs::path path = scratch() / "stereo.wav";
  const auto left = make_sine(440.0, 0.25, 16000, 0.8f);
  const auto right = make_sine(1300.0, 0.25, 16000, 0.3f);
  std::vector<float> interleaved;
  for (std::size_t i = 0; i < left.size(); ++i) {
    interleaved.push_back(left[i]);
    interleaved.push_back(right[i]);
  }
  write_audio_with_sndfile(path, interleaved, 2, 16000, kWavFloat);
  CHECK(earshot::AudioFileReader(path).file_channels() == 2);
  const auto mono = earshot::read_audio(path);
  REQUIRE(mono.size() == left.size());
  for (std::size_t i = 0; i < mono.size(); ++i) {
    REQUIRE(mono[i] == Approx((left[i] + right[i]) / 2.0f).margin(1e-6));
  }
}

TEST_CASE("44.1 kHz input becomes 16 kHz with a 1 kHz tone still at 1 kHz", "[audio_io]") {
  const fs::path path = scratch() / "cd_rate.wav";
  const auto tone = make_sine(1000.0, 1.0, 44100, 0.5f);
  write_audio_with_sndfile(path, tone, 1, 44100, kWavFloat);
  const auto resampled = earshot::read_audio(path);
  CHECK(std::abs(static_cast<long>(resampled.size()) - 16000) <= 4);
  // Away from the edges, where the filter rings in and out.
  const std::span<const float> middle(resampled.data() + 1000, 14000);
  CHECK(zero_crossing_frequency_hz(middle, 16000) == Approx(1000.0).margin(0.5));
  CHECK(rms(middle) == Approx(0.5 / std::sqrt(2.0)).epsilon(0.01));
}

TEST_CASE("8 kHz input becomes 16 kHz with a 1 kHz tone still at 1 kHz", "[audio_io]") {
  const fs::path path = scratch() / "phone_rate.wav";
  write_audio_with_sndfile(path, make_sine(1000.0, 1.0, 8000, 0.5f), 1, 8000, kWav16);
  const auto resampled = earshot::read_audio(path);
  CHECK(std::abs(static_cast<long>(resampled.size()) - 16000) <= 4);
  const std::span<const float> middle(resampled.data() + 1000, 14000);
  CHECK(zero_crossing_frequency_hz(middle, 16000) == Approx(1000.0).margin(0.5));
  CHECK(rms(middle) == Approx(0.5 / std::sqrt(2.0)).epsilon(0.01));
}

TEST_CASE("a 16 kHz float file is read back sample for sample", "[audio_io]") {
  const fs::path path = scratch() / "native.wav";
  const auto tone = make_sine(700.0, 0.3, 16000, 0.7f);
  write_audio_with_sndfile(path, tone, 1, 16000, kWavFloat);
  CHECK(earshot::read_audio(path) == tone);
}

TEST_CASE("reading in 7-sample pieces gives exactly what read_audio gives", "[audio_io]") {
  const fs::path path = scratch() / "pieces.wav";
  const auto tone = make_sine(523.0, 1.3, 44100, 0.5f);
  std::vector<float> stereo;
  for (float sample : tone) {
    stereo.push_back(sample);
    stereo.push_back(-0.5f * sample);
  }
  write_audio_with_sndfile(path, stereo, 2, 44100, kWav16);
  const auto whole = earshot::read_audio(path);

  earshot::AudioFileReader reader(path);
  std::vector<float> pieces;
  std::size_t short_reads = 0;
  while (const std::size_t count = reader.read(pieces, 7)) {
    if (count < 7) ++short_reads;
  }
  CHECK(pieces == whole);
  CHECK(short_reads <= 1);  // only the last piece may come up short
  CHECK(reader.read(pieces, 7) == 0);
}

TEST_CASE("the reader reports the file's own rate, channels and duration", "[audio_io]") {
  const fs::path path = scratch() / "info.wav";
  write_audio_with_sndfile(path, std::vector<float>(3 * 22050, 0.0f), 3, 44100, kWav16);
  earshot::AudioFileReader reader(path);
  CHECK(reader.file_sample_rate() == 44100);
  CHECK(reader.file_channels() == 3);
  CHECK(reader.duration_s() == Approx(0.5));
  CHECK(reader.path() == path);
}

TEST_CASE("asking the reader for zero samples is an error, not an end of file", "[audio_io]") {
  const fs::path path = scratch() / "zero_ask.wav";
  earshot::write_audio(path, make_sine(440.0, 0.1, 16000));
  earshot::AudioFileReader reader(path);
  std::vector<float> out;
  CHECK_THROWS_AS(reader.read(out, 0), earshot::Error);
}

// --- Resampler ------------------------------------------------------------------------------

TEST_CASE("resampling in 7-sample pieces equals resampling in one piece", "[audio_io]") {
  const auto tone = make_sine(1000.0, 0.5, 44100, 0.5f);
  earshot::Resampler whole(44100, 16000);
  std::vector<float> at_once;
  whole.process(tone, at_once);
  whole.flush(at_once);

  earshot::Resampler streaming(44100, 16000);
  std::vector<float> in_pieces;
  for (std::size_t start = 0; start < tone.size(); start += 7) {
    const std::size_t count = std::min<std::size_t>(7, tone.size() - start);
    streaming.process(std::span(tone).subspan(start, count), in_pieces);
  }
  streaming.flush(in_pieces);
  REQUIRE(in_pieces.size() == at_once.size());
  CHECK(max_abs_difference(in_pieces, at_once) <= 1e-6f);
}

TEST_CASE("after flush a resampler starts a new stream as if freshly made", "[audio_io]") {
  const auto tone = make_sine(1000.0, 0.2, 8000, 0.5f);
  earshot::Resampler reused(8000, 16000);
  std::vector<float> first;
  reused.process(tone, first);
  reused.flush(first);
  std::vector<float> second;
  reused.process(tone, second);
  reused.flush(second);
  CHECK(second == first);
  CHECK(std::abs(static_cast<long>(first.size()) - 3200) <= 2);
}

TEST_CASE("a resampler refuses rates that are not positive", "[audio_io]") {
  CHECK_THROWS_AS(earshot::Resampler(0.0, 16000.0), earshot::Error);
  CHECK_THROWS_AS(earshot::Resampler(44100.0, -1.0), earshot::Error);
}

// --- Malformed input: real broken files -----------------------------------------------------

TEST_CASE("a path that does not exist is reported as missing", "[audio_io]") {
  const fs::path path = scratch() / "nowhere.wav";
  CHECK_THROWS_WITH(earshot::read_audio(path),
                    Contains("nowhere.wav") && Contains("does not exist"));
}

TEST_CASE("a directory is reported as a directory", "[audio_io]") {
  const fs::path directory = scratch() / "looks_like.wav";
  fs::create_directories(directory);
  CHECK_THROWS_WITH(earshot::read_audio(directory),
                    Contains("looks_like.wav") && Contains("is a directory"));
}

TEST_CASE("a text file named .wav is reported as not audio, with libsndfile's reason",
          "[audio_io]") {
  const fs::path path = scratch() / "notes.wav";
  std::ofstream(path) << "these are meeting notes, not a recording\n";
  CHECK_THROWS_WITH(earshot::read_audio(path),
                    Contains("notes.wav") && Contains("not an audio file") &&
                        Contains(sf_error_number(SF_ERR_UNRECOGNISED_FORMAT)));
}

TEST_CASE("a WAV whose data chunk is cut short reports the frames promised and held",
          "[audio_io]") {
  const fs::path path = scratch() / "cut.wav";
  write_audio_with_sndfile(path, std::vector<float>(1000, 0.1f), 1, 16000, kWav16);
  auto bytes = read_file_bytes(path);
  bytes.resize(bytes.size() - 1000);  // 500 of the 1000 two-byte frames remain
  write_file_bytes(path, bytes);
  CHECK_THROWS_WITH(
      earshot::read_audio(path),
      Contains("cut.wav") && Contains("truncated: header promises 1000 frames, file holds 500"));
}

TEST_CASE("a WAV cut off right after its header is truncated, not empty", "[audio_io]") {
  const fs::path path = scratch() / "header_only.wav";
  write_audio_with_sndfile(path, std::vector<float>(1000, 0.1f), 1, 16000, kWav16);
  auto bytes = read_file_bytes(path);
  bytes.resize(riff_chunk_offset(bytes, "data") + 8);
  write_file_bytes(path, bytes);
  CHECK_THROWS_WITH(earshot::AudioFileReader(path),
                    Contains("header_only.wav") &&
                        Contains("truncated: header promises 1000 frames, file holds 0"));
}

TEST_CASE("a FLAC file cut in half is reported as truncated when read", "[audio_io]") {
  const fs::path path = scratch() / "cut.flac";
  // Noise-like content so the encoded size grows steadily with length.
  std::vector<float> samples(32000);
  std::uint32_t state = 12345;
  for (float& sample : samples) {
    state = state * 1664525u + 1013904223u;
    sample = static_cast<float>(state >> 8) / static_cast<float>(1u << 24) - 0.5f;
  }
  earshot::write_audio(path, samples);
  auto bytes = read_file_bytes(path);
  bytes.resize(bytes.size() / 2);
  write_file_bytes(path, bytes);
  CHECK_THROWS_WITH(earshot::read_audio(path),
                    Contains("cut.flac") && Contains("truncated: header promises 32000 frames"));
}

TEST_CASE("a WAV with zero frames is reported as holding no samples", "[audio_io]") {
  const fs::path path = scratch() / "silent.wav";
  write_audio_with_sndfile(path, std::vector<float>{}, 1, 16000, kWav16);
  CHECK_THROWS_WITH(earshot::read_audio(path),
                    Contains("silent.wav") && Contains("holds no samples"));
}

TEST_CASE("a WAV whose header claims 0 channels is reported as such", "[audio_io]") {
  const fs::path path = scratch() / "no_channels.wav";
  write_audio_with_sndfile(path, std::vector<float>(1000, 0.1f), 1, 16000, kWav16);
  auto bytes = read_file_bytes(path);
  put_le16(bytes, riff_chunk_offset(bytes, "fmt ") + 8 + 2, 0);  // fmt: tag(2) channels(2)
  write_file_bytes(path, bytes);
  CHECK_THROWS_WITH(earshot::read_audio(path),
                    Contains("no_channels.wav") && Contains("header claims 0 channels"));
}

TEST_CASE("a WAV whose header claims a sample rate of 0 Hz is reported as such", "[audio_io]") {
  const fs::path path = scratch() / "no_rate.wav";
  write_audio_with_sndfile(path, std::vector<float>(1000, 0.1f), 1, 16000, kWav16);
  auto bytes = read_file_bytes(path);
  put_le32(bytes, riff_chunk_offset(bytes, "fmt ") + 8 + 4, 0);  // fmt: ... rate(4)
  write_file_bytes(path, bytes);
  CHECK_THROWS_WITH(earshot::read_audio(path),
                    Contains("no_rate.wav") && Contains("sample rate of 0 Hz"));
}

// --- Directory walks ------------------------------------------------------------------------

TEST_CASE("audio extensions are recognised whatever their case", "[audio_io]") {
  for (const char* name : {"a.wav", "a.flac", "a.ogg", "a.oga", "a.opus", "a.mp3", "a.aiff",
                           "a.aif", "a.au", "a.caf", "a.w64", "B.WAV", "c.Flac", "dir/x.MP3"}) {
    INFO(name);
    CHECK(earshot::has_audio_extension(name));
  }
}

TEST_CASE("other extensions and names without one are not audio", "[audio_io]") {
  for (const char* name : {"a.txt", "a.wav.bak", "wav", "a", ".wav", "a.wma", "a.m4a"}) {
    INFO(name);
    CHECK_FALSE(earshot::has_audio_extension(name));
  }
}
