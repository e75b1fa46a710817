// Specification of one synthesized clip: words where the manifest says, at the SNR it says,
// never overlapping, labels that line up with the words' ends, and every clip a pure
// function of (dataset seed, clip index).
#include <catch2/catch.hpp>
#include <cmath>
#include <nlohmann/json.hpp>
#include <vector>

#include "earshot/dataset.hpp"
#include "earshot/synth.hpp"
#include "test_synth_fixtures.hpp"

namespace {

namespace fs = std::filesystem;
using earshot::kSampleRate;
using earshot::SynthConfig;
using earshot::SynthesizedClip;
using earshot::WordKind;
using earshot::testing::make_synthesizer;
using earshot::testing::plain_config;
using earshot::testing::write_sources;

// The lecture's output resolution: 1375 steps per 10 s.
constexpr double kStepS = 10.0 / 1375;

earshot::testing::SourceDirectories sources() {
  return write_sources(
      earshot::testing::fresh_test_directory(fs::path(EARSHOT_TEST_TMP) / "synth_clip"));
}

std::vector<float> words_alone(const SynthesizedClip& clip) {
  std::vector<float> words(clip.audio.size());
  for (std::size_t i = 0; i < words.size(); ++i)
    words[i] = clip.audio[i] - clip.background[i];
  return words;
}

// Last sample of the span where the words-only signal is clearly above float rounding.
double measured_end_s(const std::vector<float>& words, double start_s, double end_s) {
  const auto from = static_cast<std::size_t>(start_s * kSampleRate);
  const auto to = std::min(words.size(), static_cast<std::size_t>(end_s * kSampleRate) + 400);
  std::size_t last = from;
  for (std::size_t i = from; i < to; ++i) {
    if (std::abs(words[i]) > 1e-4f) last = i;
  }
  return static_cast<double>(last + 1) / kSampleRate;
}

TEST_CASE("each word's audio ends where the manifest says", "[synth]") {
  const auto synthesizer = make_synthesizer(sources(), plain_config());
  int checked = 0;
  for (std::size_t index = 0; index < 20; ++index) {
    const SynthesizedClip clip = synthesizer.synthesize(5, index, true);
    const auto words = words_alone(clip);
    for (const auto& word : clip.record.words) {
      // The tone's 20 ms fade ends at its last sample; allow one 1 ms of quiet tail.
      CHECK(measured_end_s(words, word.start_s, word.end_s) == Approx(word.end_s).margin(0.001));
      ++checked;
    }
  }
  CHECK(checked > 20);
}

TEST_CASE("speed-perturbed words still end where the manifest says", "[synth]") {
  SynthConfig config = plain_config();
  config.speed_min = 0.85;
  config.speed_max = 1.15;
  const auto synthesizer = make_synthesizer(sources(), config);
  for (std::size_t index = 0; index < 10; ++index) {
    const SynthesizedClip clip = synthesizer.synthesize(17, index, true);
    const auto words = words_alone(clip);
    for (const auto& word : clip.record.words) {
      CHECK(measured_end_s(words, word.start_s, word.end_s) == Approx(word.end_s).margin(0.002));
    }
  }
}

TEST_CASE("reverberation does not move a word's end: its span is the dry word's length",
          "[synth]") {
  SynthConfig config = plain_config();
  config.reverb_prob = 1.0;
  const auto synthesizer = make_synthesizer(sources(), config);
  // The tone words are 0.4, 0.5, 0.6, 0.7 and 0.8 s long.
  for (std::size_t index = 0; index < 10; ++index) {
    for (const auto& word : synthesizer.synthesize(18, index).record.words) {
      const double length_s = word.end_s - word.start_s;
      CHECK(std::abs(length_s * 10 - std::round(length_s * 10)) < 1e-9);
    }
  }
}

TEST_CASE("labels are ones exactly at the output steps after each trigger's end", "[synth]") {
  SynthConfig config = plain_config();
  config.label_window_s = 50 * kStepS;
  const auto synthesizer = make_synthesizer(sources(), config);
  for (std::size_t index = 0; index < 20; ++index) {
    const SynthesizedClip clip = synthesizer.synthesize(6, index, true);
    const auto labels = earshot::make_labels(clip.record.words, 1375, kStepS, 50 * kStepS);
    const auto words = words_alone(clip);
    for (const auto& word : clip.record.words) {
      if (word.kind != WordKind::kTrigger) continue;
      const double heard_end_s = measured_end_s(words, word.start_s, word.end_s);
      // First step after the word as heard: the first one, with the one before it still 0.
      const auto first = static_cast<std::size_t>(std::floor(heard_end_s / kStepS)) + 1;
      if (first >= labels.size()) continue;
      CHECK(labels[first] == 1.0f);
      CHECK(labels[first - 1] == 0.0f);
      CHECK(labels[std::min(first + 49, labels.size() - 1)] == 1.0f);
    }
  }
}

TEST_CASE("every word sits at its recorded SNR within 0.5 dB in the finished clip", "[synth]") {
  SynthConfig config = plain_config();
  config.snr_db_min = -6;
  config.snr_db_max = 24;
  const auto synthesizer = make_synthesizer(sources(), config);
  int checked = 0;
  for (std::size_t index = 0; index < 20; ++index) {
    const SynthesizedClip clip = synthesizer.synthesize(7, index, true);
    const auto words = words_alone(clip);
    for (const auto& word : clip.record.words) {
      const auto start = static_cast<std::size_t>(std::llround(word.start_s * kSampleRate));
      const auto length = static_cast<std::size_t>(std::llround(word.end_s * kSampleRate)) - start;
      const double speech = earshot::peak_frame_rms(std::span(words).subspan(start, length));
      const double background = earshot::rms(std::span(clip.background).subspan(start, length));
      CHECK(earshot::amplitude_to_db(speech / background) == Approx(word.snr_db).margin(0.5));
      ++checked;
    }
  }
  CHECK(checked > 20);
}

TEST_CASE("words never overlap and a trigger's label window stays free", "[synth]") {
  SynthConfig config;       // every effect on: reverberation tails must be respected too
  config.duration_s = 5.0;  // crowded: 10 words on 5 s
  config.max_triggers = 6;
  config.max_negatives = 4;
  const auto synthesizer = make_synthesizer(sources(), config);
  for (std::size_t index = 0; index < 150; ++index) {
    const auto record = synthesizer.synthesize(8, index).record;
    for (std::size_t a = 0; a < record.words.size(); ++a) {
      for (std::size_t b = a + 1; b < record.words.size(); ++b) {
        const auto& first = record.words[a];  // sorted by start
        const auto& second = record.words[b];
        const double guard_s = first.kind == WordKind::kTrigger ? config.label_window_s : 0.0;
        REQUIRE(second.start_s > first.end_s + guard_s);
      }
    }
  }
}

TEST_CASE("word counts stay within 0..max and kinds come from their own sources", "[synth]") {
  SynthConfig config = plain_config();
  config.max_triggers = 2;
  config.max_negatives = 1;
  const auto synthesizer = make_synthesizer(sources(), config);
  std::size_t most_triggers = 0;
  for (std::size_t index = 0; index < 100; ++index) {
    const auto record = synthesizer.synthesize(9, index).record;
    std::size_t triggers = 0;
    std::size_t negatives = 0;
    for (const auto& word : record.words) {
      const bool from_trigger_dir = word.source.find("triggers") != std::string::npos;
      REQUIRE(from_trigger_dir == (word.kind == WordKind::kTrigger));
      ++(word.kind == WordKind::kTrigger ? triggers : negatives);
    }
    REQUIRE(triggers + record.failed_placements <= 3);
    REQUIRE(negatives <= 1);
    most_triggers = std::max(most_triggers, triggers);
  }
  CHECK(most_triggers == 2);
}

TEST_CASE("voices come from the source's manifest.tsv", "[synth]") {
  const auto synthesizer = make_synthesizer(sources(), plain_config());
  bool saw_voice_a = false;
  for (std::size_t index = 0; index < 50; ++index) {
    for (const auto& word : synthesizer.synthesize(10, index).record.words) {
      if (word.source.ends_with("t1.wav")) {
        REQUIRE(word.voice == "tone:a");
        saw_voice_a = true;
      }
      if (word.source.ends_with("t3.wav")) REQUIRE(word.voice.empty());  // not in the manifest
    }
  }
  CHECK(saw_voice_a);
}

TEST_CASE("words that cannot all fit are counted as failed placements", "[synth]") {
  SynthConfig config = plain_config();
  config.duration_s = 1.5;  // room for two 0.5-0.8 s words at most
  config.label_window_s = 0.1;
  config.max_triggers = 4;
  const auto synthesizer = make_synthesizer(sources(), config);
  int failures = 0;
  for (std::size_t index = 0; index < 30; ++index) {
    const auto record = synthesizer.synthesize(11, index).record;
    REQUIRE(record.words.size() <= 2);
    failures += record.failed_placements;
  }
  CHECK(failures > 0);
}

TEST_CASE("a clip is a pure function of the dataset seed and the clip index", "[synth]") {
  const auto synthesizer = make_synthesizer(sources(), SynthConfig{});
  const SynthesizedClip a = synthesizer.synthesize(12, 3);
  synthesizer.synthesize(12, 4);  // other work in between changes nothing
  const SynthesizedClip b = synthesizer.synthesize(12, 3);
  CHECK(a.audio == b.audio);
  CHECK(nlohmann::json(a.record) == nlohmann::json(b.record));
  CHECK(synthesizer.synthesize(12, 4).audio != a.audio);
  CHECK(synthesizer.synthesize(13, 3).audio != a.audio);
}

TEST_CASE(
    "a clip has the configured length, a file name from its index and full-scale "
    "samples",
    "[synth]") {
  SynthConfig config;
  config.duration_s = 4.0;
  config.clipping_prob = 1.0;  // clipping on purpose must still stay within [-1, 1]
  config.level_dbfs_min = config.level_dbfs_max = -3;
  const auto synthesizer = make_synthesizer(sources(), config);
  const SynthesizedClip clip = synthesizer.synthesize(14, 42);
  CHECK(clip.audio.size() == 64000);
  CHECK(clip.record.duration_s == 4.0);
  CHECK(clip.record.file == "clips/000042.wav");
  CHECK(clip.record.index == 42);
  CHECK(earshot::peak_abs(clip.audio) <= 1.0);
}

TEST_CASE("without clipping the clip's level lands in the requested range", "[synth]") {
  SynthConfig config = plain_config();
  config.level_dbfs_min = -30;
  config.level_dbfs_max = -20;
  const auto synthesizer = make_synthesizer(sources(), config);
  for (std::size_t index = 0; index < 20; ++index) {
    const double level_db =
        earshot::amplitude_to_db(earshot::rms(synthesizer.synthesize(15, index).audio));
    REQUIRE(level_db >= -30.01);
    REQUIRE(level_db <= -19.99);
  }
}

TEST_CASE("a background shorter than the clip is looped to fill it", "[synth]") {
  const auto dirs = sources();
  auto config = plain_config();
  config.max_triggers = 0;
  config.max_negatives = 0;
  const earshot::Synthesizer synthesizer(
      config, earshot::testing::load_collection(dirs.triggers), {},
      earshot::testing::load_collection(dirs.backgrounds / "short.wav"));
  const auto audio = synthesizer.synthesize(16, 0).audio;
  // Every second of the 10 s clip carries noise (the source is 3 s long).
  for (std::size_t second = 0; second < 10; ++second) {
    REQUIRE(earshot::rms(std::span(audio).subspan(second * 16000, 16000)) > 1e-3);
  }
}

TEST_CASE("a synthesizer without trigger clips or backgrounds is refused", "[synth]") {
  const auto dirs = sources();
  const auto backgrounds = earshot::testing::load_collection(dirs.backgrounds);
  const auto triggers = earshot::testing::load_collection(dirs.triggers);
  CHECK_THROWS_WITH(earshot::Synthesizer(SynthConfig{}, {}, {}, backgrounds),
                    Catch::Contains("trigger"));
  CHECK_THROWS_WITH(earshot::Synthesizer(SynthConfig{}, triggers, {}, {}),
                    Catch::Contains("background"));
}

TEST_CASE("an inconsistent setting is refused with its name", "[synth]") {
  const auto dirs = sources();
  SynthConfig config;
  config.snr_db_min = 10;
  config.snr_db_max = 0;
  CHECK_THROWS_WITH(make_synthesizer(dirs, config), Catch::Contains("SNR"));
  config = SynthConfig{};
  config.reverb_prob = 1.5;
  CHECK_THROWS_WITH(make_synthesizer(dirs, config), Catch::Contains("reverb"));
}

}  // namespace
