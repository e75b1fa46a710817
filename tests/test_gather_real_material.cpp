// synth/gather_real_material.sh on the Debian packages the test suite installs
// (tools/install_deps.sh --tests): people saying words in many languages (ktuberling-data),
// letters and syllables (klettres-data) become negative speech, and tuxpaint's tool sounds
// become events, each as 16 kHz mono WAV with its licence, and a name that keeps the
// language, since every language has its own "A.ogg".
#include <fmt/core.h>
#include <sndfile.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "audio_helpers.hpp"
#include "command_helpers.hpp"

namespace fs = std::filesystem;
using earshot::testing::read_text;
using earshot::testing::run_command;

namespace {

// The rows of a gather manifest as (file, set) pairs, header skipped.
std::vector<std::pair<std::string, std::string>> manifest_rows(const fs::path& manifest) {
  std::istringstream lines(read_text(manifest));
  std::string line;
  std::getline(lines, line);
  std::vector<std::pair<std::string, std::string>> rows;
  while (std::getline(lines, line)) {
    std::istringstream cells(line);
    std::string file, set;
    std::getline(cells, file, '\t');
    std::getline(cells, set, '\t');
    rows.emplace_back(file, set);
  }
  return rows;
}

void require_16k_mono(const fs::path& wav) {
  SF_INFO info{};
  SNDFILE* file = sf_open(wav.c_str(), SFM_READ, &info);
  INFO(wav.string());
  REQUIRE(file != nullptr);
  sf_close(file);
  CHECK(info.samplerate == 16000);
  CHECK(info.channels == 1);
  CHECK(info.frames > 0);
}

}  // namespace

TEST_CASE("Debian's recordings of many languages become speech, tool sounds become events",
          "[synth][data]") {
  const fs::path root = earshot::testing::fresh_test_directory(EARSHOT_TEST_TMP);
  fs::create_directories(root / "no_shared_data");
  // 40 per set, spread over each package's files in name order, which start with the
  // language: a capped set must still hold many of their languages (about twenty each).
  const auto result = run_command(
      fmt::format("'{}/synth/gather_real_material.sh' --out '{}' --shared '{}' --max-per-set 40 "
                  "--babble 0 --jobs 2",
                  EARSHOT_SOURCE_DIR, (root / "out").string(), (root / "no_shared_data").string()),
      root / "gather.log");
  INFO(result.output);
  REQUIRE(result.exit_code == 0);

  std::map<std::string, std::set<std::string>> languages_by_set;
  std::map<std::string, int> clips_by_set;
  std::set<std::string> files;
  for (const auto& [file, set] : manifest_rows(root / "out" / "speech" / "manifest.tsv")) {
    CHECK(files.insert(file).second);  // no two recordings share a name
    CHECK(++clips_by_set[set] <= 40);  // the cap holds
    if (set == "debian_ktuberling-data" || set == "debian_klettres-data") {
      require_16k_mono(root / "out" / "speech" / file);
      // ktuberling: <lang>_<word>.wav; klettres: <lang>_alpha_<letter>.wav, <lang>_syllab_...
      const std::string name = fs::path(file).filename().string();
      languages_by_set[set].insert(name.substr(0, name.find('_')));
      if (set == "debian_klettres-data") {
        CHECK_THAT(name, Catch::Contains("_alpha_") || Catch::Contains("_syllab_"));
      }
    }
  }
  CHECK(languages_by_set["debian_ktuberling-data"].size() >= 10);
  CHECK(languages_by_set["debian_klettres-data"].size() >= 10);

  std::size_t tool_sounds = 0;
  for (const auto& [file, set] : manifest_rows(root / "out" / "events" / "manifest.tsv")) {
    if (set != "debian_tuxpaint-data") continue;
    require_16k_mono(root / "out" / "events" / file);
    ++tool_sounds;
  }
  CHECK(tool_sounds >= 10);

  const std::string licences = read_text(root / "out" / "LICENCES.tsv");
  CHECK_THAT(licences, Catch::Contains("debian_ktuberling-data\tspeech") &&
                           Catch::Contains("debian_klettres-data\tspeech") &&
                           Catch::Contains("debian_tuxpaint-data\tevent") &&
                           Catch::Contains("GPL-2+"));
}
