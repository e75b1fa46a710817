// The label tool end to end: a model trained here on synthesized clips finds the trigger
// words of new synthesized clips where the manifest says they are, and nowhere else.
//
// Raw material, made in the test: the "trigger word" is a 1 kHz tone burst (0.4-0.6 s), the
// negatives are white-noise bursts and a 2.5 kHz tone, the backgrounds low Gaussian noise.
// The synthesizer mixes them at random positions and SNRs (no other augmentation, to keep
// the task small enough to learn in a few seconds); a small network trains on 48 clips.
#include <fmt/format.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "earshot/audio_io.hpp"
#include "earshot/frontend.hpp"
#include "earshot/model_file.hpp"
#include "earshot/synth.hpp"
#include "earshot/train.hpp"
#include "test_synth_fixtures.hpp"

namespace {

namespace fs = std::filesystem;
using namespace earshot;
using earshot::testing::fresh_test_directory;
using earshot::testing::noise;
using earshot::testing::tone_word;

constexpr double kClipDuration_s = 4.0;
constexpr double kLabelWindow_s = 0.3;
constexpr double kTriggerDuration_s = 0.5;  // mean of the three trigger sources

// Seeded noise shaped like a word: 20 ms fades at both ends.
std::vector<float> noise_burst(double duration_s, std::uint64_t seed, float amplitude) {
  std::vector<float> burst = noise(duration_s, seed, amplitude);
  const std::size_t fade = kSampleRate / 50;
  for (std::size_t i = 0; i < fade; ++i) {
    const auto ramp = static_cast<float>(i) / static_cast<float>(fade);
    burst[i] *= ramp;
    burst[burst.size() - 1 - i] *= ramp;
  }
  return burst;
}

Synthesizer make_synthesizer(const fs::path& root) {
  for (const char* kind : {"triggers", "negatives", "backgrounds"}) {
    fs::create_directories(root / kind);
  }
  write_audio(root / "triggers" / "short.wav", tone_word(1000.0, 0.4));
  write_audio(root / "triggers" / "mid.wav", tone_word(1000.0, 0.5));
  write_audio(root / "triggers" / "long.wav", tone_word(1000.0, 0.6));
  write_audio(root / "negatives" / "hiss.wav", noise_burst(0.5, 11, 0.2f));
  write_audio(root / "negatives" / "rush.wav", noise_burst(0.3, 12, 0.3f));
  write_audio(root / "negatives" / "whistle.wav", tone_word(2500.0, 0.5));
  write_audio(root / "backgrounds" / "hum.wav", noise(6.0, 13, 0.02f));

  SynthConfig config = earshot::testing::plain_config();
  config.duration_s = kClipDuration_s;
  config.max_triggers = 2;
  config.max_negatives = 2;
  config.label_window_s = kLabelWindow_s;
  config.snr_db_min = 10;
  config.snr_db_max = 25;
  config.level_dbfs_min = config.level_dbfs_max = -20;
  config.background_mix_max = 1;
  return Synthesizer(config, earshot::testing::load_collection(root / "triggers"),
                     earshot::testing::load_collection(root / "negatives"),
                     earshot::testing::load_collection(root / "backgrounds"));
}

FrontEndConfig small_frontend() {
  FrontEndConfig frontend;
  frontend.num_mel_bands = 20;
  return frontend;
}

std::vector<TrainingClip> training_clips(const Synthesizer& synth, std::uint64_t seed,
                                         std::size_t count) {
  std::vector<TrainingClip> clips;
  for (std::size_t i = 0; i < count; ++i) {
    SynthesizedClip made = synth.synthesize(seed, i);
    TrainingClip clip;
    clip.dataset_dir = "in-memory";
    clip.record = made.record;
    clip.features = compute_features(made.audio, small_frontend());
    clip.num_frames = num_frames(made.audio.size(), small_frontend());
    clips.push_back(std::move(clip));
  }
  return clips;
}

Model train_tone_model(const Synthesizer& synth) {
  TrainingOptions options;
  options.frontend = small_frontend();
  options.shape.feature_dim = small_frontend().feature_dim();
  options.shape.conv_filters = 16;
  options.shape.conv_kernel = 5;
  options.shape.conv_stride = 4;
  options.shape.gru_sizes = {16};
  options.label_window_s = kLabelWindow_s;
  options.epochs = 15;
  options.batch_size = 8;
  options.learning_rate = 0.01;
  options.dropout = 0.0;
  options.patience = 0;
  options.seed = 5;
  options.threads = 2;
  options.provenance = {{"mean_trigger_duration_s", kTriggerDuration_s}};
  return train_model(training_clips(synth, 1, 48), training_clips(synth, 2, 8), options).model;
}

struct Labelled {
  int exit_code = -1;
  std::vector<nlohmann::json> detections;
};

Labelled label_with_cli(const fs::path& model, const fs::path& clip, const fs::path& dir) {
  const fs::path out = dir / "labels.jsonl";
  const std::string command =
      fmt::format("'{}' label --model '{}' --format json '{}' > '{}' 2> '{}'", EARSHOT_BINARY,
                  model.string(), clip.string(), out.string(), (dir / "stderr.txt").string());
  const int status = std::system(command.c_str());
  Labelled labelled;
  labelled.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    labelled.detections.push_back(nlohmann::json::parse(line));
  }
  return labelled;
}

// A detection marks a trigger when the word's true end lies in the detection's estimated span,
// with 0.5 s of slack after it.
bool marks(const nlohmann::json& detection, const InsertedWord& word) {
  return word.end_s >= detection["start_s"].get<double>() &&
         word.end_s <= detection["end_s"].get<double>() + 0.5;
}

TEST_CASE("a model trained on synthesized clips labels new clips' triggers and nothing else",
          "[training]") {
  const fs::path dir = fresh_test_directory(EARSHOT_TEST_TMP);
  const Synthesizer synth = make_synthesizer(dir / "sources");
  const fs::path model_path = dir / "tone.earshot";
  save_model(model_path, train_tone_model(synth));

  std::size_t triggers = 0;
  for (std::size_t index = 0; index < 6; ++index) {
    const SynthesizedClip clip = synth.synthesize(3, index);
    const fs::path clip_path = dir / fmt::format("clip{}.wav", index);
    write_audio(clip_path, clip.audio);
    const Labelled labelled = label_with_cli(model_path, clip_path, dir);
    REQUIRE(labelled.exit_code == 0);

    std::vector<const InsertedWord*> words;
    for (const InsertedWord& word : clip.record.words) {
      if (word.kind == WordKind::kTrigger) words.push_back(&word);
    }
    triggers += words.size();
    std::ostringstream found;
    for (const nlohmann::json& d : labelled.detections)
      found << d.dump() << "\n";
    INFO("clip " << index << ": " << nlohmann::json(clip.record).dump() << "\ndetections:\n"
                 << found.str());
    CHECK(labelled.detections.size() == words.size());
    for (const InsertedWord* word : words) {
      CHECK(std::any_of(labelled.detections.begin(), labelled.detections.end(),
                        [&](const nlohmann::json& d) { return marks(d, *word); }));
    }
    for (const nlohmann::json& d : labelled.detections) {
      CHECK(d["keyword"] == "activate");
      CHECK(std::any_of(words.begin(), words.end(),
                        [&](const InsertedWord* word) { return marks(d, *word); }));
    }
  }
  CHECK(triggers >= 4);  // the check above is not vacuous
}

}  // namespace
