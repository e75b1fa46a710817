// The word-to-model recipe (tools/make_model.sh) end to end, in its few-minute --tiny form:
// TTS clips, negatives, real material, voice hold-out, synthesis, training, evaluation and
// calibration must all run and leave a loadable model with its card.
#include <fmt/core.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "earshot/model_file.hpp"

namespace fs = std::filesystem;

TEST_CASE("make_model.sh --tiny turns a new word into a calibrated two-network model with a card",
          "[recipe]") {
  const fs::path dir = fs::path(EARSHOT_TEST_TMP) / "make_model";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path model_path = dir / "computer.earshot";
  // Takes of the word by three "people" (espeak-ng voices standing in for recordings), one
  // folder each, with a little silence around them as a microphone would catch it.
  const fs::path takes = dir / "takes";
  for (const char* speaker : {"ann", "ben", "cleo"}) {
    fs::create_directories(takes / speaker);
    for (int take = 1; take <= 2; ++take) {
      const std::string say = fmt::format(
          "espeak-ng -v en-us+{}{} -w '{}/raw.wav' computer && sox '{}/raw.wav' '{}/{}.wav' pad "
          "0.3 0.4",
          speaker[0] == 'b' ? 'm' : 'f', take, dir.string(), dir.string(),
          (takes / speaker).string(), take);
      REQUIRE(std::system(say.c_str()) == 0);
    }
  }
  const std::string command = fmt::format(
      "EARSHOT_BINARY='{}' '{}/tools/make_model.sh' computer --tiny --networks 2 --gru 8,6 "
      "--pronunciations 'compyuter, kumpewter' --recordings '{}' --out '{}' > "
      "'{}/log.txt' 2>&1",
      EARSHOT_BINARY, EARSHOT_SOURCE_DIR, takes.string(), model_path.string(), dir.string());
  const int status = std::system(command.c_str());
  INFO("log: " << (dir / "log.txt").string());
  REQUIRE(status == 0);

  const earshot::Model model = earshot::load_model(model_path);
  CHECK(model.metadata().keywords == std::vector<std::string>{"computer"});
  // --networks 2: two networks from seeds 1 and 2, averaged.
  CHECK(model.members().size() == 2);
  CHECK(fs::exists(dir / "computer.work" / "training_log2.csv"));
  const auto& provenance = model.metadata().provenance;
  REQUIRE(provenance.contains("evaluation"));
  CHECK(provenance["evaluation"]["calibration"]["target_fa_per_hour"] == 0.5);
  CHECK(provenance["evaluation"]["calibration"]["threshold"].get<float>() ==
        model.metadata().default_threshold);

  std::ifstream card_file(dir / "computer.md");
  std::stringstream card;
  card << card_file.rdbuf();
  CHECK(card.str().find("# Model card: `computer.earshot`") != std::string::npos);
  CHECK(card.str().find("| snr_10db |") != std::string::npos);
  CHECK(card.str().find("network: mean of 2 networks") != std::string::npos);
  CHECK(card.str().find("- member 2: `earshot train") != std::string::npos);
  CHECK(card.str().find("--seed 2") != std::string::npos);
  CHECK(card.str().find("--time-warp 0.3") != std::string::npos);  // trained as the shipped model
  CHECK(card.str().find("--gru 8,6") != std::string::npos);        // --gru replaced the tiny shape
  CHECK(fs::exists(dir / "computer.work" / "evaluation" / "det_curve.svg"));
  // Non-speech sound events (Debian's scratch, installed for the tests) joined the negatives.
  const fs::path events = dir / "computer.work" / "raw" / "real" / "events" / "manifest.tsv";
  std::ifstream events_manifest(events);
  std::string header, first_event;
  CHECK(std::getline(events_manifest, header));
  CHECK(std::getline(events_manifest, first_event));
  std::ifstream synth_config_file(dir / "computer.work" / "dataset" / "synth_config.json");
  std::stringstream synth_config;
  synth_config << synth_config_file.rdbuf();
  CHECK(synth_config.str().find("train/events:1") != std::string::npos);
  // The word and the negative words, re-voiced as new speakers, joined the training clips.
  CHECK(synth_config.str().find("train/trigger_ps:2") != std::string::npos);
  // The respellings, spoken by the same voices, joined the triggers with a third of the draws.
  CHECK(synth_config.str().find("train/pronunciation:1") != std::string::npos);
  CHECK(synth_config.str().find("train/pronunciation_ps:1") != std::string::npos);
  std::ifstream respelled_file(dir / "computer.work" / "raw" / "pronunciation" / "manifest.tsv");
  std::stringstream respelled;
  respelled << respelled_file.rdbuf();
  CHECK(respelled.str().find("\tcompyuter\t") != std::string::npos);
  CHECK(respelled.str().find("\tkumpewter\t") != std::string::npos);  // spaces trimmed
  CHECK(synth_config.str().find("train/generic_ps:2") != std::string::npos);
  // The recorded takes: the last speaker by name (a quarter of three, rounded up) is held out
  // and measured on, the other two join the triggers with their re-voicings.
  CHECK(synth_config.str().find("train/recording:2") != std::string::npos);
  CHECK(synth_config.str().find("train/recording_ps:2") != std::string::npos);
  const auto clips_in = [](const fs::path& folder) {
    int count = 0;
    for (const auto& entry : fs::directory_iterator(folder))
      count += entry.path().extension() == ".wav";
    return count;
  };
  CHECK(clips_in(dir / "computer.work" / "train" / "recording") == 4);
  CHECK(clips_in(dir / "computer.work" / "heldout" / "recording") == 2);
  std::ifstream log_file(dir / "log.txt");
  std::stringstream log;
  log << log_file.rdbuf();
  CHECK(log.str().find("recorded speakers held out for evaluation: cleo") != std::string::npos);
  // The evaluation reports the held-out speaker as a voice of its own.
  std::string per_voice;
  for (std::string line; std::getline(log, line);)
    if (line.find("misses per voice") != std::string::npos) per_voice = line;
  CHECK(per_voice.find(" recording:cleo ") != std::string::npos);
  std::ifstream converted(dir / "computer.work" / "train" / "trigger_ps" / "manifest.tsv");
  std::string converted_header, first_converted;
  CHECK(std::getline(converted, converted_header));
  CHECK(converted_header.find("formant_ratio") != std::string::npos);
  CHECK(std::getline(converted, first_converted));

  // No negative holds the whole word: "computers" or "the computer" would be detections.
  for (const char* list : {"near_miss_words.txt", "generic_words.txt"}) {
    std::ifstream words(dir / "computer.work" / "raw" / "negatives" / list);
    std::string line;
    int entries = 0;
    while (std::getline(words, line)) {
      ++entries;
      INFO(list << ": " << line);
      CHECK(line.find("computer") == std::string::npos);
    }
    CHECK(entries > 0);
  }
}
