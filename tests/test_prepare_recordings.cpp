// synth/prepare_recordings.sh: real takes of a word, one folder per speaker, become trigger
// clips like the TTS ones (16 kHz mono, the word ending where the clip ends) with a manifest
// whose voice is "recording:SPEAKER". Bad takes are reported and skipped, the rest written.
// The "word" here is a 120 Hz buzz between stretches of digital silence, so its edges are
// known to the sample.
#include <fmt/core.h>
#include <sndfile.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <sstream>
#include <string>
#include <vector>

#include "audio_helpers.hpp"
#include "command_helpers.hpp"

namespace fs = std::filesystem;
using earshot::testing::lines_of;
using earshot::testing::read_file_bytes;
using earshot::testing::read_text;
using earshot::testing::run_command;

namespace {

constexpr double kWordSeconds = 0.6;

struct Clip {
  int sample_rate = 0;
  int channels = 0;
  std::vector<float> samples;
};

Clip read_clip(const fs::path& wav) {
  SF_INFO info{};
  SNDFILE* file = sf_open(wav.c_str(), SFM_READ, &info);
  REQUIRE(file != nullptr);
  Clip clip{info.samplerate, info.channels,
            std::vector<float>(static_cast<std::size_t>(info.frames * info.channels))};
  sf_readf_float(file, clip.samples.data(), info.frames);
  sf_close(file);
  return clip;
}

// A take: `before` s of silence, the buzz word at `level`, `after` s of silence, in every
// channel.
std::vector<float> take(int rate, int channels, double before, double after, float level) {
  const auto frames = [rate](double seconds) { return static_cast<std::size_t>(seconds * rate); };
  std::vector<float> mono(frames(before), 0.0f);
  for (std::size_t i = 0; i < frames(kWordSeconds); ++i)
    mono.push_back(level * static_cast<float>(std::fmod(120.0 * i / rate, 1.0) * 2 - 1));
  mono.resize(mono.size() + frames(after), 0.0f);
  std::vector<float> interleaved;
  for (const float sample : mono)
    interleaved.insert(interleaved.end(), static_cast<std::size_t>(channels), sample);
  return interleaved;
}

// Two speakers with three good takes in different formats, one take straight in the folder,
// and two bad ones: a file that is not audio and a take of silence.
fs::path make_recordings(const fs::path& root) {
  const fs::path dir = root / "recordings";
  fs::create_directories(dir / "alice");
  fs::create_directories(dir / "bob");
  using earshot::testing::write_audio_with_sndfile;
  write_audio_with_sndfile(dir / "alice" / "take1.wav", take(44100, 2, 0.5, 0.8, 0.3f), 2, 44100,
                           SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  write_audio_with_sndfile(dir / "alice" / "take2.flac", take(16000, 1, 0.2, 1.0, 0.05f), 1, 16000,
                           SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
  write_audio_with_sndfile(dir / "bob" / "one.wav", take(48000, 1, 0.3, 0.3, 0.8f), 1, 48000,
                           SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  write_audio_with_sndfile(dir / "loose.wav", take(16000, 1, 0.1, 0.1, 0.5f), 1, 16000,
                           SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  std::ofstream(dir / "bob" / "notes.wav") << "these are not samples";
  write_audio_with_sndfile(dir / "bob" / "quiet.wav", std::vector<float>(16000, 0.0f), 1, 16000,
                           SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  return dir;
}

earshot::testing::CommandResult prepare(const fs::path& from, const fs::path& out,
                                        const std::string& options = "") {
  return run_command(fmt::format("'{}/synth/prepare_recordings.sh' --from '{}' --out '{}' {}",
                                 EARSHOT_SOURCE_DIR, from.string(), out.string(), options),
                     out.string() + ".log");
}

}  // namespace

TEST_CASE("each good take becomes a 16 kHz mono clip that ends where the word ends",
          "[synth][recordings]") {
  const fs::path root = earshot::testing::fresh_test_directory(EARSHOT_TEST_TMP);
  const fs::path out = root / "clips";
  const auto result = prepare(make_recordings(root), out, "--text activate");
  INFO(result.output);
  // Two takes were bad: the run says so in its status, after writing the others.
  CHECK(result.exit_code == 1);
  CHECK(result.output.find("notes.wav': sox cannot read it") != std::string::npos);
  CHECK(result.output.find("quiet.wav': silent") != std::string::npos);

  const std::vector<std::string> manifest = lines_of(read_text(out / "manifest.tsv"));
  REQUIRE(manifest ==
          std::vector<std::string>{
              "file\ttext\tengine\tvoice\tpitch\tspeed",
              "000000_recording_alice_take1.wav\tactivate\trecording\trecording:alice\t0\t1.0",
              "000001_recording_alice_take2.wav\tactivate\trecording\trecording:alice\t0\t1.0",
              "000002_recording_bob_one.wav\tactivate\trecording\trecording:bob\t0\t1.0",
              "000003_recording_unknown_loose.wav\tactivate\trecording\trecording:unknown\t0\t1.0",
          });
  for (const char* name : {"000000_recording_alice_take1.wav", "000001_recording_alice_take2.wav",
                           "000002_recording_bob_one.wav", "000003_recording_unknown_loose.wav"}) {
    INFO(name);
    const Clip clip = read_clip(out / name);
    CHECK(clip.sample_rate == 16000);
    CHECK(clip.channels == 1);
    // The word and 5 ms either side: the silence around it is gone (within the trim's 10 ms
    // detection window and the resampler's ringing).
    const double seconds = static_cast<double>(clip.samples.size()) / 16000;
    CHECK(seconds == Approx(kWordSeconds + 0.01).margin(0.015));
    // Peak-normalised, whatever the take's level (0.05 to 0.8 of full scale).
    float peak = 0.0f;
    for (const float sample : clip.samples)
      peak = std::max(peak, std::abs(sample));
    CHECK(peak == Approx(0.89).margin(0.02));
  }
  CHECK_FALSE(fs::exists(out / "000004_recording_bob_notes.wav"));
}

TEST_CASE("the same takes give the same bytes, and an earlier run is kept unless forced",
          "[synth][recordings]") {
  const fs::path root = earshot::testing::fresh_test_directory(EARSHOT_TEST_TMP);
  const fs::path recordings = make_recordings(root);
  REQUIRE(prepare(recordings, root / "a", "--text activate").exit_code == 1);
  REQUIRE(prepare(recordings, root / "b", "--text activate").exit_code == 1);
  CHECK(read_file_bytes(root / "a" / "000000_recording_alice_take1.wav") ==
        read_file_bytes(root / "b" / "000000_recording_alice_take1.wav"));
  CHECK(read_text(root / "a" / "manifest.tsv") == read_text(root / "b" / "manifest.tsv"));

  const auto again = prepare(recordings, root / "a", "--text activate");
  CHECK(again.exit_code == 2);
  CHECK(again.output.find("pass --force") != std::string::npos);
  // Forced, with the bad takes gone: every take became a clip, so the status is 0.
  fs::remove(recordings / "bob" / "notes.wav");
  fs::remove(recordings / "bob" / "quiet.wav");
  const auto forced = prepare(recordings, root / "a", "--text activate --force");
  INFO(forced.output);
  CHECK(forced.exit_code == 0);
  CHECK(lines_of(read_text(root / "a" / "manifest.tsv")).size() == 5);
}

TEST_CASE("a take whose background never falls silent is refused, not kept whole",
          "[synth][recordings]") {
  const fs::path root = earshot::testing::fresh_test_directory(EARSHOT_TEST_TMP);
  const fs::path dir = root / "recordings" / "carol";
  fs::create_directories(dir);
  // The buzz over a hum 20 dB below it: with the default trim (35 dB below the peak) the hum
  // counts as sound, so the word's edges cannot be found; 15 dB finds them.
  std::vector<float> samples = take(16000, 1, 0.5, 0.5, 0.5f);
  for (std::size_t i = 0; i < samples.size(); ++i)
    samples[i] += 0.05f * static_cast<float>(std::sin(2 * std::numbers::pi * 50.0 * i / 16000));
  earshot::testing::write_audio_with_sndfile(dir / "hum.wav", samples, 1, 16000,
                                             SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  const auto refused = prepare(root / "recordings", root / "clips", "--text activate");
  INFO(refused.output);
  CHECK(refused.exit_code == 1);
  CHECK(refused.output.find("hum.wav': no stretch 35 dB below its peak") != std::string::npos);

  const auto trimmed =
      prepare(root / "recordings", root / "clips", "--text activate --trim-db 15 --force");
  INFO(trimmed.output);
  CHECK(trimmed.exit_code == 0);
  const Clip clip = read_clip(root / "clips" / "000000_recording_carol_hum.wav");
  CHECK(static_cast<double>(clip.samples.size()) / 16000 ==
        Approx(kWordSeconds + 0.01).margin(0.015));
}

TEST_CASE("bad arguments exit with 2 and write nothing", "[synth][recordings]") {
  const fs::path root = earshot::testing::fresh_test_directory(EARSHOT_TEST_TMP);
  const fs::path recordings = make_recordings(root);
  CHECK(prepare(recordings, root / "clips").exit_code == 2);  // no --text
  CHECK(prepare(root / "absent", root / "clips", "--text activate").exit_code == 2);
  CHECK(prepare(recordings, root / "clips", "--text activate --trim-db loud").exit_code == 2);
  CHECK(prepare(recordings, recordings / "clips", "--text activate").exit_code == 2);
  CHECK_FALSE(fs::exists(recordings / "clips"));
  CHECK_FALSE(fs::exists(root / "clips" / "manifest.tsv"));
}
